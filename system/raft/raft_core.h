#pragma once
// RaftNode's insides, shared by election.cpp, replication.cpp,
// follower.cpp, apply.cpp and observer.cpp. Not for use outside system/raft.
//
// Concurrency: every fiber of the node runs on one thread and switches only
// at suspension points. `mu` serialises everything that touches the disk
// (log, quorum-state, snapshots) together with the state it decides, so a
// handler never sees another's half-done append; no fiber holds it across
// a network call. Every fiber re-checks term and role after any suspension.

#include <map>
#include <functional>
#include <memory>
#include <optional>

#include "system/raft/durable.h"
#include "system/raft/raft_log.h"
#include "system/raft/raft_node.h"
#include "system/runtime/sync.h"

namespace castle::raft {

enum class Role { follower, candidate, leader, observer };
const char* to_string(Role r);

struct Peer {
  std::int64_t next_index = 1;
  std::int64_t match_index = 0;
  Instant last_ack{};  // last response of the current term
  WaitList wake;       // new entries or a commit to send
  std::unique_ptr<RpcClient> client;
};

struct Core : std::enable_shared_from_this<Core> {
  Core(Runtime& r, RaftConfig c, StateMachine& s) : rt(r), cfg(std::move(c)), sm(s) {}

  Runtime& rt;
  RaftConfig cfg;
  StateMachine& sm;
  // Empty outside planted-bug runs: no string is built for the lookup then.
  bool bug(const char* name) const { return !cfg.bugs.empty() && cfg.bugs.count(name) != 0; }

  // Durable state and the log.
  std::unique_ptr<RaftLog> log;
  QuorumState qs;  // equals the disk's quorum-state (except under a planted bug)
  std::int64_t snap_index = 0;
  std::int64_t snap_term = 0;

  // Volatile state.
  Role role = Role::follower;
  NodeId leader = no_node;
  std::int64_t commit = 0;
  std::int64_t applied = 0;
  std::uint64_t role_gen = 0;  // bumped on every role or term change
  Instant election_deadline{};
  Instant last_leader_contact{};  // for refusing pre-votes while a leader is alive
  bool have_leader_contact = false;
  std::int64_t term_start_index = 0;  // the leader's no-op
  bool leader_ready = false;
  std::map<NodeId, std::unique_ptr<Peer>> peers;  // other voters, by id (ordered)
  std::map<std::int64_t, std::int64_t> awaited;   // index -> term applied there (-1: not yet)

  Mutex mu;
  WaitList commit_changed;   // the apply fiber waits here
  WaitList applied_changed;  // proposers wait here
  Event ready;               // recovered; handlers may proceed
  bool stopped = false;
  // The log was cut at damage: entries this node acknowledged may be gone,
  // so until its log matches a leader's to that leader's end (durable: the
  // marker file, see durable.h) it does not campaign, and votes only for
  // candidates at least as up to date as its log was (the floor).
  bool repairing = false;
  std::optional<RepairFloor> repair_floor;  // while repairing (durable.h)
  RaftStats stats;
  std::function<void(std::int64_t)> on_ready, on_lost;
  // (ready?, term) for the callbacks, delivered in order by one fiber so
  // that a callback never runs under mu (it may well propose).
  Channel<std::pair<bool, std::int64_t>> leadership_events{1024};
  std::vector<Task> tasks;

  // raft_node.cpp
  Result<void> recover();
  void trace_role();
  // Persists a new term/vote (before the caller replies on it); the
  // in-memory copy changes only once the disk has it.
  Result<void> set_quorum_state(QuorumState next);
  // A disk error on the log: reopen it from what the disk holds.
  void storage_failed();
  // A read found damage in entries not applied yet: repair (under mu).
  void damage_found();
  void reopen_log(const std::function<Result<std::unique_ptr<RaftLog>>()>& open);
  // A read of the log from `index` failed (under mu): damage there is
  // healed, from the state machine or by a repair (raft_node.cpp).
  void read_failed(std::int64_t index, std::error_code error);
  void trace_repair(const char* state, std::int64_t last_index);
  // The snapshot to send a node that needs entries below the log's base
  // (under mu); nullopt if none can be had now.
  std::optional<Snapshot> snapshot_to_send();
  void floor_from_uncut_log(const RaftLog& l);
  // Writes the repair marker (durably) before any damage is cut.
  Result<void> mark_repair();
  // Opens the log after damage: marks the repair durably, then salvages.
  Result<std::unique_ptr<RaftLog>> begin_repair();
  // A successful AppendEntries carrying no entries: the log matches the
  // leader's to its end, and a repair is over.
  void end_repair();
  void end_repair_if_nothing_lost();
  std::int64_t last_log_term() const { return log->last_term_or(snap_term); }
  std::optional<std::int64_t> term_at(std::int64_t index) const;
  std::size_t voter_count() const { return cfg.voters.size(); }

  // election.cpp
  void ticker_loop();
  void reset_election_timer();
  void campaign();
  bool poll_voters(bool pre_vote, std::int64_t term);
  VoteResponse handle_vote(const VoteRequest& req);
  void become_follower(std::int64_t term, NodeId new_leader);
  void become_leader(std::int64_t term);
  // Adopts a higher term seen in a message; false if it could not be persisted.
  bool observe_term(std::int64_t term, NodeId new_leader);
  bool quorum_alive() const;

  // replication.cpp
  void replicate_loop(NodeId peer_id, std::uint64_t gen);
  bool replicate_once(NodeId peer_id, std::uint64_t gen);
  void advance_commit();
  void set_commit(std::int64_t index);
  void wake_peers();
  Result<std::int64_t> propose(std::span<const std::uint8_t> entry);
  Result<std::int64_t> propose_all(const std::vector<std::vector<std::uint8_t>>& entries);

  // follower.cpp
  AppendResponse handle_append(const AppendRequest& req, bool* malformed);
  SnapshotResponse handle_snapshot(const SnapshotRequest& req);
  bool accept_leader(std::int64_t term, NodeId from);
  Result<void> install_snapshot(Snapshot snap);
  Result<void> adopt_applied_snapshot(Snapshot snap);
  FetchResponse handle_fetch(const FetchRequest& req);

  // apply.cpp
  void apply_loop();
  void apply_entries(const std::vector<LogEntry>& entries);
  void maybe_snapshot();
  // Snapshots the state machine at `applied` and compacts the log through
  // it (under mu). False if it could not.
  bool snapshot_applied();
  Result<void> wait_applied(std::int64_t index, Instant deadline);
  void events_loop();

  // observer.cpp
  void observer_loop();
  bool fetch_from(NodeId target, NodeId* hint);
};

}  // namespace castle::raft
