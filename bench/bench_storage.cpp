// Partition log benchmarks on the real disk, each beside a baseline measured
// in the same run on the same directory:
// - appends of 100-byte and 1 KiB records in batches of 1, 100 and 1000,
//   without and with a flush() per batch, beside a plain pwrite loop of the
//   same batch bytes (with an fdatasync per batch for the flushed rows);
//   target: appends without a flush reach >= 80% of the pwrite bandwidth;
// - sequential reads through Log::read beside a plain pread loop over the
//   segment files; target >= 80%;
// - recovery: opening a log whose every batch lies past the recovery point
//   (so every batch is validated), in seconds per GiB.
//
// Usage: bench_storage [--dir DIR] [--append-mib N] [--read-mib N] [--repeats N]
// Data goes to a fresh directory under DIR (default /tmp), removed at exit.
// Prints a table; bench/run_storage.sh builds and runs it.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "real/real_runtime.h"
#include "system/storage/batch.h"
#include "system/storage/batch_builder.h"
#include "system/storage/log.h"

namespace castle {
namespace {

using storage::Bytes;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr double mib = 1024.0 * 1024.0;
// Distinct batches cycled through by a run, so that both sides write the
// same bytes without building a batch per append.
constexpr std::size_t batch_pool_size = 16;
// Flushed rows write at most this many batches: each costs several syncs.
constexpr std::size_t synced_batches_max = 500;

struct Options {
  std::string dir = "/tmp";
  std::size_t append_mib = 64;
  std::size_t read_mib = 256;
  int repeats = 3;
};

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "bench_storage: %s failed\n", what);
  std::exit(1);
}

std::vector<Bytes> make_pool(std::size_t record_bytes, int batch_records) {
  Rng rng(record_bytes * 1000 + static_cast<std::uint64_t>(batch_records));
  std::vector<Bytes> pool;
  for (std::size_t i = 0; i < batch_pool_size; ++i) {
    std::vector<storage::Record> records(static_cast<std::size_t>(batch_records));
    for (auto& r : records) {
      Bytes v(record_bytes);
      for (auto& x : v) x = static_cast<std::uint8_t>(rng.below(256));
      r.value = std::move(v);
      r.timestamp_ms = 1'700'000'000'000;
    }
    pool.push_back(storage::build_batch(records));
  }
  return pool;
}

// The baseline: the same batch bytes written back to back with pwrite into
// a fresh file, with an fdatasync after each if `sync`. Returns seconds.
double plain_pwrite(const std::string& path, const std::vector<Bytes>& pool, std::size_t batches,
                    bool sync) {
  const int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
  check(fd >= 0, "open");
  const auto t0 = Clock::now();
  std::uint64_t at = 0;
  for (std::size_t i = 0; i < batches; ++i) {
    const Bytes& b = pool[i % pool.size()];
    check(::pwrite(fd, b.data(), b.size(), static_cast<off_t>(at)) == static_cast<ssize_t>(b.size()), "pwrite");
    at += b.size();
    if (sync) check(::fdatasync(fd) == 0, "fdatasync");
  }
  const double s = seconds_since(t0);
  ::close(fd);
  ::unlink(path.c_str());
  return s;
}

// Runs body as a fiber of rt to its end.
void run_in_fiber(real::RealRuntime& rt, std::function<void()> body) {
  rt.spawn("bench", std::move(body));
  rt.run_until_idle();
}

storage::LogConfig bench_config() {
  storage::LogConfig c;  // Kafka's defaults: 1 GiB segments, no sync per write
  return c;
}

// The same batches appended to a fresh log, with a flush() after each if
// `sync`. Returns seconds.
// The broker's path: the log rewrites offsets in the caller's buffer, so
// the pool is taken by value (each run gets its own buffers).
double log_append(real::RealRuntime& rt, const std::string& dir, std::vector<Bytes> pool,
                  std::size_t batches, bool sync) {
  double s = 0;
  run_in_fiber(rt, [&] {
    auto log = storage::Log::open(rt, dir, bench_config());
    check(log.ok(), "Log::open");
    const auto t0 = Clock::now();
    for (std::size_t i = 0; i < batches; ++i) {
      check((*log)->append_as_leader_in_place(pool[i % pool.size()], 1).ok(), "append");
      if (sync) check((*log)->flush().ok(), "flush");
    }
    s = seconds_since(t0);
  });
  return s;
}

std::size_t pool_bytes_for(const std::vector<Bytes>& pool, std::size_t batches) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < batches; ++i) n += pool[i % pool.size()].size();
  return n;
}

void append_row(real::RealRuntime& rt, const Options& o, const fs::path& root, std::size_t record_bytes,
                int batch_records, bool sync) {
  const auto pool = make_pool(record_bytes, batch_records);
  std::size_t batches = std::max<std::size_t>(1, o.append_mib * (1 << 20) / pool[0].size());
  if (sync) batches = std::min(batches, synced_batches_max);
  const double bytes = static_cast<double>(pool_bytes_for(pool, batches));
  double best_log = 1e30, best_plain = 1e30;
  for (int rep = 0; rep < (sync ? 1 : o.repeats); ++rep) {
    best_plain = std::min(best_plain, plain_pwrite((root / "plain.bin").string(), pool, batches, sync));
    const std::string dir = "append-" + std::to_string(rep);
    best_log = std::min(best_log, log_append(rt, dir, pool, batches, sync));
    fs::remove_all(root / dir);
  }
  const double log_mibs = bytes / mib / best_log, plain_mibs = bytes / mib / best_plain;
  const double ratio = log_mibs / plain_mibs;
  std::printf("append %5zu B x %4d  %-6s %10.1f %10.1f %8.2f %10.0f  %s\n", record_bytes, batch_records,
              sync ? "flush" : "none", log_mibs, plain_mibs, ratio, static_cast<double>(batches) / best_log,
              sync ? "(no target)" : (ratio >= 0.8 ? "ok (>= 0.80)" : "MISSED (< 0.80)"));
  std::fflush(stdout);
}

// Writes `mib_total` of batches into a log at dir, flushing at the end if
// `flush`. Returns the bytes written.
std::size_t fill_log(real::RealRuntime& rt, const std::string& dir, std::size_t record_bytes,
                     int batch_records, std::size_t mib_total, bool flush) {
  auto pool = make_pool(record_bytes, batch_records);
  const std::size_t batches = std::max<std::size_t>(1, mib_total * (1 << 20) / pool[0].size());
  run_in_fiber(rt, [&] {
    auto log = storage::Log::open(rt, dir, bench_config());
    check(log.ok(), "Log::open");
    for (std::size_t i = 0; i < batches; ++i)
      check((*log)->append_as_leader_in_place(pool[i % pool.size()], 1).ok(), "append");
    if (flush) check((*log)->flush().ok(), "flush");
  });
  return pool_bytes_for(pool, batches);
}

// Reads every segment file of a log directory with 1 MiB preads. Returns seconds.
double plain_pread(const fs::path& dir, std::size_t* bytes_read) {
  std::vector<std::uint8_t> buf(1 << 20);
  const auto t0 = Clock::now();
  *bytes_read = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".log") continue;
    const int fd = ::open(e.path().c_str(), O_RDONLY | O_CLOEXEC);
    check(fd >= 0, "open");
    for (off_t at = 0;;) {
      const ssize_t n = ::pread(fd, buf.data(), buf.size(), at);
      check(n >= 0, "pread");
      if (n == 0) break;
      at += n;
      *bytes_read += static_cast<std::size_t>(n);
    }
    ::close(fd);
  }
  return seconds_since(t0);
}

// Reads the whole log through Log::read with 1 MiB max_bytes. Returns seconds.
double log_read(real::RealRuntime& rt, const std::string& dir, std::size_t* bytes_read) {
  double s = 0;
  run_in_fiber(rt, [&] {
    auto log = storage::Log::open(rt, dir, bench_config());
    check(log.ok(), "Log::open");
    *bytes_read = 0;
    const auto t0 = Clock::now();
    for (std::int64_t at = (*log)->log_start_offset(); at < (*log)->log_end_offset();) {
      auto r = (*log)->read(at, 1 << 20);
      check(r.ok() && r->next_offset > at, "read");
      *bytes_read += r->bytes.size();
      at = r->next_offset;
    }
    s = seconds_since(t0);
  });
  return s;
}

void read_row(real::RealRuntime& rt, const Options& o, const fs::path& root, std::size_t record_bytes,
              int batch_records) {
  const std::string dir = "read";
  fill_log(rt, dir, record_bytes, batch_records, o.read_mib, true);
  double best_log = 1e30, best_plain = 1e30;
  std::size_t log_bytes = 0, plain_bytes = 0;
  for (int rep = 0; rep < o.repeats; ++rep) {  // warm: both read the page cache
    best_plain = std::min(best_plain, plain_pread(root / dir, &plain_bytes));
    best_log = std::min(best_log, log_read(rt, dir, &log_bytes));
  }
  check(log_bytes == plain_bytes, "log read returned every byte of the segments");
  const double log_mibs = static_cast<double>(log_bytes) / mib / best_log;
  const double plain_mibs = static_cast<double>(plain_bytes) / mib / best_plain;
  const double ratio = log_mibs / plain_mibs;
  std::printf("read   %5zu B x %4d  %-6s %10.1f %10.1f %8.2f %10s  %s\n", record_bytes, batch_records, "-",
              log_mibs, plain_mibs, ratio, "", ratio >= 0.8 ? "ok (>= 0.80)" : "MISSED (< 0.80)");
  std::fflush(stdout);
  fs::remove_all(root / dir);
}

// Syncs every file of a directory, so that recovery's own sync finds
// nothing dirty and the timing is validation alone.
void sync_dir_files(const fs::path& dir) {
  for (const auto& e : fs::directory_iterator(dir)) {
    const int fd = ::open(e.path().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ::fsync(fd);
    ::close(fd);
  }
}

double time_open(real::RealRuntime& rt, const std::string& dir) {
  double s = 0;
  run_in_fiber(rt, [&] {
    const auto t0 = Clock::now();
    auto log = storage::Log::open(rt, dir, bench_config());
    s = seconds_since(t0);
    check(log.ok(), "Log::open after the fill");
  });
  return s;
}

void recovery_rows(real::RealRuntime& rt, const Options& o, const fs::path& root) {
  const std::string dir = "recover";
  const std::size_t bytes = fill_log(rt, dir, 1024, 100, o.read_mib, false);
  sync_dir_files(root / dir);
  const double unflushed = time_open(rt, dir);  // validates everything, then checkpoints
  const double flushed = time_open(rt, dir);    // everything now before the recovery point
  const double gib = static_cast<double>(bytes) / (mib * 1024);
  std::printf("recovery: %.0f MiB past the recovery point opened in %.3f s = %.2f s/GiB (%.0f MiB/s);"
              " clean reopen %.4f s\n",
              static_cast<double>(bytes) / mib, unflushed, unflushed / gib,
              static_cast<double>(bytes) / mib / unflushed, flushed);
  fs::remove_all(root / dir);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--dir") o.dir = v;
    else if (k == "--append-mib") o.append_mib = std::stoul(v);
    else if (k == "--read-mib") o.read_mib = std::stoul(v);
    else if (k == "--repeats") o.repeats = std::stoi(v);
    else check(false, ("unknown option " + k).c_str());
  }
  return o;
}

int run(const Options& o) {
  std::string tmpl = (fs::path(o.dir) / "castle-bench-storage-XXXXXX").string();
  check(::mkdtemp(tmpl.data()) != nullptr, "mkdtemp");
  const fs::path root = tmpl;
  real::RealConfig config;
  config.node_name = "bench";
  config.data_dir = root.string();
  config.seed = 1;
  {
    real::RealRuntime rt(config);
    std::printf("%-24s %-6s %10s %10s %8s %10s\n", "op  record x batch", "sync", "log MiB/s", "base MiB/s",
                "ratio", "batches/s");
    for (bool sync : {false, true})
      for (std::size_t record_bytes : {std::size_t{100}, std::size_t{1024}})
        for (int batch_records : {1, 100, 1000}) append_row(rt, o, root, record_bytes, batch_records, sync);
    read_row(rt, o, root, 1024, 100);
    read_row(rt, o, root, 100, 1);
    recovery_rows(rt, o, root);
  }
  fs::remove_all(root);
  return 0;
}

}  // namespace
}  // namespace castle

int main(int argc, char** argv) { return castle::run(castle::parse(argc, argv)); }
