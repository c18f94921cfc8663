#include "system/client/consumer.h"

#include <deque>
#include <map>
#include <set>

#include "system/client/cluster.h"
#include "system/client/errors.h"
#include "system/client/fetched_records.h"
#include "system/client/offsets.h"
#include "system/protocol/fetch.h"
#include "system/runtime/sync.h"

namespace castle::client {

using protocol::FetchRequest;
using protocol::FetchResponse;

namespace {

struct PartitionState {
  std::optional<std::int64_t> position;  // next offset poll() returns
  std::optional<OffsetReset> reset;      // a lookup is pending
  std::deque<ConsumerRecord> buffer;     // fetched, not yet returned
  std::int64_t buffer_end = -1;          // the next fetch offset after the buffer
  std::int64_t high_watermark = -1;
};

// A Fetch sent to one broker and, once answered, its answer.
struct InFlightFetch {
  std::map<TopicPartition, std::int64_t> offsets;  // as requested
  std::optional<Result<protocol::Response>> answer;
};

std::int64_t reset_timestamp(OffsetReset r) {
  return r == OffsetReset::earliest ? offset_earliest : offset_latest;
}

}  // namespace

struct Consumer::Impl {
  Impl(Runtime& rt_, ConsumerConfig c) : rt(rt_), config(std::move(c)), cluster(rt_, config.client) {}

  Runtime& rt;
  ConsumerConfig config;
  Cluster cluster;
  std::map<TopicPartition, PartitionState> assigned;
  std::map<std::int32_t, std::shared_ptr<InFlightFetch>> fetches;  // by broker
  WaitList fetch_done;
  std::optional<Instant> backoff_until;  // after a failure to send fetches
  ConsumerStats stats;
  bool closed = false;

  PartitionState* state(const TopicPartition& tp) {
    auto it = assigned.find(tp);
    return it == assigned.end() ? nullptr : &it->second;
  }

  std::vector<std::string> topics() const {
    std::set<std::string> names;
    for (const auto& [tp, s] : assigned) names.insert(tp.topic);
    return {names.begin(), names.end()};
  }

  void set_position(PartitionState& s, std::int64_t offset) {
    s.position = offset;
    s.reset.reset();
    s.buffer.clear();
    s.buffer_end = -1;
  }

  Result<void> resolve_positions(Instant deadline);
  Result<void> handle_partition(const TopicPartition& tp, std::int64_t requested,
                                const FetchResponse::Partition& p);
  Result<void> handle_answer(InFlightFetch& f);
  Result<void> collect_answers();
  void send_fetches();
  void send_fetch(std::int32_t node, const std::vector<TopicPartition>& tps);
  std::vector<ConsumerRecord> drain_buffers();
  bool anything_buffered() const;
};

Result<void> Consumer::Impl::resolve_positions(Instant deadline) {
  std::map<TopicPartition, std::int64_t> query;
  for (auto& [tp, s] : assigned) {
    if (s.position && !s.reset) continue;
    const OffsetReset how = s.reset.value_or(config.auto_offset_reset);
    if (how == OffsetReset::none) return client_error(ClientError::no_offset);
    query[tp] = reset_timestamp(how);
  }
  if (query.empty()) return {};
  for (const auto& [tp, a] : list_offsets(cluster, query, deadline)) {
    PartitionState* s = state(tp);
    if (s == nullptr || a.error || !query.count(tp)) continue;
    set_position(*s, a.offset);
    ++stats.offset_resets;
  }
  return {};
}

Result<void> Consumer::Impl::handle_partition(const TopicPartition& tp, std::int64_t requested,
                                              const FetchResponse::Partition& p) {
  PartitionState* s = state(tp);
  // A seek or a reset since the request was sent makes its answer stale.
  if (s == nullptr || s->position != requested || s->reset || !s->buffer.empty()) return {};
  if (p.error_code == ErrorCode::OFFSET_OUT_OF_RANGE) {
    if (config.auto_offset_reset == OffsetReset::none) return client_error(ClientError::no_offset);
    s->reset = config.auto_offset_reset;
    return {};
  }
  if (p.error_code != ErrorCode::NONE) {
    if (needs_metadata_refresh(p.error_code) || is_retriable(p.error_code)) {
      cluster.mark_stale();
      return {};
    }
    return kafka_error(p.error_code);
  }
  s->high_watermark = protocol::raw(p.high_watermark);
  if (!p.records || p.records->empty()) return {};
  FetchedRecords got = decode_fetched(tp.topic, tp.partition, *p.records, requested);
  if (got.only_partial) return client_error(ClientError::record_too_large);
  for (ConsumerRecord& r : got.records) s->buffer.push_back(std::move(r));
  s->buffer_end = got.next_offset;
  if (s->buffer.empty()) s->position = got.next_offset;  // only skipped records
  return got.records.empty() && got.error ? Result<void>(got.error) : Result<void>();
}

Result<void> Consumer::Impl::handle_answer(InFlightFetch& f) {
  Result<protocol::Response>& answer = *f.answer;
  if (!answer) {
    cluster.mark_stale();
    backoff_until = rt.now() + milliseconds(config.client.retry_backoff_ms);
    return {};
  }
  const auto* resp = std::get_if<FetchResponse>(&answer.value());
  if (resp == nullptr) return client_error(ClientError::bad_response);
  if (resp->error_code != ErrorCode::NONE) {
    cluster.mark_stale();
    return {};
  }
  for (const auto& t : resp->topics) {
    for (const auto& p : t.partitions) {
      const TopicPartition tp{t.topic, protocol::raw(p.partition_index)};
      auto it = f.offsets.find(tp);
      if (it == f.offsets.end()) continue;
      if (auto r = handle_partition(tp, it->second, p); !r) return r;
    }
  }
  return {};
}

Result<void> Consumer::Impl::collect_answers() {
  for (auto it = fetches.begin(); it != fetches.end();) {
    if (!it->second->answer) {
      ++it;
      continue;
    }
    std::shared_ptr<InFlightFetch> f = std::move(it->second);
    it = fetches.erase(it);
    if (auto r = handle_answer(*f); !r) return r;
  }
  return {};
}

void Consumer::Impl::send_fetch(std::int32_t node, const std::vector<TopicPartition>& tps) {
  auto f = std::make_shared<InFlightFetch>();
  FetchRequest req;
  req.max_wait_ms = config.fetch_max_wait_ms;
  req.min_bytes = config.fetch_min_bytes;
  req.max_bytes = config.fetch_max_bytes;
  req.session_id = 0;
  req.session_epoch = -1;  // fetch sessions off: a full fetch every time
  for (const TopicPartition& tp : tps) {
    const std::int64_t offset = *assigned[tp].position;
    f->offsets[tp] = offset;
    if (req.topics.empty() || req.topics.back().topic != tp.topic) req.topics.push_back({tp.topic, {}});
    FetchRequest::Partition p;
    p.partition = protocol::PartitionId{tp.partition};
    p.fetch_offset = protocol::Offset{offset};
    // A broker at another epoch (a deposed leader, or one not yet told)
    // refuses with FENCED_LEADER_EPOCH or UNKNOWN_LEADER_EPOCH instead of
    // serving from a log that may not be the leader's (KIP-320).
    p.current_leader_epoch = protocol::LeaderEpoch{cluster.leader_epoch(tp)};
    p.partition_max_bytes = config.max_partition_fetch_bytes;
    req.topics.back().partitions.push_back(p);
  }
  auto conn = cluster.connection(node);
  if (!conn) {
    backoff_until = rt.now() + milliseconds(config.client.retry_backoff_ms);
    return;
  }
  fetches[node] = f;
  ++stats.fetches;
  // The broker may hold the request for max.wait.ms before answering.
  const Duration timeout = milliseconds(config.client.request_timeout_ms + config.fetch_max_wait_ms);
  Impl* self = this;
  auto sent = (*conn)->send(
      std::move(req),
      [f, self](Result<protocol::Response> r) {
        f->answer = std::move(r);
        // The consumer holds the fetch while it waits for it; once the
        // consumer is closed only this handler does.
        if (f.use_count() > 1) self->fetch_done.notify_all();
      },
      timeout);
  if (!sent) f->answer = Result<protocol::Response>(sent.error());
}

void Consumer::Impl::send_fetches() {
  if (backoff_until && rt.now() < *backoff_until) return;
  backoff_until.reset();
  std::map<std::int32_t, std::vector<TopicPartition>> by_node;
  for (auto& [tp, s] : assigned) {
    if (!s.position || s.reset || !s.buffer.empty()) continue;
    const std::optional<std::int32_t> leader = cluster.leader(tp);
    if (!leader) {
      cluster.mark_stale();
      continue;
    }
    if (!fetches.count(*leader)) by_node[*leader].push_back(tp);
  }
  for (const auto& [node, tps] : by_node) send_fetch(node, tps);
}

bool Consumer::Impl::anything_buffered() const {
  for (const auto& [tp, s] : assigned)
    if (!s.buffer.empty()) return true;
  return false;
}

std::vector<ConsumerRecord> Consumer::Impl::drain_buffers() {
  std::vector<ConsumerRecord> out;
  const auto max = static_cast<std::size_t>(config.max_poll_records);
  for (auto& [tp, s] : assigned) {
    while (!s.buffer.empty() && out.size() < max) {
      s.position = s.buffer.front().offset + 1;
      out.push_back(std::move(s.buffer.front()));
      s.buffer.pop_front();
    }
    if (s.buffer.empty() && s.buffer_end > *s.position) s.position = s.buffer_end;
  }
  stats.records_returned += out.size();
  return out;
}

Result<std::unique_ptr<Consumer>> Consumer::create(Runtime& rt, ConsumerConfig config) {
  if (auto v = validate(config); !v) return v.error();
  return std::unique_ptr<Consumer>(new Consumer(std::make_shared<Impl>(rt, std::move(config))));
}

Consumer::~Consumer() { close(); }

void Consumer::assign(const std::vector<TopicPartition>& partitions) {
  std::map<TopicPartition, PartitionState> next;
  for (const TopicPartition& tp : partitions) {
    auto it = impl_->assigned.find(tp);
    next[tp] = it == impl_->assigned.end() ? PartitionState{} : std::move(it->second);
  }
  impl_->assigned = std::move(next);
  impl_->cluster.mark_stale();
}

std::vector<TopicPartition> Consumer::assignment() const {
  std::vector<TopicPartition> out;
  for (const auto& [tp, s] : impl_->assigned) out.push_back(tp);
  return out;
}

Result<void> Consumer::seek(const TopicPartition& tp, std::int64_t offset) {
  PartitionState* s = impl_->state(tp);
  if (s == nullptr) return client_error(ClientError::not_assigned);
  if (offset < 0) return std::errc::invalid_argument;
  impl_->set_position(*s, offset);
  return {};
}

Result<void> Consumer::seek_to_beginning(const std::vector<TopicPartition>& partitions) {
  for (const TopicPartition& tp : partitions) {
    PartitionState* s = impl_->state(tp);
    if (s == nullptr) return client_error(ClientError::not_assigned);
    s->buffer.clear();
    s->reset = OffsetReset::earliest;
  }
  return {};
}

Result<void> Consumer::seek_to_end(const std::vector<TopicPartition>& partitions) {
  for (const TopicPartition& tp : partitions) {
    PartitionState* s = impl_->state(tp);
    if (s == nullptr) return client_error(ClientError::not_assigned);
    s->buffer.clear();
    s->reset = OffsetReset::latest;
  }
  return {};
}

Result<std::int64_t> Consumer::position(const TopicPartition& tp, std::optional<Duration> timeout) {
  Impl& c = *impl_;
  if (c.state(tp) == nullptr) return client_error(ClientError::not_assigned);
  const Instant deadline = c.rt.now() + timeout.value_or(milliseconds(c.config.client.request_timeout_ms));
  if (auto r = c.resolve_positions(deadline); !r) return r.error();
  PartitionState* s = c.state(tp);
  if (!s->position || s->reset) return client_error(ClientError::metadata_unavailable);
  return *s->position;
}

std::int64_t Consumer::high_watermark(const TopicPartition& tp) const {
  const PartitionState* s = impl_->state(tp);
  return s == nullptr ? -1 : s->high_watermark;
}

Result<std::vector<ConsumerRecord>> Consumer::poll(Duration timeout) {
  Impl& c = *impl_;
  if (c.closed) return client_error(ClientError::closed);
  const Instant deadline = c.rt.now() + timeout;
  for (;;) {
    if (c.anything_buffered()) return c.drain_buffers();
    if (auto r = c.collect_answers(); !r) return r.error();
    if (c.anything_buffered()) return c.drain_buffers();
    if (c.cluster.stale()) {
      (void)c.cluster.refresh(c.topics());
    } else {
      (void)c.cluster.refresh_if_stale();  // metadata.max.age.ms
    }
    if (auto r = c.resolve_positions(deadline); !r) return r.error();
    c.send_fetches();
    if (c.rt.now() >= deadline) return std::vector<ConsumerRecord>{};
    std::optional<Instant> until = deadline;
    bool answered = false;
    for (const auto& [node, f] : c.fetches) answered = answered || f->answer.has_value();
    if (answered) continue;  // came in while send_fetches() was connecting
    if (c.fetches.empty()) {
      // Nothing could be sent (no leader, no connection): try again soon.
      until = std::min(deadline, c.rt.now() + milliseconds(c.config.client.retry_backoff_ms));
    }
    c.fetch_done.wait(c.rt, until);
  }
}

void Consumer::close() {
  if (impl_->closed) return;
  impl_->closed = true;
  impl_->fetches.clear();
  impl_->cluster.close();
}

const ConsumerStats& Consumer::stats() const { return impl_->stats; }

}  // namespace castle::client
