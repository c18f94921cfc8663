// Fetch (API key 1) from a follower (replica_id >= 0), in a cluster: each
// partition is served by its LeaderPartition (serve_fetch: the leader epoch
// is checked, the follower's position recorded, the high watermark moved),
// under the partition's lock since the log is not re-entrant. Long polling
// as for consumers: the broker's wait list wakes at appends and at high
// watermark moves of any partition led here.

#include "system/broker/broker_core.h"
#include "system/broker/cluster_node.h"

namespace castle::broker {

using protocol::ErrorCode;
using protocol::FetchRequest;
using protocol::FetchResponse;
using protocol::Offset;
namespace repl = replication;

namespace {

FetchResponse::Partition serve_one(Broker::Impl& b, std::int32_t replica_id, const std::string& topic,
                                   const FetchRequest::Partition& in, std::int64_t& bytes_left,
                                   std::int64_t& bytes_total) {
  FetchResponse::Partition out;
  out.partition_index = in.partition;
  out.high_watermark = Offset{-1};
  PartitionPtr p = b.topics.partition(topic, protocol::raw(in.partition));
  if (!p) {
    out.error_code = ErrorCode::NOT_LEADER_OR_FOLLOWER;
    return out;
  }
  MutexLock lock(b.rt, p->lock);
  if (p->deleted || p->offline || !p->leader) {
    out.error_code = ErrorCode::NOT_LEADER_OR_FOLLOWER;
    return out;
  }
  repl::PartitionFetch f;
  f.tp = {topic, protocol::raw(in.partition)};
  f.current_leader_epoch = protocol::raw(in.current_leader_epoch);
  f.fetch_offset = protocol::raw(in.fetch_offset);
  f.log_start_offset = protocol::raw(in.log_start_offset);
  // Past the first partition with data, a partition gets no more than
  // what is left of the request's budget.
  const std::int64_t budget = bytes_total == 0 ? std::max<std::int64_t>(bytes_left, 1) : bytes_left;
  f.partition_max_bytes = static_cast<std::int32_t>(std::min<std::int64_t>(in.partition_max_bytes, budget));
  if (b.rt.buggify("broker.replica_fetch_short", 4)) f.partition_max_bytes = 1;  // one batch: legal, and slow
  repl::PartitionData d = p->leader->serve_fetch(replica_id, f, b.rt.now());
  if (d.log_damaged) {
    take_damaged_offline(b, *p, f.fetch_offset);
  } else if (b.cluster && !repl::contains(p->leader->isr(), replica_id) && !p->leader->isr_change_in_flight() &&
             !p->leader->isr_to_expand(b.rt.now()).empty()) {
    // Only a fetch by a follower outside the ISR can make one ready to
    // join: the common fetch by an ISR member costs one lookup.
    b.cluster->isr_expansion_ready();
  }
  out.error_code = d.error;
  out.high_watermark = Offset{d.high_watermark};
  out.last_stable_offset = Offset{d.high_watermark};
  out.log_start_offset = Offset{d.log_start_offset};
  bytes_total += static_cast<std::int64_t>(d.records.size());
  bytes_left -= static_cast<std::int64_t>(d.records.size());
  out.records = std::move(d.records);
  return out;
}

// What a pass over a partition could answer differently: its leadership,
// state and log end. The broker wakes every parked fetch at each append and
// high watermark move of any partition it leads, and a pass serves every
// requested partition; a wake that changed none of these for the request's
// partitions would serve the same nothing again (a moved high watermark
// alone does not end the wait), so it is skipped.
struct PartitionView {
  const Partition* partition = nullptr;
  const repl::LeaderPartition* leader = nullptr;
  std::int32_t leader_epoch = 0;
  std::int64_t log_end = -1;
  bool deleted = false;
  bool offline = false;
  bool operator==(const PartitionView&) const = default;
};

// Into v, reused: a fetch waiting for data takes a view at every wake.
void view_of(Broker::Impl& b, const FetchRequest& req, std::vector<PartitionView>& v) {
  v.clear();
  std::size_t n = 0;
  for (const auto& t : req.topics) n += t.partitions.size();
  v.reserve(n);
  for (const auto& t : req.topics)
    for (const auto& part : t.partitions) {
      PartitionPtr p = b.topics.partition(t.topic, protocol::raw(part.partition));
      if (!p) {
        v.emplace_back();
        continue;
      }
      v.push_back({p.get(), p->leader.get(), p->leader_epoch, p->log ? p->log->log_end_offset() : -1,
                   p->deleted, p->offline});
    }
}

}  // namespace

std::optional<protocol::Response> handle_replica_fetch(RequestContext& ctx, FetchRequest& req) {
  Broker::Impl& b = ctx.broker;
  const std::int32_t replica_id = protocol::raw(req.replica_id);
  const Instant deadline = b.rt.now() + milliseconds(std::max(0, req.max_wait_ms));
  for (;;) {
    FetchResponse resp;
    std::int64_t bytes_left = std::max(req.max_bytes, 0);
    std::int64_t bytes_total = 0;
    bool error = false;
    for (const auto& t : req.topics) {
      FetchResponse::Topic rt{t.topic, {}};
      rt.partitions.reserve(t.partitions.size());
      for (const auto& part : t.partitions) {
        rt.partitions.push_back(serve_one(b, replica_id, t.topic, part, bytes_left, bytes_total));
        error = error || rt.partitions.back().error_code != ErrorCode::NONE;
      }
      resp.topics.push_back(std::move(rt));
    }
    if (bytes_total >= req.min_bytes || error || b.stopping || b.rt.now() >= deadline) return resp;
    std::vector<PartitionView> served, now;
    view_of(b, req, served);
    while (b.data_arrived.wait(b.rt, deadline) && !b.stopping) {
      view_of(b, req, now);
      if (now != served) break;
    }
  }
}

}  // namespace castle::broker
