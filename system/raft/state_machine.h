#pragma once
// The contract between the Raft quorum (system/raft) and the state machine
// it replicates (the controller's cluster metadata, system/controller).
// Raft calls these from one fiber of its node, in log order.

#include <cstdint>
#include <span>
#include <vector>

#include "system/runtime/result.h"

namespace castle::raft {

class StateMachine {
 public:
  virtual ~StateMachine() = default;

  // Applies one committed entry. Called exactly once per entry per
  // incarnation of the node, in index order, starting after the snapshot
  // last restored (if any). `entry` is what the leader proposed; an entry
  // the state machine cannot decode is skipped by it, never fatal.
  virtual void apply(std::int64_t index, std::int64_t term,
                     std::span<const std::uint8_t> entry) = 0;

  // The state after the last applied entry, as bytes that restore() accepts.
  virtual std::vector<std::uint8_t> snapshot() const = 0;

  // Replaces the whole state with a snapshot's (on start from a snapshot,
  // or when a follower installs one from the leader). A snapshot that does
  // not decode is an error and leaves the state unchanged.
  virtual Result<void> restore(std::span<const std::uint8_t> snapshot) = 0;
};

}  // namespace castle::raft
