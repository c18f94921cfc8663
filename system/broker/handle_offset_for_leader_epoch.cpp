// OffsetForLeaderEpoch (API key 23), versions 0-3: for a leader epoch, the
// largest epoch at or below it that this log knows and the offset where it
// ended (the start of the next epoch, or the log end for the current one).
// Followers and consumers use it to find where their log diverged.

#include "system/broker/broker_core.h"

namespace castle::broker {

using protocol::ErrorCode;
using protocol::OffsetForLeaderEpochRequest;
using protocol::OffsetForLeaderEpochResponse;

namespace {

OffsetForLeaderEpochResponse::Partition end_offset(RequestContext& ctx, const std::string& topic,
                                                   const OffsetForLeaderEpochRequest::Partition& in) {
  Broker::Impl& b = ctx.broker;
  OffsetForLeaderEpochResponse::Partition out;
  out.partition = in.partition;
  LockedPartition p(b, topic, in.partition, in.current_leader_epoch);
  if (p.error() != ErrorCode::NONE) {
    out.error_code = p.error();
    return out;
  }
  // A cluster leader answers as replication defines it (an epoch older
  // than all it knows ended where its first one starts): a follower given
  // no answer would ask again forever.
  if (p->leader) {
    const auto a = p->leader->end_offset_for_epoch(
        {{topic, protocol::raw(in.partition)}, protocol::raw(in.current_leader_epoch),
         protocol::raw(in.leader_epoch)});
    out.error_code = a.error;
    out.leader_epoch = protocol::LeaderEpoch{a.leader_epoch};
    out.end_offset = protocol::Offset{a.end_offset};
    return out;
  }
  if (auto found = p->log->end_offset_for_epoch(protocol::raw(in.leader_epoch))) {
    out.leader_epoch = protocol::LeaderEpoch{found->first};
    out.end_offset = protocol::Offset{found->second};
  }
  return out;
}

}  // namespace

std::optional<protocol::Response> handle(RequestContext& ctx, OffsetForLeaderEpochRequest& req) {
  OffsetForLeaderEpochResponse resp;
  for (const auto& t : req.topics) {
    OffsetForLeaderEpochResponse::Topic rt{t.topic, {}};
    for (const auto& part : t.partitions) rt.partitions.push_back(end_offset(ctx, t.topic, part));
    resp.topics.push_back(std::move(rt));
  }
  return resp;
}

}  // namespace castle::broker
