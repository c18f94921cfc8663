#pragma once
// The Raft scenario's replicated state machine and its client protocol.
//
// The machine is the append-only list of client values in commit order,
// each with the log index it was applied at, and a running hash over that
// list: two machines hold the same state exactly when their lists agree,
// and a snapshot carries the hash so a restore can prove it rebuilt the
// list it was given.
//
// A client value travels as an entry of `payload_bytes`: the value (8 bytes,
// big-endian) and filler derived from it, so a garbled entry is recognised
// (and recorded as value -1, which no client ever sends) rather than
// mistaken for another value.
//
// The propose RPC (request type 40 on the Raft port; 1-19 are Raft's, 20-39
// the controller's) asks a node to append a value and wait until it is
// applied. Its answer says whether the value was committed at an index, was
// definitely not appended (the node refused before proposing), or has an
// unknown fate.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "system/raft/codec.h"
#include "system/raft/messages.h"
#include "system/raft/state_machine.h"

namespace castle::scenarios {

inline constexpr std::int16_t raft_propose_type = 40;
inline constexpr std::int64_t raft_garbled_value = -1;

raft::Bytes encode_value(std::int64_t value, int payload_bytes);
// The value an entry carries, or nullopt if the entry is not one a client wrote.
std::optional<std::int64_t> decode_value(std::span<const std::uint8_t> entry);

class ValueListMachine : public raft::StateMachine {
 public:
  struct Entry {
    std::int64_t index = 0;
    std::int64_t value = 0;
    friend bool operator==(const Entry&, const Entry&) = default;
  };

  void apply(std::int64_t index, std::int64_t term, std::span<const std::uint8_t> entry) override;
  std::vector<std::uint8_t> snapshot() const override;
  Result<void> restore(std::span<const std::uint8_t> snapshot) override;

  const std::vector<Entry>& entries() const { return entries_; }
  std::uint64_t hash() const { return hash_; }

 private:
  std::vector<Entry> entries_;
  std::uint64_t hash_ = 0;
};

enum class ProposeStatus : std::int8_t {
  ok = 0,          // committed and applied at `index`
  not_leader = 1,  // refused before proposing: definitely not appended
  unknown = 2,     // appended (or maybe), fate unknown
};

struct ProposeRequest {
  std::int64_t value = 0;
  std::int64_t wait_ms = 0;  // how long the node waits for the entry to apply
  raft::Bytes entry;
};

struct ProposeResponse {
  ProposeStatus status = ProposeStatus::unknown;
  std::int64_t index = 0;               // on ok
  raft::NodeId leader = raft::no_node;  // on not_leader: the node's hint
};

raft::Bytes encode(const ProposeRequest& m);
raft::Bytes encode(const ProposeResponse& m);
std::optional<ProposeRequest> decode_propose_request(std::span<const std::uint8_t> b);
std::optional<ProposeResponse> decode_propose_response(std::span<const std::uint8_t> b);

}  // namespace castle::scenarios
