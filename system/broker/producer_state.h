#pragma once
// Idempotent-producer state of one partition: for each producer id, its
// epoch and its last five batches (sequence range and the offsets they were
// given), as Kafka keeps it. A retried batch that matches one of the five is
// a duplicate and is answered with its original offsets; any other sequence
// that does not follow the last one is OUT_OF_ORDER_SEQUENCE_NUMBER.
//
// The state is rebuilt on open by replaying the batch headers of the log
// (Kafka snapshots it; replaying the whole log is the simple, slower way).

#include <cstdint>
#include <deque>
#include <map>
#include <optional>

#include "system/protocol/error_code.h"

namespace castle::broker {

struct BatchSequence {
  std::int64_t producer_id = -1;
  std::int16_t producer_epoch = -1;
  std::int32_t first_seq = -1;
  std::int32_t last_seq = -1;  // first_seq + last offset delta (wrapping)
};

struct CachedBatch {
  std::int32_t first_seq = 0;
  std::int32_t last_seq = 0;
  std::int64_t first_offset = 0;
  std::int64_t last_offset = 0;
};

// What to do with an incoming batch.
struct SequenceCheck {
  protocol::ErrorCode error = protocol::ErrorCode::NONE;
  std::optional<CachedBatch> duplicate_of;  // set: answer with these offsets, append nothing
};

class ProducerStateTable {
 public:
  static constexpr std::size_t cached_batches = 5;

  SequenceCheck check(const BatchSequence& b) const;
  // Records an appended batch (after check() said it is new).
  void record(const BatchSequence& b, std::int64_t first_offset, std::int64_t last_offset);
  // Forgets batches at or past `offset` (the log was truncated).
  void truncate_from(std::int64_t offset);
  void clear() { producers_.clear(); }
  std::size_t size() const { return producers_.size(); }

 private:
  struct Entry {
    std::int16_t epoch = 0;
    std::deque<CachedBatch> batches;  // oldest first, at most cached_batches
  };
  std::map<std::int64_t, Entry> producers_;
};

// The sequence number after `seq`: sequences wrap at INT32_MAX to 0.
std::int32_t next_sequence(std::int32_t seq);

}  // namespace castle::broker
