#pragma once
// Castle's Kafka consumer with manual assignment (consumer groups come with
// the group coordinator), with the Java consumer's semantics:
//
// - assign() sets the partitions; a partition starts without a position and
//   gets one from auto.offset.reset (earliest/latest via ListOffsets; none
//   makes poll() and position() fail) unless seek() gives one.
// - seek_to_beginning()/seek_to_end() are lazy, as in Java: the offset is
//   looked up (ListOffsets) at the next poll() or position().
// - poll(timeout) returns buffered records if it has any; otherwise it sends
//   one Fetch per leader (fetch sessions off: session id 0, epoch -1) for
//   the assigned partitions that have a position and nothing buffered, and
//   waits for answers until the timeout. A Fetch left unanswered when poll()
//   returns stays in flight and its records are returned by a later poll().
//   The broker holds a Fetch up to fetch.max.wait.ms until fetch.min.bytes
//   are there, so an empty poll() costs no busy loop.
// - OFFSET_OUT_OF_RANGE resets the position per auto.offset.reset (none:
//   poll() fails with ClientError::no_offset). Leader errors and connection
//   failures refresh metadata and the fetch is sent again.
// - The position is the offset of the next record poll() will return.

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "system/client/config.h"
#include "system/client/types.h"
#include "system/runtime/runtime.h"

namespace castle::client {

struct ConsumerStats {
  std::uint64_t fetches = 0;         // Fetch requests sent
  std::uint64_t records_returned = 0;
  std::uint64_t offset_resets = 0;   // positions set from auto.offset.reset or seek_to_*
};

class Consumer {
 public:
  static Result<std::unique_ptr<Consumer>> create(Runtime& rt, ConsumerConfig config);
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  // Replaces the assignment; partitions kept keep their positions.
  void assign(const std::vector<TopicPartition>& partitions);
  std::vector<TopicPartition> assignment() const;

  Result<void> seek(const TopicPartition& tp, std::int64_t offset);
  Result<void> seek_to_beginning(const std::vector<TopicPartition>& partitions);
  Result<void> seek_to_end(const std::vector<TopicPartition>& partitions);
  // The next offset poll() returns for the partition, looked up if needed.
  Result<std::int64_t> position(const TopicPartition& tp,
                                std::optional<Duration> timeout = std::nullopt);
  // The high watermark the last Fetch of the partition reported (-1 before).
  std::int64_t high_watermark(const TopicPartition& tp) const;

  Result<std::vector<ConsumerRecord>> poll(Duration timeout);

  void close();
  const ConsumerStats& stats() const;

  struct Impl;

 private:
  explicit Consumer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

}  // namespace castle::client
