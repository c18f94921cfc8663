#pragma once
// A map from 64-bit integers that are mostly small and dense — the offsets
// of a log, the values a workload writes (0, 1, 2, ...) — to T. The
// checkers look up every read of a history in maps like these, hundreds of
// thousands of times per run; a vector indexed by the integer makes that a
// load instead of a tree walk. Keys a vector would not hold compactly
// (negative, or far past what has been inserted) go to a hash map, so the
// memory stays proportional to the entries whatever the history holds.
// Iteration is in ascending key order, as std::map's was.

#include <algorithm>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

namespace castle::checkers {

template <class T>
class DenseMap {
 public:
  // Dense keys may run this far ahead of the number of entries.
  static constexpr std::int64_t dense_slack = 1024;

  // The entry at key, default-constructed if absent; *fresh says which.
  T& get(std::int64_t key, bool* fresh = nullptr) {
    if (!in_dense(key) && grows_dense(key)) grow(key);
    std::optional<T>* slot = in_dense(key) ? &dense_[static_cast<std::size_t>(key)] : nullptr;
    bool inserted = false;
    T* entry = nullptr;
    if (slot != nullptr) {
      inserted = !slot->has_value();
      if (inserted) slot->emplace();
      entry = &**slot;
    } else {
      auto [it, added] = sparse_.try_emplace(key);
      inserted = added;
      entry = &it->second;
    }
    if (inserted) ++count_;
    if (fresh != nullptr) *fresh = inserted;
    return *entry;
  }

  const T* find(std::int64_t key) const {
    if (in_dense(key)) {
      const auto& slot = dense_[static_cast<std::size_t>(key)];
      return slot ? &*slot : nullptr;
    }
    auto it = sparse_.find(key);
    return it == sparse_.end() ? nullptr : &it->second;
  }

  std::size_t size() const { return count_; }

  // f(key, entry) for every entry, in ascending key order.
  template <class F>
  void for_each(F&& f) const {
    std::vector<std::int64_t> sparse_keys;
    sparse_keys.reserve(sparse_.size());
    for (const auto& kv : sparse_) sparse_keys.push_back(kv.first);
    std::sort(sparse_keys.begin(), sparse_keys.end());
    auto s = sparse_keys.begin();
    for (; s != sparse_keys.end() && *s < 0; ++s) f(*s, sparse_.at(*s));
    for (std::size_t i = 0; i < dense_.size(); ++i)
      if (dense_[i]) f(static_cast<std::int64_t>(i), *dense_[i]);
    for (; s != sparse_keys.end(); ++s) f(*s, sparse_.at(*s));
  }

 private:
  bool in_dense(std::int64_t key) const {
    return key >= 0 && static_cast<std::uint64_t>(key) < dense_.size();
  }
  bool grows_dense(std::int64_t key) const {
    return key >= 0 && key <= 2 * static_cast<std::int64_t>(count_) + dense_slack;
  }
  // Makes room for key in the vector and moves in the hashed entries it
  // now covers, so that every key lives in exactly one of the two.
  void grow(std::int64_t key) {
    // Geometric, within the slack: few growths, so few walks of the hash map.
    const std::int64_t bound = 2 * static_cast<std::int64_t>(count_) + dense_slack + 1;
    const auto wanted = std::max<std::int64_t>(key + 1, static_cast<std::int64_t>(dense_.size()) * 3 / 2);
    dense_.resize(static_cast<std::size_t>(std::min(wanted, bound)));
    for (auto it = sparse_.begin(); it != sparse_.end();) {
      if (!in_dense(it->first)) {
        ++it;
        continue;
      }
      dense_[static_cast<std::size_t>(it->first)].emplace(std::move(it->second));
      it = sparse_.erase(it);
    }
  }

  std::vector<std::optional<T>> dense_;
  std::unordered_map<std::int64_t, T> sparse_;
  std::size_t count_ = 0;
};

}  // namespace castle::checkers
