// DescribeConfigs (API key 32), versions 0-3, for topics (their effective
// topic-level configs, overrides marked) and for this broker (its
// properties, read-only: nothing is changed at run time). A broker resource
// is named by its node id, or "" for the defaults.

#include "system/broker/broker_core.h"

namespace castle::broker {

using protocol::ConfigResourceType;
using protocol::DescribeConfigsRequest;
using protocol::DescribeConfigsResponse;
using protocol::ErrorCode;

namespace {

// Kafka's ConfigSource values.
constexpr std::int8_t source_dynamic_topic = 1;
constexpr std::int8_t source_static_broker = 4;
constexpr std::int8_t source_default = 5;

bool wanted(const DescribeConfigsRequest::Resource& r, const std::string& name) {
  if (!r.configuration_keys) return true;
  for (const auto& k : *r.configuration_keys)
    if (k == name) return true;
  return false;
}

DescribeConfigsResponse::Config entry(std::string name, std::string value, bool is_default,
                                      bool read_only, std::int8_t source, bool synonyms) {
  DescribeConfigsResponse::Config c;
  c.name = std::move(name);
  c.value = std::move(value);
  c.is_default = is_default;
  c.read_only = read_only;
  c.config_source = source;
  if (synonyms) c.synonyms.push_back({c.name, c.value, source});
  return c;
}

void describe_topic(const Broker::Impl& b, const DescribeConfigsRequest& req,
                    const DescribeConfigsRequest::Resource& r, DescribeConfigsResponse::Result& out) {
  const Topic* t = b.topics.find(r.resource_name);
  if (t == nullptr) {
    out.error_code = ErrorCode::UNKNOWN_TOPIC_OR_PARTITION;
    out.error_message = "unknown topic '" + r.resource_name + "'";
    return;
  }
  for (const auto& e : describe_topic_config(b.config, t->overrides)) {
    if (!wanted(r, e.name)) continue;
    out.configs.push_back(entry(e.name, e.value, e.is_default, false,
                                e.is_default ? source_default : source_dynamic_topic,
                                req.include_synonyms));
  }
}

void describe_broker(const Broker::Impl& b, const DescribeConfigsRequest& req,
                     const DescribeConfigsRequest::Resource& r, DescribeConfigsResponse::Result& out) {
  if (!r.resource_name.empty() && r.resource_name != std::to_string(b.config.node_id)) {
    out.error_code = ErrorCode::INVALID_REQUEST;
    out.error_message = "this is broker " + std::to_string(b.config.node_id);
    return;
  }
  for (auto& [name, value] : describe_broker_config(b.config)) {
    if (!wanted(r, name)) continue;
    out.configs.push_back(entry(name, value, false, true, source_static_broker, req.include_synonyms));
  }
}

}  // namespace

std::optional<protocol::Response> handle(RequestContext& ctx, DescribeConfigsRequest& req) {
  const Broker::Impl& b = ctx.broker;
  DescribeConfigsResponse resp;
  for (const auto& r : req.resources) {
    DescribeConfigsResponse::Result out;
    out.resource_type = r.resource_type;
    out.resource_name = r.resource_name;
    if (r.resource_type == ConfigResourceType::topic) {
      describe_topic(b, req, r, out);
    } else if (r.resource_type == ConfigResourceType::broker) {
      describe_broker(b, req, r, out);
    } else {
      out.error_code = ErrorCode::INVALID_REQUEST;
      out.error_message = "only topic and broker resources are described";
    }
    resp.results.push_back(std::move(out));
  }
  return resp;
}

}  // namespace castle::broker
