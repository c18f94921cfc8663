// Metadata (API key 3) in a cluster, answered from this broker's metadata
// image: every alive broker (registered, unfenced, not shutting down) with
// its advertised endpoint, and per partition the leader, leader epoch,
// replicas and ISR the controller committed. The image may lag the
// controller by a little; clients retry on NOT_LEADER_OR_FOLLOWER and ask
// again. An unknown topic is created through the controller (when
// auto.create.topics.enable and the request allow it) and answered
// LEADER_NOT_AVAILABLE, which clients retry, until the image holds it.

#include "system/broker/broker_core.h"
#include "system/broker/cluster_node.h"

namespace castle::broker {

using protocol::BrokerId;
using protocol::ErrorCode;
using protocol::MetadataRequest;
using protocol::MetadataResponse;

namespace {

std::vector<BrokerId> to_protocol(const controller::BrokerIds& ids) {
  return {ids.begin(), ids.end()};
}

MetadataResponse::Topic describe(const controller::TopicState& t) {
  MetadataResponse::Topic out;
  out.name = t.name;
  for (const auto& [index, p] : t.partitions) {
    MetadataResponse::Partition mp;
    mp.partition_index = index;
    mp.leader_id = p.leader;
    mp.leader_epoch = p.leader_epoch;
    mp.replica_nodes = to_protocol(p.replicas);
    mp.isr_nodes = to_protocol(p.isr);
    if (p.leader == controller::kNoLeader) mp.error_code = ErrorCode::LEADER_NOT_AVAILABLE;
    out.partitions.push_back(std::move(mp));
  }
  return out;
}

void auto_create(Broker::Impl& b, const std::string& name) {
  controller::CreateTopicsRequest req;
  controller::CreateTopicsRequest::Topic t;
  t.name = name;  // partitions and replication factor: the controller's defaults
  req.topics.push_back(std::move(t));
  // The answer does not matter: the client asks again and sees the image.
  (void)b.cluster->channel().call<controller::CreateTopicsResponse>(req);
}

MetadataResponse::Topic missing_topic(RequestContext& ctx, const MetadataRequest& req,
                                      const std::string& name) {
  Broker::Impl& b = ctx.broker;
  MetadataResponse::Topic out;
  out.name = name;
  // A broker still catching up with the metadata log (just restarted, not
  // yet unfenced in its own image) may not know the topic yet: a retriable
  // answer, or clients would drop their messages for an "unknown" topic.
  if (!b.cluster->image().is_alive(BrokerId{b.config.node_id})) {
    out.error_code = ErrorCode::LEADER_NOT_AVAILABLE;
    return out;
  }
  out.error_code = auto_create_refusal(ctx, req, name);
  if (out.error_code != ErrorCode::NONE) return out;
  auto_create(b, name);
  out.error_code = ErrorCode::LEADER_NOT_AVAILABLE;
  return out;
}

}  // namespace

std::optional<protocol::Response> handle_cluster_metadata(RequestContext& ctx, MetadataRequest& req) {
  Broker::Impl& b = ctx.broker;
  const controller::MetadataImage& image = b.cluster->image();
  MetadataResponse resp;
  for (const BrokerId id : image.alive_brokers()) {
    const controller::BrokerState* s = image.broker(id);
    resp.brokers.push_back({id, s->endpoint.host, s->endpoint.port, s->rack});
  }
  resp.cluster_id = b.config.cluster_id;
  // As Kafka's KRaft brokers do: the "controller" clients see is a live
  // broker (this one when it can), which forwards admin requests to the
  // quorum. The Raft leader may be no broker at all, or not known yet, and
  // librdkafka waits for a controller id before it sends CreateTopics.
  resp.controller_id = BrokerId{-1};
  for (const auto& broker : resp.brokers)
    if (broker.node_id == BrokerId{b.config.node_id} || resp.controller_id == BrokerId{-1})
      resp.controller_id = broker.node_id;
  const bool all = !req.topics || (ctx.version() == 0 && req.topics->empty());
  if (all) {
    for (const auto& [id, t] : image.topics()) resp.topics.push_back(describe(t));
    return resp;
  }
  for (const auto& name : *req.topics) {
    // The image may change while a creation is forwarded: look up again.
    if (const controller::TopicState* t = b.cluster->image().topic(name)) {
      resp.topics.push_back(describe(*t));
    } else {
      resp.topics.push_back(missing_topic(ctx, req, name));
    }
  }
  return resp;
}

}  // namespace castle::broker
