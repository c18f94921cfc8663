#include "system/client/producer.h"

#include <map>
#include <set>

#include "system/client/accumulator.h"
#include "system/client/cluster.h"
#include "system/client/errors.h"
#include "system/client/partitioner.h"
#include "system/protocol/messages.h"

namespace castle::client {

using protocol::ProduceRequest;
using protocol::ProduceResponse;

namespace {

Future<DeliveryReport> failed_report(const std::string& topic, std::int32_t partition,
                                     std::error_code ec) {
  Promise<DeliveryReport> p;
  p.set(DeliveryReport{topic, partition, -1, -1, ec});
  return p.future();
}

// Per partition bookkeeping of the sender.
struct PartitionState {
  std::int32_t next_sequence = 0;
  int in_flight = 0;                // batches sent and not yet answered
  std::set<std::int32_t> unacked;   // base sequences sent and not yet settled
};

storage::Record to_storage(ProducerRecord& r, std::int64_t timestamp_ms) {
  storage::Record out;
  out.key = std::move(r.key);
  out.value = std::move(r.value);
  for (Header& h : r.headers) out.headers.push_back({std::move(h.key), std::move(h.value)});
  out.timestamp_ms = timestamp_ms;
  return out;
}

bool is_sequence_error(ErrorCode code) {
  return code == ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER || code == ErrorCode::UNKNOWN_PRODUCER_ID;
}

}  // namespace

struct Producer::Impl : std::enable_shared_from_this<Impl> {
  Impl(Runtime& rt_, ProducerConfig c)
      : rt(rt_),
        config(std::move(c)),
        cluster(rt_, config.client),
        acc(config.batch_size, milliseconds(config.linger_ms)) {}

  Runtime& rt;
  ProducerConfig config;
  Cluster cluster;
  RecordAccumulator acc;
  std::map<std::string, StickyPartitioner> sticky;
  std::map<TopicPartition, PartitionState> partitions;
  std::int64_t producer_id = -1;
  std::int16_t producer_epoch = -1;
  bool need_new_producer_id = false;
  std::uint64_t next_record_id = 1;
  std::set<std::uint64_t> incomplete;  // ids of records without a report yet
  std::size_t batches_in_flight = 0;
  WaitList wake;      // the sender waits here for work
  WaitList progress;  // flush() and blocked send() wait here for reports
  bool closing = false;
  bool stopped = false;
  ProducerStats stats;
  Task sender;

  bool idempotent() const { return config.enable_idempotence; }

  // ---- send side ----

  Result<std::int32_t> choose_partition(const std::string& topic, std::optional<std::int32_t> explicit_partition,
                                        const std::optional<Bytes>& key, std::int32_t count,
                                        std::size_t record_bytes) {
    if (explicit_partition) {
      if (*explicit_partition < 0 || *explicit_partition >= count)
        return kafka_error(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION);
      return *explicit_partition;
    }
    if (key) return partition_for_key(*key, count);
    auto it = sticky.try_emplace(topic, config.batch_size).first;
    return it->second.next(count, record_bytes, rt.rng());
  }

  Future<DeliveryReport> send(ProducerRecord r) {
    if (closing || stopped) return failed_report(r.topic, -1, client_error(ClientError::closed));
    const Instant deadline = rt.now() + milliseconds(config.max_block_ms);
    auto topic = cluster.wait_for_topic(r.topic, deadline);
    if (!topic) return failed_report(r.topic, -1, topic.error());
    const auto count = static_cast<std::int32_t>((*topic)->partitions.size());
    const std::int64_t ts = r.timestamp_ms ? *r.timestamp_ms : to_ms(rt.wall_now());
    const std::string name = r.topic;
    storage::Record rec = to_storage(r, ts);
    const std::size_t bytes = storage::encoded_record_bytes(rec, 0, 0);
    auto partition = choose_partition(name, r.partition, rec.key, count, bytes);
    if (!partition) return failed_report(name, -1, partition.error());
    while (acc.bytes_queued() + bytes > static_cast<std::size_t>(config.buffer_memory) &&
           !acc.empty()) {
      if (!progress.wait(rt, deadline))
        return failed_report(name, *partition, std::make_error_code(std::errc::timed_out));
    }
    const std::uint64_t id = next_record_id++;
    incomplete.insert(id);
    Future<DeliveryReport> f = acc.append({name, *partition}, std::move(rec), id, rt.now());
    wake.notify_all();
    return f;
  }

  // ---- settling batches ----

  void settle(ProducerBatch& b, std::int64_t base_offset, std::error_code ec) {
    PartitionState& ps = partitions[b.tp];
    if (b.has_sequence()) ps.unacked.erase(b.base_sequence);
    for (std::size_t i = 0; i < b.promises.size(); ++i) {
      DeliveryReport d{b.tp.topic, b.tp.partition, -1, b.records[i].timestamp_ms, ec};
      if (!ec && base_offset >= 0) d.offset = base_offset + static_cast<std::int64_t>(i);
      incomplete.erase(b.record_ids[i]);
      b.promises[i].set(std::move(d));
    }
    (ec ? stats.records_failed : stats.records_sent) += b.promises.size();
    progress.notify_all();
  }

  void fail(ProducerBatch& b, std::error_code ec) {
    // A sequence that will never be written leaves a gap the broker would
    // reject every later batch for: start over with a new producer id.
    if (idempotent() && b.has_sequence()) need_new_producer_id = true;
    settle(b, -1, ec);
  }

  bool retriable(const ProducerBatch& b, std::error_code ec) {
    if (auto k = as_kafka_error(ec)) {
      if (needs_metadata_refresh(*k)) cluster.mark_stale();
      if (idempotent() && is_sequence_error(*k)) {
        // Expected while a lower sequence of the partition is being
        // retried; otherwise the broker lost our state.
        const auto& unacked = partitions[b.tp].unacked;
        if (unacked.empty() || *unacked.begin() >= b.base_sequence) need_new_producer_id = true;
        return true;
      }
      return is_retriable(*k);
    }
    if (is_network_error(ec)) {
      cluster.mark_stale();
      return true;
    }
    return false;
  }

  void complete_or_retry(const BatchPtr& b, std::int64_t base_offset, std::error_code ec) {
    PartitionState& ps = partitions[b->tp];
    CASTLE_ASSERT(ps.in_flight > 0 && batches_in_flight > 0, "a settled batch was in flight");
    --ps.in_flight;
    --batches_in_flight;
    wake.notify_all();
    if (!ec) return settle(*b, base_offset, ec);
    if (stopped) return fail(*b, client_error(ClientError::closed));
    if (!retriable(*b, ec)) return fail(*b, ec);
    if (rt.now() >= b->created + milliseconds(config.delivery_timeout_ms))
      return fail(*b, client_error(ClientError::delivery_timeout));
    if (b->attempts > config.retries) return fail(*b, ec);
    b->retry_at = rt.now() + milliseconds(config.client.retry_backoff_ms);
    acc.reenqueue(b);
  }

  void on_response(const std::vector<BatchPtr>& batches, Result<protocol::Response> r) {
    if (!r) {
      for (const BatchPtr& b : batches) complete_or_retry(b, -1, r.error());
      return;
    }
    const auto* resp = std::get_if<ProduceResponse>(&r.value());
    for (const BatchPtr& b : batches) {
      if (config.acks == 0) {
        complete_or_retry(b, -1, {});
        continue;
      }
      const ProduceResponse::Partition* p = resp ? find_partition(*resp, b->tp) : nullptr;
      if (p == nullptr) {
        complete_or_retry(b, -1, client_error(ClientError::bad_response));
      } else if (p->error_code == ErrorCode::NONE ||
                 p->error_code == ErrorCode::DUPLICATE_SEQUENCE_NUMBER) {
        complete_or_retry(b, protocol::raw(p->base_offset), {});
      } else {
        complete_or_retry(b, -1, kafka_error(p->error_code));
      }
    }
  }

  static const ProduceResponse::Partition* find_partition(const ProduceResponse& r,
                                                          const TopicPartition& tp) {
    for (const auto& t : r.topics) {
      if (t.name != tp.topic) continue;
      for (const auto& p : t.partitions)
        if (protocol::raw(p.index) == tp.partition) return &p;
    }
    return nullptr;
  }

  // ---- the sender fiber ----

  void run_sender();
  bool ensure_producer_id();
  bool may_send(const TopicPartition& tp);
  void prepare(ProducerBatch& b);
  bool send_ready(bool* blocked);
  void send_request(std::int32_t node, std::vector<BatchPtr> batches);
  void expire_queued();
  void stop();
};

bool Producer::Impl::ensure_producer_id() {
  if (!idempotent() || (producer_id >= 0 && !need_new_producer_id)) return true;
  // Batches still in flight carry the old id; their answers come first.
  if (batches_in_flight > 0) {
    wake.wait(rt, rt.now() + milliseconds(config.client.retry_backoff_ms));
    return false;
  }
  auto conn = cluster.any_connection();
  using InitResponse = protocol::InitProducerIdResponse;
  Result<InitResponse> r = conn ? response_as<InitResponse>((*conn)->call(protocol::InitProducerIdRequest{}))
                                : Result<InitResponse>(conn.error());
  if (!r || r->error_code != ErrorCode::NONE) {
    rt.sleep_for(milliseconds(config.client.retry_backoff_ms));
    return false;
  }
  if (producer_id >= 0) {
    ++stats.producer_id_resets;
    // A batch sent before may be in the log under the old id: sent again
    // under the new one, the broker could not tell and would store it
    // twice. Its outcome stays unknown to the caller (as Kafka's producer
    // fails such batches instead of renumbering them).
    for (const BatchPtr& b : acc.take_sent()) settle(*b, -1, client_error(ClientError::delivery_timeout));
  }
  producer_id = protocol::raw(r->producer_id);
  producer_epoch = protocol::raw(r->producer_epoch);
  need_new_producer_id = false;
  partitions.clear();
  acc.for_each([](ProducerBatch& b) {
    b.base_sequence = -1;
    b.wire.reset();
  });
  return true;
}

bool Producer::Impl::may_send(const TopicPartition& tp) {
  const PartitionState& ps = partitions[tp];
  if (ps.in_flight >= config.client.max_in_flight_requests_per_connection) return false;
  if (!idempotent()) return true;
  if (need_new_producer_id) return false;
  // A retried batch goes alone, after everything before it was answered, so
  // the broker sees its sequences in order again.
  return !acc.front(tp)->has_sequence() || ps.in_flight == 0;
}

void Producer::Impl::prepare(ProducerBatch& b) {
  PartitionState& ps = partitions[b.tp];
  if (idempotent() && !b.has_sequence()) {
    b.producer_id = producer_id;
    b.producer_epoch = producer_epoch;
    b.base_sequence = ps.next_sequence;
    // Sequences wrap to 0 after INT32_MAX, as Kafka's do.
    const std::int64_t next = std::int64_t{ps.next_sequence} + b.record_count();
    ps.next_sequence = static_cast<std::int32_t>(next > 0x7fffffff ? next - 0x80000000LL : next);
    ps.unacked.insert(b.base_sequence);
    b.wire.reset();
  }
  if (!b.wire) {
    storage::BatchOptions o;
    o.producer_id = b.producer_id;
    o.producer_epoch = b.producer_epoch;
    o.base_sequence = b.base_sequence;
    b.wire = storage::build_batch(b.records, o);
  }
  if (b.attempts > 0) ++stats.retries;
  ++b.attempts;
  b.retry_at.reset();
  ++ps.in_flight;
  ++batches_in_flight;
}

bool Producer::Impl::send_ready(bool* blocked) {
  const Instant now = rt.now();
  std::map<std::int32_t, std::vector<BatchPtr>> by_node;
  std::map<std::int32_t, std::size_t> bytes_by_node;
  // Only the ready ones: the sender wakes at every record, and mostly
  // finds none (linger.ms), which then costs no allocation.
  for (const TopicPartition& tp : acc.ready_partitions(now)) {
    const std::optional<std::int32_t> leader = cluster.leader(tp);
    if (!leader) {
      cluster.mark_stale();
      *blocked = true;
      continue;
    }
    if (!may_send(tp)) continue;
    std::size_t& bytes = bytes_by_node[*leader];
    const std::size_t add = acc.front(tp)->bytes;
    if (bytes > 0 && bytes + add > static_cast<std::size_t>(config.max_request_size)) continue;
    bytes += add;
    BatchPtr b = acc.take_front(tp);
    prepare(*b);
    by_node[*leader].push_back(std::move(b));
  }
  for (auto& [node, batches] : by_node) send_request(node, std::move(batches));
  return !by_node.empty();
}

void Producer::Impl::send_request(std::int32_t node, std::vector<BatchPtr> batches) {
  ProduceRequest req;
  req.acks = config.acks;
  req.timeout_ms = static_cast<std::int32_t>(config.client.request_timeout_ms);
  for (const BatchPtr& b : batches) {
    if (req.topics.empty() || req.topics.back().name != b->tp.topic)
      req.topics.push_back({b->tp.topic, {}});
    req.topics.back().partitions.push_back({protocol::PartitionId{b->tp.partition}, *b->wire});
  }
  auto conn = cluster.connection(node);
  if (!conn) return on_response(batches, conn.error());
  ++stats.requests;
  auto self = shared_from_this();
  auto handler = [self, batches](Result<protocol::Response> r) {
    self->on_response(batches, std::move(r));
  };
  auto sent = (*conn)->send(std::move(req), handler, std::nullopt, config.acks != 0);
  if (!sent) on_response(batches, sent.error());
}

void Producer::Impl::expire_queued() {
  for (const BatchPtr& b : acc.expire(rt.now(), milliseconds(config.delivery_timeout_ms)))
    fail(*b, client_error(ClientError::delivery_timeout));
}

void Producer::Impl::run_sender() {
  while (!stopped) {
    if (closing && acc.empty() && batches_in_flight == 0) return;
    expire_queued();
    if (!ensure_producer_id()) continue;
    (void)cluster.refresh_if_stale();  // also after metadata.max.age.ms
    bool blocked = false;
    if (send_ready(&blocked)) continue;
    std::optional<Instant> until = acc.next_ready_time(rt.now());
    if (blocked) {
      const Instant retry = rt.now() + milliseconds(config.client.retry_backoff_ms);
      if (!until || retry < *until) until = retry;
    }
    wake.wait(rt, until);
  }
}

void Producer::Impl::stop() {
  stopped = true;
  for (const BatchPtr& b : acc.drain_all()) fail(*b, client_error(ClientError::closed));
  cluster.close();
  wake.notify_all();
  progress.notify_all();
}

Result<std::unique_ptr<Producer>> Producer::create(Runtime& rt, ProducerConfig config) {
  if (auto v = validate(config); !v) return v.error();
  auto impl = std::make_shared<Impl>(rt, std::move(config));
  impl->sender = rt.spawn("producer sender", [impl] { impl->run_sender(); });
  return std::unique_ptr<Producer>(new Producer(std::move(impl)));
}

Producer::~Producer() {
  if (!impl_->stopped) impl_->stop();
  impl_->sender.cancel();
}

Future<DeliveryReport> Producer::send(ProducerRecord record) {
  return impl_->send(std::move(record));
}

Future<DeliveryReport> Producer::send(const std::string& topic, std::optional<Bytes> key,
                                      std::optional<Bytes> value) {
  ProducerRecord r;
  r.topic = topic;
  r.key = std::move(key);
  r.value = std::move(value);
  return impl_->send(std::move(r));
}

namespace {
class FlushScope {
 public:
  explicit FlushScope(RecordAccumulator& acc) : acc_(acc) { acc_.begin_flush(); }
  ~FlushScope() { acc_.end_flush(); }
  FlushScope(const FlushScope&) = delete;
  FlushScope& operator=(const FlushScope&) = delete;

 private:
  RecordAccumulator& acc_;
};
}  // namespace

Result<void> Producer::flush(std::optional<Duration> timeout) {
  Impl& p = *impl_;
  const std::uint64_t upto = p.next_record_id - 1;
  std::optional<Instant> deadline;
  if (timeout) deadline = p.rt.now() + *timeout;
  FlushScope scope(p.acc);
  p.wake.notify_all();
  while (!p.incomplete.empty() && *p.incomplete.begin() <= upto) {
    if (!p.progress.wait(p.rt, deadline) && deadline && p.rt.now() >= *deadline)
      return std::errc::timed_out;
  }
  return {};
}

void Producer::close(std::optional<Duration> timeout) {
  if (impl_->stopped) return;
  impl_->closing = true;
  impl_->acc.set_closing();
  (void)flush(timeout);
  impl_->stop();
}

std::int64_t Producer::producer_id() const { return impl_->producer_id; }
const ProducerStats& Producer::stats() const { return impl_->stats; }

}  // namespace castle::client
