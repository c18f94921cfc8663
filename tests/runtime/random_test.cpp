// The seeded generator: reproducible, bounded, independent streams.
#include <gtest/gtest.h>

#include <set>

#include "system/runtime/random.h"

namespace castle {
namespace {

TEST(Rng, SameSeedSameSequence) {
  Rng a(42), b(42), c(43);
  bool all_same_c = true;
  for (int i = 0; i < 100; ++i) {
    auto x = a.next();
    EXPECT_EQ(x, b.next());
    all_same_c &= x == c.next();
  }
  EXPECT_FALSE(all_same_c);
}

TEST(Rng, BelowAndBetweenStayInRangeAndCoverIt) {
  Rng r(1);
  std::set<std::int64_t> seen;
  for (int i = 0; i < 10000; ++i) {
    auto v = r.between(-3, 3);
    ASSERT_GE(v, -3);
    ASSERT_LE(v, 3);
    seen.insert(v);
  }
  EXPECT_EQ(seen.size(), 7u);
  for (int i = 0; i < 1000; ++i) ASSERT_LT(r.below(10), 10u);
}

TEST(Rng, ForkedStreamsAreIndependentOfDrawsOnTheParent) {
  Rng parent(9);
  Rng f1 = parent.fork("disk");
  Rng parent2(9);
  Rng f2 = parent2.fork("disk");
  EXPECT_EQ(f1.next(), f2.next());
  Rng g = parent.fork("net");
  EXPECT_NE(parent.fork("disk").next(), g.next());
}

}  // namespace
}  // namespace castle
