// castle broker --config server.properties [--override name=value]...
//
// The broker the simulator runs, as a real process on the real runtime,
// configured with Kafka's property names. It prints `listening on HOST:PORT`
// once clients can connect (tests read that line; port 0 picks a free
// port), warns on stderr about properties that mean nothing to a single
// Castle broker, and on SIGTERM or SIGINT flushes every log and exits 0. A
// second signal while flushing gives up and exits at once.
#include <malloc.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "real/cli/args.h"
#include "real/cli/commands.h"
#include "real/real_runtime.h"
#include "system/broker/broker.h"

namespace castle::cli {

namespace {

// How often the main fiber looks for a stop signal. A signal handler may
// only touch lock-free state, so it sets a flag that this fiber polls.
constexpr Duration stop_poll_interval = milliseconds(50);
// A properties file bigger than this is a mistake (a log file, say).
constexpr std::uintmax_t config_file_bytes_max = 1 << 20;

volatile std::sig_atomic_t stop_signals = 0;
real::RealRuntime* broker_signal_target = nullptr;

extern "C" void on_broker_stop_signal(int) {
  stop_signals = stop_signals + 1;
  // The second signal means "now": leave the loop without waiting for the flush.
  if (stop_signals > 1 && broker_signal_target != nullptr) broker_signal_target->stop();
}

std::string read_config_file(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) throw UsageError("--config " + path + ": " + ec.message());
  if (size > config_file_bytes_max)
    throw UsageError("--config " + path + ": larger than " +
                     std::to_string(config_file_bytes_max) + " bytes");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError("--config " + path + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The file's properties, then each --override name=value on top.
std::map<std::string, std::string> load_properties(const std::string& path,
                                                   const std::vector<std::string>& overrides) {
  broker::PropertyError error;
  auto props = broker::parse_properties(read_config_file(path), &error);
  if (!props) throw UsageError(path + ": " + error.message);
  for (const auto& o : overrides) {
    const auto eq = o.find('=');
    if (eq == std::string::npos || eq == 0)
      throw UsageError("--override must be NAME=VALUE, got '" + o + "'");
    (*props)[o.substr(0, eq)] = o.substr(eq + 1);
  }
  return std::move(*props);
}

broker::BrokerConfig configure(const std::map<std::string, std::string>& props,
                               const std::string& path) {
  broker::BrokerConfig config;
  broker::PropertyError error;
  if (!broker::apply_broker_properties(props, &config, &error))
    throw UsageError(path + ": " + error.property + ": " + error.message);
  for (const auto& [name, value] : props) {
    if (broker::is_ignored_broker_property(name))
      std::fprintf(stderr, "castle broker: warning: ignoring %s=%s (nothing to tune on a single "
                           "Castle broker)\n", name.c_str(), value.c_str());
  }
  return config;
}

// The runtime's disk refuses absolute paths: every path is relative to its
// data root. So the root becomes the log directory's parent and log.dirs
// its last component; a relative log.dirs is taken from the process's
// working directory, as Kafka does.
std::string root_log_dir(broker::BrokerConfig* config) {
  namespace fs = std::filesystem;
  fs::path dir = fs::absolute(config->log_dir).lexically_normal();
  if (!dir.has_filename()) dir = dir.parent_path();  // a trailing '/'
  if (dir == dir.root_path())
    throw UsageError("log.dirs: '" + config->log_dir + "' can't be the filesystem root");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw UsageError("log.dirs: cannot create '" + dir.string() + "': " + ec.message());
  config->log_dir = dir.filename().string();
  return dir.parent_path().string();
}

// Runs the broker until a stop signal, then flushes. Returns the exit code.
int serve(real::RealRuntime& rt, broker::BrokerConfig config) {
  int code = 0;
  rt.spawn("broker-main", [&] {
    broker::Broker broker(rt, std::move(config));
    if (auto r = broker.start(); !r) {
      std::fprintf(stderr, "castle broker: cannot start: %s\n", r.error().message().c_str());
      code = 2;
      rt.stop();
      return;
    }
    std::printf("listening on %s\n", broker.local_address().to_string().c_str());
    std::fflush(stdout);
    while (stop_signals == 0) rt.sleep_for(stop_poll_interval);
    std::fprintf(stderr, "castle broker: stopping: flushing every log\n");
    if (auto r = broker.shutdown(); !r) {
      std::fprintf(stderr, "castle broker: shutdown failed: %s\n", r.error().message().c_str());
      code = 1;
    }
    rt.stop();
  });
  rt.run();
  if (stop_signals > 1 && code == 0) {
    std::fprintf(stderr, "castle broker: second signal: exiting without a complete flush\n");
    code = 1;
  }
  rt.shutdown();
  return code;
}

// Produce requests and fetch responses move buffers of a megabyte or so,
// which glibc's malloc hands out as fresh mmap()ed pages, faulted in and
// unmapped again per request: 210,000 page faults over bench_kafka's four
// single-broker rows, and 1 KiB consumes at 1.12 M msg/s. Kept on the heap
// (mmap only from 64 MiB) with up to 256 MiB of free heap top kept, the
// same rows fault 2,500 times and consume at 1.51 M msg/s.
void keep_large_buffers_on_the_heap() {
  ::mallopt(M_MMAP_THRESHOLD, 64 << 20);
  ::mallopt(M_TRIM_THRESHOLD, 256 << 20);
}

}  // namespace

int cmd_broker(const std::vector<std::string>& argv) {
  Args args(argv, {"config"}, {}, {"override"});
  if (!args.positional().empty())
    throw UsageError("unexpected argument '" + args.positional().front() + "'");
  const auto path = args.value("config");
  if (!path) throw UsageError("needs --config server.properties");
  const auto props = load_properties(*path, args.values("override"));
  broker::BrokerConfig config = configure(props, *path);
  real::RealConfig rc;
  rc.node_name = "broker-" + std::to_string(config.node_id);
  rc.data_dir = root_log_dir(&config);
  // Port 0 is advertised as the port the listener is given.
  const std::string advertised = config.advertised.port != 0
                                     ? config.advertised.to_string()
                                     : config.advertised.host + ":(the bound port)";
  std::fprintf(stderr, "castle broker: node.id=%d log.dirs=%s/%s advertised=%s\n",
               static_cast<int>(config.node_id), rc.data_dir.c_str(), config.log_dir.c_str(),
               advertised.c_str());
  keep_large_buffers_on_the_heap();
  real::RealRuntime rt(rc);
  stop_signals = 0;
  broker_signal_target = &rt;
  std::signal(SIGTERM, on_broker_stop_signal);
  std::signal(SIGINT, on_broker_stop_signal);
  const int code = serve(rt, std::move(config));
  broker_signal_target = nullptr;
  return code;
}

}  // namespace castle::cli
