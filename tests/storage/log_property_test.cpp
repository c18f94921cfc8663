// A RapidCheck property of the partition log against an in-memory model,
// on a simulated node whose disk keeps, drops or tears unsynced sectors at
// a crash. Each case draws a small log configuration (segments of a few KiB)
// and a sequence of operations: leader appends, reads, flushes, truncations,
// rolls, retention, delete-records and crashes, some of them in the middle
// of an operation. After every operation the log must agree with the model
// exactly; after every crash and reopen it must hold a prefix of what was
// appended (each batch one that was appended at its offset, since an
// unsynced truncation may be undone), everything flushed before the crash,
// dense offsets, reads at each batch's base offset that agree with the full
// scan, and no batch that fails its CRC.
//
// CI runs at least 1,000 cases (more if RC_PARAMS asks for more);
// RC_PARAMS="seed=..." reproduces a run.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <ostream>
#include <sstream>
#include <iostream>
#include <string>
#include <vector>

#include "tests/storage/log_sim_rig.h"

namespace castle::storage {
namespace {

using testing::LogRig;

constexpr int property_cases_min = 1000;
constexpr const char* log_dir = "topic-0";
constexpr std::int32_t leader_epoch = 3;
// A batch holds up to 6 records of up to 300 value bytes: under 2 KiB, so it
// always fits a segment (a larger one is refused, as Kafka refuses a batch
// larger than a segment).
constexpr std::size_t value_bytes_max = 300;
constexpr std::int64_t segment_bytes_min = 2048;

enum class OpKind {
  append,           // leader append: the log assigns offsets and the epoch
  append_follower,  // follower append: offsets and epoch come with the batch
  read,
  time_lookup,      // offset_for_timestamp
  flush,
  truncate,
  roll,
  retention,
  delete_before,
  reopen,           // a clean close and open: nothing may change
  crash
};

// One operation. Its parameters are raw draws that the runner maps onto the
// log's state at the time (an offset between the start and the end, say), so
// that every shrunk sequence still means something.
struct Op {
  OpKind kind = OpKind::append;
  std::uint32_t a = 0;
  std::uint32_t b = 0;
  // Non-zero: crash the node this many microseconds into the operation.
  std::uint32_t crash_us = 0;
};

const char* name_of(OpKind k) {
  switch (k) {
    case OpKind::append: return "append";
    case OpKind::append_follower: return "append_follower";
    case OpKind::read: return "read";
    case OpKind::time_lookup: return "time_lookup";
    case OpKind::reopen: return "reopen";
    case OpKind::flush: return "flush";
    case OpKind::truncate: return "truncate";
    case OpKind::roll: return "roll";
    case OpKind::retention: return "retention";
    case OpKind::delete_before: return "delete_before";
    case OpKind::crash: return "crash";
  }
  return "?";
}

std::ostream& operator<<(std::ostream& os, const Op& op) {
  os << name_of(op.kind) << "(" << op.a << "," << op.b << ")";
  if (op.crash_us != 0) os << " crash@" << op.crash_us << "us";
  return os;
}

struct CaseConfig {
  std::uint64_t seed = 0;
  std::int64_t segment_bytes = 0;
  std::int64_t retention_bytes = -1;
  std::int64_t index_interval_bytes = 0;
  std::int64_t flush_interval_messages = INT64_MAX;
};

std::ostream& operator<<(std::ostream& os, const CaseConfig& c) {
  return os << "seed=" << c.seed << " segment_bytes=" << c.segment_bytes
            << " retention_bytes=" << c.retention_bytes
            << " index_interval_bytes=" << c.index_interval_bytes
            << " flush_interval_messages=" << c.flush_interval_messages;
}

rc::Gen<Op> gen_op() {
  using namespace rc;
  return gen::build<Op>(
      gen::set(&Op::kind, gen::weightedElement<OpKind>({{10, OpKind::append},
                                                        {3, OpKind::append_follower},
                                                        {5, OpKind::read},
                                                        {2, OpKind::time_lookup},
                                                        {1, OpKind::reopen},
                                                        {3, OpKind::flush},
                                                        {2, OpKind::truncate},
                                                        {2, OpKind::roll},
                                                        {1, OpKind::retention},
                                                        {1, OpKind::delete_before},
                                                        {2, OpKind::crash}})),
      gen::set(&Op::a, gen::inRange<std::uint32_t>(0, 1u << 20)),
      gen::set(&Op::b, gen::inRange<std::uint32_t>(0, 1u << 20)),
      gen::set(&Op::crash_us, gen::weightedOneOf<std::uint32_t>(
                                  {{9, gen::just<std::uint32_t>(0)},
                                   {1, gen::inRange<std::uint32_t>(1, 3000)}})));
}

rc::Gen<CaseConfig> gen_config() {
  using namespace rc;
  return gen::build<CaseConfig>(
      gen::set(&CaseConfig::seed, gen::arbitrary<std::uint64_t>()),
      gen::set(&CaseConfig::segment_bytes, gen::inRange<std::int64_t>(segment_bytes_min, 8192)),
      gen::set(&CaseConfig::retention_bytes,
               gen::weightedOneOf<std::int64_t>({{1, gen::just<std::int64_t>(-1)},
                                                 {1, gen::inRange<std::int64_t>(1000, 12000)}})),
      gen::set(&CaseConfig::index_interval_bytes, gen::inRange<std::int64_t>(1, 2048)),
      gen::set(&CaseConfig::flush_interval_messages,
               gen::weightedOneOf<std::int64_t>({{4, gen::just<std::int64_t>(INT64_MAX)},
                                                 {1, gen::inRange<std::int64_t>(1, 20)}})));
}

LogConfig log_config_of(const CaseConfig& c) {
  LogConfig config;
  config.segment_bytes = c.segment_bytes;
  config.retention_bytes = c.retention_bytes;
  config.index_interval_bytes = c.index_interval_bytes;
  config.flush_interval_messages = c.flush_interval_messages;
  return config;
}

// What the log must hold. `batches` are the batches from the first one
// still in the log, as stored (offsets and epoch written in).
struct Model {
  std::vector<Bytes> batches;
  std::int64_t start = 0;
  // The highest log start offset the log may show after a crash.
  std::int64_t start_bound = 0;
  // Every batch below this offset was synced and never truncated since.
  std::int64_t durable_end = 0;
  // Every batch ever appended, by base offset: what a crash may bring back.
  std::map<std::int64_t, std::vector<Bytes>> history;

  std::int64_t end() const {
    return batches.empty() ? start : BatchView(batches.back()).next_offset();
  }
  std::int64_t first_base() const {
    return batches.empty() ? start : BatchView(batches.front()).base_offset();
  }
  // Index of the batch holding offset, or batches.size().
  std::size_t index_of(std::int64_t offset) const {
    for (std::size_t i = 0; i < batches.size(); ++i)
      if (BatchView(batches[i]).last_offset() >= offset) return i;
    return batches.size();
  }
  // Drops whole batches wholly below the start.
  void trim_to_start() {
    const std::size_t i = index_of(start);
    batches.erase(batches.begin(), batches.begin() + static_cast<std::ptrdiff_t>(i));
  }
  bool in_history(const Bytes& b) const {
    auto it = history.find(BatchView(b).base_offset());
    return it != history.end() && std::find(it->second.begin(), it->second.end(), b) != it->second.end();
  }
};

// Runs one case: the operations in order on a fresh simulated node.
class Runner {
 public:
  explicit Runner(const CaseConfig& c) : case_(c), config_(log_config_of(c)), rig_(c.seed) {}

  void open() {
    bool ok = false;
    std::string error;
    RC_ASSERT(rig_.run([&](Runtime& rt) {
      auto r = rig_.open(rt, log_dir, config_);
      ok = r.ok();
      if (!ok) error = r.error().message();
    }));
    if (!ok) RC_FAIL("Log::open failed: " + error);
  }

  void apply(const Op& op, std::size_t step) {
    step_ = step;
    op_ = op;
    if (op.kind == OpKind::crash) return crash_and_reopen();
    if (op.kind == OpKind::reopen) return clean_reopen();
    if (op.crash_us != 0) return apply_then_crash(op);
    std::string error;
    RC_ASSERT(rig_.run([&](Runtime& rt) { error = run_op(rt, op); }));
    if (!error.empty()) fail(error);
    check_log_matches_model();
  }

 private:
  [[noreturn]] void fail(const std::string& what) {
    std::ostringstream os;
    os << "step " << step_ << " " << op_ << ": " << what;
    RC_FAIL(os.str());
  }

  // Runs op on the log and folds its effect into the model. Returns an
  // error description, or "" on success.
  std::string run_op(Runtime& rt, const Op& op) {
    Log& log = *rig_.log();
    switch (op.kind) {
      case OpKind::append: return do_append(rt, log, op, false);
      case OpKind::append_follower: return do_append(rt, log, op, true);
      case OpKind::read: return do_read(log, op);
      case OpKind::time_lookup: return do_time_lookup(log, op);
      case OpKind::flush: return do_flush(log);
      case OpKind::truncate: return do_truncate(log, op);
      case OpKind::roll: return log.roll().ok() ? "" : "roll failed";
      case OpKind::retention: return do_retention(log);
      case OpKind::delete_before: return do_delete_before(log, op);
      case OpKind::reopen:
      case OpKind::crash: break;
    }
    return "";
  }

  std::string do_append(Runtime& rt, Log& log, const Op& op, bool as_follower) {
    Rng rng(op.a * 7919ULL + op.b);
    const int count = 1 + static_cast<int>(op.a % 6);
    const std::size_t value_bytes = op.b % value_bytes_max;
    const std::int64_t ts = std::chrono::duration_cast<std::chrono::milliseconds>(
                                rt.wall_now().time_since_epoch()).count();
    const Bytes batch = testing::make_batch(rng, count, value_bytes, ts);
    // Recorded before the append, which a crash may cut short or let land.
    const Bytes stored = testing::as_stored(batch, model_.end(), leader_epoch);
    model_.history[model_.end()].push_back(stored);
    auto r = as_follower ? log.append_as_follower(stored) : log.append_as_leader(batch, leader_epoch);
    if (!r.ok()) return "append failed: " + r.error().message();
    if (r->base_offset != model_.end() || r->last_offset != model_.end() + count - 1)
      return "append assigned " + std::to_string(r->base_offset) + ".." + std::to_string(r->last_offset) +
             ", expected from " + std::to_string(model_.end());
    model_.batches.push_back(stored);
    note_recovery_point(log);
    return "";
  }

  // The answer lies in the first batch whose max timestamp reaches ts.
  std::string do_time_lookup(Log& log, const Op& op) {
    std::int64_t ts = op.b % 3 == 0 ? 0 : INT64_MAX;  // before everything, after everything
    if (!model_.batches.empty() && op.b % 3 == 2)
      ts = BatchView(model_.batches[op.a % model_.batches.size()]).max_timestamp() + static_cast<std::int64_t>(op.b % 2);
    auto r = log.offset_for_timestamp(ts);
    if (!r.ok()) return "offset_for_timestamp failed: " + r.error().message();
    auto it = std::find_if(model_.batches.begin(), model_.batches.end(),
                           [&](const Bytes& b) { return BatchView(b).max_timestamp() >= ts; });
    const std::string at = "offset_for_timestamp(" + std::to_string(ts) + ")";
    if (it == model_.batches.end()) return r->has_value() ? at + " found an offset past every batch" : "";
    if (!r->has_value()) return at + " found nothing";
    const BatchView want(*it);
    if (**r < want.base_offset() || **r > want.last_offset())
      return at + " = " + std::to_string(**r) + ", expected in the batch at " + std::to_string(want.base_offset());
    return "";
  }

  std::string do_read(Log& log, const Op& op) {
    const std::int64_t span = model_.end() - model_.start + 5;
    const std::int64_t offset = model_.start - 2 + static_cast<std::int64_t>(op.a % span);
    const std::size_t max_bytes = 1 + op.b % 3000;
    auto r = log.read(offset, max_bytes);
    if (offset < model_.start || offset > model_.end()) {
      if (r.ok() || r.error() != std::errc::result_out_of_range)
        return "read at " + std::to_string(offset) + " outside [" + std::to_string(model_.start) + ", " +
               std::to_string(model_.end()) + "] did not fail with result_out_of_range";
      return "";
    }
    if (!r.ok()) return "read at " + std::to_string(offset) + " failed: " + r.error().message();
    return check_read(offset, max_bytes, *r);
  }

  // A read returns whole model batches from the one holding offset, at least
  // one if offset is below the end, and no more than max_bytes beyond the first.
  std::string check_read(std::int64_t offset, std::size_t max_bytes, const ReadResult& r) {
    auto parts = split_batches(r.bytes);
    if (!parts.ok()) return "read returned a batch failing its CRC or framing";
    const std::size_t first = model_.index_of(offset);
    if (first == model_.batches.size()) return parts->empty() ? "" : "read at the end returned data";
    if (parts->empty()) return "read at " + std::to_string(offset) + " returned nothing";
    if (parts->size() > 1 && r.bytes.size() > max_bytes) return "read exceeded max_bytes with several batches";
    for (std::size_t i = 0; i < parts->size(); ++i) {
      if (first + i >= model_.batches.size()) return "read returned batches past the end";
      const Bytes& want = model_.batches[first + i];
      if (!std::equal((*parts)[i].begin(), (*parts)[i].end(), want.begin(), want.end()))
        return "read at " + std::to_string(offset) + ": batch " + std::to_string(i) + " differs from the model";
    }
    const std::int64_t next = BatchView(model_.batches[first + parts->size() - 1]).next_offset();
    if (r.next_offset != next) return "read next_offset " + std::to_string(r.next_offset) + " != " + std::to_string(next);
    return "";
  }

  std::string do_flush(Log& log) {
    if (auto r = log.flush(); !r.ok()) return "flush failed: " + r.error().message();
    if (log.recovery_point() != model_.end())
      return "flush left the recovery point at " + std::to_string(log.recovery_point());
    model_.durable_end = model_.end();
    model_.start_bound = model_.start;
    return "";
  }

  // Truncates at an offset at or above the first batch that lies wholly
  // above the start (truncating into the start's own batch has no agreed
  // meaning); an offset inside a batch takes the whole batch.
  std::string do_truncate(Log& log, const Op& op) {
    std::size_t lo_index = model_.index_of(model_.start);
    if (lo_index < model_.batches.size() && BatchView(model_.batches[lo_index]).base_offset() < model_.start) ++lo_index;
    const std::int64_t lo = lo_index < model_.batches.size() ? BatchView(model_.batches[lo_index]).base_offset() : model_.end();
    const std::int64_t to = lo + static_cast<std::int64_t>(op.a % (model_.end() - lo + 1));
    const std::size_t keep = model_.index_of(to);
    const std::int64_t new_end = keep < model_.batches.size() ? BatchView(model_.batches[keep]).base_offset() : model_.end();
    // Lowered first: once truncation starts, nothing above is promised.
    model_.durable_end = std::min(model_.durable_end, new_end);
    if (auto r = log.truncate_to(to); !r.ok()) return "truncate_to(" + std::to_string(to) + ") failed: " + r.error().message();
    model_.batches.resize(keep);
    return "";
  }

  std::string do_retention(Log& log) {
    // While retention runs, the start may move to any segment boundary up
    // to the end; a crash part-way leaves that open.
    const std::int64_t bound_before = model_.start_bound;
    model_.start_bound = std::max(model_.start_bound, model_.end());
    auto r = log.enforce_retention();
    if (!r.ok()) return "enforce_retention failed: " + r.error().message();
    const std::int64_t start = log.log_start_offset();
    model_.start_bound = std::max(bound_before, start);
    if (start < model_.start || start > model_.end())
      return "retention moved the start to " + std::to_string(start);
    // Retention deletes whole segments, so a start it moves lands on a batch.
    const bool moved = start != model_.start;
    model_.start = start;
    model_.trim_to_start();
    if (moved && !model_.batches.empty() && model_.first_base() != start)
      return "retention left a start " + std::to_string(start) + " inside a batch";
    return "";
  }

  std::string do_delete_before(Log& log, const Op& op) {
    const std::int64_t to = model_.start + static_cast<std::int64_t>(op.a % (model_.end() - model_.start + 1));
    model_.start_bound = std::max(model_.start_bound, to);
    if (auto r = log.delete_records_before(to); !r.ok())
      return "delete_records_before(" + std::to_string(to) + ") failed: " + r.error().message();
    if (log.log_start_offset() != std::max(model_.start, to))
      return "delete_records_before(" + std::to_string(to) + ") left the start at " +
             std::to_string(log.log_start_offset());
    model_.start = std::max(model_.start, to);
    model_.trim_to_start();
    return "";
  }

  // A flush policy may sync on its own; the recovery point is the log's
  // claim of what is durable, which the next crash puts to the test.
  void note_recovery_point(Log& log) {
    const std::int64_t rp = log.recovery_point();
    if (rp > model_.durable_end && rp <= model_.end()) model_.durable_end = rp;
  }

  void apply_then_crash(const Op& op) {
    std::string error;
    const bool finished = rig_.run_then_crash([&](Runtime& rt) { error = run_op(rt, op); },
                                              std::chrono::microseconds(op.crash_us));
    if (finished && !error.empty()) fail(error);
    reopen_and_check();
  }

  // A clean close keeps everything, flushed or not: the OS holds it.
  void clean_reopen() {
    RC_ASSERT(rig_.run([&](Runtime&) { rig_.close(); }));
    open();
    check_log_matches_model();
  }

  void crash_and_reopen() {
    rig_.crash();
    reopen_and_check();
  }

  void reopen_and_check();
  void check_log_matches_model();
  void check_recovered(const testing::Scan& scan);
  void check_reads_agree_with_scan(const testing::Scan& scan);


 public:
  // What the crashes of a case did, for the coverage tags.
  struct Stats {
    int crashes = 0;
    int tails_lost = 0;          // recovered end below the model's end
    int truncations_undone = 0;  // recovered end above it (unsynced truncation)
  };
  const Stats& stats() const { return stats_; }

 private:
  Stats stats_;
  CaseConfig case_;
  LogConfig config_;
  LogRig rig_;
  Model model_;
  std::size_t step_ = 0;
  Op op_;
};

// Without a crash the log is exactly the model.
void Runner::check_log_matches_model() {
  testing::Scan scan;
  RC_ASSERT(rig_.run([&](Runtime&) { scan = testing::full_scan(*rig_.log(), 1 + step_ * 131 % 4096); }));
  if (!scan.error.empty()) fail("scan: " + scan.error);
  if (scan.start != model_.start || scan.end != model_.end())
    fail("log spans [" + std::to_string(scan.start) + ", " + std::to_string(scan.end) + "), model [" +
         std::to_string(model_.start) + ", " + std::to_string(model_.end()) + ")");
  if (scan.batches != model_.batches) fail("scan differs from the model");
}

void Runner::reopen_and_check() {
  open();
  testing::Scan scan;
  RC_ASSERT(rig_.run([&](Runtime&) { scan = testing::full_scan(*rig_.log(), 4096); }));
  if (!scan.error.empty()) fail("scan after reopen: " + scan.error);
  if (auto gap = testing::density_error(scan); !gap.empty()) fail("after reopen: " + gap);
  check_recovered(scan);
  check_reads_agree_with_scan(scan);
  ++stats_.crashes;
  if (scan.end < model_.end()) ++stats_.tails_lost;
  if (scan.end > model_.end()) ++stats_.truncations_undone;
  // The reopened log is the new truth.
  model_.batches = scan.batches;
  model_.start = scan.start;
  model_.start_bound = scan.start;
  model_.trim_to_start();
}

// Everything durable is there unchanged; everything else was appended at its
// offset at some point; the start did not run ahead of what was asked.
void Runner::check_recovered(const testing::Scan& scan) {
  if (scan.end < model_.durable_end)
    fail("lost flushed data: log end " + std::to_string(scan.end) + " below the flushed end " +
         std::to_string(model_.durable_end));
  if (scan.start > model_.start_bound)
    fail("log start " + std::to_string(scan.start) + " beyond any start asked for (" +
         std::to_string(model_.start_bound) + ")");
  for (const Bytes& b : scan.batches) {
    const BatchView v(b);
    if (!decode_batch(b).ok()) fail("batch at " + std::to_string(v.base_offset()) + " does not decode");
    if (!model_.in_history(b)) fail("batch at " + std::to_string(v.base_offset()) + " was never appended there");
    const std::size_t i = model_.index_of(v.base_offset());
    const bool modelled = i < model_.batches.size() && BatchView(model_.batches[i]).base_offset() == v.base_offset();
    if (modelled && v.next_offset() <= model_.durable_end && model_.batches[i] != b)
      fail("flushed batch at " + std::to_string(v.base_offset()) + " changed across the crash");
  }
}

// Reading at each batch's base offset (through the index) returns that batch
// first, as the full scan saw it.
void Runner::check_reads_agree_with_scan(const testing::Scan& scan) {
  std::string error;
  RC_ASSERT(rig_.run([&](Runtime&) {
    for (const Bytes& b : scan.batches) {
      const std::int64_t base = BatchView(b).base_offset();
      if (base < scan.start) continue;  // below the start: not readable by offset
      auto r = rig_.log()->read(base, 1);
      if (!r.ok()) return void(error = "read at " + std::to_string(base) + ": " + r.error().message());
      auto parts = split_batches(r->bytes);
      if (!parts.ok() || parts->empty() || !std::equal((*parts)[0].begin(), (*parts)[0].end(), b.begin(), b.end()))
        return void(error = "read at " + std::to_string(base) + " disagrees with the full scan");
    }
  }));
  if (!error.empty()) fail(error);
}

// rapidcheck's gtest glue with the case count raised to at least `cases`,
// keeping the rest of RC_PARAMS (the seed, for a replay).
template <typename Testable>
void check_at_least(int cases, Testable&& testable) {
  const auto info = ::testing::UnitTest::GetInstance()->current_test_info();
  rc::detail::TestMetadata metadata;
  metadata.id = std::string(info->test_suite_name()) + "/" + info->name();
  metadata.description = info->name();
  rc::detail::TestParams params = rc::detail::configuration().testParams;
  params.maxSuccess = std::max(params.maxSuccess, cases);
  const auto result = rc::detail::checkTestable(std::forward<Testable>(testable), metadata, params);
  if (result.template is<rc::detail::SuccessResult>()) {
    rc::detail::printResultMessage(result, std::cout);
    std::cout << std::endl;
  } else {
    std::ostringstream ss;
    rc::detail::printResultMessage(result, ss);
    FAIL() << ss.str();
  }
}

TEST(LogProperty, CrashesKeepAPrefixWithEverythingFlushed) {
  check_at_least(property_cases_min, [] {
    const CaseConfig c = *gen_config();
    const auto ops = *rc::gen::scale(2.5, rc::gen::container<std::vector<Op>>(gen_op()));
    Runner runner(c);
    runner.open();
    for (std::size_t i = 0; i < ops.size(); ++i) runner.apply(ops[i], i);
    const auto& s = runner.stats();
    RC_TAG(s.crashes == 0 ? "no crash" : "crashed", s.tails_lost > 0 ? "tail lost" : "",
           s.truncations_undone > 0 ? "truncation undone" : "");
  });
}

// The second property: silent bit flips anywhere on the disk (segments,
// indexes, checkpoints) after a run of appends and flushes. Durability
// claims end where data rots, so what must hold is narrower: no read, of the
// live log or after a crash or clean reopen, returns a batch that fails its
// CRC or one that was never appended at its offset (the partition leader
// epoch lies outside the CRC, so a flip there is undetectable by design and
// is ignored); reopening may fail, but only with an error.
constexpr int bit_flip_cases_min = 300;

// Equal but for the partition leader epoch, which no checksum covers.
bool same_but_epoch(std::span<const std::uint8_t> a, const Bytes& b) {
  if (a.size() != b.size() || a.size() < batch_header_bytes) return false;
  return std::equal(a.begin(), a.begin() + 12, b.begin()) && std::equal(a.begin() + 16, a.end(), b.begin() + 16);
}

// Fails unless every scanned batch is one appended at its offset.
void check_served(const testing::Scan& scan, const std::map<std::int64_t, Bytes>& appended,
                  const char* when) {
  RC_ASSERT_FALSE(scan.corrupt_served);
  for (const Bytes& b : scan.batches) {
    auto it = appended.find(BatchView(b).base_offset());
    if (it == appended.end() || !same_but_epoch(b, it->second))
      RC_FAIL(std::string(when) + ": served a batch never appended at " + std::to_string(BatchView(b).base_offset()));
  }
}

TEST(LogProperty, FlippedBitsAreNeverServed) {
  check_at_least(bit_flip_cases_min, [] {
    const auto seed = *rc::gen::arbitrary<std::uint64_t>();
    const auto segment_bytes = *rc::gen::inRange<std::int64_t>(segment_bytes_min, 8192);
    const auto batches = *rc::gen::inRange(1, 60);
    const auto flush_every = *rc::gen::inRange(1, 20);
    const auto flips = *rc::gen::inRange(1, 6);
    const bool crash = *rc::gen::arbitrary<bool>();
    LogConfig config;
    config.segment_bytes = segment_bytes;
    config.index_interval_bytes = 256;
    testing::LogRig rig(seed);
    std::map<std::int64_t, Bytes> appended;
    RC_ASSERT(rig.run([&](Runtime& rt) {
      RC_ASSERT(rig.open(rt, log_dir, config).ok());
      Rng rng(seed);
      for (int i = 0; i < batches; ++i) {
        const Bytes b = testing::make_batch(rng, 1 + static_cast<int>(rng.below(5)), rng.below(300), i);
        const std::int64_t base = rig.log()->log_end_offset();
        RC_ASSERT(rig.log()->append_as_leader(b, leader_epoch).ok());
        appended[base] = testing::as_stored(b, base, leader_epoch);
        if ((i + 1) % flush_every == 0) RC_ASSERT(rig.log()->flush().ok());
      }
    }));
    for (int i = 0; i < flips; ++i) rig.disk().flip_random_bit();
    testing::Scan live;
    RC_ASSERT(rig.run([&](Runtime&) { live = testing::full_scan(*rig.log(), 1 + seed % 5000); }));
    check_served(live, appended, "live log");
    if (crash) rig.crash();
    else RC_ASSERT(rig.run([&](Runtime&) { rig.close(); }));
    bool opened = false;
    testing::Scan after;
    RC_ASSERT(rig.run([&](Runtime& rt) {
      opened = rig.open(rt, log_dir, config).ok();
      if (opened) after = testing::full_scan(*rig.log(), 4096);
    }));
    RC_TAG(crash ? "crash" : "clean close", opened ? "reopened" : "open refused",
           after.read_failed || live.read_failed ? "a read refused" : "");
    check_served(after, appended, "after reopen");
  });
}

}  // namespace
}  // namespace castle::storage
