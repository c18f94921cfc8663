#include "system/broker/producer_ids.h"

#include <charconv>

#include "system/storage/checkpoint.h"

namespace castle::broker {

namespace {

// Before the file was a mirrored checkpoint it held the block end alone,
// "<end>\n", with no checksum. Read once, rewritten in the new shape by the
// next block.
std::optional<std::int64_t> legacy_block_end(Disk& disk, const std::string& path) {
  auto bytes = read_whole_file(disk, path);
  if (!bytes) return std::nullopt;
  const char* b = reinterpret_cast<const char*>(bytes->data());
  const char* e = b + bytes->size();
  if (e != b && e[-1] == '\n') --e;
  std::int64_t end = 0;
  auto [p, ec] = std::from_chars(b, e, end);
  if (ec != std::errc{} || p != e || end < 0) return std::nullopt;
  return end;
}

}  // namespace

// A block end lost to damage could hand out ids again, so it is kept
// twice (storage::write_mirrored_checkpoint); both damaged, the broker
// refuses to start rather than guess.
Result<void> ProducerIdAllocator::load() {
  auto entries = storage::recover_mirrored_checkpoint(rt_.disk(), path_);
  if (!entries && entries.error() == std::errc::illegal_byte_sequence) {
    if (auto legacy = legacy_block_end(rt_.disk(), path_)) {
      next_ = block_end_ = *legacy;
      return {};
    }
  }
  if (!entries) return entries.error();
  if (!*entries) return {};
  const auto& list = **entries;
  if (list.size() != 1 || list[0].size() != 1 || list[0][0] < 0) return std::errc::illegal_byte_sequence;
  next_ = block_end_ = list[0][0];
  return {};
}

Result<std::int64_t> ProducerIdAllocator::next() {
  MutexLock lock(rt_, lock_);
  if (next_ == block_end_) {
    const std::int64_t end = block_end_ + block_size;
    if (auto r = storage::write_mirrored_checkpoint(rt_.disk(), path_, {{end}}); !r) return r.error();
    block_end_ = end;
  }
  return next_++;
}

}  // namespace castle::broker
