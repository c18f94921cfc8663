#pragma once
// Planted bugs of replication: named, deliberately wrong behaviours that a
// test build selects at run time to prove the checkers catch them
// (DESIGN.md, "Planted bugs"). Empty in real deployments.

#include <set>
#include <string>
#include <utility>
#include <vector>

namespace castle::replication {

inline constexpr const char* bug_hw_ignores_isr = "replication-hw-ignores-isr";
inline constexpr const char* bug_truncate_to_hw = "replication-truncate-to-hw";
inline constexpr const char* bug_ack_before_isr = "replication-ack-before-isr";
inline constexpr const char* bug_isr_expand_early = "replication-isr-expand-early";
inline constexpr const char* bug_accept_stale_epoch = "replication-accept-stale-epoch";
inline constexpr const char* bug_follower_keeps_failed_append = "replication-follower-keeps-failed-append";

struct Bugs {
  std::set<std::string> names;
  // Empty outside planted-bug runs: no string is built for the lookup then.
  bool on(const char* name) const { return !names.empty() && names.count(name) != 0; }
};

// Every replication bug (name, what it breaks), for `castle bugs`.
const std::vector<std::pair<std::string, std::string>>& planted_bugs();

}  // namespace castle::replication
