#include "system/raft/durable.h"

#include <charconv>

#include "system/storage/checkpoint.h"
#include "system/util/crc32c.h"

namespace castle::raft {

namespace {
const char* const quorum_file = "quorum-state";
const char* const snapshot_prefix = "snapshot-";
const char* const repair_file = "repairing";
constexpr std::size_t crc_bytes = 4;

bool parse_i64(std::string_view s, std::int64_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size() && *out >= 0;
}
}  // namespace

// The mirror keeps a vote lost to damage from being given twice; the two
// copies are made to agree before the state is used.
Result<QuorumState> load_quorum_state(Disk& disk, const std::string& dir) {
  auto entries = storage::recover_mirrored_checkpoint(disk, join_path(dir, quorum_file));
  if (!entries) return entries.error();
  if (!*entries) return QuorumState{};
  const auto& e = **entries;
  if (e.size() != 1 || e[0].size() != 2 || e[0][0] < 0 || e[0][1] < no_node ||
      e[0][1] > INT32_MAX)
    return std::errc::illegal_byte_sequence;
  return QuorumState{e[0][0], static_cast<NodeId>(e[0][1])};
}

Result<void> save_quorum_state(Disk& disk, const std::string& dir, const QuorumState& s) {
  CASTLE_ASSERT(s.term >= 0, "terms are not negative");
  return storage::write_mirrored_checkpoint(disk, join_path(dir, quorum_file), {{s.term, s.voted_for}});
}

bool repairing(Disk& disk, const std::string& dir) { return disk.exists(join_path(dir, repair_file)); }

Result<void> mark_repairing(Disk& disk, const std::string& dir, std::optional<RepairFloor> floor) {
  const RepairFloor f = floor.value_or(RepairFloor{-1, -1});
  return storage::write_checkpoint(disk, join_path(dir, repair_file), {{f.term, f.index}});
}

std::optional<RepairFloor> repair_floor(Disk& disk, const std::string& dir) {
  auto entries = storage::read_checkpoint(disk, join_path(dir, repair_file));
  if (!entries || !*entries) return std::nullopt;
  const auto& e = **entries;
  if (e.size() != 1 || e[0].size() != 2 || e[0][0] < 0 || e[0][1] < 0) return std::nullopt;
  return RepairFloor{e[0][0], e[0][1]};
}

Result<void> clear_repairing(Disk& disk, const std::string& dir) {
  if (auto r = disk.remove(join_path(dir, repair_file)); !r) return r;
  return disk.sync_dir(dir);
}

bool parse_snapshot_name(const std::string& name, std::int64_t* index, std::int64_t* term) {
  std::string_view n(name);
  if (!n.starts_with(snapshot_prefix)) return false;
  n.remove_prefix(std::string_view(snapshot_prefix).size());
  const auto dash = n.find('-');
  if (dash == std::string_view::npos) return false;
  return parse_i64(n.substr(0, dash), index) && parse_i64(n.substr(dash + 1), term);
}

Result<std::optional<Snapshot>> load_latest_snapshot(Disk& disk, const std::string& dir) {
  auto names = disk.list(dir);
  if (!names) return names.error();
  std::optional<Snapshot> best;
  for (const auto& name : *names) {
    Snapshot s;
    if (!parse_snapshot_name(name, &s.index, &s.term)) continue;
    if (best && best->index >= s.index) continue;
    auto bytes = read_whole_file(disk, join_path(dir, name));
    if (!bytes) return bytes.error();
    if (bytes->size() < crc_bytes) continue;
    const std::size_t n = bytes->size() - crc_bytes;
    const auto crc = static_cast<std::uint32_t>(load_be(bytes->data() + n, 4));
    if (crc != crc32c(std::span(*bytes).first(n))) continue;  // damaged: an older one may do
    bytes->resize(n);
    s.data = std::move(*bytes);
    best = std::move(s);
  }
  return best;
}

Result<void> save_snapshot(Disk& disk, const std::string& dir, const Snapshot& s) {
  Bytes bytes = s.data;
  const std::uint32_t crc = crc32c(bytes);
  bytes.resize(bytes.size() + crc_bytes);
  store_be(bytes.data() + s.data.size(), crc, 4);
  const std::string name =
      snapshot_prefix + std::to_string(s.index) + "-" + std::to_string(s.term);
  if (auto r = write_file_atomic(disk, join_path(dir, name), bytes); !r) return r;
  auto names = disk.list(dir);
  if (!names) return {};  // the new one is durable; the old ones go next time
  for (const auto& other : *names) {
    std::int64_t index = 0;
    std::int64_t term = 0;
    if (parse_snapshot_name(other, &index, &term) && index < s.index)
      (void)disk.remove(join_path(dir, other));
  }
  return {};
}

}  // namespace castle::raft
