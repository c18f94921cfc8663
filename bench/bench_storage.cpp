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
// Fairness: both sides of a row move the same bytes into or out of files of
// the same size through the page cache; each row keeps the best of
// --repeats runs of each side, and the sides take turns at running first,
// so neither profits from the other having warmed (or dirtied) the cache;
// each append loop starts on freshly touched memory (warm_memory), so that
// neither pays the VM host's faults on pages the guest gave back.
// Both targets include a CRC-32C pass over every byte (appends validate
// what clients send, reads never return a batch failing its CRC), so each
// row also times the plain loop with that CRC pass added (checking every
// batch's CRC as it goes: pwrite after it, or pread of whole batches then
// it) and prints "ceiling" = plain / (plain + CRC) time: the ratio a log
// doing nothing but the I/O and the CRC would reach.
//
// Usage: bench_storage [--dir DIR] [--append-mib N] [--read-mib N] [--repeats N] [--only WORD]
// --only runs the rows whose label contains WORD ("append", "read", "flush",
// "recovery", "100 B x    1", ...), for profiling one row.
// Data goes to a fresh directory under DIR (default /tmp), removed at exit.
// Prints a table; bench/run_storage.sh builds and runs it.
#include <fcntl.h>
#include <sys/mman.h>
#include <stdlib.h>
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
#include "system/util/crc32c.h"

namespace castle {
namespace {

using storage::Bytes;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr double mib = 1024.0 * 1024.0;
// Distinct batches cycled through by a run, so that both sides write the
// same bytes without building a batch per append.
constexpr std::size_t batch_pool_size = 16;
// Warmed beyond a loop's own bytes: the page cache's bookkeeping, buffers.
constexpr std::size_t warm_slack_bytes = 16 << 20;
// Flushed rows write at most this many batches: each costs several syncs.
constexpr std::size_t synced_batches_max = 500;

struct Options {
  std::string dir = "/tmp";
  std::size_t append_mib = 64;
  std::size_t read_mib = 256;
  int repeats = 3;
  std::string only;  // run only rows whose label contains this
};

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

bool wanted(const Options& o, const std::string& label) {
  return o.only.empty() || label.find(o.only) != std::string::npos;
}

std::string row_label(const char* op, std::size_t record_bytes, int batch_records, const char* sync) {
  char label[64];
  std::snprintf(label, sizeof label, "%-6s %5zu B x %4d  %-6s", op, record_bytes, batch_records, sync);
  return label;
}

// The timed sides of a row, each returning seconds for one run.
struct Sides {
  std::function<double()> log;
  std::function<double()> plain;
  std::function<double()> plain_crc;  // empty for rows without a ceiling
};

struct Best {
  double log = 1e30;
  double plain = 1e30;
  double plain_crc = 0;  // 0: not measured
};

// Best of `repeats` runs of each side; the sides rotate which runs first.
Best best_of(int repeats, const Sides& sides) {
  Best b;
  if (sides.plain_crc) b.plain_crc = 1e30;
  for (int rep = 0; rep < repeats; ++rep) {
    for (int k = 0; k < 3; ++k) {
      switch ((rep + k) % 3) {
        case 0: b.log = std::min(b.log, sides.log()); break;
        case 1: b.plain = std::min(b.plain, sides.plain()); break;
        case 2:
          if (sides.plain_crc) b.plain_crc = std::min(b.plain_crc, sides.plain_crc());
          break;
      }
    }
  }
  return b;
}

void print_row(const std::string& label, double bytes, const Best& b, double batches) {
  const double log_mibs = bytes / mib / b.log, plain_mibs = bytes / mib / b.plain;
  const double ratio = log_mibs / plain_mibs;
  const bool targeted = label.find("flush") == std::string::npos;
  const char* verdict = !targeted ? "(no target)" : ratio >= 0.8 ? "ok (>= 0.80)" : "MISSED (< 0.80)";
  char ceiling[16] = "-";
  if (b.plain_crc > 0) std::snprintf(ceiling, sizeof ceiling, "%.2f", b.plain / b.plain_crc);
  std::printf("%s %10.1f %10.1f %8.2f %8s %10.0f  %s\n", label.c_str(), log_mibs, plain_mibs, ratio,
              ceiling, batches > 0 ? batches / b.log : 0.0, verdict);
  std::fflush(stdout);
}

void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "bench_storage: %s failed\n", what);
  std::exit(1);
}

// Touches `bytes` of fresh anonymous memory and gives it back, just before
// a timed loop. On a VM whose balloon reports free pages to the host (this
// machine's does), memory the guest freed a moment ago is unbacked again
// and the next touch of it costs a host fault: first-touch ran at about
// 350 MB/s here against 2 GB/s re-touched. A loop that writes into the page
// cache draws on those pages, so a side that started after a pause (the
// log's open syncs its directory) paid for host faults the other did not:
// a 300 ms pause before the log's loop cut its ratio by up to 0.3.
// Touched and freed right before timing, the pages the loop is given are
// backed, for either side alike.
void warm_memory(std::size_t bytes) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check(p != MAP_FAILED, "mmap");
  const long page = ::sysconf(_SC_PAGESIZE);
  for (std::size_t at = 0; at < bytes; at += static_cast<std::size_t>(page))
    static_cast<volatile char*>(p)[at] = 1;
  ::munmap(p, bytes);
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

// Whether a batch's stored CRC-32C matches its bytes (as a log validates it).
bool crc_ok(std::span<const std::uint8_t> batch) {
  const std::uint32_t stored = static_cast<std::uint32_t>(batch[17]) << 24 |
                               static_cast<std::uint32_t>(batch[18]) << 16 |
                               static_cast<std::uint32_t>(batch[19]) << 8 | batch[20];
  return crc32c_extend(0, batch.data() + 21, batch.size() - 21) == stored;
}

std::size_t pool_bytes_for(const std::vector<Bytes>& pool, std::size_t batches) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < batches; ++i) n += pool[i % pool.size()].size();
  return n;
}

// The baseline: the same batch bytes written back to back with pwrite into
// a fresh file, with an fdatasync after each if `sync`, each batch's CRC
// checked first if `crc`. Returns seconds.
double plain_pwrite(const std::string& path, const std::vector<Bytes>& pool, std::size_t batches,
                    bool sync, bool crc) {
  const int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
  check(fd >= 0, "open");
  warm_memory(pool_bytes_for(pool, batches) + warm_slack_bytes);
  const auto t0 = Clock::now();
  std::uint64_t at = 0;
  for (std::size_t i = 0; i < batches; ++i) {
    const Bytes& b = pool[i % pool.size()];
    if (crc) check(crc_ok(b), "crc");
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
// The broker's path: the log rewrites offsets and epoch in the caller's
// buffers, so the log side has a pool of its own, reused across runs.
double log_append(real::RealRuntime& rt, const std::string& dir, std::vector<Bytes>& pool,
                  std::size_t batches, bool sync) {
  double s = 0;
  run_in_fiber(rt, [&] {
    auto log = storage::Log::open(rt, dir, bench_config());
    check(log.ok(), "Log::open");
    warm_memory(pool_bytes_for(pool, batches) + warm_slack_bytes);
    const auto t0 = Clock::now();
    for (std::size_t i = 0; i < batches; ++i) {
      check((*log)->append_as_leader_in_place(pool[i % pool.size()], 1).ok(), "append");
      if (sync) check((*log)->flush().ok(), "flush");
    }
    s = seconds_since(t0);
  });
  return s;
}

void append_row(real::RealRuntime& rt, const Options& o, const fs::path& root, std::size_t record_bytes,
                int batch_records, bool sync) {
  const std::string label = row_label("append", record_bytes, batch_records, sync ? "flush" : "none");
  if (!wanted(o, label)) return;
  const auto pool = make_pool(record_bytes, batch_records);
  // Made once, not per run: the kernel copies from freshly copied memory
  // several times slower on this VM (seen at 1 MiB batches), which would
  // charge the log for the benchmark's own copy.
  auto log_pool = pool;
  std::size_t batches = std::max<std::size_t>(1, o.append_mib * (1 << 20) / pool[0].size());
  if (sync) batches = std::min(batches, synced_batches_max);
  const double bytes = static_cast<double>(pool_bytes_for(pool, batches));
  const std::string plain_path = (root / "plain.bin").string();
  int runs = 0;
  Sides sides;
  sides.log = [&] {
    const std::string dir = "append-" + std::to_string(runs++);
    const double s = log_append(rt, dir, log_pool, batches, sync);
    fs::remove_all(root / dir);
    return s;
  };
  sides.plain = [&] { return plain_pwrite(plain_path, pool, batches, sync, false); };
  // A flushed row has no target (and is slow): one run, no ceiling.
  if (!sync) sides.plain_crc = [&] { return plain_pwrite(plain_path, pool, batches, false, true); };
  print_row(label, bytes, best_of(sync ? 1 : o.repeats, sides), static_cast<double>(batches));
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
    std::vector<std::uint8_t> buffer;
    const auto t0 = Clock::now();
    for (std::int64_t at = (*log)->log_start_offset(); at < (*log)->log_end_offset();) {
      // As a consumer that hands each buffer back to the next read.
      auto r = (*log)->read(at, 1 << 20, std::nullopt, std::move(buffer));
      check(r.ok() && r->next_offset > at, "read");
      *bytes_read += r->bytes.size();
      at = r->next_offset;
      buffer = std::move(r->bytes);
    }
    s = seconds_since(t0);
  });
  return s;
}

// The batch sizes of each segment file of a log directory, for the
// plain-with-CRC side of a read row.
std::vector<std::pair<fs::path, std::vector<std::size_t>>> segment_layout(const fs::path& dir) {
  std::vector<std::pair<fs::path, std::vector<std::size_t>>> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".log") continue;
    Bytes f(fs::file_size(e.path()));
    const int fd = ::open(e.path().c_str(), O_RDONLY | O_CLOEXEC);
    check(fd >= 0 && ::pread(fd, f.data(), f.size(), 0) == static_cast<ssize_t>(f.size()), "read segment");
    ::close(fd);
    auto parts = storage::split_batches(f);
    check(parts.ok(), "split the segment into batches");
    std::vector<std::size_t> sizes;
    for (auto p : *parts) sizes.push_back(p.size());
    files.emplace_back(e.path(), std::move(sizes));
  }
  return files;
}

// The least a read that never returns a bad batch must do: pread whole
// batches, about 1 MiB at a time (at least one), and check each one's CRC.
// The batch boundaries are known beforehand. Returns seconds.
double plain_pread_crc(const std::vector<std::pair<fs::path, std::vector<std::size_t>>>& layout) {
  std::vector<std::uint8_t> buf(1 << 20);
  const auto t0 = Clock::now();
  for (const auto& [path, sizes] : layout) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    check(fd >= 0, "open");
    off_t at = 0;
    for (std::size_t i = 0; i < sizes.size();) {
      std::size_t n = 0, j = i;
      while (j < sizes.size() && (j == i || n + sizes[j] <= (1 << 20))) n += sizes[j++];
      if (buf.size() < n) buf.resize(n);
      check(::pread(fd, buf.data(), n, at) == static_cast<ssize_t>(n), "pread");
      for (std::size_t k = i, pos = 0; k < j; pos += sizes[k++])
        check(crc_ok(std::span(buf).subspan(pos, sizes[k])), "crc");
      at += static_cast<off_t>(n);
      i = j;
    }
    ::close(fd);
  }
  return seconds_since(t0);
}

void read_row(real::RealRuntime& rt, const Options& o, const fs::path& root, std::size_t record_bytes,
              int batch_records) {
  const std::string label = row_label("read", record_bytes, batch_records, "-");
  if (!wanted(o, label)) return;
  const std::string dir = "read";
  fill_log(rt, dir, record_bytes, batch_records, o.read_mib, true);
  const auto layout = segment_layout(root / dir);
  std::size_t log_bytes = 0, plain_bytes = 0;
  // Every side reads the page cache: the fill just wrote every byte.
  Sides sides;
  sides.log = [&] { return log_read(rt, dir, &log_bytes); };
  sides.plain = [&] { return plain_pread(root / dir, &plain_bytes); };
  sides.plain_crc = [&] { return plain_pread_crc(layout); };
  const Best b = best_of(o.repeats, sides);
  check(log_bytes == plain_bytes, "log read returned every byte of the segments");
  print_row(label, static_cast<double>(log_bytes), b, 0);
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
  if (!wanted(o, "recovery")) return;
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
    else if (k == "--only") o.only = v;
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
    double load[3] = {0, 0, 0};
    check(::getloadavg(load, 3) == 3, "getloadavg");
    std::printf("load average at start: %.2f (other work on the machine skews rows; rerun noisy ones)\n",
                load[0]);
    std::printf("%-6s %-17s %-6s %10s %10s %8s %8s %10s\n", "op", "record x batch", "sync", "log MiB/s",
                "plainMiB/s", "ratio", "ceiling", "batches/s");
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
