// A simulated file's chunked bytes behave as one plain byte vector per
// image, whatever chunks two images share: random resizes, writes across
// chunk boundaries, image copies (a datasync), copies of ranges between
// images (a crash keeping sectors) and byte flips, checked against
// std::vector models after every step.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <vector>

#include "sim/chunked_bytes.h"

namespace castle::sim {
namespace {

using Model = std::vector<std::uint8_t>;
constexpr std::uint64_t chunk = ChunkedBytes::chunk_bytes;

Model contents(const ChunkedBytes& b) {
  Model out(b.size());
  b.read(0, out);
  return out;
}

TEST(ChunkedBytes, ShrinkThenGrowReadsZeros) {
  ChunkedBytes b;
  b.resize(chunk + 100);
  const Model ones(chunk + 100, 1);
  b.write(0, ones);
  b.resize(chunk - 10);
  b.resize(chunk + 100);
  const Model got = contents(b);
  EXPECT_EQ(Model(got.begin(), got.begin() + chunk - 10), Model(chunk - 10, 1));
  EXPECT_EQ(Model(got.begin() + chunk - 10, got.end()), Model(110, 0));
}

TEST(ChunkedBytes, ACopyIsUnchangedByWritesToTheOriginal) {
  ChunkedBytes a;
  a.resize(3 * chunk);
  a.write(chunk - 2, Model(4, 7));  // across a chunk boundary
  const ChunkedBytes b = a;
  a.write(chunk - 1, Model(2, 9));
  a.xor_byte(0, 0xff);
  EXPECT_EQ(b.at(chunk - 1), 7);
  EXPECT_EQ(b.at(chunk), 7);
  EXPECT_EQ(b.at(0), 0);
  EXPECT_EQ(a.at(chunk - 1), 9);
  EXPECT_EQ(a.at(0), 0xff);
}

RC_GTEST_PROP(ChunkedBytes, TwoImagesMatchTheirVectorModels, ()) {
  ChunkedBytes img[2];
  Model model[2];
  const auto steps = *rc::gen::inRange(1, 60);
  for (int step = 0; step < steps; ++step) {
    const int i = *rc::gen::inRange(0, 2);
    const int op = *rc::gen::inRange(0, 5);
    const std::uint64_t size = model[i].size();
    if (op == 0) {
      const auto n = *rc::gen::inRange<std::uint64_t>(0, 4 * chunk);
      img[i].resize(n);
      model[i].resize(n, 0);
    } else if (op == 1 && size > 0) {
      const auto at = *rc::gen::inRange<std::uint64_t>(0, size);
      const auto len = *rc::gen::inRange<std::uint64_t>(0, std::min(size - at, 2 * chunk) + 1);
      const auto fill = *rc::gen::arbitrary<std::uint8_t>();
      const Model bytes(len, fill);
      img[i].write(at, bytes);
      std::copy(bytes.begin(), bytes.end(), model[i].begin() + static_cast<std::ptrdiff_t>(at));
    } else if (op == 2) {
      img[1 - i] = img[i];
      model[1 - i] = model[i];
    } else if (op == 3) {
      const std::uint64_t common = std::min(size, model[1 - i].size());
      if (common == 0) continue;
      const auto begin = *rc::gen::inRange<std::uint64_t>(0, common);
      const auto end = *rc::gen::inRange<std::uint64_t>(begin, common + 1);
      img[i].copy_from(img[1 - i], begin, end);
      std::copy(model[1 - i].begin() + static_cast<std::ptrdiff_t>(begin),
                model[1 - i].begin() + static_cast<std::ptrdiff_t>(end),
                model[i].begin() + static_cast<std::ptrdiff_t>(begin));
    } else if (op == 4 && size > 0) {
      const auto at = *rc::gen::inRange<std::uint64_t>(0, size);
      img[i].xor_byte(at, 0x10);
      model[i][at] ^= 0x10;
    }
    for (int k = 0; k < 2; ++k) {
      RC_ASSERT(img[k].size() == model[k].size());
      RC_ASSERT(contents(img[k]) == model[k]);
    }
  }
}

}  // namespace
}  // namespace castle::sim
