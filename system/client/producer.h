#pragma once
// Castle's Kafka producer, with the Java producer's semantics:
//
// - send() picks the partition (explicit, else murmur2 of the key, else
//   sticky), appends the record to the partition's open batch and returns
//   at once with a future of its delivery report. It blocks only to learn
//   the topic's partition count (up to max.block.ms) or while buffer.memory
//   bytes are queued.
// - One sender fiber sends batches that are ready (batch.size reached,
//   linger.ms passed, flush) to each partition's leader, one Produce request
//   per broker with at most one batch per partition, pipelined up to
//   max.in.flight.requests.per.connection.
// - Retriable failures (leader moved, connection lost, timeouts) are retried
//   after retry.backoff.ms, with a metadata refresh where the error calls for
//   one, until delivery.timeout.ms after the record was appended.
// - enable.idempotence: an InitProducerId gives the producer id and epoch;
//   each batch gets the partition's next sequence number when first sent and
//   keeps it, and its bytes, across retries, so the broker can recognise a
//   retried batch it already wrote and answer it with the original offsets.
//   Retried batches are resent one at a time in sequence order. If a batch
//   fails for good, or the broker lost the producer's state, the producer
//   takes a new producer id once nothing is in flight and renumbers what is
//   still queued (a batch written before that may then be written twice:
//   the same window Kafka's epoch bump has).
// - acks=0: no response; a record is reported delivered (offset -1) once its
//   request was written to the connection.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "system/client/config.h"
#include "system/client/types.h"
#include "system/runtime/runtime.h"
#include "system/runtime/sync.h"

namespace castle::client {

struct ProducerStats {
  std::uint64_t records_sent = 0;      // reported delivered
  std::uint64_t records_failed = 0;
  std::uint64_t requests = 0;          // Produce requests sent
  std::uint64_t retries = 0;           // batches sent again
  std::uint64_t producer_id_resets = 0;
};

class Producer {
 public:
  // Checks the config (see validate) and starts the sender fiber.
  static Result<std::unique_ptr<Producer>> create(Runtime& rt, ProducerConfig config);
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  Future<DeliveryReport> send(ProducerRecord record);
  Future<DeliveryReport> send(const std::string& topic, std::optional<Bytes> key,
                              std::optional<Bytes> value);
  // Makes everything queued ready at once and waits until every record sent
  // before the call has its report (or the timeout passes: timed_out).
  Result<void> flush(std::optional<Duration> timeout = std::nullopt);
  // Flushes (bounded by the timeout), then stops. Whatever is still queued
  // fails with ClientError::closed. The destructor closes without waiting.
  void close(std::optional<Duration> timeout = std::nullopt);

  // The idempotent producer's id (-1 before InitProducerId or without
  // idempotence).
  std::int64_t producer_id() const;
  const ProducerStats& stats() const;

  struct Impl;

 private:
  explicit Producer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

}  // namespace castle::client
