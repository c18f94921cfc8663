// CRC-32C against Boost.CRC as an independent reference, on both paths.
#include <gtest/gtest.h>

#include <boost/crc.hpp>
#include <vector>

#include "system/runtime/random.h"
#include "system/util/crc32c.h"
#include "system/util/crc32c_fold.h"

namespace castle {
namespace {

std::uint32_t reference(const std::vector<std::uint8_t>& d) {
  boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true> crc;
  crc.process_bytes(d.data(), d.size());
  return crc.checksum();
}

TEST(Crc32c, KnownVector) {
  const std::string s = "123456789";
  std::vector<std::uint8_t> d(s.begin(), s.end());
  EXPECT_EQ(crc32c(d), 0xE3069283u);
  EXPECT_EQ(reference(d), 0xE3069283u);
}

TEST(Crc32c, MatchesReferenceOnRandomInputsBothPaths) {
  Rng r(5);
  for (int i = 0; i < 500; ++i) {
    // Sizes past three 4 KiB lanes exercise the interleaved path and its joins.
    std::vector<std::uint8_t> d(i % 2 ? r.below(3000) : r.below(70000));
    for (auto& b : d) b = static_cast<std::uint8_t>(r.next());
    const auto want = reference(d);
    ASSERT_EQ(crc32c(d), want);
    ASSERT_EQ(crc32c_extend_portable(0, d.data(), d.size()), want);
    // Extending in two pieces equals one pass.
    const std::size_t cut = d.empty() ? 0 : r.below(d.size());
    auto part = crc32c_extend(0, d.data(), cut);
    ASSERT_EQ(crc32c_extend(part, d.data() + cut, d.size() - cut), want);
  }
}

// The carry-less-multiply path on its own, at every length around its
// stride boundaries and from arbitrary starting registers and alignments.
TEST(Crc32c, FoldPathMatchesPortableAroundEveryBoundary) {
  if (!detail::crc32c_fold_available()) GTEST_SKIP() << "no AVX-512 VPCLMULQDQ on this CPU";
  Rng r(11);
  std::vector<std::uint8_t> buf(5000);
  for (auto& b : buf) b = static_cast<std::uint8_t>(r.next());
  for (std::size_t len = 64; len < 1100; ++len) {
    const std::size_t offset = r.below(64);
    const auto init = static_cast<std::uint32_t>(r.next());
    const std::uint8_t* p = buf.data() + offset;
    std::size_t n = len;
    const std::uint32_t raw = detail::crc32c_fold(~init, p, n);
    ASSERT_LT(n, 16u);
    ASSERT_EQ(p, buf.data() + offset + (len - n));
    // The raw register after the folded part, finished by the portable path,
    // equals the portable CRC of the whole run.
    ASSERT_EQ(crc32c_extend_portable(~raw, p, n),
              crc32c_extend_portable(init, buf.data() + offset, len))
        << "len " << len;
  }
}

}  // namespace
}  // namespace castle
