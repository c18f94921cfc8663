#pragma once
// The producer's record accumulator: per partition, a queue of batches that
// records are appended to until a batch reaches batch.size bytes, and the
// rules for when a partition's first batch is ready to send:
// - it is full (or another batch queued behind it),
// - it has waited linger.ms since its first record,
// - a flush or a close is in progress,
// - for a batch being retried, its retry.backoff.ms has passed.
//
// A batch taken for sending is sealed: no record joins it afterwards, so a
// retry resends exactly the same records (and, for an idempotent producer,
// the same bytes with the same sequence numbers). Retried batches go back to
// the front of their queue, in sequence order, ahead of batches never sent.
//
// This file is pure bookkeeping: no I/O, no fibers, time passed in.

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "system/client/types.h"
#include "system/runtime/sync.h"
#include "system/runtime/time.h"
// RecordBatch v2 building is storage's today; it belongs in protocol/
// eventually, beside the rest of the wire format.
#include "system/storage/batch_builder.h"

namespace castle::client {

struct ProducerBatch {
  TopicPartition tp;
  std::vector<storage::Record> records;
  std::vector<Promise<DeliveryReport>> promises;  // one per record
  std::vector<std::uint64_t> record_ids;          // one per record, for flush()
  std::size_t bytes = 0;                          // encoded size, header included
  Instant created;
  bool sealed = false;
  int attempts = 0;  // sends so far
  std::optional<Instant> retry_at;
  // Idempotence: assigned when first sent, kept across retries.
  std::int64_t producer_id = -1;
  std::int16_t producer_epoch = -1;
  std::int32_t base_sequence = -1;
  std::optional<Bytes> wire;  // built once at the first send

  bool has_sequence() const { return base_sequence >= 0; }
  std::int32_t record_count() const { return static_cast<std::int32_t>(records.size()); }
};

using BatchPtr = std::shared_ptr<ProducerBatch>;

class RecordAccumulator {
 public:
  RecordAccumulator(std::int32_t batch_size_bytes, Duration linger);

  // Appends a record (with the id the producer gave it) to the partition's
  // last open batch, or to a new batch when that one is full or sealed. A
  // record bigger than batch.size gets a batch of its own.
  Future<DeliveryReport> append(const TopicPartition& tp, storage::Record record,
                                std::uint64_t record_id, Instant now);

  // Whether the partition's first batch may be sent now.
  bool ready(const TopicPartition& tp, Instant now) const;
  // The partitions whose first batch may be sent now (ready()), in order.
  std::vector<TopicPartition> ready_partitions(Instant now) const;
  // The first batch of a partition, or null.
  BatchPtr front(const TopicPartition& tp) const;
  // Removes and seals the first batch of a partition.
  BatchPtr take_front(const TopicPartition& tp);
  // Puts a batch back for a retry: ahead of every batch never sent, behind
  // retried batches of lower sequence.
  void reenqueue(BatchPtr batch);
  // Removes queued batches whose deadline (created + timeout) has passed.
  std::vector<BatchPtr> expire(Instant now, Duration timeout);
  // Visits every queued batch (the producer renumbers them after it took a
  // new producer id).
  template <class F>
  void for_each(F f) {
    for (auto& [tp, q] : queues_)
      for (BatchPtr& b : q) f(*b);
  }
  // Removes the queued batches that were sent at least once: the broker
  // may hold them, so they must not be sent under another producer id.
  std::vector<BatchPtr> take_sent();
  // Removes everything queued (close without flushing).
  std::vector<BatchPtr> drain_all();

  // The earliest time a batch that is not ready now becomes ready.
  std::optional<Instant> next_ready_time(Instant now) const;

  void begin_flush() { ++flushes_; }
  void end_flush() { --flushes_; }
  void set_closing() { closing_ = true; }
  bool empty() const { return batches_ == 0; }
  std::size_t batch_count() const { return batches_; }
  std::size_t bytes_queued() const { return bytes_; }

 private:
  std::size_t batch_size_;
  Duration linger_;
  std::map<TopicPartition, std::deque<BatchPtr>> queues_;
  std::size_t batches_ = 0;
  std::size_t bytes_ = 0;
  int flushes_ = 0;
  bool closing_ = false;
};

}  // namespace castle::client
