#pragma once
// One member of the Raft metadata quorum (docs/cluster.md): a voter, or an
// observer that follows the committed log without voting.
//
// Raft as in the paper, with pre-vote and check-quorum: a node whose
// election timer runs out first asks whether it could win (pre-vote, which
// changes nobody's term and is refused by voters that heard from a leader
// within the minimum election timeout), and only then starts an election;
// a leader that has not heard from a majority for the maximum election
// timeout steps down. Term and vote are synced (quorum-state) before any
// reply that depends on them; entries are synced before a follower
// acknowledges them and before the leader counts itself. A new leader
// appends an empty entry of its term; it is "ready" once that entry is
// committed and applied, i.e. its state machine holds every committed entry.
//
// Fault model: the node survives crashes at any point (the disk keeps only
// what was synced), lost, delayed and reordered connections, clock drift
// and jumps (timeouts are on the node's monotonic clock; safety never
// depends on time), and disk errors (an operation that fails is answered
// with a failure and the log is reopened from what the disk holds). Silent
// corruption of the quorum-state or a synced log entry is out of scope.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "system/raft/messages.h"
#include "system/raft/rpc.h"
#include "system/raft/state_machine.h"
#include "system/runtime/runtime.h"

namespace castle::raft {

struct RaftConfig {
  NodeId id = 0;
  std::map<NodeId, Address> voters;  // the whole voter set, this node included if a voter
  bool voter = true;                 // false: an observer (must not be in voters)
  Duration election_timeout_min = milliseconds(300);
  Duration election_timeout_max = milliseconds(600);
  Duration heartbeat_interval = milliseconds(50);
  Duration rpc_timeout = milliseconds(250);
  std::string dir = "raft";
  std::int64_t snapshot_threshold = 1000;   // applied entries between snapshots
  std::size_t append_bytes_max = 256 << 10;  // entry bytes per AppendEntries / fetch
  // Planted bugs (planted_bugs()), for proving the checkers catch them.
  std::set<std::string> bugs;
};

enum class RaftErrc {
  not_leader = 1,       // definitely not appended; leader_id() is the hint
  leadership_lost = 2,  // appended, but leadership changed: it may or may not commit
  timed_out = 3,        // appended, not yet known to be committed
  storage = 4,          // a disk error; the entry may or may not be in the log
  not_started = 5,
};
const std::error_category& raft_category();
std::error_code make_error_code(RaftErrc e);

struct RaftStats {
  std::uint64_t elections = 0;       // real elections started
  std::uint64_t pre_votes_lost = 0;  // pre-votes that found no majority
  std::uint64_t terms_led = 0;
  std::uint64_t snapshots_taken = 0;
  std::uint64_t snapshots_installed = 0;
  std::uint64_t storage_errors = 0;
};

// The planted bugs Raft knows (name, what it breaks); `castle bugs` lists them.
const std::vector<std::pair<std::string, std::string>>& planted_bugs();

struct Core;

class RaftNode {
 public:
  // Registers Raft's request types (1-19) on `server`; the caller starts the
  // server (after registering its own types) and then calls start().
  RaftNode(Runtime& rt, RaftConfig config, StateMachine& sm, RpcServer& server);
  ~RaftNode();
  RaftNode(const RaftNode&) = delete;
  RaftNode& operator=(const RaftNode&) = delete;

  // Recovers term, vote, log and snapshot from disk, restores the state
  // machine, and starts the node's fibers.
  Result<void> start();

  // Appends an entry if this node leads; returns its index. not_leader
  // otherwise (leader_id() is the hint).
  Result<std::int64_t> propose(std::span<const std::uint8_t> entry);
  // Several entries at once, appended in order and synced once: the index
  // of the last. A controller decision may hold hundreds of records, and
  // a sync per entry under the log's lock starves the heartbeats until the
  // followers elect someone else.
  Result<std::int64_t> propose_all(const std::vector<std::vector<std::uint8_t>>& entries);
  // Waits until the entry this node proposed at `index` is committed and
  // applied. leadership_lost if the term changed first (or the entry was
  // replaced), timed_out at the deadline.
  Result<void> wait_applied(std::int64_t index, Instant deadline);

  bool is_leader() const;
  // Leader, with its term-start entry committed and applied.
  bool is_ready_leader() const;
  NodeId leader_id() const;  // no_node if unknown
  std::int64_t term() const;
  std::int64_t commit_index() const;
  std::int64_t applied_index() const;
  NodeId id() const;
  const RaftStats& stats() const;
  // Its log was cut at damage and does not yet match a leader's: it does
  // not campaign meanwhile, and votes only above its floor (durable.h).
  bool repairing() const;

  // Called (from a fiber of this node) when this node becomes a ready
  // leader of `term`, and when it stops leading `term`.
  void on_leadership(std::function<void(std::int64_t term)> ready,
                     std::function<void(std::int64_t term)> lost);

 private:
  std::shared_ptr<Core> core_;  // shared with the node's fibers
};

}  // namespace castle::raft

template <>
struct std::is_error_code_enum<castle::raft::RaftErrc> : std::true_type {};
