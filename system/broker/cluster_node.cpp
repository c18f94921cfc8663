#include "system/broker/cluster_node.h"

#include <algorithm>

#include "system/runtime/trace.h"

namespace castle::broker {

using controller::ErrorCode;

namespace {

constexpr Duration register_backoff = milliseconds(200);
// Heartbeats come faster while fenced, so that a new broker is unfenced
// as soon as it caught up rather than an interval later.
constexpr Duration fenced_heartbeat_max = milliseconds(100);
constexpr Duration reconcile_poll = milliseconds(500);

raft::RaftConfig raft_config(const BrokerConfig& c) {
  const ClusterConfig& cc = c.cluster;
  raft::RaftConfig rc;
  rc.id = c.node_id;
  for (const auto& v : cc.voters) rc.voters[v.id] = v.address;
  rc.voter = cc.controller_role && rc.voters.count(c.node_id) != 0;
  const std::int64_t timeout_ms = std::max<std::int64_t>(cc.election_timeout_ms, 50);
  rc.election_timeout_min = milliseconds(timeout_ms);
  rc.election_timeout_max = milliseconds(timeout_ms * 2);
  rc.heartbeat_interval = milliseconds(std::max<std::int64_t>(timeout_ms / 10, 5));
  rc.rpc_timeout = milliseconds(std::clamp<std::int64_t>(timeout_ms / 4, 50, cc.quorum_fetch_timeout_ms));
  rc.dir = cc.metadata_log_dir.empty() ? join_path(c.log_dir, "__cluster_metadata-0") : cc.metadata_log_dir;
  rc.bugs = c.bugs;
  return rc;
}

controller::ControllerConfig controller_config(const BrokerConfig& c) {
  controller::ControllerConfig cc;
  cc.broker_session_timeout_ms = c.cluster.broker_session_timeout_ms;
  cc.unclean_leader_election_enable = c.cluster.unclean_leader_election;
  cc.min_insync_replicas = c.min_insync_replicas;
  cc.num_partitions = c.num_partitions;
  cc.default_replication_factor = c.default_replication_factor;
  cc.validate_topic_configs = [](const controller::TopicConfigs& configs, std::string* bad,
                                 std::string* why) {
    return validate_topic_overrides(TopicOverrides(configs.begin(), configs.end()), bad, why);
  };
  cc.bugs = c.bugs;
  return cc;
}

// Drawn anew at every start: the controller tells a restart (a new
// incarnation: fence the old one) from a retried registration. The clock
// is mixed in because a restarted simulated node may draw the same numbers.
controller::IncarnationId draw_incarnation(Runtime& rt) {
  controller::IncarnationId id;
  const std::uint64_t a = rt.rng().next();
  const std::uint64_t b = rt.rng().next() ^ static_cast<std::uint64_t>(rt.now().time_since_epoch().count());
  for (int i = 0; i < 8; ++i) {
    id.bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(a >> (8 * i));
    id.bytes[static_cast<std::size_t>(8 + i)] = static_cast<std::uint8_t>(b >> (8 * i));
  }
  return id;
}

}  // namespace

ClusterNode::ClusterNode(Broker::Impl& broker)
    : b_(broker), metadata_(broker.rt.tracer()), server_(broker.rt),
      raft_(std::make_unique<raft::RaftNode>(broker.rt, raft_config(broker.config), metadata_, server_)),
      channel_(std::make_unique<ControllerChannel>(broker.rt, broker.config.cluster, *raft_)),
      replicas_(std::make_unique<ReplicaManager>(broker, metadata_)),
      incarnation_(draw_incarnation(broker.rt)) {
  if (broker.config.cluster.controller_role)
    controller_ = std::make_unique<ControllerService>(broker.rt, *raft_, metadata_,
                                                      controller_config(broker.config));
}

ClusterNode::~ClusterNode() { cancel(); }

Result<void> ClusterNode::start(const std::shared_ptr<Broker::Impl>& core) {
  const ClusterConfig& cc = b_.config.cluster;
  if (controller_) {
    controller_->attach(server_, std::weak_ptr<void>(core));
    CASTLE_ASSERT(cc.controller_listen.has_value(), "a controller has a controller listener");
    if (auto r = server_.start(*cc.controller_listen); !r) return r;
    server_started_ = true;
  }
  if (auto r = raft_->start(); !r) return r;
  if (controller_) controller_->start(core);
  lifecycle_ = b_.rt.spawn("cluster.lifecycle", [core, this] { lifecycle_loop(); });
  reconciler_ = b_.rt.spawn("cluster.reconcile", [core, this] { reconcile_loop(); });
  isr_ = b_.rt.spawn("cluster.isr", [core, this] { isr_loop(); });
  return {};
}

void ClusterNode::cancel() {
  if (stopping_) return;
  stopping_ = true;
  lifecycle_.cancel();
  reconciler_.cancel();
  isr_.cancel();
  if (controller_) controller_->stop();
  metadata_.changed().notify_all();
}

void ClusterNode::shutdown() {
  cancel();
  lifecycle_.join();
  reconciler_.join();
  isr_.join();
  replicas_->stop();
  if (server_started_) server_.stop();
}

bool ClusterNode::await_metadata(const std::function<bool(const controller::MetadataImage&)>& holds,
                                 Instant deadline) {
  while (!holds(metadata_.image())) {
    if (stopping_ || b_.rt.now() >= deadline) return false;
    metadata_.changed().wait(b_.rt, deadline);
  }
  return true;
}

bool ClusterNode::caught_up() const {
  return registered_ && metadata_.image().last_applied_index() >= static_cast<std::int64_t>(broker_epoch_);
}

bool ClusterNode::register_once() {
  controller::BrokerRegistrationRequest req;
  req.broker_id = controller::BrokerId{b_.config.node_id};
  req.incarnation_id = incarnation_;
  req.endpoint = {b_.config.advertised.host, b_.config.advertised.port};
  req.clean_shutdown = b_.topics.started_clean();
  auto r = channel_->call<controller::BrokerRegistrationResponse>(req);
  if (!r || r->error != ErrorCode::NONE) return false;
  broker_epoch_ = r->broker_epoch;
  registered_ = true;
  fenced_ = true;
  CASTLE_TRACE(b_.rt.tracer(), "broker.registered",
               {{"id", std::int64_t{b_.config.node_id}},
                {"broker_epoch", static_cast<std::int64_t>(broker_epoch_)}});
  metadata_.changed().notify_all();  // the reconciler may start now
  return true;
}

void ClusterNode::heartbeat_once() {
  controller::BrokerHeartbeatRequest req;
  req.broker_id = controller::BrokerId{b_.config.node_id};
  req.broker_epoch = broker_epoch_;
  req.metadata_offset = metadata_.image().last_applied_index();
  req.offline_replicas = replicas_->offline_replicas();
  auto r = channel_->call<controller::BrokerHeartbeatResponse>(req);
  if (!r) return;  // no controller reachable: try again next interval
  if (r->error == ErrorCode::STALE_BROKER_EPOCH || r->error == ErrorCode::BROKER_ID_NOT_REGISTERED) {
    registered_ = false;  // the controller forgot or replaced us: register again
    return;
  }
  if (r->error != ErrorCode::NONE) return;
  if (fenced_ != r->is_fenced)
    CASTLE_TRACE(b_.rt.tracer(), "broker.fenced",
                 {{"id", std::int64_t{b_.config.node_id}}, {"fenced", r->is_fenced}});
  fenced_ = r->is_fenced;
}

void ClusterNode::lifecycle_loop() {
  const Duration interval = milliseconds(std::max<std::int64_t>(b_.config.cluster.broker_heartbeat_interval_ms, 10));
  while (!stopping_) {
    if (!registered_ && !register_once()) {
      b_.rt.sleep_for(register_backoff);
      continue;
    }
    heartbeat_once();
    b_.rt.sleep_for(fenced_ ? std::min(interval, Duration(fenced_heartbeat_max)) : interval);
  }
}

void ClusterNode::reconcile_loop() {
  std::uint64_t done = 0;
  while (!stopping_) {
    // A partition back from offline has no role until reconciled again.
    if (caught_up() && replicas_->recover_offline()) done = 0;
    if (metadata_.version() == done || !caught_up()) {
      metadata_.changed().wait(b_.rt, b_.rt.now() + reconcile_poll);
      continue;
    }
    done = metadata_.version();
    replicas_->reconcile();
  }
}

void ClusterNode::isr_loop() {
  const std::int64_t lag_ms = b_.config.cluster.replica_lag_time_max_ms;
  const Duration every = milliseconds(std::clamp<std::int64_t>(lag_ms / 4, 20, 250));
  const Duration gap = std::min(every, isr_round_gap);
  Instant last = b_.rt.now();
  while (!stopping_) {
    isr_wake_.wait(b_.rt, last + every);
    isr_wake_.clear();
    if (b_.rt.now() < last + gap) b_.rt.sleep_until(last + gap);
    last = b_.rt.now();
    if (registered_) replicas_->isr_round(*channel_, broker_epoch_);
  }
}

}  // namespace castle::broker
