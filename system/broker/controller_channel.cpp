#include "system/broker/controller_channel.h"

#include <algorithm>

namespace castle::broker {

using controller::ErrorCode;

bool says_not_controller(const controller::BrokerRegistrationResponse& r) {
  return r.error == ErrorCode::NOT_CONTROLLER;
}
bool says_not_controller(const controller::BrokerHeartbeatResponse& r) {
  return r.error == ErrorCode::NOT_CONTROLLER;
}
bool says_not_controller(const controller::AlterPartitionResponse& r) {
  return r.error == ErrorCode::NOT_CONTROLLER;
}
bool says_not_controller(const controller::CreateTopicsResponse& r) {
  return std::any_of(r.topics.begin(), r.topics.end(),
                     [](const auto& t) { return t.error == ErrorCode::NOT_CONTROLLER; });
}
bool says_not_controller(const controller::DeleteTopicsResponse& r) {
  return std::any_of(r.topics.begin(), r.topics.end(),
                     [](const auto& t) { return t.error == ErrorCode::NOT_CONTROLLER; });
}

ControllerChannel::ControllerChannel(Runtime& rt, const ClusterConfig& config,
                                     const raft::RaftNode& raft)
    : rt_(rt), raft_(raft) {
  CASTLE_ASSERT(!config.voters.empty(), "a cluster has voters");
  for (const auto& v : config.voters) {
    ids_.push_back(v.id);
    clients_.emplace(v.id, std::make_unique<raft::RpcClient>(rt, v.address));
  }
  current_ = ids_.front();
}

std::int32_t ControllerChannel::pick(std::size_t attempt) {
  // After a full round of failures, pause: an election is probably under
  // way and hammering the voters won't end it sooner.
  if (attempt > 0 && attempt % ids_.size() == 0) rt_.sleep_for(milliseconds(200));
  const std::int32_t leader = raft_.leader_id();
  if (attempt == 0 && clients_.count(leader) != 0) return leader;
  return current_;
}

void ControllerChannel::next_target(std::int32_t failed) {
  auto it = std::find(ids_.begin(), ids_.end(), failed);
  current_ = (it == ids_.end() || std::next(it) == ids_.end()) ? ids_.front() : *std::next(it);
}

}  // namespace castle::broker
