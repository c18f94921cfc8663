#include "system/broker/producer_ids.h"

#include <charconv>

namespace castle::broker {

Result<void> ProducerIdAllocator::load() {
  if (!rt_.disk().exists(path_)) return {};
  auto bytes = read_whole_file(rt_.disk(), path_);
  if (!bytes) return bytes.error();
  const char* b = reinterpret_cast<const char*>(bytes->data());
  const char* e = b + bytes->size();
  if (e != b && e[-1] == '\n') --e;
  std::int64_t end = 0;
  auto [p, ec] = std::from_chars(b, e, end);
  if (ec != std::errc{} || p != e || end < 0) return std::errc::illegal_byte_sequence;
  next_ = block_end_ = end;
  return {};
}

Result<std::int64_t> ProducerIdAllocator::next() {
  MutexLock lock(rt_, lock_);
  if (next_ == block_end_) {
    const std::string text = std::to_string(block_end_ + block_size) + "\n";
    auto r = write_file_atomic(rt_.disk(), path_,
                               std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
    if (!r) return r.error();
    block_end_ += block_size;
  }
  return next_++;
}

}  // namespace castle::broker
