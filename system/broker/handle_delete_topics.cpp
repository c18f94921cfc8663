// DeleteTopics (API key 20), versions 0-3. In a cluster the controller
// decides (forward_topics.cpp). Standalone, the topic's logs are closed and
// removed from disk before the answer (Kafka renames and deletes later);
// fetches waiting on its partitions are woken and answer
// UNKNOWN_TOPIC_OR_PARTITION.

#include "system/broker/broker_core.h"

namespace castle::broker {

using protocol::DeleteTopicsRequest;
using protocol::DeleteTopicsResponse;
using protocol::ErrorCode;

std::optional<protocol::Response> handle(RequestContext& ctx, DeleteTopicsRequest& req) {
  Broker::Impl& b = ctx.broker;
  if (b.cluster && b.config.delete_topic_enable) return forward_delete_topics(ctx, req);
  DeleteTopicsResponse resp;
  for (const auto& name : req.topic_names) {
    DeleteTopicsResponse::Result r{name, ErrorCode::NONE};
    if (!b.config.delete_topic_enable) {
      r.error_code = ErrorCode::TOPIC_DELETION_DISABLED;
    } else {
      auto removed = b.topics.remove(name);
      if (!removed) {
        r.error_code = ErrorCode::KAFKA_STORAGE_ERROR;
      } else if (!*removed) {
        r.error_code = ErrorCode::UNKNOWN_TOPIC_OR_PARTITION;
      }
    }
    resp.responses.push_back(std::move(r));
  }
  b.data_arrived.notify_all();
  return resp;
}

}  // namespace castle::broker
