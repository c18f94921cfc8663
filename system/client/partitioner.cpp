#include "system/client/partitioner.h"

#include "system/runtime/assert.h"

namespace castle::client {

std::int32_t murmur2(std::span<const std::uint8_t> data) {
  // Published definition (Austin Appleby's MurmurHash2) with Kafka's seed;
  // unsigned arithmetic gives Java's wrapping int multiply and >>>.
  const std::uint32_t seed = 0x9747b28c;
  const std::uint32_t m = 0x5bd1e995;
  const int r = 24;
  const std::size_t length = data.size();
  std::uint32_t h = seed ^ static_cast<std::uint32_t>(length);
  const std::size_t words = length / 4;
  for (std::size_t i = 0; i < words; ++i) {
    const std::size_t at = i * 4;
    std::uint32_t k = std::uint32_t{data[at]} | std::uint32_t{data[at + 1]} << 8 |
                      std::uint32_t{data[at + 2]} << 16 | std::uint32_t{data[at + 3]} << 24;
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  const std::size_t tail = length & ~std::size_t{3};
  switch (length % 4) {
    case 3: h ^= std::uint32_t{data[tail + 2]} << 16; [[fallthrough]];
    case 2: h ^= std::uint32_t{data[tail + 1]} << 8; [[fallthrough]];
    case 1:
      h ^= std::uint32_t{data[tail]};
      h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return static_cast<std::int32_t>(h);
}

std::int32_t partition_for_key(std::span<const std::uint8_t> key, std::int32_t partition_count) {
  CASTLE_ASSERT(partition_count > 0, "a topic has at least one partition");
  return to_positive(murmur2(key)) % partition_count;
}

std::int32_t StickyPartitioner::next(std::int32_t partition_count, std::size_t record_bytes,
                                     Rng& rng) {
  CASTLE_ASSERT(partition_count > 0, "a topic has at least one partition");
  const bool full = bytes_on_current_ >= switch_after_bytes_;
  if (current_ < 0 || current_ >= partition_count || full) {
    std::int32_t pick = static_cast<std::int32_t>(rng.below(static_cast<std::uint64_t>(partition_count)));
    // Moving on means moving to another partition whenever there is one.
    if (partition_count > 1 && pick == current_) pick = (pick + 1) % partition_count;
    current_ = pick;
    bytes_on_current_ = 0;
  }
  bytes_on_current_ += static_cast<std::int64_t>(record_bytes);
  return current_;
}

}  // namespace castle::client
