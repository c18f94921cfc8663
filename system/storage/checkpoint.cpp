#include "system/storage/checkpoint.h"

#include <charconv>
#include <string_view>

#include "system/util/crc32c.h"

namespace castle::storage {

namespace {

constexpr std::errc corrupt = std::errc::illegal_byte_sequence;
constexpr std::int64_t plain_version = 0;    // Kafka's
constexpr std::int64_t checked_version = 1;  // with the checksum line

std::uint32_t text_crc(std::string_view text) {
  return crc32c_extend(0, reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
}

std::string encode(const std::vector<CheckpointEntry>& entries) {
  std::string text = std::to_string(checked_version) + "\n" + std::to_string(entries.size()) + "\n";
  for (const auto& e : entries) {
    CASTLE_ASSERT(!e.empty() && e.size() <= checkpoint_fields_max, "checkpoint entry shape");
    for (std::size_t i = 0; i < e.size(); ++i) {
      if (i > 0) text += ' ';
      text += std::to_string(e[i]);
    }
    text += '\n';
  }
  text += std::to_string(text_crc(text)) + "\n";
  return text;
}

// Splits off the next line (without its '\n'); false if there is none.
bool next_line(std::string_view& rest, std::string_view* line) {
  const auto nl = rest.find('\n');
  if (nl == std::string_view::npos) return false;
  *line = rest.substr(0, nl);
  rest.remove_prefix(nl + 1);
  return true;
}

bool parse_i64(std::string_view s, std::int64_t* out) {
  if (s.empty()) return false;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool parse_entry(std::string_view line, CheckpointEntry* entry) {
  while (!line.empty()) {
    const auto sp = line.find(' ');
    std::int64_t v = 0;
    if (!parse_i64(line.substr(0, sp), &v)) return false;
    entry->push_back(v);
    if (entry->size() > checkpoint_fields_max) return false;
    if (sp == std::string_view::npos) break;
    line.remove_prefix(sp + 1);
  }
  return !entry->empty();
}

}  // namespace

Result<void> write_checkpoint(Disk& disk, const std::string& path,
                              const std::vector<CheckpointEntry>& entries) {
  CASTLE_ASSERT(entries.size() <= checkpoint_entries_max, "checkpoint too large");
  const std::string text = encode(entries);
  const auto* p = reinterpret_cast<const std::uint8_t*>(text.data());
  return write_file_atomic(disk, path, {p, text.size()});
}

Result<std::optional<std::vector<CheckpointEntry>>> read_checkpoint(Disk& disk,
                                                                    const std::string& path) {
  if (!disk.exists(path)) return std::optional<std::vector<CheckpointEntry>>();
  auto data = read_whole_file(disk, path);
  if (!data) return data.error();
  const std::string_view text(reinterpret_cast<const char*>(data->data()), data->size());
  std::string_view rest = text;
  std::string_view line;
  std::int64_t version = -1;
  std::int64_t count = -1;
  if (!next_line(rest, &line) || !parse_i64(line, &version)) return corrupt;
  if (version != plain_version && version != checked_version) return corrupt;
  if (!next_line(rest, &line) || !parse_i64(line, &count) || count < 0 ||
      count > static_cast<std::int64_t>(checkpoint_entries_max))
    return corrupt;
  std::vector<CheckpointEntry> entries;
  for (std::int64_t i = 0; i < count; ++i) {
    CheckpointEntry e;
    if (!next_line(rest, &line) || !parse_entry(line, &e)) return corrupt;
    entries.push_back(std::move(e));
  }
  if (version == checked_version) {
    const std::string_view body = text.substr(0, text.size() - rest.size());
    std::int64_t crc = -1;
    if (!next_line(rest, &line) || !parse_i64(line, &crc) || crc != text_crc(body)) return corrupt;
  }
  if (!rest.empty()) return corrupt;
  return std::optional<std::vector<CheckpointEntry>>(std::move(entries));
}

namespace {
std::string mirror_of(const std::string& path) { return path + ".mirror"; }
}  // namespace

Result<void> write_mirrored_checkpoint(Disk& disk, const std::string& path,
                                       const std::vector<CheckpointEntry>& entries) {
  if (auto r = write_checkpoint(disk, path, entries); !r) return r;
  return write_checkpoint(disk, mirror_of(path), entries);
}

Result<std::optional<std::vector<CheckpointEntry>>> read_mirrored_checkpoint(Disk& disk,
                                                                             const std::string& path) {
  auto primary = read_checkpoint(disk, path);
  if (primary && *primary) return primary;
  if (!primary && primary.error() != corrupt) return primary;
  auto mirror = read_checkpoint(disk, mirror_of(path));
  if (!mirror || *mirror) return mirror;
  return primary;  // damaged with nothing to recover it from, or neither exists
}

Result<std::optional<std::vector<CheckpointEntry>>> recover_mirrored_checkpoint(Disk& disk,
                                                                                const std::string& path) {
  auto chosen = read_mirrored_checkpoint(disk, path);
  if (!chosen || !*chosen) return chosen;
  auto same = [&](const std::string& p) {
    auto copy = read_checkpoint(disk, p);
    return copy && *copy && **copy == **chosen;
  };
  if (!same(path) || !same(mirror_of(path)))
    if (auto r = write_mirrored_checkpoint(disk, path, **chosen); !r) return r.error();
  return chosen;
}

Result<void> write_offset_checkpoint(Disk& disk, const std::string& path, std::int64_t offset) {
  return write_checkpoint(disk, path, {CheckpointEntry{offset}});
}

Result<std::optional<std::int64_t>> read_offset_checkpoint(Disk& disk, const std::string& path) {
  auto entries = read_checkpoint(disk, path);
  if (!entries) return entries.error();
  if (!entries->has_value()) return std::optional<std::int64_t>();
  const auto& list = **entries;
  if (list.size() != 1 || list[0].size() != 1) return corrupt;
  return std::optional<std::int64_t>(list[0][0]);
}

}  // namespace castle::storage
