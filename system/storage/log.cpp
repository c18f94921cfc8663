// The partition log. What is written when (the durability contract):
//
// - append: one write of the batches to the active segment; no sync unless
//   the flush policy fires (log.flush.interval.messages appended since the
//   last flush, or log.flush.interval.ms of the node's monotonic clock since
//   the last flush, checked on append: a quiet log is flushed only by
//   whoever calls flush()). The leader-epoch checkpoint is rewritten when an
//   append starts a new epoch.
// - flush(): writes pending index entries, datasyncs every dirty segment in
//   base-offset order, syncs the directory if a segment file was created,
//   then checkpoints recovery point (= log end) and high watermark. So a
//   recovery point never passes data, index entries or file names that are
//   not durable. A high watermark checkpoint that fails to write does not
//   fail the flush (the next one writes it); a recovery point one does.
// - assign_epoch / truncate_to: leader-epoch checkpoint at once.
// - delete_records_before / retention: log-start checkpoint before any
//   segment file is removed, so a crash between leaves only files that the
//   next open deletes as wholly below the log start.
// - truncate_to: removes later segments (directory synced), cuts and syncs
//   the last one, then lowers the recovery point checkpoint, so a later
//   torn append past the cut is never mistaken for synced data.
//
// Corruption: data that must be intact (before the recovery point) and is
// not is reported as data_corrupt == std::errc::illegal_byte_sequence. At
// open, segments wholly below the recovery point are checked through their
// indexes and a header scan of their tail only (not CRC'd, which would read
// the whole log); the segment holding the recovery point and all later ones
// are CRC'd batch by batch. A bit flip in an older segment is therefore
// found by the read that reaches it, which fails rather than return it.
//
// Errors of an append: invalid_argument for malformed input (nothing
// appended), message_size for a batch larger than log.segment.bytes. If the
// flush policy fires and the flush fails, the append's data is in the log
// but the error is returned: the caller must treat the outcome as unknown.
#include "system/storage/log.h"

#include <algorithm>
#include <charconv>

#include "system/runtime/sync.h"
#include "system/storage/checkpoint.h"
#include "system/storage/segment.h"
#include "system/util/crc32c.h"
#include "system/util/endian.h"

namespace castle::storage {

namespace {

constexpr const char* recovery_point_file = "recovery-point-offset-checkpoint";
constexpr const char* high_watermark_file = "replication-offset-checkpoint";
constexpr const char* log_start_file = "log-start-offset-checkpoint";
constexpr const char* epoch_file = "leader-epoch-checkpoint";

// Appends are at most this many batches at once (a produce request's worth).
constexpr std::size_t append_batches_max = 1 << 16;

// Holds the log for one operation: operations yield on disk I/O, and a
// truncation must not interleave with an append or a read.
class LockGuard {
 public:
  LockGuard(Runtime& rt, bool& held, WaitList& waiters) : held_(held), waiters_(waiters) {
    while (held_) waiters_.wait(rt);
    held_ = true;
  }
  ~LockGuard() {
    held_ = false;
    waiters_.notify_one();
  }
  LockGuard(const LockGuard&) = delete;
  LockGuard& operator=(const LockGuard&) = delete;

 private:
  bool& held_;
  WaitList& waiters_;
};

// Parses "<20 digits>.log"; -1 if the name is not a segment.
std::int64_t segment_base_from_name(const std::string& name) {
  constexpr std::size_t digits = 20;
  if (name.size() != digits + 4 || name.compare(digits, 4, ".log") != 0) return -1;
  std::int64_t base = -1;
  const auto [p, ec] = std::from_chars(name.data(), name.data() + digits, base);
  if (ec != std::errc() || p != name.data() + digits || base < 0) return -1;
  return base;
}

bool same_epochs(const std::vector<EpochEntry>& a, const std::vector<EpochEntry>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const EpochEntry& x, const EpochEntry& y) {
                      return x.epoch == y.epoch && x.start_offset == y.start_offset;
                    });
}

// Creates dir and its missing parents and makes their names durable: a
// directory entry survives a crash only once its parent is synced.
Result<void> make_dirs_durable(Disk& disk, const std::string& dir) {
  std::vector<std::string> created;
  for (std::string d = dir; !d.empty() && !disk.exists(d); d = parent_dir(d)) created.push_back(d);
  if (created.empty()) return ok_result();
  if (auto r = disk.make_dirs(dir); !r) return r;
  for (const auto& d : created) {
    if (auto r = disk.sync_dir(parent_dir(d)); !r) return r;
  }
  return ok_result();
}

}  // namespace

struct Log::Impl {
  Impl(Runtime& rt_in, std::string dir_in, LogConfig config_in)
      : rt(rt_in), disk(rt_in.disk()), dir(std::move(dir_in)), config(config_in) {}

  Runtime& rt;
  Disk& disk;
  std::string dir;
  LogConfig config;
  std::vector<std::unique_ptr<Segment>> segments;  // by base offset; never empty once open
  std::int64_t log_start = 0;
  std::int64_t recovery_point = 0;
  std::int64_t high_watermark = 0;
  std::int64_t recovery_point_written = -1;
  std::int64_t high_watermark_written = -1;
  // A segment's sync failed: nothing more can be promised durable (flush()).
  bool sync_failed = false;
  std::vector<EpochEntry> epochs;
  // A salvage found the epoch checkpoint damaged: the cache is rebuilt
  // from the batches' own epochs as they are read back.
  bool epochs_lost = false;
  // The open cut a tail or damaged batches (or dropped segments after a gap).
  bool cut_on_open = false;
  std::int64_t unflushed_messages = 0;
  Instant last_flush{};
  bool dir_dirty = false;  // a segment file was created and the directory not synced
  bool lock_held = false;
  WaitList lock_waiters;
  // The batches of the append in progress (reused: no allocation per append).
  std::vector<BatchInfo> infos;
  LogObserver* observer = nullptr;

  LockGuard lock() { return LockGuard(rt, lock_held, lock_waiters); }
  std::string path(const char* name) const { return join_path(dir, name); }
  Segment& active() { return *segments.back(); }
  std::int64_t log_end() const { return segments.back()->next_offset(); }
  SegmentOptions segment_options() const {
    return SegmentOptions{config.index_interval_bytes,
                          static_cast<std::size_t>(std::max<std::int64_t>(
                              1, config.segment_index_bytes /
                                     static_cast<std::int64_t>(OffsetIndex::entry_bytes)))};
  }

  // Open and recovery.
  Result<void> load_checkpoints(bool salvage);
  Result<std::vector<std::int64_t>> list_segment_bases();
  Result<void> open_segments(const std::vector<std::int64_t>& bases);
  Result<bool> recover_segment(std::size_t i);
  Result<void> drop_segments_from(std::size_t i);
  Result<void> reconcile_after_open();
  Result<void> cut_at_first_unreadable();

  // Appends.
  Result<void> parse_batches(std::span<const std::uint8_t> bytes);
  void assign_offsets(std::span<std::uint8_t> bytes, std::int32_t epoch, WallTime now,
                      AppendResult* result);
  Result<AppendResult> append(std::span<const std::uint8_t> bytes, std::int64_t records,
                              WallTime now);
  Result<void> maybe_roll(std::uint64_t bytes, std::int64_t next_offset, WallTime now);
  Result<void> roll_at(std::int64_t base);
  Result<void> maybe_flush();

  // Everything else.
  Result<void> flush();
  Result<void> rewrite_checkpoints();
  Result<void> rewrite_unsynced_segments();
  Result<void> write_epochs();
  Result<void> write_epochs_or_restore(const std::vector<EpochEntry>& before);
  Result<void> maybe_assign_epoch(std::int32_t epoch, std::int64_t start_offset);
  Result<void> assign_epoch_of_batch(std::int32_t epoch, std::int64_t base_offset);
  void truncate_epochs_from_start(std::int64_t offset);
  void set_hw(std::int64_t hw);
  void tell_appended(std::span<const std::uint8_t> bytes) const;
  Result<void> delete_front_segments(std::size_t n);
  Result<void> truncate_fully(std::int64_t offset);
  Result<void> truncate(std::int64_t offset);
  void settle_after_cut(std::int64_t end_before);
  std::size_t segment_index_for(std::int64_t offset) const;
  bool epochs_agree(std::span<const std::uint8_t> bytes) const;
  Result<ReadResult> read(std::int64_t offset, std::size_t max_bytes,
                          std::optional<std::int64_t> max_offset, std::vector<std::uint8_t> reuse);
  Result<int> enforce_retention();
};

// ---------------------------------------------------------------- open

// A salvage trusts no checkpoint that fails its checksum: a damaged one
// reads as absent (recovery point and high watermark 0, the log start the
// first segment's base) and a damaged epoch cache is rebuilt. Otherwise
// damage is corruption, for the caller to decide on.
Result<void> Log::Impl::load_checkpoints(bool salvage) {
  auto lenient = [salvage](auto r) {
    if (salvage && !r && r.error() == segment_corrupt) r = std::decay_t<decltype(*r)>();
    return r;
  };
  auto rp = lenient(read_offset_checkpoint(disk, path(recovery_point_file)));
  if (!rp) return rp.error();
  auto hw = lenient(read_offset_checkpoint(disk, path(high_watermark_file)));
  if (!hw) return hw.error();
  auto start = lenient(read_offset_checkpoint(disk, path(log_start_file)));
  if (!start) return start.error();
  auto ep = read_checkpoint(disk, path(epoch_file));
  if (salvage && !ep && ep.error() == segment_corrupt) {
    epochs_lost = true;
    ep = std::optional<std::vector<CheckpointEntry>>();
  }
  if (!ep) return ep.error();
  recovery_point = rp->value_or(0);
  high_watermark = hw->value_or(0);
  log_start = start->value_or(0);
  recovery_point_written = rp->value_or(-1);
  high_watermark_written = hw->value_or(-1);
  if (recovery_point < 0 || high_watermark < 0 || log_start < 0) return segment_corrupt;
  for (const auto& e : ep->value_or(std::vector<CheckpointEntry>{})) {
    if (e.size() != 2 || e[0] < 0 || e[0] > INT32_MAX || e[1] < 0) return segment_corrupt;
    if (!epochs.empty() && (e[0] <= epochs.back().epoch || e[1] < epochs.back().start_offset))
      return segment_corrupt;
    epochs.push_back({static_cast<std::int32_t>(e[0]), e[1]});
  }
  return ok_result();
}

Result<std::vector<std::int64_t>> Log::Impl::list_segment_bases() {
  auto names = disk.list(dir);
  if (!names) return names.error();
  std::vector<std::int64_t> bases;
  for (const auto& name : *names) {
    const std::int64_t base = segment_base_from_name(name);
    if (base >= 0) bases.push_back(base);
  }
  std::sort(bases.begin(), bases.end());
  return bases;
}

// Segment i is "clean" when the next one starts at or below the recovery
// point: all its data was synced, so only its indexes are checked. The
// segment holding the recovery point and all later ones are validated
// batch by batch; the last segment always is.
Result<void> Log::Impl::open_segments(const std::vector<std::int64_t>& bases) {
  for (std::int64_t base : bases) {
    auto s = Segment::open(disk, dir, base, segment_options());
    if (!s) return s.error();
    segments.push_back(std::move(*s));
  }
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const bool last = i + 1 == segments.size();
    if (!last && segments[i + 1]->base_offset() <= recovery_point) {
      auto rebuilt = segments[i]->load_clean(segments[i + 1]->base_offset());
      if (!rebuilt) return rebuilt.error();
      continue;
    }
    auto keep_going = recover_segment(i);
    if (!keep_going) return keep_going.error();
    if (!*keep_going) {
      cut_on_open = true;
      return drop_segments_from(i + 1);
    }
  }
  return ok_result();
}

// Validates segment i; cuts a bad tail past the recovery point. Returns
// whether later segments may be kept (false after a cut or a gap).
Result<bool> Log::Impl::recover_segment(std::size_t i) {
  Segment& s = *segments[i];
  auto out = s.recover();
  if (!out) return out.error();
  const bool clean_end = out->stop == ScanStop::end_of_file;
  const bool last = i + 1 == segments.size();
  const bool gap = !last && segments[i + 1]->base_offset() != out->next_offset;
  if (clean_end && !gap) return true;
  // Bad data (or a gap) where synced data should be: never drop it silently.
  if (out->next_offset < recovery_point) return segment_corrupt;
  if (!clean_end) {
    if (auto r = s.cut_tail(*out); !r) return r.error();
  }
  return false;
}

Result<void> Log::Impl::drop_segments_from(std::size_t i) {
  while (segments.size() > i) {
    if (auto r = segments.back()->remove_files(); !r) return r;
    segments.pop_back();
    dir_dirty = true;
  }
  return ok_result();
}

// Brings the checkpointed offsets in line with what the segments hold.
Result<void> Log::Impl::reconcile_after_open() {
  if (segments.empty()) {
    if (auto r = roll_at(log_start); !r) return r;
  }
  log_start = std::max(log_start, segments.front()->base_offset());
  if (log_start > log_end()) {
    // Records up to the log start were deleted, and nothing after survived.
    if (auto r = truncate_fully(log_start); !r) return r;
  }
  std::size_t below = 0;
  while (below + 1 < segments.size() && segments[below + 1]->base_offset() <= log_start) ++below;
  if (below > 0) {
    if (auto r = delete_front_segments(below); !r) return r;
  }
  recovery_point = std::min(recovery_point, log_end());
  high_watermark = std::clamp(high_watermark, log_start, log_end());
  const auto before = epochs;
  std::erase_if(epochs, [this](const EpochEntry& e) { return e.start_offset > log_end(); });
  truncate_epochs_from_start(log_start);
  if (!same_epochs(before, epochs)) {
    if (auto r = write_epochs(); !r) return r;
  }
  // The validated tail becomes durable, the recovery point moves to the end.
  return flush();
}

// The CRC does not cover a batch's leader epoch: a bit flipped there passes
// validation, and reads refuse the batch once the epoch cache contradicts
// it. Salvaging reads every batch, one at a time, and cuts at the first
// that a read refuses.
//
// With the epoch cache lost, each batch's epoch rebuilds it (an entry where
// the epoch rises) and one lower than the last is the damage to cut at.
// (The cache stays empty meanwhile, so that reads check no epoch.)
Result<void> Log::Impl::cut_at_first_unreadable() {
  std::vector<EpochEntry> rebuilt;
  auto adopt = [&] {
    if (epochs_lost) epochs = std::move(rebuilt);
    epochs_lost = false;
  };
  auto cut = [&](std::int64_t offset) {
    adopt();
    cut_on_open = true;
    return truncate(offset);
  };
  std::int64_t offset = log_start;
  while (offset < log_end()) {
    auto r = read(offset, 1, std::nullopt, {});
    if (!r && r.error() == segment_corrupt) return cut(offset);
    if (!r) return r.error();
    CASTLE_ASSERT(r->next_offset > offset, "a read below the log end returns a batch");
    if (epochs_lost) {
      const std::int32_t epoch = BatchView(r->bytes).leader_epoch();
      if (!rebuilt.empty() && epoch < rebuilt.back().epoch) return cut(offset);
      if (rebuilt.empty() || epoch > rebuilt.back().epoch) rebuilt.push_back({epoch, offset});
    }
    offset = r->next_offset;
  }
  adopt();
  return ok_result();
}

Result<std::optional<Log::FlushedSummary>> Log::flushed_summary(Runtime& rt, const std::string& dir) {
  using Summary = std::optional<FlushedSummary>;
  auto rp = read_offset_checkpoint(rt.disk(), join_path(dir, recovery_point_file));
  auto ep = read_checkpoint(rt.disk(), join_path(dir, epoch_file));
  if ((!rp && rp.error() == segment_corrupt) || (!ep && ep.error() == segment_corrupt)) return Summary();
  if (!rp) return rp.error();
  if (!ep) return ep.error();
  FlushedSummary s;
  s.recovery_point = rp->value_or(0);
  const auto& entries = ep->value_or(std::vector<CheckpointEntry>{});
  if (entries.empty()) return s.recovery_point == 0 ? Summary(s) : Summary();
  if (entries.back().size() != 2 || entries.back()[0] < 0 || entries.back()[0] > INT32_MAX) return Summary();
  s.last_epoch = static_cast<std::int32_t>(entries.back()[0]);
  return Summary(s);
}

Result<std::unique_ptr<Log>> Log::open(Runtime& rt, std::string dir, LogConfig config) {
  return open_with(rt, std::move(dir), config, OpenMode::recover);
}

Result<std::unique_ptr<Log>> Log::open_salvaging(Runtime& rt, std::string dir, LogConfig config) {
  return open_with(rt, std::move(dir), config, OpenMode::salvage);
}

Result<std::unique_ptr<Log>> Log::open_cutting_unsynced(Runtime& rt, std::string dir,
                                                        LogConfig config) {
  return open_with(rt, std::move(dir), config, OpenMode::cut_unsynced);
}

Result<std::unique_ptr<Log>> Log::open_rewriting_unsynced(Runtime& rt, std::string dir,
                                                          LogConfig config) {
  return open_with(rt, std::move(dir), config, OpenMode::rewrite_unsynced);
}

// Salvaging does not trust the recovery point: every segment is validated
// batch by batch and a bad batch anywhere is a tail to cut, not corruption
// to refuse. Cutting the unsynced tail happens before the reconciling
// flush, which would otherwise make the recovery point the log end.
Result<std::unique_ptr<Log>> Log::open_with(Runtime& rt, std::string dir, LogConfig config,
                                            OpenMode mode) {
  const bool trust_recovery_point = mode != OpenMode::salvage;
  auto impl = std::make_unique<Impl>(rt, std::move(dir), config);
  if (auto r = make_dirs_durable(rt.disk(), impl->dir); !r) return r.error();
  if (auto r = impl->load_checkpoints(!trust_recovery_point); !r) return r.error();
  if (!trust_recovery_point) impl->recovery_point = 0;
  auto bases = impl->list_segment_bases();
  if (!bases) return bases.error();
  if (auto r = impl->open_segments(*bases); !r) return r.error();
  if (mode == OpenMode::cut_unsynced && !impl->segments.empty()) {
    const std::int64_t cut = std::max({impl->recovery_point, impl->log_start,
                                       impl->segments.front()->base_offset()});
    if (cut < impl->log_end()) {
      if (auto r = impl->truncate(cut); !r) return r.error();
    }
  }
  if (mode == OpenMode::rewrite_unsynced) {
    if (auto r = impl->rewrite_unsynced_segments(); !r) return r.error();
  }
  if (auto r = impl->reconcile_after_open(); !r) return r.error();
  if (!trust_recovery_point) {
    if (auto r = impl->cut_at_first_unreadable(); !r) return r.error();
  }
  if (mode != OpenMode::recover) {
    if (auto r = impl->rewrite_checkpoints(); !r) return r.error();
  }
  impl->last_flush = rt.now();
  // A restart restarts the age of the active segment: at most one roll.ms late.
  if (!impl->active().empty()) impl->active().first_append_wall = rt.wall_now();
  return std::unique_ptr<Log>(new Log(std::move(impl)));
}

Log::Log(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Log::~Log() = default;

// ---------------------------------------------------------------- append

// Splits the input into batches (into `infos`) and validates each:
// framing and CRC, the one CRC pass an append makes. Positions in the
// infos are within `bytes`.
Result<void> Log::Impl::parse_batches(std::span<const std::uint8_t> bytes) {
  infos.clear();
  std::size_t at = 0;
  while (at < bytes.size()) {
    if (infos.size() >= append_batches_max) return std::errc::invalid_argument;
    const BatchView view(bytes.subspan(at));
    if (view.validate(true) != BatchError::ok) return std::errc::invalid_argument;
    const std::size_t size = view.size_bytes();
    if (size > static_cast<std::uint64_t>(config.segment_bytes)) return std::errc::message_size;
    infos.push_back({view.base_offset(), view.next_offset(), view.max_timestamp(), at,
                     static_cast<std::uint32_t>(size)});
    at += size;
  }
  if (infos.empty()) return std::errc::invalid_argument;
  return ok_result();
}

// The leader's part: offsets from the log end, its epoch, and the broker's
// time for batches that ask for log-append time (which, unlike offset and
// epoch, lies inside the CRC, so the CRC is recomputed).
void Log::Impl::assign_offsets(std::span<std::uint8_t> bytes, std::int32_t epoch, WallTime now,
                               AppendResult* result) {
  std::int64_t next = log_end();
  for (BatchInfo& b : infos) {
    const auto batch = bytes.subspan(static_cast<std::size_t>(b.position), b.size_bytes);
    set_base_offset(batch, next);
    set_leader_epoch(batch, epoch);
    const BatchView view(batch);
    if (view.log_append_time()) {
      const std::int64_t now_ms = to_ms(now);
      store_be(batch.data() + 27, static_cast<std::uint64_t>(now_ms), 8);
      store_be(batch.data() + 35, static_cast<std::uint64_t>(now_ms), 8);
      store_be(batch.data() + 17, view.compute_crc(), 4);
      result->log_append_time_ms = now_ms;
    }
    b.base_offset = next;
    b.next_offset = view.next_offset();
    b.max_timestamp = view.max_timestamp();
    next = b.next_offset;
  }
}

Result<AppendResult> Log::append_as_leader(std::span<const std::uint8_t> batches,
                                           std::int32_t leader_epoch) {
  std::vector<std::uint8_t> copy(batches.begin(), batches.end());
  return append_as_leader_in_place(copy, leader_epoch);
}

Result<AppendResult> Log::append_as_leader_in_place(std::span<std::uint8_t> batches,
                                                    std::int32_t leader_epoch) {
  auto guard = impl_->lock();
  if (auto r = impl_->parse_batches(batches); !r) return r.error();
  std::int64_t records = 0;
  for (const BatchInfo& b : impl_->infos) {
    const BatchView view(batches.subspan(static_cast<std::size_t>(b.position), b.size_bytes));
    // A producer batch without records carries nothing and has no offsets.
    if (view.record_count() == 0) return std::errc::invalid_argument;
    records += view.record_count();
  }
  if (leader_epoch < 0) return std::errc::invalid_argument;
  // One clock read serves the append's log-append time, roll check and
  // segment age.
  const WallTime now = impl_->rt.wall_now();
  AppendResult result;
  impl_->assign_offsets(batches, leader_epoch, now, &result);
  auto r = impl_->append(batches, records, now);
  if (!r) return r;
  r->log_append_time_ms = result.log_append_time_ms;
  return r;
}

Result<AppendResult> Log::append_as_follower(std::span<const std::uint8_t> batches) {
  auto guard = impl_->lock();
  if (auto r = impl_->parse_batches(batches); !r) return r.error();
  std::int64_t expected = impl_->log_end();
  std::int64_t records = 0;
  for (const BatchInfo& b : impl_->infos) {
    // Followers copy the leader's log: offsets continue the log end densely.
    if (b.base_offset != expected) return std::errc::invalid_argument;
    expected = b.next_offset;
    records += b.next_offset - b.base_offset;
  }
  return impl_->append(batches, records, impl_->rt.wall_now());
}

// Appends the batches described by `infos` (offsets assigned).
Result<AppendResult> Log::Impl::append(std::span<const std::uint8_t> bytes, std::int64_t records,
                                       WallTime now) {
  CASTLE_ASSERT(!infos.empty() && infos.front().base_offset == log_end(),
                "appends continue the log end");
  // The epoch cache first: a crash after it but before the data leaves an
  // entry past the log end, which the next open drops.
  for (const BatchInfo& b : infos) {
    const BatchView view(bytes.subspan(static_cast<std::size_t>(b.position), b.size_bytes));
    if (auto r = assign_epoch_of_batch(view.leader_epoch(), b.base_offset); !r) return r.error();
  }
  if (auto r = maybe_roll(bytes.size(), infos.back().next_offset, now); !r) return r.error();
  if (auto r = active().append(bytes, infos); !r) return r.error();
  tell_appended(bytes);
  if (!active().first_append_wall) active().first_append_wall = now;
  AppendResult result;
  result.base_offset = infos.front().base_offset;
  result.last_offset = infos.back().next_offset - 1;
  result.batches = static_cast<std::int32_t>(infos.size());
  unflushed_messages += records;
  if (auto r = maybe_flush(); !r) return r.error();
  return result;
}

void Log::Impl::tell_appended(std::span<const std::uint8_t> bytes) const {
  if (!observer) return;
  for (const BatchInfo& b : infos) {
    const BatchView view(bytes.subspan(static_cast<std::size_t>(b.position), b.size_bytes));
    observer->on_append(b.base_offset, b.next_offset - 1, view.crc());
  }
}

// Every change of the high watermark goes through here, so the observer
// sees each one.
void Log::Impl::set_hw(std::int64_t hw) {
  if (hw == high_watermark) return;
  high_watermark = hw;
  if (observer) observer->on_high_watermark(hw);
}

// Rolls before an append that would overflow the active segment: by size
// (log.segment.bytes), by age (log.roll.ms, measured with rt.wall_now()
// from the segment's first append in this process, not from record
// timestamps, which clients set), by a full offset index, or when relative
// offsets or positions would not fit 32 bits.
Result<void> Log::Impl::maybe_roll(std::uint64_t bytes, std::int64_t next_offset, WallTime now) {
  Segment& s = active();
  if (s.empty()) return ok_result();
  const bool by_size = s.size_bytes() + bytes > static_cast<std::uint64_t>(config.segment_bytes);
  const bool by_age =
      s.first_append_wall &&
      to_ms(now) - to_ms(*s.first_append_wall) >= config.roll_ms;
  const bool by_range = next_offset - s.base_offset() > static_cast<std::int64_t>(UINT32_MAX) ||
                        s.size_bytes() + bytes > UINT32_MAX;
  // Buggify: a roll early is legal and makes multi-segment reads,
  // truncations and recoveries common.
  if (!(by_size || by_age || by_range || s.index_full() || rt.buggify("log.roll_early", 0.5)))
    return ok_result();
  return roll_at(log_end());
}

Result<void> Log::Impl::roll_at(std::int64_t base) {
  if (!segments.empty()) {
    // The old segment's index entries reach its files now; they are synced
    // with the segment by the next flush.
    if (auto r = active().persist_indexes(); !r) return r;
  }
  auto s = Segment::create(disk, dir, base, segment_options());
  if (!s) return s.error();
  segments.push_back(std::move(*s));
  dir_dirty = true;
  return ok_result();
}

Result<void> Log::Impl::maybe_flush() {
  const bool by_count = unflushed_messages >= config.flush_interval_messages;
  // Kafka's default interval (the largest value) means never: no clock read.
  const bool by_time =
      config.flush_interval_ms != INT64_MAX &&
      std::chrono::duration_cast<milliseconds>(rt.now() - last_flush).count() >=
          config.flush_interval_ms;
  if (!by_count && !by_time) return ok_result();
  return flush();
}

// ---------------------------------------------------------------- flush and epochs

Result<void> Log::Impl::flush() {
  if (sync_failed) return std::errc::io_error;
  for (auto& s : segments) {
    if (!s->dirty()) continue;
    if (auto r = s->sync(); !r) {
      sync_failed = true;
      return r;
    }
  }
  if (dir_dirty) {
    if (auto r = disk.sync_dir(dir); !r) return r;
    dir_dirty = false;
  }
  recovery_point = log_end();
  if (observer) observer->on_durable(recovery_point);
  if (recovery_point != recovery_point_written) {
    if (auto r = write_offset_checkpoint(disk, path(recovery_point_file), recovery_point); !r)
      return r;
    recovery_point_written = recovery_point;
  }
  unflushed_messages = 0;
  last_flush = rt.now();
  // The records are durable and the recovery point says so: the append is
  // done. The high watermark checkpoint only says where a restart begins
  // (Kafka writes it lazily too); one that fails to write is retried by
  // the next flush. Failing the flush for it had the broker undo an append
  // the high watermark had counted already (cluster-swarm seed 29632).
  if (high_watermark != high_watermark_written &&
      write_offset_checkpoint(disk, path(high_watermark_file), high_watermark).ok())
    high_watermark_written = high_watermark;
  return ok_result();
}

// Every segment recovery validated (the one holding the recovery point and
// all after it), written again so that the next sync carries it.
Result<void> Log::Impl::rewrite_unsynced_segments() {
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const bool clean = i + 1 < segments.size() && segments[i + 1]->base_offset() <= recovery_point;
    if (clean) continue;
    if (auto r = segments[i]->rewrite(); !r) return r;
  }
  return ok_result();
}

// After a failed sync, a checkpoint that reads show may not be durable:
// every one is written again, so that the log goes on from state a crash
// keeps.
Result<void> Log::Impl::rewrite_checkpoints() {
  if (auto r = write_epochs(); !r) return r;
  if (auto r = write_offset_checkpoint(disk, path(log_start_file), log_start); !r) return r;
  recovery_point_written = -1;
  high_watermark_written = -1;
  return flush();
}

Result<void> Log::Impl::write_epochs() {
  std::vector<CheckpointEntry> entries;
  entries.reserve(epochs.size());
  for (const auto& e : epochs) entries.push_back({e.epoch, e.start_offset});
  return write_checkpoint(disk, path(epoch_file), entries);
}

// A new epoch starting at start_offset; epochs not above the latest are
// already known (or stale) and change nothing.
Result<void> Log::Impl::maybe_assign_epoch(std::int32_t epoch, std::int64_t start_offset) {
  if (epoch < 0) return ok_result();
  if (!epochs.empty() && epoch <= epochs.back().epoch) return ok_result();
  const auto before = epochs;
  // A new epoch supersedes entries that claim offsets from its start on.
  std::erase_if(epochs, [start_offset](const EpochEntry& e) { return e.start_offset >= start_offset; });
  epochs.push_back({epoch, start_offset});
  return write_epochs_or_restore(before);
}

// The cache in memory must not run ahead of its checkpoint: an append whose
// epoch could not be saved fails, and the cache stays as it was (else a
// restart would reuse an epoch that batches already carry).
Result<void> Log::Impl::write_epochs_or_restore(const std::vector<EpochEntry>& before) {
  auto r = write_epochs();
  if (!r) epochs = before;
  return r;
}

// A batch appended at base_offset (the log end): entries from there on hold
// no records yet, and one of another epoch was a leadership that wrote
// nothing here (or a write that failed after its entry was saved), so the
// batch's epoch takes their place. Otherwise as maybe_assign_epoch.
Result<void> Log::Impl::assign_epoch_of_batch(std::int32_t epoch, std::int64_t base_offset) {
  // Nearly every append: the latest entry is this epoch and starts at or
  // below the batch, so nothing drops and nothing is added (and the copy
  // below, an allocation per append, is not needed).
  if (!epochs.empty() && epochs.back().epoch == epoch && epochs.back().start_offset <= base_offset)
    return ok_result();
  const auto before = epochs;
  const bool dropped = std::erase_if(epochs, [&](const EpochEntry& e) {
    return e.start_offset >= base_offset && e.epoch != epoch;
  }) > 0;
  const bool added = epoch >= 0 && (epochs.empty() || epoch > epochs.back().epoch);
  if (added) epochs.push_back({epoch, base_offset});
  return dropped || added ? write_epochs_or_restore(before) : ok_result();
}

// Entries wholly below the log start collapse into one starting at it.
void Log::Impl::truncate_epochs_from_start(std::int64_t offset) {
  std::size_t below = 0;
  while (below < epochs.size() && epochs[below].start_offset < offset) ++below;
  if (below == 0) return;
  const bool next_starts_here = below < epochs.size() && epochs[below].start_offset == offset;
  EpochEntry kept{epochs[below - 1].epoch, offset};
  epochs.erase(epochs.begin(), epochs.begin() + static_cast<std::ptrdiff_t>(below));
  if (!next_starts_here) epochs.insert(epochs.begin(), kept);
}

// ---------------------------------------------------------------- deletion and truncation

// Deletes the n oldest segments (never the active one): log start first,
// then the files, then the directory entry.
Result<void> Log::Impl::delete_front_segments(std::size_t n) {
  CASTLE_ASSERT(n < segments.size(), "the active segment is never deleted");
  const std::int64_t new_start = std::max(log_start, segments[n]->base_offset());
  if (new_start != log_start) {
    if (auto r = write_offset_checkpoint(disk, path(log_start_file), new_start); !r) return r;
    log_start = new_start;
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (auto r = segments[i]->remove_files(); !r) return r;
  }
  segments.erase(segments.begin(), segments.begin() + static_cast<std::ptrdiff_t>(n));
  if (auto r = disk.sync_dir(dir); !r) return r;
  const auto before = epochs;
  truncate_epochs_from_start(log_start);
  if (!same_epochs(before, epochs)) return write_epochs();
  return ok_result();
}

// Empties the log and restarts it at offset (a truncation below the log start).
// What memory says follows the segments at once: a failure making the cut
// durable (the directory sync, a checkpoint) must not leave a high
// watermark above the log end behind it (cluster-swarm seed 12081: a
// follower's directory sync failed here, and it later led with its high
// watermark 18 over an empty log, which no consumer could read to).
Result<void> Log::Impl::truncate_fully(std::int64_t offset) {
  if (auto r = drop_segments_from(0); !r) return r;
  if (auto r = roll_at(offset); !r) return r;
  log_start = offset;
  if (observer) observer->on_truncate(0);
  set_hw(offset);
  std::erase_if(epochs, [offset](const EpochEntry& e) { return e.start_offset >= offset; });
  recovery_point = offset;
  if (auto r = disk.sync_dir(dir); !r) return r;  // dir_dirty stays: the next flush syncs it
  dir_dirty = false;
  if (auto r = write_offset_checkpoint(disk, path(log_start_file), offset); !r) return r;
  if (auto r = write_offset_checkpoint(disk, path(recovery_point_file), offset); !r) return r;
  recovery_point_written = offset;
  return write_epochs();
}

Result<void> Log::Impl::truncate(std::int64_t offset) {
  if (offset >= log_end()) {
    // No batch to cut, but an epoch that starts here holds no records: it
    // goes too (a follower that led an epoch without writing in it).
    const auto before = epochs.size();
    std::erase_if(epochs, [offset](const EpochEntry& e) { return e.start_offset >= offset; });
    return epochs.size() != before ? write_epochs() : ok_result();
  }
  if (offset <= log_start) return truncate_fully(offset);
  const std::int64_t end_before = log_end();
  std::size_t keep = segment_index_for(offset) + 1;
  if (segments[keep - 1]->base_offset() == offset && keep > 1) --keep;
  if (keep < segments.size()) {
    if (auto r = drop_segments_from(keep); !r) {
      settle_after_cut(end_before);
      return r;
    }
    // Failed, the cut goes on in memory all the same (see truncate_fully);
    // dir_dirty stays set for the next flush, and the error is returned.
    if (auto r = disk.sync_dir(dir); !r) {
      (void)active().truncate_to(offset);
      settle_after_cut(end_before);
      return r;
    }
    dir_dirty = false;
  }
  auto cut = active().truncate_to(offset);
  // A failed sync of the cut still leaves it made in memory and in the
  // file (Segment::truncate_to): say so, and keep the marks below it.
  if (!cut) {
    if (active().sync_failed()) sync_failed = true;  // as in flush
    if (log_end() == end_before) return cut;
  }
  if (observer) observer->on_truncate(offset);
  // An emptied segment starts its age again with its next first append.
  if (active().empty()) active().first_append_wall.reset();
  const std::int64_t end = log_end();
  set_hw(std::min(high_watermark, end));
  if (!cut) {
    recovery_point = std::min(recovery_point, end);
    return cut;
  }
  if (recovery_point > end) {
    recovery_point = end;
    if (auto r = write_offset_checkpoint(disk, path(recovery_point_file), end); !r) return r;
    recovery_point_written = end;
  }
  const auto before = epochs.size();
  std::erase_if(epochs, [end](const EpochEntry& e) { return e.start_offset >= end; });
  if (epochs.size() != before) return write_epochs();
  return ok_result();
}

// After a cut that failed part way: the observer hears of it, and the high
// watermark and recovery point come down to the log end.
void Log::Impl::settle_after_cut(std::int64_t end_before) {
  const std::int64_t end = log_end();
  if (end >= end_before) return;
  if (observer) observer->on_truncate(end);
  set_hw(std::min(high_watermark, end));
  recovery_point = std::min(recovery_point, end);
  std::erase_if(epochs, [end](const EpochEntry& e) { return e.start_offset >= end; });
}

// The segment that holds offset: the last one starting at or below it.
std::size_t Log::Impl::segment_index_for(std::int64_t offset) const {
  auto it = std::upper_bound(segments.begin(), segments.end(), offset,
                             [](std::int64_t o, const std::unique_ptr<Segment>& s) {
                               return o < s->base_offset();
                             });
  CASTLE_ASSERT(it != segments.begin(), "offset below the first segment");
  return static_cast<std::size_t>(std::prev(it) - segments.begin());
}

Result<int> Log::Impl::enforce_retention() {
  const std::int64_t now_ms = to_ms(rt.wall_now());
  std::int64_t total = 0;
  for (const auto& s : segments) total += static_cast<std::int64_t>(s->size_bytes());
  std::size_t n = 0;
  for (; n + 1 < segments.size(); ++n) {
    const Segment& s = *segments[n];
    if (segments[n + 1]->base_offset() > high_watermark) break;  // holds uncommitted records
    // A segment without timestamps (-1) is never old by time: its age is unknown.
    const bool by_time = config.retention_ms >= 0 && s.max_timestamp() >= 0 &&
                         s.max_timestamp() < now_ms - config.retention_ms;
    const bool by_bytes = config.retention_bytes >= 0 &&
                          total - static_cast<std::int64_t>(s.size_bytes()) >=
                              config.retention_bytes;
    if (!by_time && !by_bytes) break;
    total -= static_cast<std::int64_t>(s.size_bytes());
  }
  if (n == 0) return 0;
  if (auto r = delete_front_segments(n); !r) return r.error();
  return static_cast<int>(n);
}

// ---------------------------------------------------------------- reads

// The partition leader epoch lies outside the CRC (the broker assigns it),
// so a bit flipped there passes the checksum. Each batch read must carry
// the epoch the epoch cache says covers its base offset; offsets before the
// cache's first entry are not checked.
bool Log::Impl::epochs_agree(std::span<const std::uint8_t> bytes) const {
  std::size_t at = 0;
  while (at + batch_header_bytes <= bytes.size()) {
    const BatchView view(bytes.subspan(at));
    const std::int64_t base = view.base_offset();
    auto covering = std::upper_bound(epochs.begin(), epochs.end(), base,
                                     [](std::int64_t o, const EpochEntry& e) { return o < e.start_offset; });
    if (covering != epochs.begin() && std::prev(covering)->epoch != view.leader_epoch()) return false;
    at += view.size_bytes();
  }
  return true;
}

Result<ReadResult> Log::Impl::read(std::int64_t offset, std::size_t max_bytes,
                                   std::optional<std::int64_t> max_offset,
                                   std::vector<std::uint8_t> reuse) {
  if (offset < log_start || offset > log_end()) return std::errc::result_out_of_range;
  ReadResult result;
  result.next_offset = offset;
  result.log_start_offset = log_start;
  result.log_end_offset = log_end();
  if (offset == log_end() || (max_offset && *max_offset <= offset)) return result;
  // Offsets are dense across segments, so the segment holding offset has a
  // batch for it; the loop only steps over empty segments.
  for (std::size_t i = segment_index_for(offset); i < segments.size(); ++i) {
    auto bytes = segments[i]->read(std::move(reuse), offset, max_bytes, max_offset,
                                   &result.next_offset);
    if (!bytes) return bytes.error();
    if (!bytes->empty() || segments[i]->next_offset() > offset) {
      if (!epochs_agree(*bytes)) return segment_corrupt;
      result.bytes = std::move(*bytes);
      break;
    }
    reuse = std::move(*bytes);
  }
  return result;
}

// ---------------------------------------------------------------- public surface

Result<ReadResult> Log::read(std::int64_t offset, std::size_t max_bytes,
                             std::optional<std::int64_t> max_offset,
                             std::vector<std::uint8_t> reuse) {
  auto guard = impl_->lock();
  return impl_->read(offset, max_bytes, max_offset, std::move(reuse));
}

Result<std::optional<std::int64_t>> Log::offset_for_timestamp(std::int64_t ts) {
  auto guard = impl_->lock();
  for (auto& s : impl_->segments) {
    if (s->next_offset() <= impl_->log_start || s->max_timestamp() < ts) continue;
    auto found = s->find_timestamp(ts);
    if (!found) return found.error();
    if (*found) return std::optional<std::int64_t>(std::max(**found, impl_->log_start));
  }
  return std::optional<std::int64_t>();
}

Result<void> Log::truncate_to(std::int64_t offset) {
  auto guard = impl_->lock();
  if (offset < 0) return std::errc::invalid_argument;
  return impl_->truncate(offset);
}

Result<void> Log::undo_append(std::int64_t end_before) {
  if (impl_->sync_failed) return std::errc::io_error;
  if (log_end_offset() == end_before) return ok_result();
  return truncate_to(end_before);
}

Result<void> Log::truncate_fully_and_start_at(std::int64_t offset) {
  auto guard = impl_->lock();
  if (offset < 0) return std::errc::invalid_argument;
  // Nothing of the old epochs describes the records that will follow.
  impl_->epochs.clear();
  return impl_->truncate_fully(offset);
}

Result<void> Log::delete_records_before(std::int64_t offset) {
  auto guard = impl_->lock();
  if (offset < 0 || offset > impl_->log_end()) return std::errc::result_out_of_range;
  if (offset <= impl_->log_start) return ok_result();
  if (auto r = write_offset_checkpoint(impl_->disk, impl_->path(log_start_file), offset); !r)
    return r;
  impl_->log_start = offset;
  impl_->set_hw(std::max(impl_->high_watermark, offset));
  std::size_t below = 0;
  auto& segs = impl_->segments;
  while (below + 1 < segs.size() && segs[below + 1]->base_offset() <= offset) ++below;
  if (below > 0) return impl_->delete_front_segments(below);
  const auto before = impl_->epochs;
  impl_->truncate_epochs_from_start(offset);
  if (!same_epochs(before, impl_->epochs)) return impl_->write_epochs();
  return ok_result();
}

Result<void> Log::roll() {
  auto guard = impl_->lock();
  if (impl_->active().empty()) return ok_result();
  return impl_->roll_at(impl_->log_end());
}

Result<void> Log::flush() {
  auto guard = impl_->lock();
  return impl_->flush();
}

Result<int> Log::enforce_retention() {
  auto guard = impl_->lock();
  return impl_->enforce_retention();
}

std::int64_t Log::log_start_offset() const { return impl_->log_start; }
std::int64_t Log::log_end_offset() const { return impl_->log_end(); }
std::int64_t Log::recovery_point() const { return impl_->recovery_point; }
bool Log::sync_failed() const { return impl_->sync_failed; }
std::int64_t Log::committable_end() const {
  const bool every_write = impl_->config.flush_interval_messages <= 1 || impl_->config.flush_interval_ms == 0;
  // The checkpointed recovery point, not the one in memory: after a failed
  // sync the log comes back cut at the checkpoint, and a flush whose
  // checkpoint failed to write fails, and its append is undone.
  return every_write ? std::min(impl_->recovery_point_written, impl_->log_end()) : impl_->log_end();
}
std::int64_t Log::high_watermark() const { return impl_->high_watermark; }
bool Log::cut_on_open() const { return impl_->cut_on_open; }

Result<void> Log::set_high_watermark(std::int64_t hw) {
  if (hw < impl_->log_start || hw > impl_->log_end()) return std::errc::result_out_of_range;
  impl_->set_hw(hw);
  return ok_result();
}

void Log::set_observer(LogObserver* observer) { impl_->observer = observer; }

Result<void> Log::assign_epoch(std::int32_t epoch, std::int64_t start_offset) {
  auto guard = impl_->lock();
  // An epoch starting below the log end would claim batches written in
  // another epoch, which reads take for corruption (epochs_agree).
  if (epoch < 0 || start_offset < impl_->log_end()) return std::errc::invalid_argument;
  return impl_->maybe_assign_epoch(epoch, start_offset);
}

const std::vector<EpochEntry>& Log::epochs() const { return impl_->epochs; }

// The largest known epoch <= the requested one, and where the next epoch
// starts (or the log end for the latest). nullopt when the requested epoch
// is older than every known one.
std::optional<std::pair<std::int32_t, std::int64_t>> Log::end_offset_for_epoch(
    std::int32_t epoch) const {
  const auto& epochs = impl_->epochs;
  auto it = std::upper_bound(epochs.begin(), epochs.end(), epoch,
                             [](std::int32_t e, const EpochEntry& x) { return e < x.epoch; });
  if (it == epochs.begin()) return std::nullopt;
  const std::int64_t end = it == epochs.end() ? impl_->log_end() : it->start_offset;
  return std::make_pair(std::prev(it)->epoch, end);
}

std::size_t Log::segment_count() const { return impl_->segments.size(); }

std::vector<SegmentInfo> Log::segment_infos() const {
  std::vector<SegmentInfo> out;
  for (const auto& s : impl_->segments)
    out.push_back({s->base_offset(), s->next_offset(), static_cast<std::int64_t>(s->size_bytes()),
                   s->max_timestamp()});
  return out;
}

std::int64_t Log::size_bytes() const {
  std::int64_t total = 0;
  for (const auto& s : impl_->segments) total += static_cast<std::int64_t>(s->size_bytes());
  return total;
}

}  // namespace castle::storage
