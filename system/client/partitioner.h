#pragma once
// Kafka's default partitioner.
//
// Keyed records: toPositive(murmur2(key bytes)) mod the partition count,
// exactly as the Java client (Utils.murmur2, Utils.toPositive), so that a
// key lands on the same partition whichever client produced it.
//
// Records without a key: "sticky" partitioning (KIP-480/KIP-794): stay on
// one partition until batch.size bytes went to it, then move to another one
// drawn at random, so unkeyed records fill whole batches yet spread over all
// partitions over time.

#include <cstdint>
#include <span>

#include "system/runtime/random.h"

namespace castle::client {

// MurmurHash2, 32-bit, with Kafka's seed 0x9747b28c, as Utils.murmur2.
std::int32_t murmur2(std::span<const std::uint8_t> data);
// Kafka's Utils.toPositive: clears the sign bit (not abs()).
constexpr std::int32_t to_positive(std::int32_t n) { return n & 0x7fffffff; }
std::int32_t partition_for_key(std::span<const std::uint8_t> key, std::int32_t partition_count);

class StickyPartitioner {
 public:
  explicit StickyPartitioner(std::int32_t batch_size_bytes) : switch_after_bytes_(batch_size_bytes) {}
  // The partition for an unkeyed record of record_bytes, out of
  // partition_count; rng draws the next partition when it moves on.
  std::int32_t next(std::int32_t partition_count, std::size_t record_bytes, Rng& rng);

 private:
  std::int32_t switch_after_bytes_;
  std::int32_t current_ = -1;
  std::int64_t bytes_on_current_ = 0;
};

}  // namespace castle::client
