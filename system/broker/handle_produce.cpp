// Produce (API key 0), versions 0-8. v0-2 carry the old message formats,
// which are refused with UNSUPPORTED_FOR_MESSAGE_FORMAT, as Kafka 4 does;
// v3+ carry RecordBatch v2, stored as it came (compressed or not) with the
// broker's base offset and leader epoch written in.
//
// acks=0 gets no response (and a failure closes the connection); acks=1
// and acks=-1 are answered once the batches are in the log. With one
// replica the ISR is this broker alone, so acks=-1 needs only
// min.insync.replicas <= 1. Durability on disk is the flush policy's.
//
// In a cluster only the partition's leader appends (NOT_LEADER_OR_FOLLOWER
// elsewhere), through its LeaderPartition; acks=-1 needs an ISR of at least
// min.insync.replicas (NOT_ENOUGH_REPLICAS) and is answered once the high
// watermark passed the batch. The partitions of one request are appended and
// waited for together.

#include "system/broker/broker_core.h"
#include "system/storage/batch.h"

#include <tuple>

namespace castle::broker {

using protocol::ErrorCode;
using protocol::ProduceRequest;
using protocol::ProduceResponse;

namespace {

struct ValidatedRecords {
  ErrorCode error = ErrorCode::NONE;
  std::string message;
  std::vector<BatchSequence> sequences;  // idempotent batches, in order
};

ValidatedRecords validate_records(std::span<const std::uint8_t> bytes, std::int32_t max_bytes) {
  ValidatedRecords v;
  if (bytes.empty()) return {ErrorCode::CORRUPT_MESSAGE, "no record batch in the request", {}};
  while (!bytes.empty()) {
    storage::BatchView b(bytes);
    // Framing and magic only: the log checks every batch's CRC as it
    // appends (an invalid_argument, answered CORRUPT_MESSAGE), and a
    // second pass over every byte here would cost as much again.
    if (const auto e = b.validate(false); e != storage::BatchError::ok) {
      if (e == storage::BatchError::bad_magic)
        return {ErrorCode::UNSUPPORTED_FOR_MESSAGE_FORMAT, "only RecordBatch v2 (magic 2)", {}};
      return {ErrorCode::CORRUPT_MESSAGE, std::string("bad record batch: ") + storage::to_string(e), {}};
    }
    if (b.size_bytes() > static_cast<std::size_t>(max_bytes))
      return {ErrorCode::MESSAGE_TOO_LARGE, "batch larger than max.message.bytes", {}};
    if (b.transactional() || b.control())
      return {ErrorCode::INVALID_TXN_STATE, "transactions are not supported", {}};
    if (b.producer_id() >= 0) {
      const BatchSequence seq{b.producer_id(), b.producer_epoch(), b.base_sequence(),
                              static_cast<std::int32_t>(b.base_sequence() + b.last_offset_delta())};
      if (!v.sequences.empty() && (seq.producer_id != v.sequences.back().producer_id ||
                                   seq.first_seq != next_sequence(v.sequences.back().last_seq)))
        return {ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER, "batches out of sequence", {}};
      v.sequences.push_back(seq);
    }
    bytes = bytes.subspan(b.size_bytes());
  }
  return v;
}

ErrorCode append_error(std::error_code e) {
  return e == std::errc::invalid_argument ? ErrorCode::CORRUPT_MESSAGE
                                          : ErrorCode::KAFKA_STORAGE_ERROR;
}

// An append that failed may still have left its batches in the log. They
// were answered with an error, so they must go (Log::undo_append): a retry
// would otherwise be appended a second time, or be acknowledged without
// having been synced. When the log cannot be restored, the partition goes
// offline: after a failed sync the broker's recovery reopens it without
// its unsynced tail within a second; after a failed cut, until a restart.
void undo_failed_append(Broker::Impl& b, Partition& p, std::int64_t end_before) {
  if (auto r = p.log->undo_append(end_before); !r) {
    p.take_offline();
    p.sync_failed = p.log->sync_failed();
    p.undo_to = end_before;
    CASTLE_TRACE(b.rt.tracer(), "broker.partition_offline",
                 {{"dir", p.dir}, {"error", p.sync_failed ? "sync failed" : r.error().message()}});
    return;
  }
  // Standalone, the log end is committed; in a cluster replication says.
  if (!b.cluster) (void)p.log->set_high_watermark(p.log->log_end_offset());
}

// The append itself: through the partition's leader state in a cluster (the
// leader epoch, the high watermark and the acks=all waiters are its), or
// straight into the log for a standalone broker.
Result<storage::AppendResult> append_batches(Broker::Impl& b, Partition& p,
                                             std::vector<std::uint8_t>& records) {
  if (b.cluster) return p.leader->append(records, b.rt.now());
  return p.log->append_as_leader_in_place(records, p.leader_epoch);
}

// What an acks=all produce waits for in a cluster: the high watermark to
// pass `last_offset` on this leader.
struct AckWait {
  std::shared_ptr<replication::LeaderPartition> leader;
  std::int64_t base_offset = -1;
  std::int64_t last_offset = -1;
};

// Appends to one partition and fills `out`; in a cluster, returns what an
// acks=all produce must still wait for.
std::optional<AckWait> append(RequestContext& ctx, Partition& p, std::vector<std::uint8_t>& records,
                              const ValidatedRecords& v, std::int16_t acks,
                              ProduceResponse::Partition& out) {
  Broker::Impl& b = ctx.broker;
  MutexLock lock(b.rt, p.lock);
  if (p.deleted) {
    out.error_code = ErrorCode::UNKNOWN_TOPIC_OR_PARTITION;
    return std::nullopt;
  }
  if (p.offline) {
    out.error_code = ErrorCode::KAFKA_STORAGE_ERROR;
    return std::nullopt;
  }
  if (auto e = check_leadership(b, p); e != ErrorCode::NONE) {
    out.error_code = e;
    return std::nullopt;
  }
  // Buggify: a retriable refusal with nothing written, as a leadership
  // change in flight would answer.
  if (b.rt.buggify("broker.produce_not_leader", 4)) {
    out.error_code = ErrorCode::NOT_LEADER_OR_FOLLOWER;
    return std::nullopt;
  }
  // NOT_ENOUGH_REPLICAS: the ISR is below min.insync.replicas for acks=all.
  if (b.cluster) {
    if (auto e = p.leader->check_append(acks); e != ErrorCode::NONE) {
      out.error_code = e;
      return std::nullopt;
    }
  }
  auto wait_for = [&](std::int64_t base, std::int64_t last) -> std::optional<AckWait> {
    if (!b.cluster || acks != -1) return std::nullopt;
    return AckWait{p.leader, base, last};
  };
  if (!v.sequences.empty() && !b.config.bug("broker-no-idempotence")) {
    const SequenceCheck c = p.producers.check(v.sequences.front());
    if (c.duplicate_of) {
      // A retry of a batch already in the log: its original offsets.
      ++b.stats.duplicate_batches;
      out.base_offset = protocol::Offset{c.duplicate_of->first_offset};
      out.log_start_offset = protocol::Offset{p.log->log_start_offset()};
      // The original may not be replicated yet: wait as it would have.
      return wait_for(c.duplicate_of->first_offset, c.duplicate_of->last_offset);
    }
    if (c.error != ErrorCode::NONE) {
      out.error_code = c.error;
      return std::nullopt;
    }
  }
  const std::int64_t end_before = p.log->log_end_offset();
  auto appended = append_batches(b, p, records);
  if (!appended) {
    out.error_code = append_error(appended.error());
    out.error_message = appended.error().message();
    undo_failed_append(b, p, end_before);
    return std::nullopt;
  }
  // The batches now carry their offsets: remember the idempotent ones.
  std::span<const std::uint8_t> rest(records);
  std::size_t i = 0;
  while (!rest.empty()) {
    storage::BatchView batch(rest);
    if (batch.producer_id() >= 0)
      p.producers.record(v.sequences[i++], batch.base_offset(), batch.last_offset());
    rest = rest.subspan(batch.size_bytes());
  }
  ++b.stats.produced_batches;
  // One replica: the high watermark follows the log end at once.
  if (!b.cluster) (void)p.log->set_high_watermark(p.log->log_end_offset());
  b.data_arrived.notify_all();
  out.base_offset = protocol::Offset{appended->base_offset +
                                     (b.config.bug("broker-wrong-ack-offset") ? 1 : 0)};
  out.log_append_time_ms = appended->log_append_time_ms;
  out.log_start_offset = protocol::Offset{p.log->log_start_offset()};
  return wait_for(appended->base_offset, appended->last_offset);
}

// acks=all in a cluster: the answer waits, without the partition's lock,
// until the ISR holds the batch (or the leader resigns, or time runs out).
// A success is traced as replica.ack: the leader-election linearizability
// check reads it as this leader's epoch being current while the ISR took
// the batch (checkers/replication_invariants.h).
void await_replication(Broker::Impl& b, const std::string& topic, std::int32_t partition,
                       const AckWait& w, std::int32_t timeout_ms, ProduceResponse::Partition& out) {
  const Instant deadline = b.rt.now() + milliseconds(std::max(timeout_ms, 0));
  // Buggify: time out at once, the batch in the log (it may still commit),
  // as a slow ISR would: the producer's retry is a duplicate.
  const ErrorCode e = b.rt.buggify("broker.produce_timeout", 4) ? ErrorCode::REQUEST_TIMED_OUT
                                                             : w.leader->await_ack(b.rt, w.last_offset, deadline);
  if (e == ErrorCode::NONE) {
    CASTLE_TRACE(b.rt.tracer(), "replica.ack",
                 {{"topic", topic}, {"partition", partition}, {"epoch", w.leader->leader_epoch()},
                  {"base", w.base_offset}, {"last", w.last_offset}});
    return;
  }
  out.error_code = e;
  out.base_offset = protocol::Offset{-1};
}

ProduceResponse::Partition produce_partition(RequestContext& ctx, const ProduceRequest& req,
                                             const std::string& topic,
                                             ProduceRequest::Partition& in,
                                             std::optional<AckWait>& wait) {
  Broker::Impl& b = ctx.broker;
  ProduceResponse::Partition out;
  out.index = in.index;
  out.base_offset = protocol::Offset{-1};
  auto fail = [&](ErrorCode e, std::string msg) {
    out.error_code = e;
    out.error_message = std::move(msg);
    return out;
  };
  if (req.acks != 0 && req.acks != 1 && req.acks != -1)
    return fail(ErrorCode::INVALID_REQUIRED_ACKS, "acks must be -1, 0 or 1");
  if (ctx.version() < 3)
    return fail(ErrorCode::UNSUPPORTED_FOR_MESSAGE_FORMAT, "produce v0-2 (message format v0/v1)");
  if (req.transactional_id)
    return fail(ErrorCode::INVALID_TXN_STATE, "transactions are not supported");
  const Topic* t = b.topics.find(topic);
  PartitionPtr p = b.topics.partition(topic, protocol::raw(in.index));
  if (t == nullptr || !p) return fail(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION, "");
  if (!in.records) return fail(ErrorCode::CORRUPT_MESSAGE, "null records");
  const ValidatedRecords v = validate_records(*in.records, topic_max_message_bytes(b.config, t->overrides));
  if (v.error != ErrorCode::NONE) return fail(v.error, v.message);
  if (req.acks == -1 && !b.cluster) {
    const auto min_isr = topic_log_min_insync(b.config, t->overrides);
    if (min_isr > 1) return fail(ErrorCode::NOT_ENOUGH_REPLICAS, "ISR is 1 < min.insync.replicas");
  }
  wait = append(ctx, *p, *in.records, v, req.acks, out);
  return out;
}

}  // namespace

std::optional<protocol::Response> handle(RequestContext& ctx, ProduceRequest& req) {
  ProduceResponse resp;
  bool failed = false;
  // (topic, partition) index of each answer still waiting for replication.
  std::vector<std::tuple<std::size_t, std::size_t, AckWait>> waits;
  for (auto& topic : req.topics) {
    ProduceResponse::Topic rt{topic.name, {}};
    for (auto& part : topic.partitions) {
      std::optional<AckWait> wait;
      rt.partitions.push_back(produce_partition(ctx, req, topic.name, part, wait));
      failed = failed || rt.partitions.back().error_code != ErrorCode::NONE;
      if (wait) waits.emplace_back(resp.topics.size(), rt.partitions.size() - 1, std::move(*wait));
    }
    resp.topics.push_back(std::move(rt));
  }
  // Every partition is appended before any waits, so they replicate together.
  for (const auto& [t, p, wait] : waits) {
    auto& out = resp.topics[t].partitions[p];
    await_replication(ctx.broker, resp.topics[t].name, protocol::raw(out.index), wait, req.timeout_ms, out);
  }
  if (req.acks == 0) {
    ctx.close_connection = failed;
    return std::nullopt;
  }
  return resp;
}

}  // namespace castle::broker
