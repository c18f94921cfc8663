#include "system/client/accumulator.h"

#include <algorithm>

#include "system/storage/batch.h"

namespace castle::client {

RecordAccumulator::RecordAccumulator(std::int32_t batch_size_bytes, Duration linger)
    : batch_size_(static_cast<std::size_t>(batch_size_bytes)), linger_(linger) {
  CASTLE_ASSERT(batch_size_bytes > 0, "batch.size must be positive");
}

Future<DeliveryReport> RecordAccumulator::append(const TopicPartition& tp, storage::Record record,
                                                 std::uint64_t record_id, Instant now) {
  std::deque<BatchPtr>& q = queues_[tp];
  BatchPtr last = q.empty() ? nullptr : q.back();
  if (last != nullptr && !last->sealed && !last->has_sequence()) {
    const auto& first = last->records.front();
    const std::size_t add = storage::encoded_record_bytes(
        record, record.timestamp_ms - first.timestamp_ms, last->record_count());
    if (last->bytes + add > batch_size_) last = nullptr;
  } else {
    last = nullptr;
  }
  if (last == nullptr) {
    last = std::make_shared<ProducerBatch>();
    last->tp = tp;
    last->created = now;
    last->bytes = storage::batch_header_bytes;
    q.push_back(last);
    ++batches_;
  }
  const std::int64_t delta =
      last->records.empty() ? 0 : record.timestamp_ms - last->records.front().timestamp_ms;
  const std::size_t add = storage::encoded_record_bytes(record, delta, last->record_count());
  last->bytes += add;
  bytes_ += add;
  last->records.push_back(std::move(record));
  last->record_ids.push_back(record_id);
  last->promises.emplace_back();
  return last->promises.back().future();
}

bool RecordAccumulator::ready(const TopicPartition& tp, Instant now) const {
  auto it = queues_.find(tp);
  if (it == queues_.end() || it->second.empty()) return false;
  const ProducerBatch& b = *it->second.front();
  if (b.retry_at) return now >= *b.retry_at;
  if (it->second.size() > 1 || b.bytes >= batch_size_) return true;
  return flushes_ > 0 || closing_ || now >= b.created + linger_;
}

std::vector<TopicPartition> RecordAccumulator::ready_partitions(Instant now) const {
  std::vector<TopicPartition> out;
  for (const auto& [tp, q] : queues_)
    if (ready(tp, now)) out.push_back(tp);
  return out;
}

BatchPtr RecordAccumulator::front(const TopicPartition& tp) const {
  auto it = queues_.find(tp);
  if (it == queues_.end() || it->second.empty()) return nullptr;
  return it->second.front();
}

BatchPtr RecordAccumulator::take_front(const TopicPartition& tp) {
  auto it = queues_.find(tp);
  CASTLE_ASSERT(it != queues_.end() && !it->second.empty(), "take_front of an empty queue");
  BatchPtr b = std::move(it->second.front());
  it->second.pop_front();
  if (it->second.empty()) queues_.erase(it);
  --batches_;
  bytes_ -= b->bytes - storage::batch_header_bytes;
  b->sealed = true;
  return b;
}

void RecordAccumulator::reenqueue(BatchPtr batch) {
  CASTLE_ASSERT(batch->sealed, "only a batch that was sent is retried");
  std::deque<BatchPtr>& q = queues_[batch->tp];
  // Retried batches stay ahead of new ones, and among themselves in
  // sequence order, so the broker sees sequences without gaps.
  auto at = std::find_if(q.begin(), q.end(), [&](const BatchPtr& other) {
    if (!other->sealed) return true;
    return batch->has_sequence() && other->base_sequence > batch->base_sequence;
  });
  bytes_ += batch->bytes - storage::batch_header_bytes;
  ++batches_;
  q.insert(at, std::move(batch));
}

std::vector<BatchPtr> RecordAccumulator::expire(Instant now, Duration timeout) {
  std::vector<BatchPtr> out;
  for (auto it = queues_.begin(); it != queues_.end();) {
    auto& q = it->second;
    while (!q.empty() && now >= q.front()->created + timeout) {
      BatchPtr b = std::move(q.front());
      q.pop_front();
      --batches_;
      bytes_ -= b->bytes - storage::batch_header_bytes;
      out.push_back(std::move(b));
    }
    it = q.empty() ? queues_.erase(it) : std::next(it);
  }
  return out;
}

std::vector<BatchPtr> RecordAccumulator::take_sent() {
  std::vector<BatchPtr> out;
  for (auto it = queues_.begin(); it != queues_.end();) {
    auto& q = it->second;
    std::deque<BatchPtr> kept;
    for (auto& b : q) {
      if (b->attempts == 0) {
        kept.push_back(std::move(b));
        continue;
      }
      --batches_;
      bytes_ -= b->bytes - storage::batch_header_bytes;
      out.push_back(std::move(b));
    }
    q = std::move(kept);
    it = q.empty() ? queues_.erase(it) : std::next(it);
  }
  return out;
}

std::vector<BatchPtr> RecordAccumulator::drain_all() {
  std::vector<BatchPtr> out;
  for (auto& [tp, q] : queues_)
    for (auto& b : q) out.push_back(std::move(b));
  queues_.clear();
  batches_ = 0;
  bytes_ = 0;
  return out;
}

std::optional<Instant> RecordAccumulator::next_ready_time(Instant now) const {
  std::optional<Instant> next;
  for (const auto& [tp, q] : queues_) {
    if (q.empty() || ready(tp, now)) continue;
    const ProducerBatch& b = *q.front();
    const Instant t = b.retry_at ? *b.retry_at : b.created + linger_;
    if (!next || t < *next) next = t;
  }
  return next;
}

}  // namespace castle::client
