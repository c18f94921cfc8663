#include "system/replication/leader_service.h"

#include <algorithm>

namespace castle::replication {

void LeaderService::add(const TopicPartition& tp, std::shared_ptr<LeaderPartition> p) {
  CASTLE_ASSERT(p != nullptr, "a led partition");
  p->set_data_listener(&data_arrived_);
  partitions_[tp] = std::move(p);
  notify_data();
}

void LeaderService::remove(const TopicPartition& tp) {
  auto it = partitions_.find(tp);
  if (it == partitions_.end()) return;
  it->second->resign();
  it->second->set_data_listener(nullptr);
  partitions_.erase(it);
  notify_data();
}

std::shared_ptr<LeaderPartition> LeaderService::find(const TopicPartition& tp) const {
  auto it = partitions_.find(tp);
  return it == partitions_.end() ? nullptr : it->second;
}

std::vector<EpochAnswer> LeaderService::offset_for_leader_epoch(
    const std::vector<EpochQuery>& queries) const {
  std::vector<EpochAnswer> out;
  out.reserve(queries.size());
  for (const EpochQuery& q : queries) {
    if (auto p = find(q.tp)) {
      out.push_back(p->end_offset_for_epoch(q));
    } else {
      EpochAnswer a;
      a.tp = q.tp;
      a.error = ErrorCode::NOT_LEADER_OR_FOLLOWER;
      out.push_back(a);
    }
  }
  return out;
}

// One pass over the requested partitions within the request's byte budget:
// past the first partition with data, a partition gets no records once the
// budget is spent (it is still answered, so its fetch position counts).
FetchReply LeaderService::read_once(const FetchQuery& query, std::int64_t& bytes_total) {
  FetchReply reply;
  bytes_total = 0;
  std::int64_t remaining = std::max(query.max_bytes, 0);
  for (const PartitionFetch& in : query.partitions) {
    std::shared_ptr<LeaderPartition> p = find(in.tp);
    if (!p) {
      PartitionData d;
      d.tp = in.tp;
      d.error = ErrorCode::NOT_LEADER_OR_FOLLOWER;
      reply.partitions.push_back(std::move(d));
      continue;
    }
    PartitionFetch bounded = in;
    bounded.partition_max_bytes = static_cast<std::int32_t>(std::min<std::int64_t>(
        in.partition_max_bytes, bytes_total == 0 ? std::max<std::int64_t>(remaining, 1) : remaining));
    PartitionData d = p->serve_fetch(query.replica_id, bounded, rt_.now());
    bytes_total += static_cast<std::int64_t>(d.records.size());
    remaining -= static_cast<std::int64_t>(d.records.size());
    reply.partitions.push_back(std::move(d));
  }
  return reply;
}

FetchReply LeaderService::fetch(const FetchQuery& query) {
  const Instant deadline = rt_.now() + milliseconds(std::max(query.max_wait_ms, 0));
  for (;;) {
    std::int64_t bytes = 0;
    FetchReply reply = read_once(query, bytes);
    const bool error = std::any_of(reply.partitions.begin(), reply.partitions.end(),
                                   [](const PartitionData& d) { return d.error != ErrorCode::NONE; });
    if (bytes >= query.min_bytes || error || rt_.now() >= deadline) return reply;
    data_arrived_.wait(rt_, deadline);
  }
}

}  // namespace castle::replication
