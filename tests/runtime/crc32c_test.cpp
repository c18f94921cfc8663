// CRC-32C against Boost.CRC as an independent reference, on both paths.
#include <gtest/gtest.h>

#include <boost/crc.hpp>
#include <vector>

#include "system/runtime/random.h"
#include "system/util/crc32c.h"

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

}  // namespace
}  // namespace castle
