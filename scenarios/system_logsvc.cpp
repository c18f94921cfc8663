// The proof service (system "logsvc") under a scenario: servers appending
// framed records, clients sending unique values, a final read of every
// server, and the log checkers.
#include "scenarios/harness.h"
#include "scenarios/contract.h"

#include "checkers/invariants.h"

#include "sim/disk.h"
#include "sim/network.h"
#include "sim/node.h"
#include "system/logsvc/client.h"
#include "system/logsvc/server.h"

namespace castle::scenarios {

namespace {

constexpr std::uint16_t logsvc_port = 7070;

std::vector<std::uint8_t> make_payload(std::int64_t value, int bytes) {
  std::vector<std::uint8_t> p(static_cast<std::size_t>(bytes));
  for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(value >> (56 - 8 * i));
  for (int i = 8; i < bytes; ++i) p[i] = static_cast<std::uint8_t>(value * 31 + i);
  return p;
}

// The value a payload carries, or -1 if it is not one this workload wrote.
std::int64_t parse_payload(const std::vector<std::uint8_t>& p, int bytes) {
  if (static_cast<int>(p.size()) != bytes) return -1;
  std::int64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return make_payload(v, bytes) == p ? v : -1;
}

struct Harness {
  Harness(sim::World& w, const Scenario& sc, RunResult& r)
      : world(w), s(sc), result(r), servers(server_names(sc)) {}
  sim::World& world;
  const Scenario& s;
  RunResult& result;
  std::vector<std::string> servers;
  std::int64_t next_value = 0;
  sim::SimTime faults_end_ns = 0;
  bool workload_on = true;
  int clients_running = 0;
  std::vector<bool> healed_ok;
  int reads_done = 0;
  std::set<std::pair<std::string, std::int64_t>> corrupt;

  void record(history::Op op) {
    op.time_ns = world.now();
    result.history.add(std::move(op));
  }
};

void complete_send(Harness& hx, int process, const std::string& key, std::int64_t value,
                   const logsvc::AppendResult& r) {
  history::Op done;
  done.process = process;
  done.f = "send";
  history::SendValue sv{key, value, std::nullopt};
  switch (r.outcome) {
    case logsvc::Outcome::ok:
      done.type = history::OpType::ok;
      sv.offset = static_cast<std::int64_t>(r.offset);
      ++hx.result.stats.acked;
      break;
    case logsvc::Outcome::failed:
      done.type = history::OpType::fail;
      ++hx.result.stats.failed;
      break;
    case logsvc::Outcome::unknown:
      done.type = history::OpType::info;
      ++hx.result.stats.unknown;
      break;
  }
  done.error = r.error;
  done.sends.push_back(std::move(sv));
  hx.record(std::move(done));
}

void client_main(Harness& hx, int index, Runtime& rt) {
  ++hx.clients_running;
  std::vector<std::unique_ptr<logsvc::Client>> conns;
  for (const auto& s : hx.servers)
    conns.push_back(std::make_unique<logsvc::Client>(rt, Address{s, logsvc_port},
                                                     milliseconds(hx.s.timeout_ms)));
  while (hx.workload_on) {
    const std::size_t target = rt.rng().below(conns.size());
    const std::string key = hx.servers[target] + "-0";
    const std::int64_t value = hx.next_value++;
    history::Op invoke;
    invoke.process = index;
    invoke.f = "send";
    invoke.sends.push_back({key, value, std::nullopt});
    hx.record(std::move(invoke));
    ++hx.result.stats.sends;
    auto r = conns[target]->append(make_payload(value, hx.s.payload_bytes));
    complete_send(hx, index, key, value, r);
    if (r.outcome == logsvc::Outcome::ok && hx.world.now() >= hx.faults_end_ns)
      hx.healed_ok[static_cast<std::size_t>(index)] = true;
    rt.sleep_for(milliseconds(hx.s.interval_ms));
  }
  --hx.clients_running;
}

void read_server(Harness& hx, Runtime& rt, std::size_t i) {
  logsvc::Client c(rt, Address{hx.servers[i], logsvc_port}, milliseconds(hx.s.timeout_ms));
  const std::string key = hx.servers[i] + "-0";
  const int process = 100000 + static_cast<int>(i);
  for (;;) {
    history::Op invoke;
    invoke.process = process;
    invoke.f = "poll";
    hx.record(invoke);
    auto r = c.read_all();
    history::Op done = invoke;
    if (!r) {
      done.type = history::OpType::fail;
      done.error = r.error().message();
      hx.record(std::move(done));
      rt.sleep_for(milliseconds(100));
      continue;
    }
    done.type = history::OpType::ok;
    auto& pairs = done.polls[key];
    for (const auto& e : r->entries) {
      const auto offset = static_cast<std::int64_t>(e.offset);
      if (e.status == logsvc::RecordStatus::corrupt) {
        hx.corrupt.insert({key, offset});
        continue;
      }
      pairs.emplace_back(offset, parse_payload(e.payload, hx.s.payload_bytes));
    }
    hx.record(std::move(done));
    ++hx.reads_done;
    return;
  }
}

void add_servers(Harness& hx) {
  for (const auto& name : hx.servers) {
    sim::SimNode& n = hx.world.add_node(name);
    configure_disk(n, hx.s);
    logsvc::ServerConfig cfg;
    cfg.listen = Address{name, logsvc_port};
    cfg.bugs = hx.s.bugs;
    n.set_main([cfg](Runtime& rt) {
      logsvc::Server server(rt, cfg);
      auto r = server.run();
      CASTLE_TRACE(rt.tracer(), "logsvc.exit", {{"error", r.error().message()}});
    });
  }
}

void add_clients(Harness& hx) {
  const auto names = client_names(hx.s);
  hx.healed_ok.assign(names.size(), false);
  for (std::size_t i = 0; i < names.size(); ++i) {
    sim::SimNode& n = hx.world.add_node(names[i]);
    n.set_main([&hx, i](Runtime& rt) { client_main(hx, static_cast<int>(i), rt); });
  }
}

std::string unconverged_clients(const Harness& hx) {
  std::string who;
  for (std::size_t i = 0; i < hx.healed_ok.size(); ++i)
    if (!hx.healed_ok[i]) who += (who.empty() ? "c" : ", c") + std::to_string(i);
  return who;
}

// After the faults stop: every client must get an append through, then a
// final read of every server must complete, each within the window.
void liveness_phase(Harness& hx, sim::SimNode& reader) {
  const sim::SimTime window = hx.s.liveness_window_ms * 1'000'000;
  auto all_healed = [&] {
    return std::all_of(hx.healed_ok.begin(), hx.healed_ok.end(), [](bool b) { return b; });
  };
  if (!hx.world.run_until(all_healed, hx.world.now() + window))
    hx.result.liveness_failure =
        "no append succeeded within the liveness window for clients " + unconverged_clients(hx);
  hx.workload_on = false;
  hx.world.run_until([&] { return hx.clients_running == 0; },
                     hx.world.now() + 2 * hx.s.timeout_ms * 1'000'000 + window);
  reader.set_main([&hx](Runtime& rt) {
    for (std::size_t i = 0; i < hx.servers.size(); ++i) read_server(hx, rt, i);
  });
  reader.start();
  const auto total = static_cast<int>(hx.servers.size());
  if (!hx.world.run_until([&] { return hx.reads_done == total; }, hx.world.now() + window) &&
      hx.result.liveness_failure.empty())
    hx.result.liveness_failure = "the final read did not complete within the liveness window";
}

void judge(Harness& hx, const Nemesis& nemesis, checkers::InvariantSet& invariants) {
  checkers::LogCheckOptions opt;
  opt.reported_corrupt = hx.corrupt;
  opt.corruption_injected = nemesis.corruption_injected();
  checkers::CheckResult found = checkers::check_log_history(hx.result.history, opt);
  // Judged as Kafka's, under a contract that allows nothing: an unseen
  // value while the final read did not complete is unverified (liveness).
  const bool read_done = hx.reads_done == static_cast<int>(hx.servers.size());
  SortedAnomalies sorted = sort_history_anomalies(std::move(found.anomalies), Contract{}, read_done);
  hx.result.check.acked_sends = found.acked_sends;
  hx.result.check.excused = found.excused;
  for (auto& a : sorted.failing) hx.result.check.add(std::move(a));
  hx.result.unverified = std::move(sorted.unverified);
  // A bit flip in a record's header may legitimately shorten a recovered
  // log (the contract above), so the invariant only judges runs without.
  checkers::CheckResult sampled;
  invariants.finish(sampled);
  if (!nemesis.corruption_injected())
    for (auto& a : sampled.anomalies) hx.result.check.add(std::move(a));
  if (!hx.result.check.valid()) {
    hx.result.verdict = Verdict::safety;
  } else if (!hx.result.liveness_failure.empty()) {
    hx.result.verdict = Verdict::liveness;
  }
}

}  // namespace

RunResult run_logsvc(const Scenario& s, const RunOptions& options) {
  RunResult result;
  RunWorld owner(options);
  sim::World& world = *owner;
  begin_run(world, s, options, result);
  // State invariants sampled from the trace as the run goes. The bus may
  // publish after the verdict (teardown), so the set is shared with the
  // subscription and stops listening once judged.
  auto invariants = std::make_shared<checkers::InvariantSet>();
  auto listening = std::make_shared<bool>(true);
  invariants->add(checkers::logsvc_durable_log_never_shrinks());
  world.trace_bus().subscribe([invariants, listening](const TraceEvent& e) {
    if (*listening) invariants->observe(e);
  });
  Harness hx(world, s, result);
  hx.faults_end_ns = s.duration_ms * 1'000'000;
  add_servers(hx);
  add_clients(hx);
  sim::SimNode& reader = world.add_node("reader");
  for (std::size_t i = 0; i + 1 < world.node_count(); ++i) world.node(i).start();

  auto all = hx.servers;
  for (auto& c : client_names(s)) all.push_back(c);
  Rng plan_rng = world.fork_rng("nemesis");
  result.planned_faults = plan_faults(s, plan_rng, hx.servers, all);
  Nemesis nemesis(world);
  nemesis.schedule(result.planned_faults, s.duration_ms);

  world.run_until(hx.faults_end_ns);
  nemesis.stop();
  world.stop_buggify();  // the faults are over: what follows checks recovery
  liveness_phase(hx, reader);
  *listening = false;
  judge(hx, nemesis, *invariants);

  end_run(world, options, nemesis, hx.servers.size(), result);
  return result;
}

}  // namespace castle::scenarios
