#pragma once
// A seeded generator (xoshiro256**, seeded through splitmix64). Every random
// choice in system/ and sim/ draws from one of these, so a run is a pure
// function of its seed. Distributions are implemented here rather than taken
// from <random>, whose distributions differ between standard libraries.

#include <cstdint>
#include <string_view>

#include "system/runtime/assert.h"

namespace castle {

inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// FNV-1a, for deriving stream ids from names.
inline std::uint64_t hash_name(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

class Rng {
 public:
  explicit Rng(std::uint64_t seed = 0) { reseed(seed); }

  void reseed(std::uint64_t seed) {
    std::uint64_t sm = seed;
    for (auto& word : s_) word = splitmix64(sm);
  }

  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, bound), without modulo bias (Lemire's method).
  std::uint64_t below(std::uint64_t bound) {
    CASTLE_ASSERT(bound > 0, "below() needs a positive bound");
    unsigned __int128 m = static_cast<unsigned __int128>(next()) * bound;
    auto low = static_cast<std::uint64_t>(m);
    if (low < bound) {
      const std::uint64_t threshold = (0 - bound) % bound;
      while (low < threshold) {
        m = static_cast<unsigned __int128>(next()) * bound;
        low = static_cast<std::uint64_t>(m);
      }
    }
    return static_cast<std::uint64_t>(m >> 64);
  }

  // Uniform in [lo, hi] inclusive.
  std::int64_t between(std::int64_t lo, std::int64_t hi) {
    CASTLE_ASSERT(lo <= hi, "between() needs lo <= hi");
    const auto span = static_cast<std::uint64_t>(hi - lo);
    if (span == UINT64_MAX) return static_cast<std::int64_t>(next());
    return lo + static_cast<std::int64_t>(below(span + 1));
  }

  // Uniform double in [0, 1).
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  // True with probability p.
  bool chance(double p) { return unit() < p; }

  // An independent stream, derived deterministically from this generator's
  // seed material and a stream id; drawing from it does not disturb this one.
  Rng fork(std::uint64_t stream_id) const {
    std::uint64_t sm = s_[0] ^ rotl(s_[1], 13) ^ rotl(s_[2], 29) ^ rotl(s_[3], 41) ^
                       (stream_id * 0xd1342543de82ef95ULL);
    return Rng(splitmix64(sm));
  }
  Rng fork(std::string_view stream_name) const { return fork(hash_name(stream_name)); }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4]{};
};

}  // namespace castle
