// A RapidCheck property of the partition log against an in-memory model,
// on a simulated node whose disk keeps, drops or tears unsynced sectors at
// a crash. Each case draws a small log configuration (segments of a few KiB,
// and sometimes a roll age and a retention time of seconds) and a sequence
// of operations: leader appends (in the current leader epoch), follower
// appends, reads (some bounded by the high watermark), flushes,
// truncations, rolls, retention, delete-records, high watermark moves,
// leader epoch assignments and lookups, clock advances and crashes, some of
// them in the middle of an operation. After every operation the log must
// agree with the model exactly: batches, high watermark, epoch cache,
// segment metadata; an append rolls exactly when size or age says so, and
// retention deletes exactly the segments that time, size and the high
// watermark allow. After every crash and reopen it must hold a prefix of
// what was appended (each batch one that was appended at its offset, since
// an unsynced truncation may be undone), everything flushed before the
// crash, dense offsets, reads at each batch's base offset that agree with
// the full scan, no batch that fails its CRC, and a high watermark and an
// epoch cache that some checkpoint written before the crash explains.
//
// CI runs at least 1,000 cases (more if RC_PARAMS asks for more);
// RC_PARAMS="seed=..." reproduces a run.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <set>
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
constexpr std::int32_t first_leader_epoch = 3;
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
  crash,
  set_hw,           // set_high_watermark, sometimes out of range
  assign_epoch,     // a new (or stale) leader epoch from some offset
  epoch_lookup,     // end_offset_for_epoch
  advance_clock     // simulated time passes (segment age, record age)
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
    case OpKind::set_hw: return "set_hw";
    case OpKind::assign_epoch: return "assign_epoch";
    case OpKind::epoch_lookup: return "epoch_lookup";
    case OpKind::advance_clock: return "advance_clock";
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
  std::int64_t roll_ms = 0;
  std::int64_t retention_ms = 0;
};

std::ostream& operator<<(std::ostream& os, const CaseConfig& c) {
  return os << "seed=" << c.seed << " segment_bytes=" << c.segment_bytes
            << " retention_bytes=" << c.retention_bytes
            << " index_interval_bytes=" << c.index_interval_bytes
            << " flush_interval_messages=" << c.flush_interval_messages << " roll_ms=" << c.roll_ms
            << " retention_ms=" << c.retention_ms;
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
                                                        {2, OpKind::retention},
                                                        {1, OpKind::delete_before},
                                                        {2, OpKind::crash},
                                                        {3, OpKind::set_hw},
                                                        {1, OpKind::assign_epoch},
                                                        {1, OpKind::epoch_lookup},
                                                        {2, OpKind::advance_clock}})),
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
                                                 {1, gen::inRange<std::int64_t>(1, 20)}})),
      // Clock advances are up to 3 s, so ages of seconds roll and expire.
      gen::set(&CaseConfig::roll_ms,
               gen::weightedOneOf<std::int64_t>({{1, gen::just(LogConfig{}.roll_ms)},
                                                 {1, gen::inRange<std::int64_t>(1, 6000)}})),
      gen::set(&CaseConfig::retention_ms,
               gen::weightedOneOf<std::int64_t>({{1, gen::just(LogConfig{}.retention_ms)},
                                                 {1, gen::just<std::int64_t>(-1)},
                                                 {2, gen::inRange<std::int64_t>(0, 10000)}})));
}

LogConfig log_config_of(const CaseConfig& c) {
  LogConfig config;
  config.segment_bytes = c.segment_bytes;
  config.retention_bytes = c.retention_bytes;
  config.index_interval_bytes = c.index_interval_bytes;
  config.flush_interval_messages = c.flush_interval_messages;
  config.roll_ms = c.roll_ms;
  config.retention_ms = c.retention_ms;
  return config;
}

// The leader epoch cache as the log keeps it (log.h), step by step.
using Epochs = std::vector<EpochEntry>;

bool same_epochs(const Epochs& a, const Epochs& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const EpochEntry& x, const EpochEntry& y) {
    return x.epoch == y.epoch && x.start_offset == y.start_offset;
  });
}

std::string describe(const Epochs& e) {
  std::string s = "[";
  for (const auto& x : e) s += "(" + std::to_string(x.epoch) + "@" + std::to_string(x.start_offset) + ")";
  return s + "]";
}

// A new epoch from start: ignored unless newer than every known one; it
// supersedes entries from its start on.
Epochs assigned(Epochs e, std::int32_t epoch, std::int64_t start) {
  if (epoch < 0 || (!e.empty() && epoch <= e.back().epoch)) return e;
  std::erase_if(e, [start](const EpochEntry& x) { return x.start_offset >= start; });
  e.push_back({epoch, start});
  return e;
}

// A truncation to end drops the entries from end on.
Epochs cut_from(Epochs e, std::int64_t end) {
  std::erase_if(e, [end](const EpochEntry& x) { return x.start_offset >= end; });
  return e;
}

// A log start moving up collapses the entries below it into one at it.
Epochs collapsed_below(Epochs e, std::int64_t start) {
  std::size_t below = 0;
  while (below < e.size() && e[below].start_offset < start) ++below;
  if (below == 0) return e;
  const bool next_starts_here = below < e.size() && e[below].start_offset == start;
  const EpochEntry kept{e[below - 1].epoch, start};
  e.erase(e.begin(), e.begin() + static_cast<std::ptrdiff_t>(below));
  if (!next_starts_here) e.insert(e.begin(), kept);
  return e;
}

// What an open makes of a checkpointed cache for a log spanning [start,
// end): entries past the end go, entries below the start collapse. When
// the log came back empty at its start, the open may first have restarted
// it there, dropping an entry at the start too.
std::vector<Epochs> reopened(const Epochs& e, std::int64_t start, std::int64_t end) {
  auto tidy = [&](Epochs x) {
    std::erase_if(x, [end](const EpochEntry& y) { return y.start_offset > end; });
    return collapsed_below(std::move(x), start);
  };
  std::vector<Epochs> out{tidy(e)};
  if (start == end) out.push_back(tidy(cut_from(e, start)));
  return out;
}

// end_offset_for_epoch as log.h defines it.
std::optional<std::pair<std::int32_t, std::int64_t>> end_for(const Epochs& e, std::int32_t epoch,
                                                             std::int64_t log_end) {
  std::optional<std::pair<std::int32_t, std::int64_t>> found;
  for (std::size_t i = 0; i < e.size() && e[i].epoch <= epoch; ++i)
    found = {e[i].epoch, i + 1 < e.size() ? e[i + 1].start_offset : log_end};
  return found;
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
  std::int64_t hw = 0;
  // High watermarks the checkpoint may hold: the last one flushed, and one
  // a flush cut short by a crash may have written.
  std::set<std::int64_t> hw_on_disk{0};
  Epochs epochs;
  // Caches the epoch checkpoint may hold after a crash in the current
  // operation: the one before it and the one it writes.
  std::vector<Epochs> epochs_on_disk;
  std::int32_t leader_epoch = first_leader_epoch;
  // Wall time (ms) of the first append to each segment in this process, by
  // base offset: the age that rolls a segment.
  std::map<std::int64_t, std::int64_t> first_append_ms;

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
    std::int64_t opened_ms = 0;
    RC_ASSERT(rig_.run([&](Runtime& rt) {
      auto r = rig_.open(rt, log_dir, config_);
      ok = r.ok();
      if (!ok) error = r.error().message();
      opened_ms = to_ms(rt.wall_now());  // no I/O since the open's own clock read
    }));
    if (!ok) RC_FAIL("Log::open failed: " + error);
    // An open restarts the age of a non-empty active segment.
    model_.first_append_ms.clear();
    const auto infos = rig_.log()->segment_infos();
    if (infos.back().size_bytes > 0) model_.first_append_ms[infos.back().base_offset] = opened_ms;
  }

  void apply(const Op& op, std::size_t step) {
    step_ = step;
    op_ = op;
    model_.epochs_on_disk = {model_.epochs};
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
      case OpKind::retention: return do_retention(rt, log);
      case OpKind::delete_before: return do_delete_before(log, op);
      case OpKind::set_hw: return do_set_hw(log, op);
      case OpKind::assign_epoch: return do_assign_epoch(log, op);
      case OpKind::epoch_lookup: return do_epoch_lookup(log, op);
      case OpKind::advance_clock: return rt.sleep_for(milliseconds(1 + op.a % 3000)), "";
      case OpKind::reopen:
      case OpKind::crash: break;
    }
    return "";
  }

  std::string do_set_hw(Log& log, const Op& op) {
    // Half the time everything is committed (a leader alone); otherwise any
    // offset around the log.
    const std::int64_t hw = op.b % 2 == 0 ? model_.end()
                                          : model_.start - 1 + static_cast<std::int64_t>(op.a % (model_.end() - model_.start + 3));
    auto r = log.set_high_watermark(hw);
    const bool in_range = hw >= model_.start && hw <= model_.end();
    if (r.ok() != in_range) return "set_high_watermark(" + std::to_string(hw) + ") " + (r.ok() ? "accepted" : "refused");
    if (!r.ok() && r.error() != std::errc::result_out_of_range) return "set_high_watermark: " + r.error().message();
    if (in_range) model_.hw = hw;
    return "";
  }

  // Mostly the next epoch from the log end (a new leader), sometimes from
  // an earlier offset (refused: it would relabel written batches), a stale
  // epoch or an invalid one.
  std::string do_assign_epoch(Log& log, const Op& op) {
    const std::int32_t latest = model_.epochs.empty() ? model_.leader_epoch : model_.epochs.back().epoch;
    const std::int32_t epoch = op.a % 5 == 0 ? -1 : latest + static_cast<std::int32_t>(op.a % 4) - 1;
    const std::int64_t from =
        op.b % 3 == 0 ? model_.start + static_cast<std::int64_t>(op.b % (model_.end() - model_.start + 1)) : model_.end();
    auto r = log.assign_epoch(epoch, from);
    if (epoch < 0) return r.ok() || r.error() != std::errc::invalid_argument ? "assign_epoch(-1) not refused" : "";
    if (from < model_.end())
      return r.ok() || r.error() != std::errc::invalid_argument ? "assign_epoch below the log end not refused" : "";
    const Epochs after = assigned(model_.epochs, epoch, from);
    model_.epochs_on_disk.push_back(after);
    if (!r.ok()) return "assign_epoch failed: " + r.error().message();
    model_.epochs = after;
    model_.leader_epoch = std::max(model_.leader_epoch, epoch);
    return "";
  }

  std::string do_epoch_lookup(Log& log, const Op& op) {
    const std::int32_t epoch = static_cast<std::int32_t>(op.a % static_cast<std::uint32_t>(model_.leader_epoch + 3)) - 1;
    const auto got = log.end_offset_for_epoch(epoch);
    const auto want = end_for(model_.epochs, epoch, model_.end());
    if (got != want)
      return "end_offset_for_epoch(" + std::to_string(epoch) + ") = " +
             (got ? std::to_string(got->first) + "," + std::to_string(got->second) : "none") + ", expected " +
             (want ? std::to_string(want->first) + "," + std::to_string(want->second) : "none") + " for " +
             describe(model_.epochs);
    return "";
  }

  std::string do_append(Runtime& rt, Log& log, const Op& op, bool as_follower) {
    Rng rng(op.a * 7919ULL + op.b);
    const int count = 1 + static_cast<int>(op.a % 6);
    const std::size_t value_bytes = op.b % value_bytes_max;
    // The log reads the clock once per append, with no I/O before: this time.
    const std::int64_t ts = to_ms(rt.wall_now());
    const Bytes batch = testing::make_batch(rng, count, value_bytes, ts);
    // Recorded before the append, which a crash may cut short or let land.
    const std::int32_t epoch = model_.leader_epoch;
    const Bytes stored = testing::as_stored(batch, model_.end(), epoch);
    model_.history[model_.end()].push_back(stored);
    const Epochs epochs_after = assigned(model_.epochs, epoch, model_.end());
    model_.epochs_on_disk.push_back(epochs_after);
    const auto hw_on_disk = model_.hw_on_disk;
    model_.hw_on_disk.insert(model_.hw);  // the flush policy may flush
    const auto before = log.segment_infos();
    auto r = as_follower ? log.append_as_follower(stored) : log.append_as_leader(batch, epoch);
    if (!r.ok()) return "append failed: " + r.error().message();
    if (r->base_offset != model_.end() || r->last_offset != model_.end() + count - 1)
      return "append assigned " + std::to_string(r->base_offset) + ".." + std::to_string(r->last_offset) +
             ", expected from " + std::to_string(model_.end());
    model_.batches.push_back(stored);
    model_.epochs = epochs_after;
    if (log.recovery_point() != model_.end()) model_.hw_on_disk = hw_on_disk;  // no flush ran
    else model_.hw_on_disk = {model_.hw};
    note_recovery_point(log);
    return check_roll(log, before, stored.size(), ts);
  }

  // An append rolls to a new segment exactly when the active one holds data
  // and the batch would overflow it or it is at least roll.ms old (from its
  // first append in this process).
  std::string check_roll(Log& log, const std::vector<SegmentInfo>& before, std::size_t batch_bytes,
                         std::int64_t now_ms) {
    const auto after = log.segment_infos();
    const SegmentInfo& active = before.back();
    const auto first = model_.first_append_ms.find(active.base_offset);
    const bool by_size = active.size_bytes + static_cast<std::int64_t>(batch_bytes) > case_.segment_bytes;
    const bool by_age = first != model_.first_append_ms.end() && now_ms - first->second >= case_.roll_ms;
    const bool expected = active.size_bytes > 0 && (by_size || by_age);
    const bool rolled = after.size() == before.size() + 1;
    if (rolled != expected || after.size() < before.size() || after.size() > before.size() + 1)
      return std::string("append ") + (rolled ? "rolled" : "did not roll") + " (active segment " +
             std::to_string(active.size_bytes) + " bytes" +
             (first == model_.first_append_ms.end() ? "" : ", age " + std::to_string(now_ms - first->second) + " ms") +
             ")";
    model_.first_append_ms.emplace(after.back().base_offset, now_ms);
    if (rolled && by_age && !by_size) ++stats_.rolls_by_age;
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
    // Half the reads are a consumer's, bounded by the high watermark.
    const std::optional<std::int64_t> max_offset =
        (op.b / 3000) % 2 == 0 ? std::nullopt : std::optional<std::int64_t>(model_.hw);
    auto r = log.read(offset, max_bytes, max_offset);
    if (offset < model_.start || offset > model_.end()) {
      if (r.ok() || r.error() != std::errc::result_out_of_range)
        return "read at " + std::to_string(offset) + " outside [" + std::to_string(model_.start) + ", " +
               std::to_string(model_.end()) + "] did not fail with result_out_of_range";
      return "";
    }
    if (!r.ok()) return "read at " + std::to_string(offset) + " failed: " + r.error().message();
    return check_read(offset, max_bytes, max_offset.value_or(INT64_MAX), *r);
  }

  // A read returns whole model batches from the one holding offset, none
  // reaching max_offset, at least one if offset is below the end and the
  // first does not reach max_offset, and no more than max_bytes beyond the
  // first.
  std::string check_read(std::int64_t offset, std::size_t max_bytes, std::int64_t max_offset,
                         const ReadResult& r) {
    auto parts = split_batches(r.bytes);
    if (!parts.ok()) return "read returned a batch failing its CRC or framing";
    const std::size_t first = model_.index_of(offset);
    if (first == model_.batches.size()) return parts->empty() ? "" : "read at the end returned data";
    for (auto p : *parts)
      if (BatchView(p).next_offset() > max_offset) return "read returned a batch reaching max_offset";
    const bool first_allowed = max_offset > offset && BatchView(model_.batches[first]).next_offset() <= max_offset;
    if (parts->empty()) return first_allowed ? "read at " + std::to_string(offset) + " returned nothing" : "";
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
    model_.hw_on_disk.insert(model_.hw);  // a crash may leave the old or the new one
    if (auto r = log.flush(); !r.ok()) return "flush failed: " + r.error().message();
    model_.hw_on_disk = {model_.hw};
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
    // Epochs starting at the cut go too, even at the log end (no records of theirs).
    const Epochs epochs_after = cut_from(model_.epochs, new_end);
    model_.epochs_on_disk.push_back(epochs_after);
    if (auto r = log.truncate_to(to); !r.ok()) return "truncate_to(" + std::to_string(to) + ") failed: " + r.error().message();
    model_.batches.resize(keep);
    model_.epochs = epochs_after;
    model_.hw = std::min(model_.hw, model_.end());
    forget_dropped_segments(log);
    // An emptied active segment starts its age again.
    const auto infos = log.segment_infos();
    if (infos.back().size_bytes == 0) model_.first_append_ms.erase(infos.back().base_offset);
    return "";
  }

  void forget_dropped_segments(Log& log) {
    std::set<std::int64_t> bases;
    for (const auto& i : log.segment_infos()) bases.insert(i.base_offset);
    std::erase_if(model_.first_append_ms, [&](const auto& kv) { return !bases.count(kv.first); });
  }

  // How many segments retention should delete, from the log's own segment
  // metadata (checked against the model after every operation): oldest
  // first while one is past retention.ms by its newest timestamp or the
  // rest still reaches retention.bytes, never the active one, never one
  // reaching the high watermark.
  std::size_t expected_retention(const std::vector<SegmentInfo>& infos, std::int64_t now_ms,
                                 std::optional<std::int64_t> hw = std::nullopt) const {
    std::int64_t total = 0;
    for (const auto& i : infos) total += i.size_bytes;
    std::size_t n = 0;
    for (; n + 1 < infos.size() && infos[n + 1].base_offset <= hw.value_or(model_.hw); ++n) {
      const bool by_time = case_.retention_ms >= 0 && infos[n].max_timestamp >= 0 &&
                           infos[n].max_timestamp < now_ms - case_.retention_ms;
      const bool by_bytes = case_.retention_bytes >= 0 && total - infos[n].size_bytes >= case_.retention_bytes;
      if (!by_time && !by_bytes) break;
      total -= infos[n].size_bytes;
    }
    return n;
  }

  std::string do_retention(Runtime& rt, Log& log) {
    const auto infos = log.segment_infos();
    // The log reads the clock first thing, with no I/O before: this time.
    const std::int64_t now_ms = to_ms(rt.wall_now());
    const std::size_t n = expected_retention(infos, now_ms);
    stats_.retention_deletions += static_cast<int>(n);
    if (n + 1 < infos.size() && infos[n + 1].base_offset > model_.hw) {
      const std::size_t unbounded = expected_retention(infos, now_ms, INT64_MAX);
      if (unbounded > n) ++stats_.retention_held_by_hw;
    }
    const std::int64_t expected_start = n == 0 ? model_.start : std::max(model_.start, infos[n].base_offset);
    // While retention runs, the start may move to any segment boundary up
    // to the end; a crash part-way leaves that open.
    const std::int64_t bound_before = model_.start_bound;
    model_.start_bound = std::max(model_.start_bound, model_.end());
    const Epochs epochs_after = collapsed_below(model_.epochs, expected_start);
    model_.epochs_on_disk.push_back(epochs_after);
    auto r = log.enforce_retention();
    if (!r.ok()) return "enforce_retention failed: " + r.error().message();
    const std::int64_t start = log.log_start_offset();
    model_.start_bound = std::max(bound_before, start);
    if (static_cast<std::size_t>(*r) != n || start != expected_start)
      return "retention deleted " + std::to_string(*r) + " segments, start " + std::to_string(start) + "; expected " +
             std::to_string(n) + ", start " + std::to_string(expected_start) + " (high watermark " +
             std::to_string(model_.hw) + ")";
    // Retention deletes whole segments, so a start it moves lands on a batch.
    const bool moved = start != model_.start;
    model_.start = start;
    model_.trim_to_start();
    model_.epochs = epochs_after;
    forget_dropped_segments(log);
    if (moved && !model_.batches.empty() && model_.first_base() != start)
      return "retention left a start " + std::to_string(start) + " inside a batch";
    return "";
  }

  std::string do_delete_before(Log& log, const Op& op) {
    const std::int64_t to = model_.start + static_cast<std::int64_t>(op.a % (model_.end() - model_.start + 1));
    model_.start_bound = std::max(model_.start_bound, to);
    const Epochs epochs_after = to > model_.start ? collapsed_below(model_.epochs, to) : model_.epochs;
    model_.epochs_on_disk.push_back(epochs_after);
    if (auto r = log.delete_records_before(to); !r.ok())
      return "delete_records_before(" + std::to_string(to) + ") failed: " + r.error().message();
    if (log.log_start_offset() != std::max(model_.start, to))
      return "delete_records_before(" + std::to_string(to) + ") left the start at " +
             std::to_string(log.log_start_offset());
    if (to > model_.start) {
      model_.epochs = epochs_after;
      model_.hw = std::max(model_.hw, to);  // the start never passes the high watermark
    }
    model_.start = std::max(model_.start, to);
    model_.trim_to_start();
    forget_dropped_segments(log);
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

  // A clean close keeps everything, flushed or not: the OS holds it. The
  // high watermark comes back as last checkpointed (by a flush), within
  // the log.
  void clean_reopen() {
    RC_ASSERT(rig_.run([&](Runtime&) { rig_.close(); }));
    open();
    check_reopened_state(model_.start, model_.end());
    check_log_matches_model();
  }

  void crash_and_reopen() {
    rig_.crash();
    reopen_and_check();
  }

  void reopen_and_check();
  void check_reopened_state(std::int64_t start, std::int64_t end);
  void check_log_matches_model();
  void check_segments();
  void check_recovered(const testing::Scan& scan);
  void check_reads_agree_with_scan(const testing::Scan& scan);


 public:
  // What the crashes of a case did, for the coverage tags.
  struct Stats {
    int crashes = 0;
    int tails_lost = 0;          // recovered end below the model's end
    int truncations_undone = 0;  // recovered end above it (unsynced truncation)
    int rolls_by_age = 0;        // an append rolled an aged segment that size would not have
    int retention_deletions = 0;  // segments retention deleted
    int retention_held_by_hw = 0;  // retention stopped at the high watermark
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
  Log& log = *rig_.log();
  if (log.high_watermark() != model_.hw)
    fail("high watermark " + std::to_string(log.high_watermark()) + ", model " + std::to_string(model_.hw));
  if (!same_epochs(log.epochs(), model_.epochs))
    fail("epoch cache " + describe(log.epochs()) + ", model " + describe(model_.epochs));
  check_segments();
}

// The segment metadata (which roll and retention go by) agrees with the
// batches: segments tile [first base, end) and each one's size and newest
// timestamp are its batches' (for those the model still holds).
void Runner::check_segments() {
  const auto infos = rig_.log()->segment_infos();
  if (infos.front().base_offset > model_.first_base()) fail("the first segment starts past the first batch");
  for (std::size_t i = 0; i < infos.size(); ++i) {
    const SegmentInfo& seg = infos[i];
    const std::int64_t next = i + 1 < infos.size() ? infos[i + 1].base_offset : model_.end();
    if (seg.next_offset != next) fail("segment " + std::to_string(seg.base_offset) + " ends at " +
                                      std::to_string(seg.next_offset) + ", the next begins at " + std::to_string(next));
    if (seg.base_offset < model_.first_base()) continue;  // holds batches the model dropped
    std::int64_t size = 0, max_ts = -1;
    for (const Bytes& b : model_.batches) {
      const BatchView v(b);
      if (v.base_offset() < seg.base_offset || v.base_offset() >= seg.next_offset) continue;
      size += static_cast<std::int64_t>(b.size());
      max_ts = std::max(max_ts, v.max_timestamp());
    }
    if (seg.size_bytes != size || seg.max_timestamp != max_ts)
      fail("segment " + std::to_string(seg.base_offset) + " reports " + std::to_string(seg.size_bytes) + " bytes, max ts " +
           std::to_string(seg.max_timestamp) + "; its batches hold " + std::to_string(size) + ", " + std::to_string(max_ts));
  }
}

// After an open: the high watermark is a checkpointed one brought within
// [start, end], and the epoch cache is a checkpointed one as the open
// tidies it. Both become the model's.
void Runner::check_reopened_state(std::int64_t start, std::int64_t end) {
  Log& log = *rig_.log();
  const std::int64_t hw = log.high_watermark();
  const bool hw_ok = std::any_of(model_.hw_on_disk.begin(), model_.hw_on_disk.end(),
                                 [&](std::int64_t v) { return std::clamp(v, start, end) == hw; });
  if (!hw_ok) fail("reopened with high watermark " + std::to_string(hw) + ", never checkpointed");
  bool epochs_ok = false;
  for (const Epochs& e : model_.epochs_on_disk)
    for (const Epochs& r : reopened(e, start, end)) epochs_ok = epochs_ok || same_epochs(r, log.epochs());
  if (!epochs_ok)
    fail("reopened with epoch cache " + describe(log.epochs()) + ", from none of " +
         std::to_string(model_.epochs_on_disk.size()) + " checkpoints, e.g. " + describe(model_.epochs_on_disk.back()));
  model_.hw = hw;
  model_.hw_on_disk = {hw};  // the open flushed
  model_.epochs = log.epochs();
  model_.epochs_on_disk = {model_.epochs};
}

void Runner::reopen_and_check() {
  open();
  testing::Scan scan;
  RC_ASSERT(rig_.run([&](Runtime&) { scan = testing::full_scan(*rig_.log(), 4096); }));
  if (!scan.error.empty()) fail("scan after reopen: " + scan.error);
  if (auto gap = testing::density_error(scan); !gap.empty()) fail("after reopen: " + gap);
  check_recovered(scan);
  check_reads_agree_with_scan(scan);
  check_reopened_state(scan.start, scan.end);
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
           s.truncations_undone > 0 ? "truncation undone" : "", s.rolls_by_age > 0 ? "rolled by age" : "",
           s.retention_deletions > 0 ? "retention deleted" : "",
           s.retention_held_by_hw > 0 ? "retention held by the high watermark" : "");
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
        RC_ASSERT(rig.log()->append_as_leader(b, first_leader_epoch).ok());
        appended[base] = testing::as_stored(b, base, first_leader_epoch);
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
