// Leader-election linearizability (checkers/epoch_register.h): each anomaly
// in a hand-built history, clean histories of correct elections, and a
// RapidCheck property that the one-pass check agrees with a brute-force
// search over every order of small histories.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "checkers/epoch_register.h"

namespace castle::checkers {
namespace {

using Kind = EpochOp::Kind;

EpochOp write(std::int64_t epoch, std::int32_t leader, std::int64_t inv, std::int64_t ret) {
  return {Kind::write, "t-0", epoch, leader, inv, ret, inv};
}
EpochOp read(std::int64_t epoch, std::int32_t leader, std::int64_t inv, std::int64_t ret) {
  return {Kind::read, "t-0", epoch, leader, inv, ret, inv};
}

std::vector<std::string> types(const std::vector<Anomaly>& as) {
  std::vector<std::string> out;
  for (const auto& a : as) out.push_back(a.type);
  return out;
}

TEST(EpochRegister, CorrectElectionsAreLinearizable) {
  // Reads overlapping an election may see either side of it.
  const std::vector<EpochOp> ops = {write(1, 1, 0, 2),  read(1, 1, 3, 4),  write(2, 2, 5, 9),
                                    read(1, 1, 6, 7),   read(2, 2, 8, 10), read(2, 2, 11, 12),
                                    write(3, 1, 13, 20), read(2, 2, 14, 15), read(3, 1, 16, 17)};
  EXPECT_TRUE(check_epoch_registers(ops).empty());
}

TEST(EpochRegister, TwoLeadersInOneEpochIsSplitBrain) {
  const auto as = check_epoch_registers({write(1, 1, 0, 1), write(1, 2, 2, 3)});
  EXPECT_EQ(types(as), std::vector<std::string>{"split-brain"});
  EXPECT_EQ(as[0].ops, (std::vector<std::int64_t>{0, 2}));
  // The same election recorded twice is fine.
  EXPECT_TRUE(check_epoch_registers({write(1, 1, 0, 1), write(1, 1, 2, 3), read(1, 1, 4, 5)}).empty());
}

TEST(EpochRegister, ReadingAnUnwrittenLeaderIsAPhantom) {
  EXPECT_EQ(types(check_epoch_registers({write(1, 1, 0, 1), read(2, 1, 2, 3)})),
            std::vector<std::string>{"phantom-leader"});
  EXPECT_EQ(types(check_epoch_registers({write(1, 1, 0, 1), read(1, 2, 2, 3)})),
            std::vector<std::string>{"phantom-leader"});
}

TEST(EpochRegister, SeeingTheOldLeaderAfterTheNewOneIsInPlaceIsStale) {
  // Epoch 2's write completed at 3; a read invoked at 4 still sees epoch 1.
  auto as = check_epoch_registers({write(1, 1, 0, 1), write(2, 2, 2, 3), read(1, 1, 4, 5)});
  ASSERT_EQ(types(as), std::vector<std::string>{"stale-leader"});
  EXPECT_EQ(as[0].ops, (std::vector<std::int64_t>{2, 4}));  // the write, pushed past its completion by the read
  // A read of epoch 2 completed before a read of epoch 1 began.
  as = check_epoch_registers({write(1, 1, 0, 1), write(2, 2, 2, 9), read(2, 2, 3, 4), read(1, 1, 5, 6)});
  EXPECT_EQ(types(as), std::vector<std::string>{"stale-leader"});
  // Writes completing out of epoch order.
  as = check_epoch_registers({write(2, 2, 0, 1), write(1, 1, 2, 3)});
  EXPECT_EQ(types(as), std::vector<std::string>{"stale-leader"});
}

TEST(EpochRegister, InfoWritesTakeEffectOnlyIfRead) {
  // Epoch 2's outcome is unknown and nobody saw it: epoch 1 may still be read.
  EXPECT_TRUE(check_epoch_registers(
                  {write(1, 1, 0, 1), write(2, 2, 2, EpochOp::never), read(1, 1, 3, 4)})
                  .empty());
  // Once it is read, it took effect: a later read of epoch 1 is stale.
  EXPECT_EQ(types(check_epoch_registers({write(1, 1, 0, 1), write(2, 2, 2, EpochOp::never),
                                         read(2, 2, 3, 4), read(1, 1, 5, 6)})),
            std::vector<std::string>{"stale-leader"});
}

TEST(EpochRegister, KeysAreIndependent) {
  auto a = write(1, 1, 0, 1);
  auto b = write(1, 2, 2, 3);
  b.key = "quorum";
  EXPECT_TRUE(check_epoch_registers({a, b}).empty());
}

// Brute force: some order of the operations, consistent with real time
// (a before b when a completes before b is invoked), in which every write
// raises the epoch and every read sees the latest write; info writes may
// also not happen at all.
bool brute_force_linearizable(const std::vector<EpochOp>& ops) {
  const std::size_t n = ops.size();
  std::vector<std::size_t> optional;
  for (std::size_t i = 0; i < n; ++i)
    if (ops[i].complete == EpochOp::never) optional.push_back(i);
  for (std::size_t mask = 0; mask < (std::size_t{1} << optional.size()); ++mask) {
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < n; ++i) {
      auto it = std::find(optional.begin(), optional.end(), i);
      if (it == optional.end() || (mask >> (it - optional.begin())) & 1) order.push_back(i);
    }
    std::sort(order.begin(), order.end());
    do {
      bool ok = true;
      for (std::size_t x = 0; x < order.size() && ok; ++x)
        for (std::size_t y = x + 1; y < order.size() && ok; ++y)
          if (ops[order[y]].complete < ops[order[x]].invoke) ok = false;
      std::int64_t epoch = -1;
      std::int32_t leader = -1;
      for (std::size_t x = 0; x < order.size() && ok; ++x) {
        const EpochOp& op = ops[order[x]];
        if (op.kind == Kind::write) {
          ok = op.epoch > epoch;
          epoch = op.epoch;
          leader = op.leader;
        } else {
          ok = op.epoch == epoch && op.leader == leader;
        }
      }
      if (ok) return true;
    } while (std::next_permutation(order.begin(), order.end()));
  }
  return false;
}

RC_GTEST_PROP(EpochRegister, OnePassAgreesWithBruteForce, ()) {
  const auto seed = *rc::gen::arbitrary<std::uint32_t>();
  std::mt19937 rng(seed);
  auto below = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const int n = 1 + below(6);
  std::vector<std::int64_t> positions(2 * static_cast<std::size_t>(n));
  std::iota(positions.begin(), positions.end(), 0);
  std::shuffle(positions.begin(), positions.end(), rng);
  std::vector<EpochOp> ops;
  std::vector<std::int64_t> unused_epochs = {1, 2, 3, 4};
  for (int i = 0; i < n; ++i) {
    auto a = positions[2 * i], b = positions[2 * i + 1];
    if (a > b) std::swap(a, b);
    const bool can_write = !unused_epochs.empty();
    if (can_write && below(2) == 0) {
      const auto k = static_cast<std::size_t>(below(static_cast<int>(unused_epochs.size())));
      const std::int64_t epoch = unused_epochs[k];
      unused_epochs.erase(unused_epochs.begin() + static_cast<std::ptrdiff_t>(k));
      ops.push_back(write(epoch, 1 + static_cast<std::int32_t>(epoch % 2), a,
                          below(4) == 0 ? EpochOp::never : b));
    } else {
      const std::int64_t epoch = 1 + below(4);
      ops.push_back(read(epoch, 1 + static_cast<std::int32_t>(epoch % 2), a, b));
    }
    ops.back().id = i;
  }
  const bool one_pass = check_epoch_registers(ops).empty();
  RC_TAG(one_pass ? "linearizable" : "not linearizable");
  RC_ASSERT(one_pass == brute_force_linearizable(ops));
}

}  // namespace
}  // namespace castle::checkers
