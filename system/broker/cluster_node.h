#pragma once
// A broker's cluster mode (config.cluster.enabled()): everything a node of
// a Castle cluster runs besides the Kafka listener.
//
//   rpc server   the controller port (controllers only): Raft's RPCs and
//                the controller's (types 20-29)
//   raft         a voter (controller role) or an observer over the
//                metadata log, replaying it into `metadata`
//   controller   the active controller's service (controllers only)
//   channel      this broker's client of the active controller
//   replicas     the partitions the image assigns here
//
// Fibers (each holds the broker's core alive):
//   cluster.lifecycle  registers with the controller, then heartbeats every
//                      broker.heartbeat.interval.ms with the applied
//                      metadata offset; registers again when the controller
//                      no longer knows the broker epoch
//   cluster.reconcile  after each metadata change, once this broker has
//                      caught up with its own registration, reconciles the
//                      local partitions with the image
//   cluster.isr        ISR maintenance rounds for the partitions led here

#include <cstdint>
#include <functional>
#include <memory>

#include "system/broker/broker_core.h"
#include "system/broker/controller_channel.h"
#include "system/broker/controller_service.h"
#include "system/broker/metadata_state.h"
#include "system/broker/replica_manager.h"
#include "system/raft/raft_node.h"
#include "system/raft/rpc.h"
#include "system/runtime/sync.h"

namespace castle::broker {

class ClusterNode {
 public:
  explicit ClusterNode(Broker::Impl& broker);
  ~ClusterNode();
  ClusterNode(const ClusterNode&) = delete;
  ClusterNode& operator=(const ClusterNode&) = delete;

  // Listens on the controller port (controllers), starts Raft and the
  // fibers. `core` is the broker's shared state, held by every fiber.
  Result<void> start(const std::shared_ptr<Broker::Impl>& core);
  // Cancels the fibers without waiting (a crash or a dropped broker).
  void cancel();
  // A clean stop, from a fiber: fibers joined, fetchers stopped,
  // leaderships resigned, the controller port closed.
  void shutdown();

  const controller::MetadataImage& image() const { return metadata_.image(); }
  const raft::RaftNode& raft() const { return *raft_; }
  ControllerChannel& channel() { return *channel_; }
  ReplicaManager& replicas() { return *replicas_; }
  // Waits until `holds` is true of the image, or the deadline (false).
  bool await_metadata(const std::function<bool(const controller::MetadataImage&)>& holds,
                      Instant deadline);
  bool registered() const { return registered_; }
  // A leader saw a follower ready to join an ISR: the next ISR round comes
  // now rather than at its period (Kafka expands on the fetch path), but
  // rounds stay isr_round_gap apart so refused changes cannot storm the
  // controller.
  void isr_expansion_ready() { isr_wake_.set(); }
  static constexpr Duration isr_round_gap = milliseconds(20);
  bool fenced() const { return fenced_; }
  controller::BrokerEpoch broker_epoch() const { return broker_epoch_; }

 private:
  // The image holds this broker's registration and everything before it.
  bool caught_up() const;
  bool register_once();
  void heartbeat_once();
  void lifecycle_loop();
  void reconcile_loop();
  void isr_loop();

  Broker::Impl& b_;
  MetadataState metadata_;
  raft::RpcServer server_;
  std::unique_ptr<raft::RaftNode> raft_;
  std::unique_ptr<ControllerService> controller_;
  std::unique_ptr<ControllerChannel> channel_;
  std::unique_ptr<ReplicaManager> replicas_;
  controller::IncarnationId incarnation_;
  controller::BrokerEpoch broker_epoch_{-1};
  bool registered_ = false;
  bool fenced_ = true;
  bool stopping_ = false;
  bool server_started_ = false;
  Event isr_wake_;
  Task lifecycle_;
  Task reconciler_;
  Task isr_;
};

}  // namespace castle::broker
