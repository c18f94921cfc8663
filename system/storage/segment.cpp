#include "system/storage/segment.h"

#include <algorithm>
#include <cstdio>

namespace castle::storage {

namespace {

// Recovery and rebuild scans read the segment sequentially in chunks of
// this size; lookups and reads read a smaller window (see skip_bytes).
constexpr std::size_t scan_chunk_bytes = 1 << 20;
constexpr std::size_t lookup_chunk_bytes_min = 16 << 10;

// How far past an offset index entry a lookup, or a read within its one
// pread, looks for the batch it wants: the batch holding an offset starts
// at most an index interval plus one batch after the entry below it.
std::size_t skip_bytes(std::int64_t index_interval_bytes) {
  return std::max<std::size_t>(lookup_chunk_bytes_min,
                               2 * static_cast<std::size_t>(index_interval_bytes));
}

// A read window over a file, so that a scan of many small batches costs one
// read per chunk rather than one per batch.
class ChunkReader {
 public:
  ChunkReader(File& file, std::uint64_t file_size, std::size_t chunk_bytes)
      : file_(file), file_size_(file_size), chunk_bytes_(chunk_bytes) {}

  // Up to n bytes at pos (fewer only at the end of the file).
  Result<std::span<const std::uint8_t>> get(std::uint64_t pos, std::size_t n) {
    CASTLE_ASSERT(pos <= file_size_, "read past the segment end");
    n = static_cast<std::size_t>(std::min<std::uint64_t>(n, file_size_ - pos));
    if (pos < buf_pos_ || pos + n > buf_pos_ + buf_.size()) {
      const auto want = std::min<std::uint64_t>(std::max(n, chunk_bytes_), file_size_ - pos);
      buf_.resize(static_cast<std::size_t>(want));
      auto got = file_.pread(pos, buf_);
      if (!got) return got.error();
      buf_.resize(*got);
      buf_pos_ = pos;
      if (*got < n) return std::errc::io_error;  // the file is shorter than it was
    }
    return std::span<const std::uint8_t>(buf_).subspan(static_cast<std::size_t>(pos - buf_pos_),
                                                        n);
  }

 private:
  File& file_;
  std::uint64_t file_size_;
  std::size_t chunk_bytes_;
  std::vector<std::uint8_t> buf_;
  std::uint64_t buf_pos_ = 0;
};

}  // namespace

std::string Segment::file_name(std::int64_t base_offset, const char* suffix) {
  CASTLE_ASSERT(base_offset >= 0, "segment base offsets are non-negative");
  char name[32];
  std::snprintf(name, sizeof name, "%020lld", static_cast<long long>(base_offset));
  return std::string(name) + suffix;
}

Segment::Segment(Disk& disk, std::string dir, std::int64_t base_offset, SegmentOptions options)
    : disk_(disk),
      dir_(std::move(dir)),
      base_offset_(base_offset),
      options_(options),
      next_offset_(base_offset),
      index_(options.index_entries_max) {
  forget_read_ends();
}

Segment::~Segment() {
  if (log_) log_->close();
  if (index_file_) index_file_->close();
  if (time_file_) time_file_->close();
}

std::string Segment::path(const char* suffix) const {
  return join_path(dir_, file_name(base_offset_, suffix));
}

std::uint32_t Segment::relative(std::int64_t offset) const {
  CASTLE_ASSERT(offset >= base_offset_ && offset - base_offset_ <= UINT32_MAX,
                "offset outside the segment's relative range");
  return static_cast<std::uint32_t>(offset - base_offset_);
}

Result<void> Segment::open_files(OpenMode mode) {
  auto log = disk_.open(path(".log"), mode);
  if (!log) return log.error();
  // Index files may be missing (they are rebuilt), so they are created.
  const OpenMode index_mode = mode == OpenMode::read_write ? OpenMode::create : mode;
  auto index = disk_.open(path(".index"), index_mode);
  if (!index) return index.error();
  auto time = disk_.open(path(".timeindex"), index_mode);
  if (!time) return time.error();
  log_ = std::move(*log);
  index_file_ = std::move(*index);
  time_file_ = std::move(*time);
  return ok_result();
}

Result<std::unique_ptr<Segment>> Segment::create(Disk& disk, const std::string& dir,
                                                 std::int64_t base_offset,
                                                 SegmentOptions options) {
  std::unique_ptr<Segment> s(new Segment(disk, dir, base_offset, options));
  if (auto r = s->open_files(OpenMode::create_truncate); !r) return r.error();
  return s;
}

Result<std::unique_ptr<Segment>> Segment::open(Disk& disk, const std::string& dir,
                                               std::int64_t base_offset, SegmentOptions options) {
  std::unique_ptr<Segment> s(new Segment(disk, dir, base_offset, options));
  if (auto r = s->open_files(OpenMode::read_write); !r) return r.error();
  auto size = s->log_->size();
  if (!size) return size.error();
  s->size_bytes_ = *size;
  return s;
}

void Segment::reset_indexes() {
  forget_read_ends();
  index_.clear();
  time_index_.clear();
  index_.mark_file_empty();
  time_index_.mark_file_empty();
  indexes_dirty_ = true;
  bytes_since_index_ = 0;
  max_timestamp_ = -1;
}

// The single place index entries are made, for appends and rebuilds alike,
// so a rebuilt index equals the one the appends produced.
void Segment::index_batch(const BatchInfo& b) {
  max_timestamp_ = std::max(max_timestamp_, b.max_timestamp);
  if (bytes_since_index_ >= static_cast<std::uint64_t>(options_.index_interval_bytes) &&
      !index_.full()) {
    const std::uint32_t rel = relative(b.base_offset);
    index_.append({rel, static_cast<std::uint32_t>(b.position)});
    time_index_.maybe_append({max_timestamp_, rel});
    indexes_dirty_ = true;
    bytes_since_index_ = 0;
  }
  bytes_since_index_ += b.size_bytes;
}

// Walks the batches from `from` (which must start one, at from_offset) to
// the end of the file or the first bad batch, handing each to on_batch
// (which returns false to stop).
Result<ScanOutcome> Segment::scan(std::uint64_t from, std::int64_t from_offset, bool verify_crc,
                                  std::size_t chunk_bytes,
                                  const std::function<bool(const BatchInfo&)>& on_batch) {
  ChunkReader reader(*log_, size_bytes_, chunk_bytes);
  ScanOutcome out{from, from_offset, ScanStop::end_of_file, BatchError::ok};
  while (out.end_position < size_bytes_) {
    auto head = reader.get(out.end_position, batch_header_bytes);
    if (!head) return head.error();
    std::size_t size = BatchView::size_from_prefix(*head);
    if (size == 0 || head->size() < batch_header_bytes) size = batch_header_bytes;
    auto whole = reader.get(out.end_position, size);
    if (!whole) return whole.error();
    const BatchView view(*whole);
    out.error = view.validate(verify_crc);
    if (out.error != BatchError::ok) {
      out.stop = ScanStop::bad_batch;
      return out;
    }
    if (view.base_offset() != out.next_offset ||
        view.next_offset() - base_offset_ > static_cast<std::int64_t>(UINT32_MAX)) {
      out.stop = ScanStop::discontiguous;
      return out;
    }
    const BatchInfo info{view.base_offset(), view.next_offset(), view.max_timestamp(),
                         out.end_position, static_cast<std::uint32_t>(size)};
    if (!on_batch(info)) {
      out.stop = ScanStop::stopped_by_caller;
      return out;
    }
    out.end_position += size;
    out.next_offset = info.next_offset;
  }
  return out;
}

Result<ScanOutcome> Segment::recover() {
  reset_indexes();
  log_dirty_ = true;  // validated, but maybe not yet durable (a process restart)
  auto out = scan(0, base_offset_, /*verify_crc=*/true, scan_chunk_bytes,
                  [this](const BatchInfo& b) {
                    index_batch(b);
                    return true;
                  });
  if (!out) return out.error();
  next_offset_ = out->next_offset;
  return out;
}

Result<void> Segment::cut_tail(const ScanOutcome& outcome) {
  CASTLE_ASSERT(outcome.end_position <= size_bytes_, "cut beyond the segment end");
  if (auto r = log_->truncate(outcome.end_position); !r) return r;
  if (auto r = log_->datasync(); !r) return r;
  size_bytes_ = outcome.end_position;
  next_offset_ = outcome.next_offset;
  forget_read_ends();
  index_.truncate_from_position(size_bytes_);
  return persist_indexes();
}

Result<void> Segment::rewrite() {
  std::vector<std::uint8_t> buf;
  for (std::uint64_t at = 0; at < size_bytes_;) {
    buf.resize(static_cast<std::size_t>(std::min<std::uint64_t>(scan_chunk_bytes, size_bytes_ - at)));
    auto n = log_->pread(at, buf);
    if (!n) return n.error();
    if (*n != buf.size()) return std::errc::io_error;  // shorter than recover() found it
    if (auto r = log_->pwrite(at, buf); !r) return r;
    at += buf.size();
  }
  log_dirty_ = true;
  return ok_result();
}

Result<bool> Segment::load_clean(std::int64_t end_offset) {
  auto matches = indexes_match(end_offset);
  if (!matches) return matches.error();
  if (*matches) return false;
  if (auto r = rebuild_indexes(end_offset); !r) return r.error();
  return true;
}

// Loads both index files and checks them against the segment: sane
// entries, the last offset entry on a batch start, and a header scan from
// there reaching the end of the file at end_offset. The scan also restores
// the segment's max timestamp and index spacing.
Result<bool> Segment::indexes_match(std::int64_t end_offset) {
  auto index_bytes = read_whole_file(disk_, path(".index"));
  auto time_bytes = read_whole_file(disk_, path(".timeindex"));
  if (!index_bytes || !time_bytes) return false;
  if (!index_.decode(*index_bytes) || !time_index_.decode(*time_bytes)) return false;
  const auto& entries = index_.entries();
  const auto& times = time_index_.entries();
  if (entries.empty() != times.empty()) return false;
  if (!entries.empty()) {
    if (entries.back().position >= size_bytes_ ||
        times.back().relative_offset > entries.back().relative_offset ||
        base_offset_ + entries.back().relative_offset >= end_offset)
      return false;
  }
  next_offset_ = end_offset;
  auto complete = recompute_tail();
  if (!complete) return complete.error() == segment_corrupt ? Result<bool>(false) : complete.error();
  return *complete && next_offset_ == end_offset;
}

// Rescans from the last offset index entry to the end of the file: the
// segment's end offset, max timestamp and index spacing. Before that entry
// the time index already holds the max timestamp (see time_index.h).
// Returns whether the index is complete: false if appends would have made
// an entry in the scanned tail (a truncated or missing index file).
Result<bool> Segment::recompute_tail() {
  const bool has_entry = !index_.entries().empty();
  const OffsetEntry last = has_entry ? index_.entries().back() : OffsetEntry{};
  std::int64_t max_ts = time_index_.entries().empty() ? -1 : time_index_.entries().back().timestamp;
  std::uint64_t since = 0;
  bool complete = true;
  bool first = true;
  const auto interval = static_cast<std::uint64_t>(options_.index_interval_bytes);
  auto out = scan(last.position, base_offset_ + last.relative_offset, false, scan_chunk_bytes,
                  [&](const BatchInfo& b) {
                    // Mirrors index_batch(): the entry's own batch restarts the count.
                    if (!(first && has_entry) && since >= interval && !index_.full())
                      complete = false;
                    since = (first && has_entry) ? b.size_bytes : since + b.size_bytes;
                    first = false;
                    max_ts = std::max(max_ts, b.max_timestamp);
                    return true;
                  });
  if (!out) return out.error();
  if (out->stop != ScanStop::end_of_file) return segment_corrupt;
  next_offset_ = out->next_offset;
  max_timestamp_ = max_ts;
  bytes_since_index_ = size_bytes_ - last.position;
  return complete;
}

Result<void> Segment::rebuild_indexes(std::int64_t end_offset) {
  reset_indexes();
  auto out = scan(0, base_offset_, /*verify_crc=*/false, scan_chunk_bytes,
                  [this](const BatchInfo& b) {
                    index_batch(b);
                    return true;
                  });
  if (!out) return out.error();
  if (out->stop != ScanStop::end_of_file || out->next_offset != end_offset) return segment_corrupt;
  next_offset_ = out->next_offset;
  return persist_indexes();
}

Result<void> Segment::append(std::span<const std::uint8_t> bytes,
                             std::span<const BatchInfo> infos) {
  CASTLE_ASSERT(!infos.empty() && infos.front().base_offset == next_offset_,
                "appends continue the segment's offsets");
  CASTLE_ASSERT(size_bytes_ + bytes.size() <= UINT32_MAX, "segment positions fit 32 bits");
  if (auto r = log_->pwrite(size_bytes_, bytes); !r) {
    (void)log_->truncate(size_bytes_);  // best effort: the size we track is what counts
    return r;
  }
  for (BatchInfo b : infos) {
    b.position += size_bytes_;
    index_batch(b);
  }
  size_bytes_ += bytes.size();
  next_offset_ = infos.back().next_offset;
  log_dirty_ = true;
  return ok_result();
}

Result<std::optional<BatchInfo>> Segment::locate(std::int64_t offset) {
  if (offset >= next_offset_) return std::optional<BatchInfo>();
  const OffsetEntry e = index_.lookup(relative(std::max(offset, base_offset_)));
  std::optional<BatchInfo> found;
  const std::size_t chunk = skip_bytes(options_.index_interval_bytes);
  // Every batch passed on the way is checked (at most an index interval's
  // bytes): a flipped offset delta would otherwise claim the offset, and a
  // truncation to it cut good batches after a damaged one silently.
  auto out = scan(e.position, base_offset_ + e.relative_offset, /*verify_crc=*/true, chunk,
                  [&found, offset](const BatchInfo& b) {
                    if (b.next_offset <= offset) return true;
                    found = b;
                    return false;
                  });
  if (!out) return out.error();
  if (!found) return segment_corrupt;  // the tracked end says a batch holds offset
  return found;
}

// The nearest batch start at or below offset known without reading: the
// end of a recent read (a consumer reading on from there) or the offset
// index entry.
Segment::BatchStart Segment::nearest_start(std::int64_t offset) const {
  const OffsetEntry e = index_.lookup(relative(std::max(offset, base_offset_)));
  BatchStart best{base_offset_ + e.relative_offset, e.position};
  for (const BatchStart& h : read_ends_)
    if (h.offset <= offset && h.offset > best.offset) best = h;
  return best;
}

void Segment::note_read_end(BatchStart end) {
  read_ends_[next_read_end_] = end;
  next_read_end_ = (next_read_end_ + 1) % read_ends_.size();
}

void Segment::forget_read_ends() { read_ends_.fill(BatchStart{-1, 0}); }

// buf := up to n bytes of the file at pos (fewer only past the segment end).
Result<void> Segment::pread_into(std::vector<std::uint8_t>& buf, std::uint64_t pos, std::size_t n) {
  buf.resize(static_cast<std::size_t>(std::min<std::uint64_t>(n, size_bytes_ - pos)));
  auto got = log_->pread(pos, buf);
  if (!got) return got.error();
  if (*got != buf.size()) return std::errc::io_error;  // the file is shorter than tracked
  return ok_result();
}

// Fills buf with the bytes from the batch holding `offset` on: that whole
// batch and up to max_bytes in all. The pread starts at `from`, a known
// batch start at or below offset, reading a little more when it is not the
// batch itself (the index is sparse) so that one pread both finds the batch
// and reads the data; the batches before it are then dropped. A batch
// further away than that, or larger than max_bytes, costs another pread.
// Returns where the batch starts.
Result<Segment::BatchStart> Segment::read_from(BatchStart from, std::int64_t offset,
                                               std::size_t max_bytes,
                                               std::vector<std::uint8_t>& buf) {
  const std::size_t want = std::max(max_bytes, batch_header_bytes);
  for (;;) {
    const std::size_t slack =
        from.offset == offset ? 0 : skip_bytes(options_.index_interval_bytes);
    if (auto r = pread_into(buf, from.position, slack + want); !r) return r.error();
    std::size_t at = 0;
    std::int64_t at_offset = from.offset;
    // Step over the batches wholly before offset, by their headers. A
    // batch may end past the window (a large one, or a corrupt length):
    // at can pass buf.size(), so compare sums, never differences.
    while (at + batch_header_bytes <= buf.size()) {
      const std::span<const std::uint8_t> rest = std::span<const std::uint8_t>(buf).subspan(at);
      const BatchView head(rest);
      const std::size_t size = BatchView::size_from_prefix(rest);
      if (size == 0 || head.magic() != batch_magic_v2 || head.base_offset() != at_offset)
        return segment_corrupt;
      if (head.next_offset() > offset) break;
      at += size;
      at_offset = head.next_offset();
    }
    const BatchStart found{at_offset, from.position + at};
    if (at + batch_header_bytes > buf.size()) {
      // The window ended first: go on from the last batch start seen.
      if (found.position + batch_header_bytes > size_bytes_) return segment_corrupt;
      from = found;
      continue;
    }
    const std::size_t size = BatchView::size_from_prefix(std::span(buf).subspan(at));
    if (found.position + size > size_bytes_) return segment_corrupt;
    if (at + size > buf.size()) {
      // Larger than planned: read it whole from its start.
      if (auto r = pread_into(buf, found.position, std::max(want, size)); !r) return r.error();
      return found;
    }
    buf.erase(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(at));
    return found;
  }
}

// How much of buf (which begins with the batch at first_offset) a read
// returns: whole batches, the first always (unless it reaches max_offset),
// the rest while within max_bytes and below max_offset. Every batch kept
// passed its CRC: a bad first batch is segment_corrupt; a bad later one
// ends the read, and the next read, starting at it, reports it.
Result<std::size_t> Segment::valid_prefix(std::span<const std::uint8_t> buf,
                                          std::int64_t first_offset, std::size_t max_bytes,
                                          std::optional<std::int64_t> max_offset,
                                          std::int64_t* next_offset) {
  std::size_t at = 0;
  std::int64_t expected = first_offset;
  while (at < buf.size()) {
    const std::span<const std::uint8_t> rest = buf.subspan(at);
    const std::size_t size = BatchView::size_from_prefix(rest);
    if (size == 0 || size > rest.size() || (at > 0 && at + size > max_bytes)) break;
    const BatchView view(rest.first(size));
    if (view.validate(true) != BatchError::ok || view.base_offset() != expected) {
      if (at == 0) return segment_corrupt;
      break;
    }
    if (max_offset && view.next_offset() > *max_offset) break;
    at += size;
    expected = view.next_offset();
  }
  *next_offset = expected;
  return at;
}

Result<std::vector<std::uint8_t>> Segment::read(std::vector<std::uint8_t> buf,
                                                std::int64_t offset, std::size_t max_bytes,
                                                std::optional<std::int64_t> max_offset,
                                                std::int64_t* next_offset) {
  *next_offset = offset;
  if (offset >= next_offset_) {
    buf.clear();
    return buf;
  }
  auto first = read_from(nearest_start(offset), offset, max_bytes, buf);
  if (!first) return first.error();
  auto kept = valid_prefix(buf, first->offset, max_bytes, max_offset, next_offset);
  if (!kept) return kept.error();
  buf.resize(*kept);
  if (*kept == 0) *next_offset = offset;  // the first batch reaches max_offset
  else note_read_end({*next_offset, first->position + *kept});
  return buf;
}

Result<std::optional<std::int64_t>> Segment::find_timestamp(std::int64_t ts) {
  if (empty() || max_timestamp_ < ts) return std::optional<std::int64_t>();
  const auto entry = time_index_.lookup_below(ts);
  auto start = locate(base_offset_ + (entry ? entry->relative_offset : 0));
  if (!start) return start.error();
  if (!*start) return segment_corrupt;
  std::optional<std::int64_t> found;
  const std::size_t chunk = skip_bytes(options_.index_interval_bytes);
  auto out = scan((*start)->position, (*start)->base_offset, false, chunk,
                  [&found, ts](const BatchInfo& b) {
                    if (b.max_timestamp < ts) return true;
                    found = b.base_offset;
                    return false;
                  });
  if (!out) return out.error();
  return found;
}

Result<void> Segment::truncate_to(std::int64_t offset) {
  auto at = locate(offset);
  if (!at) return at.error();
  if (!*at) return ok_result();
  const BatchInfo cut = **at;
  if (auto r = log_->truncate(cut.position); !r) return r;
  // The file is cut: the segment says so before the sync, so that a failed
  // sync leaves it agreeing with its file (a retry finds nothing to cut),
  // and dirty, so that the next sync makes the cut durable.
  size_bytes_ = cut.position;
  next_offset_ = cut.base_offset;
  log_dirty_ = true;
  forget_read_ends();
  index_.truncate_from(relative(cut.base_offset));
  time_index_.truncate_from(relative(cut.base_offset));
  indexes_dirty_ = true;
  if (auto r = recompute_tail(); !r) return r.error();
  if (auto r = log_->datasync(); !r) {
    sync_failed_ = true;
    return r;
  }
  log_dirty_ = false;
  return persist_indexes();
}

Result<void> Segment::persist_indexes() {
  if (auto r = index_.persist(*index_file_); !r) return r;
  return time_index_.persist(*time_file_);
}

Result<void> Segment::sync() {
  if (log_dirty_) {
    if (auto r = log_->datasync(); !r) {
      sync_failed_ = true;
      return r;
    }
    log_dirty_ = false;
  }
  if (indexes_dirty_) {
    if (auto r = persist_indexes(); !r) return r;
    if (auto r = index_file_->datasync(); !r) return r;
    if (auto r = time_file_->datasync(); !r) return r;
    indexes_dirty_ = false;
  }
  return ok_result();
}

Result<void> Segment::remove_files() {
  log_->close();
  index_file_->close();
  time_file_->close();
  log_.reset();
  index_file_.reset();
  time_file_.reset();
  for (const char* suffix : {".log", ".index", ".timeindex"}) {
    if (auto r = disk_.remove(path(suffix)); !r && r.error() != std::errc::no_such_file_or_directory)
      return r;
  }
  return ok_result();
}

}  // namespace castle::storage
