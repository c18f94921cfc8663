// CreateTopics (API key 19), versions 0-4. In a cluster the controller
// decides (forward_topics.cpp). Standalone, one broker: a replication
// factor above 1, or an assignment naming another broker, is refused.
// validate_only (v1+) checks everything and creates nothing. The topic's
// logs are durable on disk when the answer is sent.

#include "system/broker/broker_core.h"

namespace castle::broker {

using protocol::CreateTopicsRequest;
using protocol::CreateTopicsResponse;
using protocol::ErrorCode;

namespace {

// A guard against a request that would create a directory per partition
// without end.
constexpr std::int32_t max_partitions_per_topic = 10000;

struct Plan {
  ErrorCode error = ErrorCode::NONE;
  std::string message;
  std::int32_t partitions = 0;
  TopicOverrides overrides;
};

Plan plan_assignments(const Broker::Impl& b, const CreateTopicsRequest::Topic& t, Plan plan) {
  if (t.num_partitions != -1 || t.replication_factor != -1)
    return {ErrorCode::INVALID_REQUEST, "give either assignments or partitions and replication factor", 0, {}};
  for (std::size_t i = 0; i < t.assignments.size(); ++i) {
    const auto& a = t.assignments[i];
    const bool only_self = a.broker_ids.size() == 1 && protocol::raw(a.broker_ids[0]) == b.config.node_id;
    if (protocol::raw(a.partition_index) != static_cast<std::int32_t>(i) || !only_self)
      return {ErrorCode::INVALID_REPLICA_ASSIGNMENT,
              "partitions must be 0..n-1, each on broker " + std::to_string(b.config.node_id), 0, {}};
  }
  plan.partitions = static_cast<std::int32_t>(t.assignments.size());
  return plan;
}

Plan plan_topic(const Broker::Impl& b, const CreateTopicsRequest::Topic& t) {
  Plan plan;
  std::string why;
  if (!valid_topic_name(t.name, &why)) return {ErrorCode::INVALID_TOPIC_EXCEPTION, why, 0, {}};
  if (b.topics.find(t.name) != nullptr)
    return {ErrorCode::TOPIC_ALREADY_EXISTS, "topic '" + t.name + "' already exists", 0, {}};
  for (const auto& c : t.configs)
    if (c.value) plan.overrides[c.name] = *c.value;
  std::string bad;
  if (!validate_topic_overrides(plan.overrides, &bad, &why))
    return {ErrorCode::INVALID_CONFIG, bad + ": " + why, 0, {}};
  if (!t.assignments.empty()) return plan_assignments(b, t, std::move(plan));
  plan.partitions = t.num_partitions == -1 ? b.config.num_partitions : t.num_partitions;
  if (plan.partitions <= 0 || plan.partitions > max_partitions_per_topic)
    return {ErrorCode::INVALID_PARTITIONS,
            "number of partitions must be 1.." + std::to_string(max_partitions_per_topic), 0, {}};
  const std::int32_t rf = t.replication_factor == -1 ? b.config.default_replication_factor
                                                      : t.replication_factor;
  if (rf <= 0) return {ErrorCode::INVALID_REPLICATION_FACTOR, "replication factor must be positive", 0, {}};
  if (rf > 1)
    return {ErrorCode::INVALID_REPLICATION_FACTOR,
            "replication factor " + std::to_string(rf) + " larger than available brokers: 1", 0, {}};
  return plan;
}

CreateTopicsResponse::Topic create_one(RequestContext& ctx, const CreateTopicsRequest& req,
                                       const CreateTopicsRequest::Topic& t) {
  Broker::Impl& b = ctx.broker;
  CreateTopicsResponse::Topic out;
  out.name = t.name;
  Plan plan = plan_topic(b, t);
  if (plan.error == ErrorCode::NONE && !req.validate_only) {
    switch (b.topics.create(t.name, plan.partitions, plan.overrides)) {
      case CreateError::none: break;
      case CreateError::already_exists:
        plan = {ErrorCode::TOPIC_ALREADY_EXISTS, "topic '" + t.name + "' already exists", 0, {}};
        break;
      case CreateError::being_deleted:
        plan = {ErrorCode::TOPIC_ALREADY_EXISTS, "topic '" + t.name + "' is being deleted", 0, {}};
        break;
      case CreateError::invalid_name:
        plan = {ErrorCode::INVALID_TOPIC_EXCEPTION, "invalid topic name", 0, {}};
        break;
      case CreateError::disk:
        plan = {ErrorCode::KAFKA_STORAGE_ERROR, "could not create the partition logs", 0, {}};
        break;
    }
  }
  out.error_code = plan.error;
  if (plan.error != ErrorCode::NONE) out.error_message = plan.message;
  return out;
}

}  // namespace

std::optional<protocol::Response> handle(RequestContext& ctx, CreateTopicsRequest& req) {
  if (ctx.broker.cluster) return forward_create_topics(ctx, req);
  CreateTopicsResponse resp;
  for (const auto& t : req.topics) resp.topics.push_back(create_one(ctx, req, t));
  return resp;
}

}  // namespace castle::broker
