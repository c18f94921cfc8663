// Metadata (API key 3), versions 0-8. In a cluster: metadata_cluster.cpp.
// Standalone: one broker, leader and only replica
// of every partition. A null topic list (v1+), or an empty one in v0, asks
// for every topic. Unknown topics are created when auto.create.topics.enable
// is on and, from v4, the request allows it; they are answered at once with
// their partitions, since this broker leads them from their first moment.

#include "system/broker/broker_core.h"

namespace castle::broker {

using protocol::BrokerId;
using protocol::ErrorCode;
using protocol::MetadataRequest;
using protocol::MetadataResponse;

namespace {

MetadataResponse::Topic describe(const Broker::Impl& b, const Topic& t) {
  MetadataResponse::Topic out;
  out.name = t.name;
  const BrokerId self{b.config.node_id};
  for (const auto& p : t.partitions) {
    MetadataResponse::Partition mp;
    mp.partition_index = protocol::PartitionId{p->index};
    mp.leader_id = self;
    mp.leader_epoch = protocol::LeaderEpoch{p->leader_epoch};
    mp.replica_nodes = {self};
    mp.isr_nodes = {self};
    out.partitions.push_back(std::move(mp));
  }
  return out;
}

MetadataResponse::Topic missing_topic(RequestContext& ctx, const MetadataRequest& req,
                                      const std::string& name) {
  Broker::Impl& b = ctx.broker;
  MetadataResponse::Topic out;
  out.name = name;
  out.error_code = auto_create_refusal(ctx, req, name);
  if (out.error_code != ErrorCode::NONE) return out;
  const CreateError e = b.topics.create(name, b.config.num_partitions, {});
  if (e == CreateError::none || e == CreateError::already_exists) {
    if (const Topic* t = b.topics.find(name)) return describe(b, *t);
  }
  out.error_code = ErrorCode::LEADER_NOT_AVAILABLE;  // retriable: the client asks again
  return out;
}

}  // namespace

ErrorCode auto_create_refusal(const RequestContext& ctx, const MetadataRequest& req,
                              const std::string& name) {
  std::string why;
  if (!valid_topic_name(name, &why)) return ErrorCode::INVALID_TOPIC_EXCEPTION;
  const bool may_create =
      ctx.broker.config.auto_create_topics && (ctx.version() < 4 || req.allow_auto_topic_creation);
  return may_create ? ErrorCode::NONE : ErrorCode::UNKNOWN_TOPIC_OR_PARTITION;
}

std::optional<protocol::Response> handle(RequestContext& ctx, MetadataRequest& req) {
  Broker::Impl& b = ctx.broker;
  if (b.cluster) return handle_cluster_metadata(ctx, req);
  MetadataResponse resp;
  resp.brokers.push_back({BrokerId{b.config.node_id}, b.config.advertised.host,
                          b.config.advertised.port, std::nullopt});
  resp.cluster_id = b.config.cluster_id;
  resp.controller_id = BrokerId{b.config.node_id};
  const bool all = !req.topics || (ctx.version() == 0 && req.topics->empty());
  if (all) {
    for (const auto& [name, t] : b.topics.topics()) resp.topics.push_back(describe(b, t));
    return resp;
  }
  for (const auto& name : *req.topics) {
    if (const Topic* t = b.topics.find(name)) {
      resp.topics.push_back(describe(b, *t));
    } else {
      resp.topics.push_back(missing_topic(ctx, req, name));
    }
  }
  return resp;
}

}  // namespace castle::broker
