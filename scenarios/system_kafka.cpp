// The Kafka system under a scenario: one broker node ("s0") or a cluster of
// them (s0.., KRaft combined mode: the first `controllers` are also the
// metadata quorum's voters) serving the topic "t", client nodes running
// the workload (kafka_workload.cpp), a final reader that assigns every partition,
// seeks to the beginning and reads to the end, and the checkers judged
// under the durability contract (scenarios/contract.h). A cluster run also
// checks the state invariants of replication and of the metadata quorum on
// the brokers' trace events as they happen (checkers/replication_invariants.h,
// checkers/raft_invariants.h).
#include <algorithm>
#include <limits>
#include <memory>
#include <optional>
#include <set>

#include "checkers/check_all.h"
#include "checkers/raft_invariants.h"
#include "checkers/replication_invariants.h"

#include "scenarios/contract.h"
#include "scenarios/damage_watch.h"
#include "scenarios/harness.h"
#include "scenarios/kafka_harness.h"
#include "system/broker/broker.h"
#include "system/client/admin.h"
#include "system/runtime/sync.h"

namespace castle::scenarios {

namespace {

int controller_count(const Scenario& s) {
  return s.kafka.controllers > 0 ? s.kafka.controllers : std::min(3, s.servers);
}

int replication_factor(const Scenario& s) {
  return s.kafka.replication_factor > 0 ? s.kafka.replication_factor : std::min(3, s.servers);
}

// Broker and controller roles and the quorum: s0..s<controllers-1> vote.
void cluster_roles(const Scenario& s, int id, broker::BrokerConfig& cfg) {
  auto& cc = cfg.cluster;
  cc.broker_role = true;
  cc.controller_role = id < controller_count(s);
  cc.voters.clear();
  for (int v = 0; v < controller_count(s); ++v)
    cc.voters.push_back({v, Address{"s" + std::to_string(v), controller_port}});
  if (cc.controller_role) cc.controller_listen = Address{"s" + std::to_string(id), controller_port};
}

broker::BrokerConfig broker_config(const Scenario& s, int id) {
  const std::string name = "s" + std::to_string(id);
  broker::BrokerConfig cfg;
  cfg.num_partitions = s.kafka.partitions;
  const bool cluster = s.servers > 1;
  if (cluster) {
    broker::use_fast_failure_detection(cfg.cluster);
    cfg.default_replication_factor = replication_factor(s);
  }
  broker::PropertyError err;
  const bool ok = broker::apply_broker_properties(s.kafka.broker, &cfg, &err);
  CASTLE_ASSERT(ok, "kafka.broker properties are validated when the scenario is loaded");
  cfg.node_id = id;
  cfg.listen = Address{name, kafka_port};
  cfg.advertised = cfg.listen;
  cfg.log_dir = "kafka-logs";
  cfg.bugs = s.bugs;
  if (cluster) cluster_roles(s, id, cfg);
  return cfg;
}

// Who leads, as the trace says: the leader of partition t-0 (the nemesis's
// "leader" target) and the active controller (its "controller" target).
// A crash ends a node's claims; a newer claim replaces an older one.
struct LeaderWatch {
  std::string partition_leader;
  std::string controller;

  void observe(const TraceEvent& e) {
    if (e.kind == "replica.leader" && e.str_field("topic") == kafka_topic && e.int_field("partition") == 0)
      partition_leader = e.node;
    if (e.kind == "raft.role") {
      if (e.str_field("role") == "leader") {
        controller = e.node;
      } else if (controller == e.node) {
        controller.clear();
      }
    }
    if (e.kind == "node.crash") {
      if (partition_leader == e.node) partition_leader.clear();
      if (controller == e.node) controller.clear();
    }
  }
};

// The broker node: start (recovering the logs) and serve until killed; if
// the start fails (a disk fault), try again a little later.
void broker_main(const broker::BrokerConfig& cfg, Runtime& rt) {
  for (;;) {
    broker::Broker b(rt, cfg);
    auto r = b.start();
    if (r) {
      Event forever;
      forever.wait(rt);
    }
    CASTLE_TRACE(rt.tracer(), "broker.start_failed", {{"error", r.error().message()}});
    rt.sleep_for(seconds(1));
  }
}

// Whether a partition's end offset may be read to. After a failover the
// new leader's high watermark lags the old one's until its followers fetch
// again, so an end below an acknowledged offset is asked again for a while;
// after that the read goes on, and what is missing counts as lost.
bool settled(KafkaHarness& hx, std::int32_t partition, std::int64_t end) {
  if (hx.read_started_ns < 0) hx.read_started_ns = hx.world.now();
  const sim::SimTime patience = std::min<std::int64_t>(10'000, hx.s.liveness_window_ms / 2) * 1'000'000;
  auto acked = hx.acked_end.find(partition);
  return acked == hx.acked_end.end() || end >= acked->second ||
         hx.world.now() - hx.read_started_ns >= patience;
}

constexpr Duration read_stall = seconds(5);

// Polls until the consumer's position reaches every end. A log cut at
// damage the read itself found may now end below the end it reported: a
// read that stops moving gives up, and the caller asks for the ends again.
bool read_to_ends(KafkaHarness& hx, Runtime& rt, client::Consumer& consumer,
                  const std::map<client::TopicPartition, std::int64_t>& ends) {
  auto behind = [&] {
    std::int64_t missing = 0;
    for (const auto& [tp, end] : ends) {
      auto pos = consumer.position(tp, milliseconds(hx.s.timeout_ms));
      missing += !pos ? end + 1 : std::max<std::int64_t>(0, end - *pos);
    }
    return missing;
  };
  std::int64_t least = behind();
  Instant moved = rt.now();
  while (least > 0) {
    do_poll(hx, static_cast<int>(reader_process), consumer);
    const std::int64_t now_behind = behind();
    if (now_behind < least) {
      least = now_behind;
      moved = rt.now();
    } else if (rt.now() - moved > read_stall) {
      return false;
    }
  }
  return true;
}

// The final read: every partition from the beginning to the end offsets
// the broker reports, as polls of one more process. A partition whose end
// cannot be had (offline, say) does not keep the others from being read:
// they are read, and left out of later attempts; the read is complete once
// every partition has been.
bool read_everything(KafkaHarness& hx, Runtime& rt) {
  auto admin = client::Admin::create(rt, hx.client_config());
  if (!admin) return false;
  std::map<client::TopicPartition, std::int64_t> query;
  for (const auto& tp : hx.all_partitions())
    if (!hx.read_complete.count(tp.partition)) query[tp] = client::offset_latest;
  if (query.empty()) return true;
  auto answered = (*admin)->list_offsets(query, milliseconds(hx.s.timeout_ms));
  std::map<client::TopicPartition, std::int64_t> ends;
  for (const auto& [tp, lo] : answered) {
    if (lo.error) continue;
    if (!settled(hx, tp.partition, lo.offset)) return false;
    ends[tp] = lo.offset;
  }
  if (ends.empty()) return false;
  client::ConsumerConfig cc;
  cc.client = hx.client_config();
  cc.auto_offset_reset = client::OffsetReset::earliest;
  cc.fetch_max_wait_ms = 100;
  auto consumer = client::Consumer::create(rt, cc);
  if (!consumer) return false;
  std::vector<client::TopicPartition> tps;
  for (const auto& [tp, end] : ends) tps.push_back(tp);
  record_assign(hx, reader_process, **consumer, tps);
  if (!(*consumer)->seek_to_beginning(tps)) return false;
  if (!read_to_ends(hx, rt, **consumer, ends)) return false;
  for (const auto& tp : tps) hx.read_complete.insert(tp.partition);
  return hx.read_complete.size() == hx.all_partitions().size();
}

void add_nodes(KafkaHarness& hx) {
  for (int i = 0; i < hx.s.servers; ++i) {
    sim::SimNode& b = hx.world.add_node("s" + std::to_string(i));
    configure_disk(b, hx.s);
    b.set_main([cfg = broker_config(hx.s, i)](Runtime& rt) { broker_main(cfg, rt); });
  }
  const auto names = client_names(hx.s);
  hx.healed_ok.assign(names.size(), false);
  hx.healed_failed.assign(names.size(), {});
  for (std::size_t i = 0; i < names.size(); ++i) {
    sim::SimNode& n = hx.world.add_node(names[i]);
    n.set_main([&hx, i](Runtime& rt) { client_main(hx, static_cast<int>(i), rt); });
  }
}

constexpr const char* final_read_failure = "the final read did not complete within the liveness window";
constexpr const char* no_ack_failure = "a client had no send acknowledged within the liveness window";

void liveness_phase(KafkaHarness& hx, sim::SimNode& reader) {
  const sim::SimTime window = hx.s.liveness_window_ms * 1'000'000;
  auto all_healed = [&] {
    return std::all_of(hx.healed_ok.begin(), hx.healed_ok.end(), [](bool b) { return b; });
  };
  if (!hx.world.run_until(all_healed, hx.world.now() + window))
    hx.result.liveness_failure = no_ack_failure;
  hx.workload_on = false;
  hx.world.run_until([&] { return hx.clients_running == 0; },
                     hx.world.now() + 8 * hx.s.timeout_ms * 1'000'000 + window);
  reader.set_main([&hx](Runtime& rt) {
    while (!read_everything(hx, rt)) rt.sleep_for(milliseconds(200));
    hx.read_done = true;
  });
  reader.start();
  if (!hx.world.run_until([&] { return hx.read_done; }, hx.world.now() + window) &&
      hx.result.liveness_failure.empty())
    hx.result.liveness_failure = final_read_failure;
}

// Whether the contract allows an anomaly of a state invariant: those that
// assume committed records survive, when they may not; partition leader
// linearizability, which assumes clean elections, with unclean ones.
bool invariant_allowed(const checkers::Anomaly& a, const Contract& c) {
  if (a.type == "leader-missing-committed" || a.type == "isr-member-missing-committed" ||
      a.type == "isr-expand-missing-committed" || a.type == "acked-not-durable" ||
      a.type == "reopen-below-hw")
    return c.committed_may_be_lost;
  if (a.type == "replica-divergence") return c.committed_may_be_lost || c.corruption;
  const bool partition_register = a.key != "quorum" &&
      (a.type == "split-brain" || a.type == "phantom-leader" || a.type == "stale-leader");
  return partition_register && c.unclean;
}

// Whether every client without a send acknowledged since the faults ended
// tried only partitions in `unreachable` (and tried some).
// A failure on a partition that later acknowledged a send (anyone's) was
// the recovery's, not a partition out of reach: a client whose one send
// there timed out while its ISR grew back, and whose later sends all went
// to unreachable partitions, is stuck only on those (cluster-swarm-disk
// 13596).
bool clients_stuck_only_on(const KafkaHarness& hx, const std::set<std::string>& unreachable) {
  for (std::size_t c = 0; c < hx.healed_ok.size(); ++c) {
    if (hx.healed_ok[c]) continue;
    bool tried_unreachable = false;
    for (const auto& [p, failed_at] : hx.healed_failed[c]) {
      const auto acked = hx.healed_acked.find(p);
      const bool served_later = acked != hx.healed_acked.end() && acked->second > failed_at;
      const bool out_of_reach = unreachable.count(key_of(p)) > 0;
      if (!served_later && !out_of_reach) return false;
      tried_unreachable = tried_unreachable || out_of_reach;
    }
    if (!tried_unreachable) return false;
  }
  return true;
}

// A liveness failure is excused when it is all on partitions with nothing
// but damaged replicas to elect (damage_watch.h; with unclean election,
// every replica damaged): every value the final read left unread is on
// one, and every client without a send acknowledged since the faults
// ended was sending only to them; or every metadata quorum voter is
// repairing a damaged log, so none can be elected again. Those values are
// then unavailable, not lost, and reported as allowed.
void excuse_unreachable(KafkaHarness& hx, const std::vector<FaultSpec>& applied,
                        const DamageWatch& damage, const Contract& contract) {
  const std::string& failure = hx.result.liveness_failure;
  if (failure != final_read_failure && failure != no_ack_failure) return;
  std::set<std::string> flipped;
  for (const auto& f : applied)
    if (f.kind == "disk_bitflip") flipped.insert(f.nodes.begin(), f.nodes.end());
  const std::string quorum = damage.quorum_unavailable(flipped);
  if (!quorum.empty()) {
    // Nothing can change leadership or fencing any more: all is unreachable.
    hx.result.liveness_excused =
        quorum + "; none can be elected, as a KRaft quorum whose metadata log is lost stays down";
  } else {
    std::set<std::string> partitions;
    const std::vector<std::string> why = damage.unavailable(flipped, contract.unclean, &partitions);
    if (why.empty()) return;
    for (const auto& a : hx.result.unverified)
      if (!partitions.count(a.key)) return;
    if (failure == no_ack_failure && !clients_stuck_only_on(hx, partitions)) return;
    std::string text;
    for (const auto& w : why) text += w + "; ";
    hx.result.liveness_excused =
        text + (contract.unclean ? "no replica is left to elect, even uncleanly, as in Kafka"
                                 : "with unclean.leader.election.enable=false it stays offline, as in Kafka");
  }
  hx.result.liveness_failure.clear();
  for (auto& a : hx.result.unverified) hx.result.allowed.push_back(std::move(a));
  hx.result.unverified.clear();
}

void judge(KafkaHarness& hx, const std::vector<FaultSpec>& applied, checkers::InvariantSet* invariants,
           const DamageWatch* damage) {
  checkers::CheckResult state;
  if (invariants != nullptr) invariants->finish(state);
  const bool loss_witnessed = std::any_of(state.anomalies.begin(), state.anomalies.end(),
                                          [](const auto& a) { return a.type == "committed-lost-in-crashes"; });
  const Contract contract = kafka_contract(hx.s, applied, loss_witnessed);
  hx.result.contract = contract.summary;
  // Linearizability on a step budget only: a wall-clock budget would make
  // the verdict depend on the machine, and a run must not.
  checkers::AllCheckOptions opt;
  opt.lin.time_ms_max = std::numeric_limits<std::int64_t>::max();
  opt.lin.steps_max = 2'000'000;
  opt.lin.cache_bytes_max = std::int64_t{64} << 20;
  checkers::CheckResult all = checkers::check_history(hx.result.history, opt).check;
  checkers::CheckResult failing;
  failing.acked_sends = all.acked_sends;
  SortedAnomalies sorted = sort_history_anomalies(std::move(all.anomalies), contract, hx.read_done);
  for (auto& a : sorted.failing) failing.add(std::move(a));
  hx.result.allowed = std::move(sorted.allowed);
  hx.result.unverified = std::move(sorted.unverified);
  if (damage != nullptr) excuse_unreachable(hx, applied, *damage, contract);
  for (auto& a : state.anomalies) {
    if (a.type == "committed-lost-in-crashes" || invariant_allowed(a, contract)) {
      hx.result.allowed.push_back(std::move(a));
    } else {
      failing.add(std::move(a));
    }
  }
  hx.result.check = std::move(failing);
  if (!hx.result.check.valid()) {
    hx.result.verdict = Verdict::safety;
  } else if (!hx.result.liveness_failure.empty()) {
    hx.result.verdict = Verdict::liveness;
  }
}

// A cluster's state invariants, fed every trace event as it is published.
// The bus may publish after the verdict (teardown): the set is shared with
// the subscription, which stops listening once judged.
struct ClusterWatch {
  std::shared_ptr<checkers::InvariantSet> invariants = std::make_shared<checkers::InvariantSet>();
  std::shared_ptr<LeaderWatch> leaders = std::make_shared<LeaderWatch>();
  std::shared_ptr<DamageWatch> damage = std::make_shared<DamageWatch>();
  std::shared_ptr<bool> listening = std::make_shared<bool>(true);

  void attach(sim::World& world, const Scenario& s) {
    checkers::ReplicationInvariantOptions options;
    options.every_write_synced = syncs_every_write(s.kafka);
    checkers::add_replication_invariants(*invariants, options);
    checkers::add_raft_invariants(*invariants);
    world.trace_bus().subscribe([inv = invariants, l = leaders, d = damage, on = listening](const TraceEvent& e) {
      if (!*on) return;
      inv->observe(e);
      l->observe(e);
      d->observe(e);
    });
  }
};

}  // namespace

RunResult run_kafka(const Scenario& s, const RunOptions& options) {
  RunResult result;
  RunWorld owner(options);
  sim::World& world = *owner;
  begin_run(world, s, options, result);
  std::optional<ClusterWatch> watch;
  if (s.servers > 1) watch.emplace().attach(world, s);
  KafkaHarness hx(world, s, result);
  hx.faults_end_ns = s.duration_ms * 1'000'000;
  add_nodes(hx);
  sim::SimNode& reader = world.add_node("reader");
  for (std::size_t i = 0; i + 1 < world.node_count(); ++i) world.node(i).start();

  const std::vector<std::string> servers = server_names(s);
  auto all = servers;
  for (auto& c : client_names(s)) all.push_back(c);
  Rng plan_rng = world.fork_rng("nemesis");
  result.planned_faults = plan_faults(s, plan_rng, servers, all);
  Nemesis nemesis(world);
  if (watch) {
    nemesis.set_target_finder(leader_target, [l = watch->leaders] { return l->partition_leader; });
    nemesis.set_target_finder(controller_target, [l = watch->leaders] { return l->controller; });
  }
  nemesis.schedule(result.planned_faults, s.duration_ms);

  world.run_until(hx.faults_end_ns);
  nemesis.stop();
  world.stop_buggify();  // the faults are over: what follows checks recovery
  liveness_phase(hx, reader);
  if (watch) *watch->listening = false;
  judge(hx, nemesis.applied(), watch ? watch->invariants.get() : nullptr,
        watch ? watch->damage.get() : nullptr);
  end_run(world, options, nemesis, servers.size(), result);
  return result;
}

}  // namespace castle::scenarios
