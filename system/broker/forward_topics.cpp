// CreateTopics and DeleteTopics in a cluster: forwarded to the active
// controller, which decides and commits them; the answer is sent once this
// broker's own image shows the outcome too (or the request's timeout
// passed), so that a client's next Metadata here sees what it just did.
// Explicit replica assignments are not supported (INVALID_REQUEST).

#include "system/broker/broker_core.h"
#include "system/broker/cluster_node.h"

namespace castle::broker {

using protocol::ErrorCode;

namespace {

controller::CreateTopicsRequest to_controller(const protocol::CreateTopicsRequest& req) {
  controller::CreateTopicsRequest out;
  out.validate_only = req.validate_only;
  for (const auto& t : req.topics) {
    controller::CreateTopicsRequest::Topic ct;
    ct.name = t.name;
    ct.num_partitions = t.num_partitions;
    ct.replication_factor = t.replication_factor;
    for (const auto& c : t.configs)
      if (c.value) ct.configs[c.name] = *c.value;
    out.topics.push_back(std::move(ct));
  }
  return out;
}

Instant deadline_of(Broker::Impl& b, std::int32_t timeout_ms) {
  return b.rt.now() + milliseconds(std::clamp(timeout_ms, 0, 60000));
}

}  // namespace

std::optional<protocol::Response> forward_create_topics(RequestContext& ctx,
                                                        protocol::CreateTopicsRequest& req) {
  Broker::Impl& b = ctx.broker;
  protocol::CreateTopicsResponse resp;
  for (const auto& t : req.topics) {
    if (!t.assignments.empty()) {
      protocol::CreateTopicsResponse::Topic out;
      out.name = t.name;
      out.error_code = ErrorCode::INVALID_REQUEST;
      out.error_message = "explicit replica assignments are not supported in a cluster";
      resp.topics.push_back(std::move(out));
      return resp;
    }
  }
  auto answer = b.cluster->channel().call<controller::CreateTopicsResponse>(to_controller(req));
  const Instant deadline = deadline_of(b, req.timeout_ms);
  for (const auto& t : req.topics) {
    protocol::CreateTopicsResponse::Topic out;
    out.name = t.name;
    out.error_code = ErrorCode::REQUEST_TIMED_OUT;  // no controller answered
    if (answer) {
      for (const auto& r : answer->topics) {
        if (r.name != t.name) continue;
        out.error_code = r.error;
        out.error_message = r.message;
      }
    }
    if (out.error_code == ErrorCode::NONE && !req.validate_only)
      b.cluster->await_metadata([&](const auto& image) { return image.topic(t.name) != nullptr; }, deadline);
    resp.topics.push_back(std::move(out));
  }
  return resp;
}

std::optional<protocol::Response> forward_delete_topics(RequestContext& ctx,
                                                        protocol::DeleteTopicsRequest& req) {
  Broker::Impl& b = ctx.broker;
  controller::DeleteTopicsRequest creq;
  creq.names = req.topic_names;
  auto answer = b.cluster->channel().call<controller::DeleteTopicsResponse>(creq);
  const Instant deadline = deadline_of(b, req.timeout_ms);
  protocol::DeleteTopicsResponse resp;
  for (const auto& name : req.topic_names) {
    protocol::DeleteTopicsResponse::Result r{name, ErrorCode::REQUEST_TIMED_OUT};
    if (answer) {
      for (const auto& a : answer->topics)
        if (a.name == name) r.error_code = a.error;
    }
    if (r.error_code == ErrorCode::NONE)
      b.cluster->await_metadata([&](const auto& image) { return image.topic(name) == nullptr; }, deadline);
    resp.responses.push_back(std::move(r));
  }
  return resp;
}

}  // namespace castle::broker
