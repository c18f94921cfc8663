// Shrinks a key that is not linearizable to a small failing subset, in the
// manner of delta debugging: remove chunks of operations, halving the chunk
// when no chunk can go, keeping a removal only while the rest still fails.
//
// A removal must keep the subset honest: a poll whose value's append was
// removed would fail for that reason alone, and the witness would blame a
// read of nothing. So removing an append also removes the polls that read
// it; the subset then still proves the whole key is not linearizable.
#include <map>
#include <set>

#include "checkers/lin_search.h"
#include "system/runtime/assert.h"

namespace castle::checkers::lin {

namespace {

class Shrinker {
 public:
  Shrinker(const std::vector<LinOp>& ops, const WitnessBudget& budget)
      : ops_(ops), budget_(budget) {
    for (std::size_t i = 0; i < ops.size(); ++i)
      if (ops[i].kind == LinOp::Kind::append) append_of_[ops[i].value] = i;
  }
  std::vector<std::size_t> run();

 private:
  std::vector<std::size_t> without(const std::vector<std::size_t>& keep, std::size_t from,
                                   std::size_t count) const;
  bool reads_removed(const LinOp& poll, const std::set<std::size_t>& removed) const;
  bool still_fails(const std::vector<std::size_t>& subset);

  const std::vector<LinOp>& ops_;
  const WitnessBudget& budget_;
  std::map<std::int64_t, std::size_t> append_of_;  // value -> its append
  std::int64_t attempts_ = 0;
};

bool Shrinker::reads_removed(const LinOp& poll, const std::set<std::size_t>& removed) const {
  for (const auto& [offset, value] : poll.observed) {
    auto a = append_of_.find(value);
    if (a != append_of_.end() && removed.count(a->second)) return true;
  }
  return false;
}

// keep without keep[from, from + count), and without the polls that read a
// removed append.
std::vector<std::size_t> Shrinker::without(const std::vector<std::size_t>& keep,
                                           std::size_t from, std::size_t count) const {
  std::set<std::size_t> removed(keep.begin() + static_cast<std::ptrdiff_t>(from),
                                keep.begin() + static_cast<std::ptrdiff_t>(from + count));
  std::vector<std::size_t> rest;
  for (std::size_t i : keep) {
    if (removed.count(i)) continue;
    if (ops_[i].kind == LinOp::Kind::poll && reads_removed(ops_[i], removed)) continue;
    rest.push_back(i);
  }
  return rest;
}

bool Shrinker::still_fails(const std::vector<std::size_t>& subset) {
  ++attempts_;
  std::vector<LinOp> ops;
  ops.reserve(subset.size());
  for (std::size_t i : subset) ops.push_back(ops_[i]);
  Budget b;
  b.steps_max = budget_.steps_max;
  b.cache_bytes_max = std::int64_t{64} << 20;
  // A subset that runs out of budget is not known to fail: keep the larger one.
  return search(ops, b).outcome == Outcome::not_linearizable;
}

std::vector<std::size_t> Shrinker::run() {
  std::vector<std::size_t> keep(ops_.size());
  for (std::size_t i = 0; i < keep.size(); ++i) keep[i] = i;
  std::size_t chunk = std::max<std::size_t>(keep.size() / 2, 1);
  while (attempts_ < budget_.attempts_max) {
    bool removed_any = false;
    for (std::size_t from = 0; from < keep.size() && attempts_ < budget_.attempts_max;) {
      const std::size_t count = std::min(chunk, keep.size() - from);
      auto rest = without(keep, from, count);
      if (!rest.empty() && still_fails(rest)) {
        keep = std::move(rest);
        removed_any = true;
      } else {
        from += count;
      }
    }
    if (removed_any) continue;
    if (chunk == 1) break;
    chunk /= 2;
  }
  CASTLE_ASSERT(!keep.empty(), "a witness keeps at least one operation");
  return keep;
}

}  // namespace

std::vector<std::size_t> shrink_witness(const std::vector<LinOp>& ops, const WitnessBudget& budget) {
  return Shrinker(ops, budget).run();
}

}  // namespace castle::checkers::lin
