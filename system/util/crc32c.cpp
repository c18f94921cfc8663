#include "system/util/crc32c.h"

#include "system/util/crc32c_fold.h"

#include <array>
#include <cstring>

namespace castle {

namespace {
constexpr std::uint32_t poly_reflected = 0x82f63b78u;

constexpr std::array<std::array<std::uint32_t, 256>, 8> make_tables() {
  std::array<std::array<std::uint32_t, 256>, 8> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ poly_reflected : c >> 1;
    t[0][i] = c;
  }
  for (std::uint32_t i = 0; i < 256; ++i)
    for (int s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
  return t;
}
constexpr auto tables = make_tables();

#if defined(__x86_64__)
// Raw register update over whole 8-byte words (no pre/post inversion).
__attribute__((target("sse4.2"))) inline std::uint64_t run_words(std::uint64_t c,
                                                                const std::uint8_t* p,
                                                                std::size_t words) {
  for (std::size_t i = 0; i < words; ++i) {
    std::uint64_t word;
    std::memcpy(&word, p + 8 * i, 8);
    c = __builtin_ia32_crc32di(c, word);
  }
  return c;
}

// The crc32 instruction has a latency of three cycles and a throughput of
// one, so one dependent stream runs at a third of the unit's speed. Large
// buffers are cut into three lanes computed side by side; the lanes are
// joined by "advancing" a register over a lane's length, a linear map over
// GF(2) tabulated once (the lane length is fixed).
constexpr std::size_t lane_bytes = 4096;

struct Shift {
  std::uint32_t t[4][256];
};

__attribute__((target("sse4.2"))) Shift make_shift() {
  static const std::uint8_t zeros[lane_bytes] = {};
  std::uint32_t column[32];
  for (int bit = 0; bit < 32; ++bit)
    column[bit] = static_cast<std::uint32_t>(run_words(std::uint64_t{1} << bit, zeros, lane_bytes / 8));
  Shift s{};
  for (int k = 0; k < 4; ++k)
    for (int b = 0; b < 256; ++b)
      for (int bit = 0; bit < 8; ++bit)
        if (b & (1 << bit)) s.t[k][b] ^= column[8 * k + bit];
  return s;
}

inline std::uint32_t advance(const Shift& s, std::uint32_t c) {
  return s.t[0][c & 0xff] ^ s.t[1][(c >> 8) & 0xff] ^ s.t[2][(c >> 16) & 0xff] ^ s.t[3][c >> 24];
}

__attribute__((target("sse4.2"))) std::uint32_t extend_hw(std::uint32_t crc,
                                                          const std::uint8_t* p,
                                                          std::size_t n) {
  static const Shift shift = make_shift();
  std::uint64_t c = static_cast<std::uint32_t>(~crc);
  if (n >= 256 && detail::crc32c_fold_available()) c = detail::crc32c_fold(static_cast<std::uint32_t>(c), p, n);
  while (n >= 3 * lane_bytes) {
    std::uint64_t a = c, b = 0, d = 0;
    for (std::size_t i = 0; i < lane_bytes / 8; ++i) {
      std::uint64_t wa, wb, wd;
      std::memcpy(&wa, p + 8 * i, 8);
      std::memcpy(&wb, p + lane_bytes + 8 * i, 8);
      std::memcpy(&wd, p + 2 * lane_bytes + 8 * i, 8);
      a = __builtin_ia32_crc32di(a, wa);
      b = __builtin_ia32_crc32di(b, wb);
      d = __builtin_ia32_crc32di(d, wd);
    }
    const auto ab = advance(shift, static_cast<std::uint32_t>(a)) ^ static_cast<std::uint32_t>(b);
    c = advance(shift, ab) ^ static_cast<std::uint32_t>(d);
    p += 3 * lane_bytes;
    n -= 3 * lane_bytes;
  }
  c = run_words(c, p, n / 8);
  p += n & ~std::size_t{7};
  n &= 7;
  auto c32 = static_cast<std::uint32_t>(c);
  while (n-- > 0) c32 = __builtin_ia32_crc32qi(c32, *p++);
  return ~c32;
}
#endif

bool detect_hw() {
#if defined(__x86_64__)
  return __builtin_cpu_supports("sse4.2");
#else
  return false;
#endif
}
const bool hw_available = detect_hw();
}  // namespace

std::uint32_t crc32c_extend_portable(std::uint32_t crc, const std::uint8_t* p, std::size_t n) {
  std::uint32_t c = ~crc;
  // Slicing-by-8: eight table lookups per 8 bytes.
  while (n >= 8) {
    const std::uint32_t lo = c ^ (std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 |
                                  std::uint32_t{p[2]} << 16 | std::uint32_t{p[3]} << 24);
    c = tables[7][lo & 0xff] ^ tables[6][(lo >> 8) & 0xff] ^ tables[5][(lo >> 16) & 0xff] ^
        tables[4][lo >> 24] ^ tables[3][p[4]] ^ tables[2][p[5]] ^ tables[1][p[6]] ^
        tables[0][p[7]];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) c = tables[0][(c ^ *p++) & 0xff] ^ (c >> 8);
  return ~c;
}

std::uint32_t crc32c_extend(std::uint32_t crc, const std::uint8_t* data, std::size_t size) {
#if defined(__x86_64__)
  if (hw_available) return extend_hw(crc, data, size);
#endif
  return crc32c_extend_portable(crc, data, size);
}

bool crc32c_hardware_available() { return hw_available; }


}  // namespace castle
