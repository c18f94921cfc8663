#include "system/raft/raft_log.h"

#include "system/storage/batch.h"
#include "system/storage/batch_builder.h"

namespace castle::raft {

namespace {

storage::LogConfig raft_log_config() {
  storage::LogConfig config;
  config.segment_bytes = 8 << 20;  // small segments, so compaction frees space
  config.retention_ms = -1;        // Raft decides what goes, never time
  return config;
}

}  // namespace

// The three ways of opening differ only in how the storage log recovers.
template <class Opener>
Result<std::unique_ptr<RaftLog>> RaftLog::open_with(Runtime& rt, const std::string& dir, Opener open) {
  auto log = open(rt, dir, raft_log_config());
  if (!log) return log.error();
  return std::unique_ptr<RaftLog>(new RaftLog(std::move(*log)));
}

Result<std::unique_ptr<RaftLog>> RaftLog::open(Runtime& rt, const std::string& dir) {
  return open_with(rt, dir, &storage::Log::open);
}

Result<std::unique_ptr<RaftLog>> RaftLog::open_cutting_unsynced(Runtime& rt, const std::string& dir) {
  return open_with(rt, dir, &storage::Log::open_cutting_unsynced);
}

Result<std::unique_ptr<RaftLog>> RaftLog::open_salvaging(Runtime& rt, const std::string& dir) {
  return open_with(rt, dir, &storage::Log::open_salvaging);
}

std::optional<std::int64_t> RaftLog::term_at(std::int64_t index) const {
  if (index == 0) return 0;
  if (index <= base_index() || index > last_index()) return std::nullopt;
  const auto& epochs = log_->epochs();
  std::optional<std::int64_t> term;
  for (const auto& e : epochs) {
    if (e.start_offset > index - 1) break;
    term = e.epoch;
  }
  CASTLE_ASSERT(term.has_value(), "every held entry has a term in the epoch cache");
  return term;
}

std::optional<std::int64_t> RaftLog::first_index_of_term(std::int64_t term) const {
  for (const auto& e : log_->epochs())
    if (e.epoch == term) return std::max(e.start_offset + 1, base_index() + 1);
  return std::nullopt;
}

std::int64_t RaftLog::last_term_or(std::int64_t base_term) const {
  if (last_index() == base_index()) return base_term;
  return *term_at(last_index());
}

Result<std::int64_t> RaftLog::append(std::span<const std::uint8_t> data, std::int64_t term) {
  CASTLE_ASSERT(term > 0 && term <= INT32_MAX, "a term fits the batch's leader epoch");
  storage::Record rec;
  rec.value = Bytes(data.begin(), data.end());
  const Bytes batch = storage::build_batch(std::span(&rec, 1));
  auto r = log_->append_as_leader(batch, static_cast<std::int32_t>(term));
  if (!r) return r.error();
  CASTLE_ASSERT(r->base_offset + 1 == last_index(), "one entry appended at the end");
  return r->base_offset + 1;
}

Result<void> RaftLog::append_batches(std::span<const std::uint8_t> batches) {
  auto r = log_->append_as_follower(batches);
  if (!r) return r.error();
  return {};
}

Result<void> RaftLog::truncate_after(std::int64_t index) {
  CASTLE_ASSERT(index >= base_index(), "never truncate into a snapshot");
  return log_->truncate_to(index);
}

Result<void> RaftLog::compact_through(std::int64_t index) {
  if (index <= base_index()) return {};
  return log_->delete_records_before(std::min(index, last_index()));
}

Result<void> RaftLog::reset_to(std::int64_t index) {
  return log_->truncate_fully_and_start_at(index);
}

Result<Bytes> RaftLog::read_batches(std::int64_t from, std::int64_t to, std::size_t max_bytes) {
  if (from > to) return Bytes{};
  auto r = log_->read(from - 1, max_bytes, to);
  if (!r) return r.error();
  return std::move(r->bytes);
}

Result<std::vector<LogEntry>> RaftLog::read_entries(std::int64_t from, std::int64_t to,
                                                    std::size_t max_bytes) {
  auto bytes = read_batches(from, to, max_bytes);
  if (!bytes) return bytes.error();
  auto entries = decode_entries(*bytes);
  if (!entries) return std::errc::illegal_byte_sequence;
  return std::move(*entries);
}

std::optional<std::vector<LogEntry>> decode_entries(std::span<const std::uint8_t> batches) {
  auto spans = storage::split_batches(batches);
  if (!spans) return std::nullopt;
  std::vector<LogEntry> out;
  for (const auto& b : *spans) {
    const storage::BatchView view(b);
    auto records = storage::decode_batch(b);
    if (!records || records->size() != 1 || !(*records)[0].record.value) return std::nullopt;
    if (view.leader_epoch() <= 0 || view.base_offset() < 0) return std::nullopt;
    out.push_back({view.base_offset() + 1, view.leader_epoch(),
                   std::move(*(*records)[0].record.value)});
  }
  return out;
}

std::uint64_t entry_hash(std::int64_t term, std::span<const std::uint8_t> data) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  auto mix = [&h](std::uint8_t c) {
    h ^= c;
    h *= 0x100000001b3ULL;
  };
  for (int i = 0; i < 8; ++i) mix(static_cast<std::uint8_t>(term >> (8 * i)));
  for (auto c : data) mix(c);
  return h;
}

}  // namespace castle::raft
