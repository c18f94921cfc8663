#pragma once
// Small dense ids for the keys of a history. A run's history holds a few
// keys but hundreds of thousands of reads; the checkers index every read by
// key, and maps keyed by the key's string made string comparison the cost
// of checking. Ids are handed out in order of first appearance, so they
// depend only on the history; what the checkers report stays ordered by
// name, as the string-keyed maps ordered it.

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "system/runtime/assert.h"

namespace castle::checkers {

using KeyId = std::uint32_t;

class KeyIds {
 public:
  // The key's id, given it one if it had none.
  KeyId id(const std::string& key) {
    auto [it, fresh] = ids_.try_emplace(key, static_cast<KeyId>(names_.size()));
    if (fresh) names_.push_back(key);
    return it->second;
  }
  const std::string& name(KeyId id) const {
    CASTLE_ASSERT(id < names_.size(), "a key id that was never handed out");
    return names_[id];
  }
  std::size_t size() const { return names_.size(); }

 private:
  std::unordered_map<std::string, KeyId> ids_;
  std::vector<std::string> names_;
};

}  // namespace castle::checkers
