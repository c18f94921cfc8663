#include "system/client/admin.h"

#include "system/protocol/create_topics.h"
#include "system/protocol/delete_topics.h"

namespace castle::client {

using protocol::CreateTopicsRequest;
using protocol::CreateTopicsResponse;
using protocol::DeleteTopicsRequest;
using protocol::DeleteTopicsResponse;

namespace {

std::error_code topic_error(ErrorCode code) {
  return code == ErrorCode::NONE ? std::error_code{} : kafka_error(code);
}

CreateTopicsRequest make_create(const std::vector<NewTopic>& topics, std::int32_t timeout_ms) {
  CreateTopicsRequest req;
  req.timeout_ms = timeout_ms;
  for (const NewTopic& t : topics) {
    CreateTopicsRequest::Topic rt;
    rt.name = t.name;
    rt.num_partitions = t.num_partitions;
    rt.replication_factor = t.replication_factor;
    for (const auto& [k, v] : t.configs) rt.configs.push_back({k, v});
    req.topics.push_back(std::move(rt));
  }
  return req;
}

}  // namespace

Result<std::unique_ptr<Admin>> Admin::create(Runtime& rt, ClientConfig config) {
  if (config.bootstrap_servers.empty()) return std::errc::invalid_argument;
  // Describing a topic must not create it.
  config.allow_auto_create_topics = false;
  return std::unique_ptr<Admin>(new Admin(rt, std::move(config)));
}

Instant Admin::deadline(std::optional<Duration> timeout) {
  return rt_.now() +
         timeout.value_or(std::chrono::milliseconds(cluster_.config().request_timeout_ms));
}

Result<protocol::Response> Admin::call_any(const protocol::Request& req, Instant until) {
  // A broker that is down or still starting is retried until the deadline,
  // as the Java admin client does.
  for (;;) {
    auto conn = cluster_.any_connection();
    Result<protocol::Response> r = conn ? (*conn)->call(req) : Result<protocol::Response>(conn.error());
    if (r || !is_network_error(r.error()) || rt_.now() >= until) return r;
    rt_.sleep_until(std::min(until, rt_.now() + std::chrono::milliseconds(cluster_.config().retry_backoff_ms)));
  }
}

void Admin::await_leaders(const std::vector<std::string>& topics, Instant until) {
  for (const std::string& t : topics) (void)cluster_.wait_for_topic(t, until);
}

Result<TopicErrors> Admin::create_topics(const std::vector<NewTopic>& topics,
                                         std::optional<Duration> timeout) {
  const Instant until = deadline(timeout);
  const auto timeout_ms = std::chrono::duration_cast<std::chrono::milliseconds>(until - rt_.now());
  auto resp = response_as<CreateTopicsResponse>(
      call_any(make_create(topics, static_cast<std::int32_t>(timeout_ms.count())), until));
  if (!resp) return resp.error();
  TopicErrors out;
  std::vector<std::string> created;
  for (const auto& t : resp->topics) {
    out[t.name] = topic_error(t.error_code);
    if (t.error_code == ErrorCode::NONE) created.push_back(t.name);
  }
  cluster_.mark_stale();
  await_leaders(created, until);
  return out;
}

Result<TopicErrors> Admin::delete_topics(const std::vector<std::string>& topics,
                                         std::optional<Duration> timeout) {
  const Instant until = deadline(timeout);
  DeleteTopicsRequest req;
  req.topic_names = topics;
  req.timeout_ms = static_cast<std::int32_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(until - rt_.now()).count());
  auto resp = response_as<DeleteTopicsResponse>(call_any(req, until));
  if (!resp) return resp.error();
  TopicErrors out;
  for (const auto& r : resp->responses) {
    out[r.name] = topic_error(r.error_code);
    if (r.error_code == ErrorCode::NONE) cluster_.forget_topic(r.name);
  }
  return out;
}

Result<std::vector<TopicInfo>> Admin::describe_topics(const std::vector<std::string>& topics) {
  const Instant until = deadline(std::nullopt);
  Result<void> refreshed = cluster_.refresh(topics, topics.empty());
  while (!refreshed && is_network_error(refreshed.error()) && rt_.now() < until)
    refreshed = cluster_.refresh(topics, topics.empty());  // refresh() backs off itself
  if (!refreshed) return refreshed.error();
  std::vector<TopicInfo> out;
  // With no names, every topic the broker reported, in name order.
  for (const std::string& name : topics.empty() ? cluster_.topic_names() : topics) {
    const TopicInfo* t = cluster_.topic(name);
    if (t) {
      out.push_back(*t);
    } else {
      out.push_back(TopicInfo{name, ErrorCode::UNKNOWN_TOPIC_OR_PARTITION, false, {}});
    }
  }
  return out;
}

std::map<TopicPartition, ListedOffset> Admin::list_offsets(
    const std::map<TopicPartition, std::int64_t>& query, std::optional<Duration> timeout) {
  return client::list_offsets(cluster_, query, deadline(timeout));
}

}  // namespace castle::client
