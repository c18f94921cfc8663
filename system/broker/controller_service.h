#pragma once
// The active controller on a controller node (docs/cluster.md, "Contract for
// the node that runs the controller"). It answers the controller RPCs (types
// 20-29) on the controller port and drives controller::Controller:
//
//   - one operation at a time (`mutex_`): decide against the image, propose
//     the decision's records in order, wait until the last one is applied
//     here, then answer. The next decision so sees the previous one's
//     records in the image, with no speculative copy to keep in step.
//   - NOT_CONTROLLER unless this node is the ready Raft leader of the term
//     for which becoming_leader ran (the broker then tries another voter).
//   - a tick fiber every ~100 ms proposes what Controller::tick decides
//     (fencing silent brokers, electing leaders), under the same mutex.
//
// A proposal that fails (leadership lost, timed out) is answered
// NOT_CONTROLLER: its records may or may not commit, and the broker's retry
// is decided against whatever did.

#include <cstdint>
#include <memory>
#include <vector>

#include "system/broker/metadata_state.h"
#include "system/controller/controller.h"
#include "system/raft/raft_node.h"
#include "system/raft/rpc.h"
#include "system/runtime/runtime.h"
#include "system/runtime/sync.h"

namespace castle::broker {

class ControllerService {
 public:
  ControllerService(Runtime& rt, raft::RaftNode& raft, MetadataState& metadata,
                    controller::ControllerConfig config);
  ControllerService(const ControllerService&) = delete;
  ControllerService& operator=(const ControllerService&) = delete;

  // Registers types 20-29 on the server (before it starts) and the
  // leadership callbacks on Raft (before it starts). `owner` holds this
  // object; a request in flight keeps it alive (a crash unwinds the
  // broker's fibers in any order).
  void attach(raft::RpcServer& server, std::weak_ptr<void> owner);
  // Spawns the tick fiber, which holds `owner`.
  void start(std::shared_ptr<void> owner);
  void stop();

 private:
  bool ready() const;
  // Proposes records in order and waits until the last is applied; its
  // index (0 with no records).
  Result<std::int64_t> commit(const std::vector<controller::MetadataRecord>& records);
  Result<std::vector<std::uint8_t>> on_register(std::span<const std::uint8_t> body);
  Result<std::vector<std::uint8_t>> on_heartbeat(std::span<const std::uint8_t> body);
  Result<std::vector<std::uint8_t>> on_alter_partition(std::span<const std::uint8_t> body);
  Result<std::vector<std::uint8_t>> on_create_topics(std::span<const std::uint8_t> body);
  Result<std::vector<std::uint8_t>> on_delete_topics(std::span<const std::uint8_t> body);
  void tick_loop();

  Runtime& rt_;
  raft::RaftNode& raft_;
  MetadataState& metadata_;
  controller::Controller controller_;
  Mutex mutex_;  // one decision at a time
  std::int64_t ready_term_ = -1;  // the term becoming_leader ran for
  bool stopping_ = false;
  Task tick_;
};

}  // namespace castle::broker
