// castle logsvc serve | workload: the proof service as real processes.
//
// `serve` runs the same Server the simulator runs, on the real runtime.
// `workload` appends unique values to a set of servers, recording a
// history (appended to an existing history file, so a second run after a
// server was killed checks both), then reads every server back and runs the
// log checkers: exit 0 if every acknowledged append is there, 1 if not.
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "checkers/log_checks.h"
#include "real/cli/args.h"
#include "real/cli/commands.h"
#include "real/real_runtime.h"
#include "system/logsvc/client.h"
#include "system/logsvc/server.h"

namespace castle::cli {

namespace {

real::RealRuntime* signal_target = nullptr;

extern "C" void on_stop_signal(int) {
  if (signal_target != nullptr) signal_target->stop();
}

Address parse_address(const std::string& flag, const std::string& text) {
  auto a = Address::parse(text);
  if (!a) throw UsageError("--" + flag + " must be HOST:PORT, got '" + text + "'");
  return *a;
}

int serve(const Args& args) {
  const auto listen = args.value("listen");
  const auto dir = args.value("dir");
  if (!listen || !dir) throw UsageError("logsvc serve needs --listen HOST:PORT and --dir DIR");
  logsvc::ServerConfig cfg;
  cfg.listen = parse_address("listen", *listen);
  cfg.dir = "logsvc";
  cfg.on_listening = [](const Address& a) {
    std::printf("listening on %s\n", a.to_string().c_str());
    std::fflush(stdout);
  };
  std::filesystem::create_directories(*dir);
  real::RealConfig rc;
  rc.node_name = "logsvc";
  rc.data_dir = *dir;
  real::RealRuntime rt(rc);
  signal_target = &rt;
  std::signal(SIGTERM, on_stop_signal);
  std::signal(SIGINT, on_stop_signal);
  int code = 0;
  rt.spawn("main", [&] {
    logsvc::Server server(rt, cfg);
    auto r = server.run();
    std::fprintf(stderr, "castle logsvc: cannot serve: %s\n", r.error().message().c_str());
    code = 2;
    rt.stop();
  });
  rt.run();
  rt.shutdown();
  signal_target = nullptr;
  return code;
}

}  // namespace
}  // namespace castle::cli

namespace castle::cli {
namespace {

struct Workload {
  std::vector<Address> servers;
  std::int64_t count = 0;
  Duration timeout = seconds(2);
  history::History history;
  std::int64_t next_value = 0;
  std::set<std::pair<std::string, std::int64_t>> corrupt;
  int reads_failed = 0;
};

std::string key_of(const Address& a) { return a.to_string() + "-0"; }

history::History load_history(const std::string& path, std::int64_t* next_value) {
  std::ifstream in(path);
  if (!in) return {};
  std::string error;
  auto h = history::History::read_jsonl(in, &error);
  if (!h) throw UsageError("--history " + path + ": " + error);
  for (const auto& op : h->ops())
    for (const auto& s : op.sends) *next_value = std::max(*next_value, s.value + 1);
  return std::move(*h);
}

void record(Runtime& rt, Workload& w, history::Op op) {
  op.time_ns = to_ns(rt.now());
  w.history.add(std::move(op));
}

void append_all(Runtime& rt, Workload& w) {
  std::vector<std::unique_ptr<logsvc::Client>> clients;
  for (const auto& a : w.servers) clients.push_back(std::make_unique<logsvc::Client>(rt, a, w.timeout));
  for (std::int64_t i = 0; i < w.count; ++i) {
    const std::size_t t = static_cast<std::size_t>(i) % clients.size();
    const std::int64_t value = w.next_value++;
    history::Op inv;
    inv.f = "send";
    inv.sends.push_back({key_of(w.servers[t]), value, std::nullopt});
    record(rt, w, inv);
    std::vector<std::uint8_t> payload(8);
    for (int b = 0; b < 8; ++b) payload[b] = static_cast<std::uint8_t>(value >> (56 - 8 * b));
    auto r = clients[t]->append(payload);
    history::Op done = inv;
    done.type = r.outcome == logsvc::Outcome::ok       ? history::OpType::ok
                : r.outcome == logsvc::Outcome::failed ? history::OpType::fail
                                                       : history::OpType::info;
    if (r.outcome == logsvc::Outcome::ok) done.sends[0].offset = static_cast<std::int64_t>(r.offset);
    done.error = r.error;
    record(rt, w, done);
  }
}

void read_back(Runtime& rt, Workload& w) {
  for (const auto& a : w.servers) {
    logsvc::Client c(rt, a, w.timeout);
    history::Op inv;
    inv.process = 1000;
    inv.f = "poll";
    record(rt, w, inv);
    auto r = c.read_all();
    history::Op done = inv;
    if (!r) {
      done.type = history::OpType::fail;
      done.error = r.error().message();
      ++w.reads_failed;
    } else {
      done.type = history::OpType::ok;
      auto& pairs = done.polls[key_of(a)];
      for (const auto& e : r->entries) {
        std::int64_t v = -1;
        if (e.status == logsvc::RecordStatus::ok && e.payload.size() == 8) {
          v = 0;
          for (auto b : e.payload) v = (v << 8) | b;
        }
        if (e.status == logsvc::RecordStatus::corrupt) w.corrupt.insert({key_of(a), static_cast<std::int64_t>(e.offset)});
        else pairs.emplace_back(static_cast<std::int64_t>(e.offset), v);
      }
    }
    record(rt, w, done);
  }
}

int workload(const Args& args) {
  Workload w;
  const auto servers = args.value("servers");
  if (!servers) throw UsageError("logsvc workload needs --servers H:P[,H:P...]");
  std::string list = *servers;
  for (std::size_t start = 0; start <= list.size();) {
    auto comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    w.servers.push_back(parse_address("servers", list.substr(start, comma - start)));
    start = comma + 1;
  }
  w.count = args.i64("count", 1000);
  w.timeout = milliseconds(args.i64("timeout-ms", 2000));
  const std::string history_path = args.value("history").value_or("");
  if (!history_path.empty()) w.history = load_history(history_path, &w.next_value);
  real::RealConfig rc;
  rc.node_name = "logsvc-workload";
  real::RealRuntime rt(rc);
  rt.spawn("workload", [&] {
    append_all(rt, w);
    read_back(rt, w);
  });
  rt.run_until_idle();
  auto result = checkers::check_log_history(w.history, {w.corrupt, false});
  std::int64_t acked = 0;
  for (const auto& op : w.history.ops()) acked += op.type == history::OpType::ok && op.f == "send";
  if (!history_path.empty()) {
    std::ofstream out(history_path);
    w.history.write_jsonl(out);
  }
  for (const auto& a : result.anomalies)
    std::printf("anomaly: %s key=%s %s\n", a.type.c_str(), a.key.c_str(), a.description.c_str());
  const bool ok = result.valid() && w.reads_failed == 0;
  std::printf("acked=%lld reads_failed=%d anomalies=%zu verdict=%s\n", static_cast<long long>(acked),
              w.reads_failed, result.anomalies.size(), ok ? "pass" : "safety");
  return ok ? 0 : 1;
}

}  // namespace

int cmd_logsvc(const std::vector<std::string>& argv) {
  if (argv.empty()) throw UsageError("logsvc needs a subcommand: serve or workload");
  const std::vector<std::string> rest(argv.begin() + 1, argv.end());
  Args args(rest, {"listen", "dir", "servers", "count", "timeout-ms", "history"}, {});
  if (argv[0] == "serve") return serve(args);
  if (argv[0] == "workload") return workload(args);
  throw UsageError("unknown logsvc subcommand '" + argv[0] + "'");
}

}  // namespace castle::cli
