#include "system/client/offsets.h"

#include <vector>

#include "system/protocol/list_offsets.h"

namespace castle::client {

using protocol::ListOffsetsRequest;
using protocol::ListOffsetsResponse;

namespace {

using Query = std::map<TopicPartition, std::int64_t>;
using Answers = std::map<TopicPartition, ListedOffset>;

bool worth_retrying(std::error_code ec) {
  if (auto k = as_kafka_error(ec)) return is_retriable(*k);
  return is_network_error(ec) || ec == client_error(ClientError::metadata_unavailable);
}

ListOffsetsRequest make_request(const Query& query) {
  ListOffsetsRequest req;
  for (const auto& [tp, ts] : query) {
    if (req.topics.empty() || req.topics.back().name != tp.topic) req.topics.push_back({tp.topic, {}});
    ListOffsetsRequest::Partition p;
    p.partition_index = protocol::PartitionId{tp.partition};
    p.timestamp = ts;
    req.topics.back().partitions.push_back(p);
  }
  return req;
}

// One request to one broker; every partition of it gets an answer.
void ask_broker(Cluster& cluster, std::int32_t node, const Query& query, Answers& out) {
  auto conn = cluster.connection(node);
  Result<ListOffsetsResponse> resp =
      conn ? response_as<ListOffsetsResponse>((*conn)->call(make_request(query)))
           : Result<ListOffsetsResponse>(conn.error());
  for (const auto& [tp, ts] : query) out[tp].error = resp ? kafka_error(ErrorCode::UNKNOWN_SERVER_ERROR) : resp.error();
  if (!resp) return;
  for (const auto& t : resp->topics) {
    for (const auto& p : t.partitions) {
      const TopicPartition tp{t.name, protocol::raw(p.partition_index)};
      if (!query.count(tp)) continue;
      ListedOffset& a = out[tp];
      a.error = p.error_code == ErrorCode::NONE ? std::error_code{} : kafka_error(p.error_code);
      a.offset = protocol::raw(p.offset);
      a.timestamp = p.timestamp;
      if (p.error_code != ErrorCode::NONE && needs_metadata_refresh(p.error_code)) cluster.mark_stale();
    }
  }
}

// One pass: every partition asked once.
Answers ask_once(Cluster& cluster, const Query& query) {
  Answers out;
  std::map<std::int32_t, Query> by_node;
  for (const auto& [tp, ts] : query) {
    const std::optional<std::int32_t> leader = cluster.leader(tp);
    if (leader) {
      by_node[*leader][tp] = ts;
    } else {
      out[tp].error = kafka_error(ErrorCode::LEADER_NOT_AVAILABLE);
      cluster.mark_stale();
    }
  }
  for (const auto& [node, q] : by_node) ask_broker(cluster, node, q, out);
  return out;
}

}  // namespace

Answers list_offsets(Cluster& cluster, const Query& query, Instant deadline) {
  std::vector<std::string> topics;
  for (const auto& [tp, ts] : query) topics.push_back(tp.topic);
  Answers done;
  Query left = query;
  bool first = true;
  while (!left.empty()) {
    if (!first) cluster.rt().sleep_until(std::min(deadline, cluster.rt().now() +
                                                              std::chrono::milliseconds(cluster.config().retry_backoff_ms)));
    bool unknown = false;
    for (const auto& t : topics) unknown = unknown || cluster.topic(t) == nullptr;
    if (unknown || cluster.stale()) (void)cluster.refresh(topics);
    first = false;
    for (auto& [tp, a] : ask_once(cluster, left)) {
      const bool again = a.error && worth_retrying(a.error) && cluster.rt().now() < deadline;
      if (!again) {
        done[tp] = a;
        left.erase(tp);
      } else {
        done[tp] = a;  // the last answer, in case the deadline comes first
      }
    }
    if (cluster.rt().now() >= deadline) break;
  }
  return done;
}

}  // namespace castle::client
