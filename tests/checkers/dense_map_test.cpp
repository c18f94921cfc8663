// DenseMap against std::map: random keys, dense, negative and far apart,
// give the same entries, the same lookups and the same ascending iteration,
// including keys first hashed and later covered by the growing vector.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <map>

#include "checkers/dense_map.h"
#include "checkers/key_ids.h"

namespace castle::checkers {
namespace {

std::vector<std::pair<std::int64_t, int>> entries(const DenseMap<int>& m) {
  std::vector<std::pair<std::int64_t, int>> v;
  m.for_each([&](std::int64_t k, int e) { v.emplace_back(k, e); });
  return v;
}

TEST(DenseMap, KeysPastTheSlackAreHashedThenMovedWhenCovered) {
  DenseMap<int> m;
  m.get(5000) = 1;  // far past the slack: hashed
  m.get(-3) = 2;    // negative: hashed
  for (std::int64_t k = 0; k < 3000; ++k) m.get(k) = 3;  // grows over 5000 eventually
  m.get(5000, nullptr) += 10;
  ASSERT_NE(m.find(5000), nullptr);
  EXPECT_EQ(*m.find(5000), 11);
  EXPECT_EQ(*m.find(-3), 2);
  EXPECT_EQ(m.find(4000), nullptr);
  EXPECT_EQ(m.size(), 3002u);
  const auto v = entries(m);
  EXPECT_EQ(v.front(), (std::pair<std::int64_t, int>{-3, 2}));
  EXPECT_EQ(v.back(), (std::pair<std::int64_t, int>{5000, 11}));
}

RC_GTEST_PROP(DenseMap, BehavesAsAnOrderedMap, ()) {
  const auto keys = *rc::gen::container<std::vector<std::int64_t>>(rc::gen::oneOf(
      rc::gen::inRange<std::int64_t>(-50, 3000), rc::gen::arbitrary<std::int64_t>()));
  DenseMap<int> m;
  std::map<std::int64_t, int> model;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    bool fresh = false;
    int& e = m.get(keys[i], &fresh);
    RC_ASSERT(fresh == !model.contains(keys[i]));
    e += static_cast<int>(i);
    model[keys[i]] += static_cast<int>(i);
  }
  RC_ASSERT(m.size() == model.size());
  const std::vector<std::pair<std::int64_t, int>> expected(model.begin(), model.end());
  RC_ASSERT(entries(m) == expected);
  for (std::int64_t k : keys) RC_ASSERT(*m.find(k) == model[k]);
}

TEST(KeyIds, IdsByFirstAppearance) {
  KeyIds ids;
  EXPECT_EQ(ids.id("t-1"), 0u);
  EXPECT_EQ(ids.id("t-0"), 1u);
  EXPECT_EQ(ids.id("t-1"), 0u);
  EXPECT_EQ(ids.name(1), "t-0");
  EXPECT_EQ(ids.size(), 2u);
}

}  // namespace
}  // namespace castle::checkers
