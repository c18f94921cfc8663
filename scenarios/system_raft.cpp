// The Raft quorum (system "raft") under a scenario: voters s0.. and
// observers o0.., each a RaftNode with an RpcServer over a ValueListMachine
// (scenarios/raft_machine.h) that recovers from its disk on every restart;
// client nodes c0.. that propose unique values through whichever node they
// believe leads; the state invariants over the raft.* trace events
// (checkers/raft_invariants.h); and at the end a read of every server's
// applied log, judged by the log checks and scenarios/raft_checks.h.
//
// History: one key, "raft". A proposal is a send of its value; ok carries
// the index it was applied at (the send's offset), fail means the node
// refused before proposing (definitely not appended), info an unknown fate
// (a timeout, a lost connection, leadership lost while waiting). The final
// read of server i is a poll by process 100000 + i of (index, value) pairs.
#include <algorithm>

#include "checkers/raft_invariants.h"
#include "scenarios/harness.h"
#include "scenarios/raft_checks.h"
#include "scenarios/raft_machine.h"
#include "system/raft/raft_node.h"
#include "system/runtime/sync.h"

namespace castle::scenarios {

namespace {

constexpr std::uint16_t raft_port = 9093;
constexpr std::int64_t reader_process = 100000;
constexpr const char* raft_key = "raft";

// A server's live objects while it runs; cleared when it unwinds (a crash
// destroys them as a real crash would).
struct Live {
  raft::RaftNode* node = nullptr;
  const ValueListMachine* sm = nullptr;
};

struct RaftHarness {
  RaftHarness(sim::World& w, const Scenario& sc, RunResult& r)
      : world(w), s(sc), result(r), servers(server_names(sc)) {}
  sim::World& world;
  const Scenario& s;
  RunResult& result;
  std::vector<std::string> servers;  // index == Raft node id
  std::vector<std::shared_ptr<Live>> lives;
  std::int64_t next_value = 0;
  sim::SimTime faults_end_ns = 0;
  bool workload_on = true;
  int clients_running = 0;
  std::vector<bool> healed_ok;
  std::vector<AppliedLog> final_logs;

  void record(history::Op op) {
    op.time_ns = world.now();
    result.history.add(std::move(op));
  }
};

raft::RaftConfig node_config(const Scenario& s, const std::vector<std::string>& servers, int id) {
  raft::RaftConfig cfg;
  cfg.id = id;
  for (int v = 0; v < s.servers; ++v) cfg.voters[v] = Address{servers[static_cast<std::size_t>(v)], raft_port};
  cfg.voter = id < s.servers;
  cfg.election_timeout_min = milliseconds(s.raft.election_timeout_min_ms);
  cfg.election_timeout_max = milliseconds(s.raft.election_timeout_max_ms);
  cfg.heartbeat_interval = milliseconds(s.raft.heartbeat_ms);
  cfg.snapshot_threshold = s.raft.snapshot_threshold;
  cfg.append_bytes_max = static_cast<std::size_t>(s.raft.append_bytes_max);
  cfg.bugs = s.bugs;
  return cfg;
}

ProposeResponse propose_and_wait(Runtime& rt, raft::RaftNode& node, const ProposeRequest& req) {
  auto index = node.propose(req.entry);
  if (!index) {
    // Only a refusal before appending says the value is not in the log; a
    // storage error may have left it there.
    const bool refused = index.error() == make_error_code(raft::RaftErrc::not_leader) ||
                         index.error() == make_error_code(raft::RaftErrc::not_started);
    return {refused ? ProposeStatus::not_leader : ProposeStatus::unknown, 0, node.leader_id()};
  }
  if (!node.wait_applied(*index, rt.now() + milliseconds(req.wait_ms)))
    return {ProposeStatus::unknown, 0, node.leader_id()};
  return {ProposeStatus::ok, *index, node.id()};
}

void server_main(Runtime& rt, const raft::RaftConfig& cfg, const std::shared_ptr<Live>& live) {
  for (;;) {
    ValueListMachine sm;
    raft::RpcServer server(rt);
    raft::RaftNode node(rt, cfg, sm, server);
    server.handle(raft_propose_type, [&rt, live](std::span<const std::uint8_t> b) -> Result<raft::Bytes> {
      auto req = decode_propose_request(b);
      if (!req) return std::errc::bad_message;
      // Not started yet (or a failed start): nothing was appended.
      if (live->node == nullptr) return encode(ProposeResponse{ProposeStatus::not_leader, 0, raft::no_node});
      return encode(propose_and_wait(rt, *live->node, *req));
    });
    struct Clear {
      Live& l;
      ~Clear() { l = {}; }
    } clear{*live};
    Result<void> started = server.start(Address{rt.node_name(), raft_port});
    if (started) started = node.start();
    if (started) {
      live->node = &node;
      live->sm = &sm;
      Event forever;
      forever.wait(rt);
    }
    // A disk fault during recovery: try again a little later, as an
    // operator's supervisor would.
    CASTLE_TRACE(rt.tracer(), "raft.start_failed", {{"error", started.error().message()}});
    rt.sleep_for(seconds(1));
  }
}

// One proposal of a fresh value; returns the server to try next.
std::size_t propose_once(RaftHarness& hx, Runtime& rt, int process, raft::RpcClient& conn,
                         std::size_t target) {
  const std::int64_t value = hx.next_value++;
  history::Op invoke;
  invoke.process = process;
  invoke.f = "send";
  invoke.sends.push_back({raft_key, value, std::nullopt});
  hx.record(invoke);
  ++hx.result.stats.sends;
  const ProposeRequest req{value, hx.s.timeout_ms / 2, encode_value(value, hx.s.payload_bytes)};
  auto reply = conn.call(raft_propose_type, encode(req), milliseconds(hx.s.timeout_ms));
  std::optional<ProposeResponse> resp;
  if (reply) resp = decode_propose_response(*reply);
  history::Op done = invoke;
  const std::size_t random_target = rt.rng().below(hx.servers.size());
  if (!resp || resp->status == ProposeStatus::unknown) {
    done.type = history::OpType::info;
    done.error = !reply ? reply.error().message() : resp ? "unknown outcome" : "garbled reply";
    ++hx.result.stats.unknown;
    hx.record(std::move(done));
    return resp ? target : random_target;
  }
  if (resp->status == ProposeStatus::not_leader) {
    done.type = history::OpType::fail;
    done.error = "not the leader";
    ++hx.result.stats.failed;
    hx.record(std::move(done));
    const bool hinted = resp->leader >= 0 && static_cast<std::size_t>(resp->leader) < hx.servers.size() &&
                        static_cast<std::size_t>(resp->leader) != target;
    return hinted ? static_cast<std::size_t>(resp->leader) : random_target;
  }
  done.type = history::OpType::ok;
  done.sends[0].offset = resp->index;
  ++hx.result.stats.acked;
  if (hx.world.now() >= hx.faults_end_ns) hx.healed_ok[static_cast<std::size_t>(process)] = true;
  hx.record(std::move(done));
  return target;
}

void client_main(RaftHarness& hx, int process, Runtime& rt) {
  ++hx.clients_running;
  std::vector<std::unique_ptr<raft::RpcClient>> conns;
  for (const auto& name : hx.servers)
    conns.push_back(std::make_unique<raft::RpcClient>(rt, Address{name, raft_port}));
  std::size_t target = rt.rng().below(conns.size());
  while (hx.workload_on) {
    target = propose_once(hx, rt, process, *conns[target], target);
    rt.sleep_for(milliseconds(hx.s.interval_ms));
  }
  --hx.clients_running;
}

void add_nodes(RaftHarness& hx) {
  for (std::size_t i = 0; i < hx.servers.size(); ++i) {
    sim::SimNode& n = hx.world.add_node(hx.servers[i]);
    configure_disk(n, hx.s);
    auto live = std::make_shared<Live>();
    hx.lives.push_back(live);
    n.set_main([cfg = node_config(hx.s, hx.servers, static_cast<int>(i)), live](Runtime& rt) {
      server_main(rt, cfg, live);
    });
  }
  const auto names = client_names(hx.s);
  hx.healed_ok.assign(names.size(), false);
  for (std::size_t i = 0; i < names.size(); ++i) {
    sim::SimNode& n = hx.world.add_node(names[i]);
    n.set_main([&hx, i](Runtime& rt) { client_main(hx, static_cast<int>(i), rt); });
  }
}

// The server that believes it leads (the first by id if two do, as a
// deposed leader may for a while), or empty.
std::string current_leader(const RaftHarness& hx) {
  for (std::size_t i = 0; i < hx.lives.size(); ++i)
    if (hx.lives[i]->node != nullptr && hx.lives[i]->node->is_leader()) return hx.servers[i];
  return {};
}

// Every server is up and has applied everything a ready leader committed.
bool converged(const RaftHarness& hx) {
  const raft::RaftNode* leader = nullptr;
  for (const auto& l : hx.lives) {
    if (l->node == nullptr) return false;
    if (l->node->is_ready_leader()) leader = l->node;
  }
  if (leader == nullptr) return false;
  return std::all_of(hx.lives.begin(), hx.lives.end(), [&](const auto& l) {
    return l->node->applied_index() >= leader->commit_index();
  });
}

// The final read of every running server's applied log, as history polls.
void read_applied_logs(RaftHarness& hx) {
  for (std::size_t i = 0; i < hx.lives.size(); ++i) {
    const Live& l = *hx.lives[i];
    if (l.node == nullptr) continue;
    history::Op op;
    op.process = reader_process + static_cast<std::int64_t>(i);
    op.f = "poll";
    hx.record(op);
    AppliedLog log{hx.servers[i], l.node->applied_index(), {}, -1};
    for (const auto& e : l.sm->entries()) log.values.emplace_back(e.index, e.value);
    op.type = history::OpType::ok;
    op.time_ns = hx.world.now();
    op.polls[raft_key] = log.values;
    log.op = hx.result.history.add(std::move(op)).index;
    hx.final_logs.push_back(std::move(log));
  }
}

// After the faults stop: every client must get a fresh value committed, and
// every server must then catch up with the leader, each within the window.
void liveness_phase(RaftHarness& hx) {
  const sim::SimTime window = hx.s.liveness_window_ms * 1'000'000;
  auto all_healed = [&] {
    return std::all_of(hx.healed_ok.begin(), hx.healed_ok.end(), [](bool b) { return b; });
  };
  if (!hx.world.run_until(all_healed, hx.world.now() + window))
    hx.result.liveness_failure = "a client had no value committed within the liveness window";
  hx.workload_on = false;
  hx.world.run_until([&] { return hx.clients_running == 0; },
                     hx.world.now() + 2 * hx.s.timeout_ms * 1'000'000);
  if (!hx.world.run_until([&] { return converged(hx); }, hx.world.now() + window) &&
      hx.result.liveness_failure.empty())
    hx.result.liveness_failure = "the servers did not converge on a ready leader's log within the window";
  read_applied_logs(hx);
}

void judge(RaftHarness& hx, checkers::InvariantSet& invariants) {
  hx.result.check = checkers::check_log_history(hx.result.history, {});
  check_applied_logs(hx.result.history, hx.final_logs, hx.result.check);
  invariants.finish(hx.result.check);
  if (!hx.result.check.valid()) {
    hx.result.verdict = Verdict::safety;
  } else if (!hx.result.liveness_failure.empty()) {
    hx.result.verdict = Verdict::liveness;
  }
}

}  // namespace

RunResult run_raft(const Scenario& s, const RunOptions& options) {
  RunResult result;
  RunWorld owner(options);
  sim::World& world = *owner;
  begin_run(world, s, options, result);
  // The bus may publish after the verdict (teardown): the set is shared
  // with the subscription, which stops listening once judged.
  auto invariants = std::make_shared<checkers::InvariantSet>();
  auto listening = std::make_shared<bool>(true);
  checkers::add_raft_invariants(*invariants);
  world.trace_bus().subscribe([invariants, listening](const TraceEvent& e) {
    if (*listening) invariants->observe(e);
  });
  RaftHarness hx(world, s, result);
  hx.faults_end_ns = s.duration_ms * 1'000'000;
  add_nodes(hx);
  for (std::size_t i = 0; i < world.node_count(); ++i) world.node(i).start();

  auto all = hx.servers;
  for (auto& c : client_names(s)) all.push_back(c);
  Rng plan_rng = world.fork_rng("nemesis");
  result.planned_faults = plan_faults(s, plan_rng, hx.servers, all);
  Nemesis nemesis(world);
  nemesis.set_leader_finder([&hx] { return current_leader(hx); });
  nemesis.schedule(result.planned_faults, s.duration_ms);

  world.run_until(hx.faults_end_ns);
  nemesis.stop();
  world.stop_buggify();  // the faults are over: what follows checks recovery
  liveness_phase(hx);
  *listening = false;
  judge(hx, *invariants);
  end_run(world, options, nemesis, hx.servers.size(), result);
  return result;
}

}  // namespace castle::scenarios
