#include "system/broker/producer_state.h"

#include <limits>

namespace castle::broker {

using protocol::ErrorCode;

std::int32_t next_sequence(std::int32_t seq) {
  return seq == std::numeric_limits<std::int32_t>::max() ? 0 : seq + 1;
}

SequenceCheck ProducerStateTable::check(const BatchSequence& b) const {
  auto it = producers_.find(b.producer_id);
  if (it == producers_.end() || it->second.batches.empty()) {
    // A producer we know nothing of (new, or its state went with retention)
    // must start at sequence 0.
    if (it != producers_.end() && b.producer_epoch < it->second.epoch)
      return {ErrorCode::INVALID_PRODUCER_EPOCH, {}};
    if (b.first_seq != 0) return {ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER, {}};
    return {};
  }
  const Entry& e = it->second;
  if (b.producer_epoch < e.epoch) return {ErrorCode::INVALID_PRODUCER_EPOCH, {}};
  if (b.producer_epoch > e.epoch) {
    // A bumped epoch restarts the sequence.
    if (b.first_seq != 0) return {ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER, {}};
    return {};
  }
  for (const CachedBatch& c : e.batches) {
    if (c.first_seq == b.first_seq && c.last_seq == b.last_seq) return {ErrorCode::NONE, c};
  }
  if (b.first_seq != next_sequence(e.batches.back().last_seq))
    return {ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER, {}};
  return {};
}

void ProducerStateTable::record(const BatchSequence& b, std::int64_t first_offset,
                                std::int64_t last_offset) {
  Entry& e = producers_[b.producer_id];
  if (b.producer_epoch != e.epoch) {
    e.epoch = b.producer_epoch;
    e.batches.clear();
  }
  e.batches.push_back({b.first_seq, b.last_seq, first_offset, last_offset});
  if (e.batches.size() > cached_batches) e.batches.pop_front();
}

void ProducerStateTable::truncate_from(std::int64_t offset) {
  for (auto& [pid, e] : producers_) {
    while (!e.batches.empty() && e.batches.back().last_offset >= offset) e.batches.pop_back();
  }
}

}  // namespace castle::broker
