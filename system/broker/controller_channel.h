#pragma once
// The broker's side of the controller RPCs: one RpcClient per voter, and a
// call that finds the active controller. It asks the Raft leader this node
// knows of first (every node follows the metadata log, so it usually knows),
// and on a transport error or NOT_CONTROLLER tries the other voters in turn,
// within a bounded number of attempts.

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "system/broker/cluster_config.h"
#include "system/controller/rpc_messages.h"
#include "system/raft/raft_node.h"
#include "system/raft/rpc.h"
#include "system/runtime/runtime.h"

namespace castle::broker {

// Whether a controller's answer says "not me": the broker tries another.
bool says_not_controller(const controller::BrokerRegistrationResponse& r);
bool says_not_controller(const controller::BrokerHeartbeatResponse& r);
bool says_not_controller(const controller::AlterPartitionResponse& r);
bool says_not_controller(const controller::CreateTopicsResponse& r);
bool says_not_controller(const controller::DeleteTopicsResponse& r);

class ControllerChannel {
 public:
  ControllerChannel(Runtime& rt, const ClusterConfig& config, const raft::RaftNode& raft);

  // Sends `request` to the active controller; its answer, or an error once
  // every attempt failed (timed_out, or the last transport error).
  template <class Response, class Request>
  Result<Response> call(const Request& request, Duration timeout = milliseconds(3000)) {
    const auto body = controller::encode_rpc(request);
    std::error_code last = std::make_error_code(std::errc::timed_out);
    for (std::size_t attempt = 0; attempt < attempts_max(); ++attempt) {
      const std::int32_t target = pick(attempt);
      auto bytes = clients_.at(target)->call(static_cast<std::int16_t>(Request::type), body, timeout);
      if (bytes) {
        auto decoded = controller::decode_rpc<Response>(*bytes);
        if (decoded && !says_not_controller(decoded.value())) {
          current_ = target;
          return std::move(decoded).value();
        }
        if (!decoded) last = std::make_error_code(std::errc::bad_message);
      } else {
        last = bytes.error();
      }
      next_target(target);
    }
    return last;
  }

 private:
  std::size_t attempts_max() const { return ids_.size() * 3; }
  // The voter to try: the known Raft leader first, then round robin.
  std::int32_t pick(std::size_t attempt);
  void next_target(std::int32_t failed);

  Runtime& rt_;
  const raft::RaftNode& raft_;
  std::vector<std::int32_t> ids_;
  std::map<std::int32_t, std::unique_ptr<raft::RpcClient>> clients_;
  std::int32_t current_ = -1;
};

}  // namespace castle::broker
