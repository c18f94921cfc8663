#include "system/broker/broker.h"

#include "system/broker/broker_core.h"
#include "system/broker/cluster_node.h"
#include "system/broker/connection.h"
#include "system/controller/controller.h"
#include "system/raft/raft_node.h"
#include "system/replication/bugs.h"

namespace castle::broker {

using protocol::ErrorCode;

const std::vector<std::pair<std::string, std::string>>& planted_bugs() {
  static const std::vector<std::pair<std::string, std::string>> bugs = {
      {"broker-ack-before-sync",
       "ignores log.flush.interval.*: acknowledges writes that a crash then loses"},
      {"broker-offset-reuse-after-restart",
       "drops the last batch when a log is reopened, handing its offsets out again"},
      {"broker-no-idempotence",
       "skips the idempotent producer's duplicate check: a retried batch is stored twice"},
      {"broker-fetch-drops-batch",
       "a fetch that returns several batches leaves out the first one"},
      {"broker-wrong-ack-offset",
       "acknowledges a produce with the offset after the one the batch got"},
  };
  return bugs;
}

const std::vector<std::pair<std::string, std::string>>& cluster_planted_bugs() {
  static const std::vector<std::pair<std::string, std::string>> bugs = [] {
    std::vector<std::pair<std::string, std::string>> all;
    for (const auto& b : raft::planted_bugs()) all.push_back(b);
    for (const auto& b : controller::planted_bugs()) all.push_back(b);
    for (const auto& b : replication::planted_bugs()) all.push_back(b);
    return all;
  }();
  return bugs;
}

ErrorCode check_leadership(const Broker::Impl& b, const Partition& p) {
  if (!b.cluster) return ErrorCode::NONE;
  return p.leader && p.leader->is_leader() ? ErrorCode::NONE : ErrorCode::NOT_LEADER_OR_FOLLOWER;
}

ErrorCode check_leader_epoch(const Partition& p, protocol::LeaderEpoch client_epoch) {
  const std::int32_t e = protocol::raw(client_epoch);
  if (e < 0) return ErrorCode::NONE;
  if (e < p.leader_epoch) return ErrorCode::FENCED_LEADER_EPOCH;
  if (e > p.leader_epoch) return ErrorCode::UNKNOWN_LEADER_EPOCH;
  return ErrorCode::NONE;
}

LockedPartition::LockedPartition(Broker::Impl& b, const std::string& topic,
                                 protocol::PartitionId index, protocol::LeaderEpoch client_epoch)
    : p_(b.topics.partition(topic, protocol::raw(index))) {
  if (!p_) {
    error_ = ErrorCode::UNKNOWN_TOPIC_OR_PARTITION;
    return;
  }
  lock_.emplace(b.rt, p_->lock);
  if (p_->deleted) {
    error_ = ErrorCode::UNKNOWN_TOPIC_OR_PARTITION;
  } else if (p_->offline) {
    error_ = ErrorCode::KAFKA_STORAGE_ERROR;
  } else {
    error_ = check_leader_epoch(*p_, client_epoch);
    if (error_ == ErrorCode::NONE) error_ = check_leadership(b, *p_);
  }
}

void take_damaged_offline(Broker::Impl& b, Partition& p, std::int64_t offset) {
  if (!b.cluster || p.offline) return;
  p.take_offline();
  p.damaged = true;
  CASTLE_TRACE(b.rt.tracer(), "broker.partition_offline",
               {{"dir", p.dir}, {"error", "damaged batch"}, {"offset", offset}, {"damaged", true}});
}

void Broker::Impl::accept_loop() {
  while (!stopping) {
    auto conn = listener->accept();
    if (!conn) {
      if (stopping) return;
      // Out of descriptors or a transient error: back off, don't spin.
      rt.sleep_for(milliseconds(100));
      continue;
    }
    ++stats.connections_accepted;
    const std::uint64_t id = next_connection_id++;
    auto c = std::make_shared<ClientConnection>(self.lock(), id, std::move(*conn));
    connections[id] = c;
    c->start();
  }
}

void Broker::Impl::maintenance_loop() {
  const Duration every = milliseconds(std::max<std::int64_t>(1, config.retention_check_interval_ms));
  while (!stopping) {
    rt.sleep_for(every);
    if (stopping) return;
    topics.run_maintenance();
  }
}

// Offline partitions (a disk error we could not undo) are retried often:
// a full disk or a transient EIO usually passes.
void Broker::Impl::recovery_loop() {
  while (!stopping) {
    rt.sleep_for(milliseconds(500));
    if (stopping) return;
    // In a cluster the reconciler does it: roles hold the old log.
    if (!cluster) topics.recover_offline();
  }
}

Broker::Broker(Runtime& rt, BrokerConfig config)
    : impl_(std::make_shared<Impl>(rt, std::move(config))) {
  impl_->self = impl_;
}

Broker::~Broker() {
  // Without a shutdown (a crash unwinding, or a test dropping the broker),
  // stop the fibers without waiting: they keep Impl alive until they end.
  Impl& b = *impl_;
  if (b.stopping) return;
  b.stopping = true;
  b.acceptor.cancel();
  b.maintenance.cancel();
  b.recovery.cancel();
  if (b.cluster) b.cluster->cancel();
  for (auto& [id, weak] : b.connections)
    if (auto c = weak.lock()) c->close();
  b.data_arrived.notify_all();
}

Result<void> Broker::start() {
  Impl& b = *impl_;
  CASTLE_ASSERT(!b.started, "Broker::start called twice");
  b.started = true;
  if (auto r = b.topics.load(); !r) return r;
  if (auto r = b.producer_ids.load(); !r) return r;
  auto listener = b.rt.net().listen(b.config.listen);
  if (!listener) return listener.error();
  b.listener = std::move(*listener);
  b.bound = b.listener->local_address();
  // Port 0 asked the OS for a free port: advertise the one we got, or
  // clients would reconnect to port 0 after their first Metadata.
  if (b.config.advertised.port == 0) b.config.advertised.port = b.bound.port;
  CASTLE_TRACE(b.rt.tracer(), "broker.started",
               {{"node_id", std::int64_t{b.config.node_id}}, {"address", b.bound.to_string()},
                {"topics", static_cast<std::uint64_t>(b.topics.topics().size())}});
  auto core = impl_;
  b.acceptor = b.rt.spawn("broker.accept", [core] { core->accept_loop(); });
  b.maintenance = b.rt.spawn("broker.maintenance", [core] { core->maintenance_loop(); });
  b.recovery = b.rt.spawn("broker.recovery", [core] { core->recovery_loop(); });
  // Cluster mode starts once the Kafka listener is bound: the broker
  // registers the endpoint it advertises.
  if (b.config.cluster.enabled()) {
    b.cluster = std::make_shared<ClusterNode>(b);
    if (auto r = b.cluster->start(core); !r) return r;
  }
  return {};
}

Address Broker::local_address() const { return impl_->bound; }

Result<void> Broker::shutdown() {
  Impl& b = *impl_;
  if (b.stopping) return {};
  b.stopping = true;
  if (b.listener) b.listener->close();
  b.acceptor.cancel();
  b.maintenance.cancel();
  b.recovery.cancel();
  // Followers stop fetching and leaders resign before the logs are flushed.
  if (b.cluster) b.cluster->shutdown();
  std::vector<std::shared_ptr<ClientConnection>> open;
  for (auto& [id, weak] : b.connections)
    if (auto c = weak.lock()) open.push_back(std::move(c));
  for (auto& c : open) c->close();
  b.data_arrived.notify_all();
  for (auto& c : open) c->join();
  b.acceptor.join();
  b.maintenance.join();
  b.recovery.join();
  auto flushed = b.topics.flush_all();
  // Only a stop that lost nothing is clean (a failed flush is not).
  if (flushed) flushed = b.topics.mark_clean_shutdown();
  CASTLE_TRACE(b.rt.tracer(), "broker.stopped", {{"flushed", static_cast<bool>(flushed)}});
  return flushed;
}

const BrokerStats& Broker::stats() const { return impl_->stats; }
const BrokerConfig& Broker::config() const { return impl_->config; }

}  // namespace castle::broker
