// castle cluster up --brokers N [--controllers K] [--dir DIR] [--port-base P]
//                   [--override NAME=VALUE]...
// castle cluster config ... (the same flags): write the files, start nothing.
//
// A local cluster of `castle broker` processes on loopback, in KRaft's
// combined mode: nodes 1..K are broker and controller voters, the rest
// brokers only. Node i listens on PLAINTEXT port P+2(i-1) and CONTROLLER
// port P+2(i-1)+1. Each node's folder DIR/node-i holds server.properties,
// its data, broker.log (its stdout and stderr) and pid. `up` waits until
// every broker accepts connections, prints the bootstrap list, and stays in
// the foreground until SIGINT or SIGTERM, which it passes on; a node that
// dies meanwhile is reported, and the rest keep running (killing nodes is
// what such a cluster is for).
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "real/cli/args.h"
#include "real/cli/commands.h"

namespace castle::cli {

namespace {

namespace fs = std::filesystem;

struct ClusterPlan {
  int brokers = 3;
  int controllers = 3;
  int port_base = 9092;
  fs::path dir = "castle-cluster";
  std::vector<std::string> overrides;

  int plaintext_port(int node) const { return port_base + 2 * (node - 1); }
  int controller_port(int node) const { return plaintext_port(node) + 1; }
  fs::path node_dir(int node) const { return dir / ("node-" + std::to_string(node)); }
};

ClusterPlan parse_plan(const std::vector<std::string>& argv) {
  Args args(argv, {"brokers", "controllers", "dir", "port-base"}, {}, {"override"});
  if (!args.positional().empty())
    throw UsageError("unexpected argument '" + args.positional().front() + "'");
  ClusterPlan p;
  p.brokers = static_cast<int>(args.i64("brokers", 3));
  p.controllers = static_cast<int>(args.i64("controllers", std::min(p.brokers, 3)));
  p.port_base = static_cast<int>(args.i64("port-base", 9092));
  p.dir = fs::absolute(args.value("dir").value_or("castle-cluster"));
  p.overrides = args.values("override");
  if (p.brokers < 1 || p.brokers > 99) throw UsageError("--brokers must be 1..99");
  if (p.controllers < 1 || p.controllers > p.brokers)
    throw UsageError("--controllers must be 1..brokers");
  if (p.port_base < 1 || p.port_base + 2 * p.brokers > 65535)
    throw UsageError("--port-base leaves no room for every node's two ports");
  for (const auto& o : p.overrides)
    if (o.find('=') == std::string::npos || o.front() == '=')
      throw UsageError("--override must be NAME=VALUE, got '" + o + "'");
  return p;
}

std::string voters(const ClusterPlan& p) {
  std::string v;
  for (int i = 1; i <= p.controllers; ++i)
    v += (v.empty() ? "" : ",") + std::to_string(i) + "@127.0.0.1:" +
         std::to_string(p.controller_port(i));
  return v;
}

std::string node_properties(const ClusterPlan& p, int node) {
  const bool controller = node <= p.controllers;
  const std::string host = "127.0.0.1:";
  std::string s = "# Written by `castle cluster`: node " + std::to_string(node) + " of " +
                  std::to_string(p.brokers) + ".\n";
  s += "node.id=" + std::to_string(node) + "\n";
  s += std::string("process.roles=") + (controller ? "broker,controller" : "broker") + "\n";
  s += "controller.quorum.voters=" + voters(p) + "\n";
  s += "listeners=PLAINTEXT://" + host + std::to_string(p.plaintext_port(node));
  if (controller) s += ",CONTROLLER://" + host + std::to_string(p.controller_port(node));
  s += "\nadvertised.listeners=PLAINTEXT://" + host + std::to_string(p.plaintext_port(node)) + "\n";
  s += "log.dirs=" + (p.node_dir(node) / "data").string() + "\n";
  for (const auto& o : p.overrides) s += o + "\n";
  return s;
}

void write_configs(const ClusterPlan& p) {
  for (int i = 1; i <= p.brokers; ++i) {
    std::error_code ec;
    fs::create_directories(p.node_dir(i), ec);
    if (ec) throw UsageError("cannot create " + p.node_dir(i).string() + ": " + ec.message());
    std::ofstream out(p.node_dir(i) / "server.properties");
    out << node_properties(p, i);
    if (!out) throw UsageError("cannot write " + (p.node_dir(i) / "server.properties").string());
  }
}

// Starts `castle broker` for one node with its output in broker.log.
pid_t start_node(const ClusterPlan& p, int node) {
  const std::string self = fs::read_symlink("/proc/self/exe").string();
  const std::string config = (p.node_dir(node) / "server.properties").string();
  const std::string log = (p.node_dir(node) / "broker.log").string();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    ::execl(self.c_str(), self.c_str(), "broker", "--config", config.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  std::ofstream(p.node_dir(node) / "pid") << pid << "\n";
  return pid;
}

bool port_open(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

volatile std::sig_atomic_t cluster_stop = 0;
extern "C" void on_cluster_stop_signal(int) { cluster_stop = 1; }

std::string describe_exit(int status) {
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "stopped";
}

// Reaps every child that has exited, reporting each; returns how many are left.
int reap(const ClusterPlan& p, std::vector<pid_t>& pids, bool quiet) {
  int alive = 0;
  for (std::size_t i = 0; i < pids.size(); ++i) {
    if (pids[i] <= 0) continue;
    int status = 0;
    if (::waitpid(pids[i], &status, WNOHANG) == pids[i]) {
      if (!quiet)
        std::fprintf(stderr, "castle cluster: node %zu %s (see %s)\n", i + 1,
                     describe_exit(status).c_str(),
                     (p.node_dir(static_cast<int>(i) + 1) / "broker.log").c_str());
      pids[i] = 0;
    } else {
      ++alive;
    }
  }
  return alive;
}

void stop_all(const ClusterPlan& p, std::vector<pid_t>& pids) {
  for (pid_t pid : pids)
    if (pid > 0) ::kill(pid, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (reap(p, pids, true) > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  for (pid_t pid : pids)
    if (pid > 0) ::kill(pid, SIGKILL);
  while (reap(p, pids, true) > 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

// Waits until every node accepts connections; false if one died first or
// 60 s passed.
bool wait_ready(const ClusterPlan& p, std::vector<pid_t>& pids) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (int i = 1; i <= p.brokers; ++i) {
    while (!port_open(p.plaintext_port(i))) {
      if (reap(p, pids, false) < p.brokers || cluster_stop ||
          std::chrono::steady_clock::now() > deadline)
        return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  return true;
}

int cluster_up(const ClusterPlan& p) {
  write_configs(p);
  cluster_stop = 0;
  std::signal(SIGINT, on_cluster_stop_signal);
  std::signal(SIGTERM, on_cluster_stop_signal);
  std::vector<pid_t> pids;
  for (int i = 1; i <= p.brokers; ++i) pids.push_back(start_node(p, i));
  if (!wait_ready(p, pids)) {
    std::fprintf(stderr, "castle cluster: the cluster did not come up; stopping it\n");
    stop_all(p, pids);
    return 2;
  }
  std::string bootstrap;
  for (int i = 1; i <= p.brokers; ++i)
    bootstrap += (bootstrap.empty() ? "" : ",") + std::string("127.0.0.1:") +
                 std::to_string(p.plaintext_port(i));
  std::printf("cluster up: %d brokers (%d controllers) in %s\nbootstrap.servers=%s\n", p.brokers,
              p.controllers, p.dir.c_str(), bootstrap.c_str());
  std::fflush(stdout);
  while (!cluster_stop && reap(p, pids, false) > 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::fprintf(stderr, "castle cluster: stopping\n");
  stop_all(p, pids);
  return 0;
}

}  // namespace

int cmd_cluster(const std::vector<std::string>& argv) {
  if (argv.empty()) throw UsageError("cluster needs a subcommand: up or config");
  const std::string sub = argv.front();
  const std::vector<std::string> rest(argv.begin() + 1, argv.end());
  if (sub == "config") {
    const ClusterPlan p = parse_plan(rest);
    write_configs(p);
    for (int i = 1; i <= p.brokers; ++i)
      std::printf("%s\n", (p.node_dir(i) / "server.properties").c_str());
    return 0;
  }
  if (sub == "up") return cluster_up(parse_plan(rest));
  throw UsageError("unknown cluster subcommand '" + sub + "' (up or config)");
}

}  // namespace castle::cli
