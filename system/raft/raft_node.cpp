#include "system/raft/raft_node.h"

#include "system/raft/raft_core.h"

#include "system/raft/commit_rule.h"
#include "system/storage/log.h"

namespace castle::raft {

const std::vector<std::pair<std::string, std::string>>& planted_bugs() {
  static const std::vector<std::pair<std::string, std::string>> bugs = {
      {"raft-vote-without-log-check",
       "grant votes without checking that the candidate's log is up to date"},
      {"raft-forget-vote-on-restart",
       "keep term and vote only in memory, so a restarted node votes again in an old term"},
      {"raft-ack-before-sync",
       "acknowledge (and count the leader's own) entries before syncing the log"},
      {"raft-commit-without-majority",
       "count half of the voters as a quorum, so a minority leader commits"},
      {"raft-commit-older-term",
       "commit an older term's entry once it is on a majority (Figure 8), though a leader "
       "that never saw it can still overwrite it"},
  };
  return bugs;
}

namespace {
class RaftCategory : public std::error_category {
 public:
  const char* name() const noexcept override { return "raft"; }
  std::string message(int c) const override {
    switch (static_cast<RaftErrc>(c)) {
      case RaftErrc::not_leader: return "not the leader";
      case RaftErrc::leadership_lost: return "leadership lost before the entry was applied";
      case RaftErrc::timed_out: return "timed out waiting for the entry to apply";
      case RaftErrc::storage: return "storage error";
      case RaftErrc::not_started: return "raft node not started";
    }
    return "unknown raft error";
  }
};
}  // namespace

const std::error_category& raft_category() {
  static const RaftCategory c;
  return c;
}
std::error_code make_error_code(RaftErrc e) { return {static_cast<int>(e), raft_category()}; }

const char* to_string(Role r) {
  switch (r) {
    case Role::follower: return "follower";
    case Role::candidate: return "candidate";
    case Role::leader: return "leader";
    case Role::observer: return "observer";
  }
  return "?";
}

// ------------------------------------------------------------------ core

void Core::trace_role() {
  CASTLE_TRACE(rt.tracer(), "raft.role",
               {{"term", qs.term},
                {"role", to_string(role)},
                {"leader", static_cast<std::int64_t>(leader)},
                {"last_index", log ? log->last_index() : 0},
                {"commit", commit}});
}

Result<void> Core::set_quorum_state(QuorumState next) {
  if (next == qs) return {};
  CASTLE_ASSERT(next.term >= qs.term, "a term never goes back");
  if (!bug("raft-forget-vote-on-restart")) {
    if (auto r = save_quorum_state(rt.disk(), cfg.dir, next); !r) {
      ++stats.storage_errors;
      return r;
    }
  }
  qs = next;
  CASTLE_TRACE(rt.tracer(), "raft.vote",
               {{"term", qs.term}, {"voted_for", static_cast<std::int64_t>(qs.voted_for)}});
  return {};
}

std::optional<std::int64_t> Core::term_at(std::int64_t index) const {
  if (index == snap_index) return snap_term;
  return log->term_at(index);
}

// The Log's memory may disagree with the disk after a failed write:
// reopen it, which recovers from what the disk holds (a torn tail is cut).
//
// What the disk "holds" is not all durable, though: a failed sync may
// have given up writes that reads still return (Linux since 4.13), and a
// later sync would not write them again. So everything past the last
// successful flush goes, and the cut is synced: this node acknowledged
// none of it (it acknowledges only what a flush covered), and a log that
// kept it would one day meet a hole below its recovery point.
void Core::storage_failed() {
  reopen_log([this]() -> Result<std::unique_ptr<RaftLog>> {
    auto l = RaftLog::open_cutting_unsynced(rt, join_path(cfg.dir, "log"));
    // Damage below the last flush (a bit flip): repair. A salvaged log
    // trusts what reads return, which after the failed sync may be writes
    // the disk gave up: it keeps nothing past its base and fetches again.
    if (!l && l.error() == std::errc::illegal_byte_sequence) {
      l = begin_repair();
      if (l && !(*l)->truncate_after((*l)->base_index())) l = std::errc::io_error;
    }
    return l;
  });
}

// Damage a read found below the last flush, which a reopen would not look
// for (it trusts what was flushed): repaired at once, the log cut at the
// first batch that does not read back.
void Core::damage_found() {
  reopen_log([this] { return begin_repair(); });
}

// Deposes a leader, then opens the log with `open` until it succeeds. The
// caller holds mu throughout; fibers that read the log without mu (the
// apply loop's check, a campaign, an observer's fetch) find no log
// meanwhile and wait.
void Core::reopen_log(const std::function<Result<std::unique_ptr<RaftLog>>()>& open) {
  ++stats.storage_errors;
  if (role == Role::leader) become_follower(qs.term, no_node);
  log.reset();
  for (;;) {
    auto l = open();
    if (l) {
      log = std::move(*l);
      break;
    }
    CASTLE_TRACE(rt.tracer(), "raft.reopen_failed", {{"error", l.error().message()}});
    rt.sleep_for(cfg.heartbeat_interval);
  }
  if (log->last_index() < snap_index) (void)log->reset_to(snap_index);
  end_repair_if_nothing_lost();
}

// Damage a read found in entries already applied is healed from the state
// machine, which holds their effect: a snapshot at the applied index, and
// the log compacted past the damage (a follower behind it gets the
// snapshot). Damage further on, in entries not applied yet, is a damaged
// log like any other: the node repairs (damage_found, which deposes a
// leader first) and fetches them again. Without this a leader that found
// damage reading entries to send stalled replication to that follower for
// good (cluster-swarm-disk seed 4705: an observer never caught up,
// so its broker was never unfenced).
void Core::read_failed(std::int64_t index, std::error_code error) {
  CASTLE_TRACE(rt.tracer(), "raft.read_failed", {{"index", index}, {"error", error.message()}});
  if (error != std::errc::illegal_byte_sequence) return;  // a disk error: the next read may do
  if (index <= applied && applied > snap_index && snapshot_applied()) return;
  if (index > applied) damage_found();
}

// A snapshot that reaches the log's base, or none can be sent. A bit flip
// in the newest one left only an older one (or none) on disk, and the
// leader offered that, or nothing, forever to a node behind its base
// (cluster-swarm-disk 23340: an observer stopped applying metadata, and
// its broker kept leading at an epoch the controller had moved on from).
// The state machine holds what the damaged one held: a new snapshot of it.
std::optional<Snapshot> Core::snapshot_to_send() {
  auto usable = [this](Result<std::optional<Snapshot>>& s) {
    return s && *s && (*s)->index >= log->base_index();
  };
  auto snap = load_latest_snapshot(rt.disk(), cfg.dir);
  if (!usable(snap) && applied >= log->base_index() && snapshot_applied())
    snap = load_latest_snapshot(rt.disk(), cfg.dir);
  if (!usable(snap)) return std::nullopt;
  return std::move(**snap);
}

// The floor is what the log's checkpoints say its last flush covered,
// read before the cut; a repair begun during another one keeps the higher
// of the two (the node may have acknowledged entries in between).
Result<void> Core::mark_repair() {
  auto summary = storage::Log::flushed_summary(rt, join_path(cfg.dir, "log"));
  if (!summary) return summary.error();
  std::optional<RepairFloor> floor;
  if (*summary) floor = RepairFloor{(*summary)->last_epoch, (*summary)->recovery_point};
  if (repairing && floor) {
    if (!repair_floor) {
      floor.reset();
    } else if (log_up_to_date(repair_floor->term, repair_floor->index, floor->term, floor->index)) {
      floor = repair_floor;
    }
  }
  if (auto r = mark_repairing(rt.disk(), cfg.dir, floor); !r) return r;
  repairing = true;
  repair_floor = floor;
  trace_repair("begun", log ? log->last_index() : -1);
  return {};
}

// The floor in the trace: -1 when unknown (the node then votes for nobody).
// "begun" once the marker is written, "cut" once the salvaged log is open.
void Core::trace_repair(const char* state, std::int64_t last_index) {
  CASTLE_TRACE(rt.tracer(), "raft.repair",
               {{"state", state}, {"last_index", last_index},
                {"floor_term", repair_floor ? repair_floor->term : -1},
                {"floor_index", repair_floor ? repair_floor->index : -1}});
}

// A log damaged below what this node flushed may have lost entries it
// acknowledged; were it to vote as if it never had them, a candidate
// lacking a committed entry could win with its vote. So the marker, with
// the floor, goes to disk first (a crash mid-repair must not forget it),
// then the log is cut at the damage; until the log matches a leader's to
// its end the node does not campaign and votes only for candidates at
// least as up to date as the floor.
Result<std::unique_ptr<RaftLog>> Core::begin_repair() {
  const bool fresh = !repairing;  // an earlier repair's losses: its floor stands
  if (auto r = mark_repair(); !r) return r.error();
  auto l = RaftLog::open_salvaging(rt, join_path(cfg.dir, "log"));
  if (l && fresh) floor_from_uncut_log(**l);
  if (l) trace_repair("cut", (*l)->last_index());
  return l;
}

// With the checkpoints damaged the floor is unknown, and the node votes for
// nobody: with two voters, the quorum would stay leaderless for good
// (cluster-swarm-disk 1989). But a salvage that cut nothing, in a
// repair that is not the continuation of an earlier one, kept every entry
// the node ever flushed: its log's end is a floor. Written to the marker
// before it counts (a crash before leaves it unknown).
void Core::floor_from_uncut_log(const RaftLog& l) {
  if (repair_floor || l.cut_on_open()) return;
  const RepairFloor floor{l.last_term_or(snap_term), l.last_index()};
  if (!mark_repairing(rt.disk(), cfg.dir, floor)) return;
  repair_floor = floor;
}

// A repair whose log still reaches its floor lost nothing it acknowledged
// (the cut log is a prefix of the old one: at the floor's term and at least
// its index, it holds every entry up to the floor), so it ends at once.
// Otherwise only a leader ends it, and a single voter, or one whose repair
// began on a read error a later open did not find again, would wait for
// one forever without campaigning (cluster-swarm-disk 3599).
void Core::end_repair_if_nothing_lost() {
  if (!repairing || !repair_floor) return;
  if (!log_up_to_date(last_log_term(), log->last_index(), repair_floor->term, repair_floor->index)) return;
  end_repair();
}

void Core::end_repair() {
  if (!repairing || !clear_repairing(rt.disk(), cfg.dir)) return;  // next time, then
  repairing = false;
  repair_floor.reset();
  CASTLE_TRACE(rt.tracer(), "raft.repair", {{"state", "done"}, {"last_index", log->last_index()}});
}

Result<void> Core::recover() {
  Disk& disk = rt.disk();
  if (auto r = disk.make_dirs(cfg.dir); !r) return r;
  if (auto r = disk.sync_dir(parent_dir(cfg.dir)); !r) return r;
  auto q = load_quorum_state(disk, cfg.dir);
  if (!q) return q.error();
  qs = *q;
  repairing = raft::repairing(disk, cfg.dir);
  if (repairing) repair_floor = raft::repair_floor(disk, cfg.dir);
  auto l = RaftLog::open(rt, join_path(cfg.dir, "log"));
  if (!l && l.error() == std::errc::illegal_byte_sequence) l = begin_repair();
  if (!l) return l.error();
  log = std::move(*l);
  auto snap = load_latest_snapshot(disk, cfg.dir);
  if (!snap) return snap.error();
  if (*snap) {
    if (auto r = sm.restore((*snap)->data); !r) return r;
    snap_index = (*snap)->index;
    snap_term = (*snap)->term;
    // A snapshot installed from a leader may lie past the log's end.
    if (log->last_index() < snap_index)
      if (auto r = log->reset_to(snap_index); !r) return r;
  }
  if (log->base_index() > snap_index) {
    // The snapshot the log was compacted into is damaged (skipped above, so
    // an older one or none was restored): the entries between are gone.
    // Repaired like a damaged log: emptied there, refilled from a leader.
    if (auto r = mark_repair(); !r) return r;
    if (auto r = log->reset_to(snap_index); !r) return r;
    trace_repair("cut", snap_index);
  }
  commit = applied = snap_index;
  end_repair_if_nothing_lost();
  role = cfg.voter ? Role::follower : Role::observer;
  trace_role();
  return {};
}

// ------------------------------------------------------------------ node

RaftNode::RaftNode(Runtime& rt, RaftConfig config, StateMachine& sm, RpcServer& server)
    : core_(std::make_shared<Core>(rt, std::move(config), sm)) {
  CASTLE_ASSERT(core_->cfg.voter == (core_->cfg.voters.count(core_->cfg.id) == 1),
                "a voter is in the voter set, an observer is not");
  CASTLE_ASSERT(core_->cfg.election_timeout_min > core_->cfg.heartbeat_interval &&
                    core_->cfg.election_timeout_min <= core_->cfg.election_timeout_max,
                "election timeouts exceed the heartbeat");
  auto c = core_;
  auto when_ready = [c] { c->ready.wait(c->rt); };
  server.handle(static_cast<std::int16_t>(MessageType::vote),
                [c, when_ready](std::span<const std::uint8_t> b) -> Result<Bytes> {
                  auto req = decode_vote_request(b);
                  if (!req) return std::errc::bad_message;
                  when_ready();
                  return encode(c->handle_vote(*req));
                });
  server.handle(static_cast<std::int16_t>(MessageType::append_entries),
                [c, when_ready](std::span<const std::uint8_t> b) -> Result<Bytes> {
                  auto req = decode_append_request(b);
                  if (!req) return std::errc::bad_message;
                  when_ready();
                  bool malformed = false;
                  auto resp = c->handle_append(*req, &malformed);
                  if (malformed) return std::errc::bad_message;
                  return encode(resp);
                });
  server.handle(static_cast<std::int16_t>(MessageType::install_snapshot),
                [c, when_ready](std::span<const std::uint8_t> b) -> Result<Bytes> {
                  auto req = decode_snapshot_request(b);
                  if (!req) return std::errc::bad_message;
                  when_ready();
                  return encode(c->handle_snapshot(*req));
                });
  server.handle(static_cast<std::int16_t>(MessageType::fetch),
                [c, when_ready](std::span<const std::uint8_t> b) -> Result<Bytes> {
                  auto req = decode_fetch_request(b);
                  if (!req) return std::errc::bad_message;
                  when_ready();
                  return encode(c->handle_fetch(*req));
                });
}

RaftNode::~RaftNode() {
  core_->stopped = true;
  core_->leadership_events.close();
  for (auto& t : core_->tasks) t.cancel();
}

Result<void> RaftNode::start() {
  auto c = core_;
  {
    MutexLock lock(c->rt, c->mu);
    if (auto r = c->recover(); !r) return r;
  }
  for (const auto& [id, addr] : c->cfg.voters) {
    if (id == c->cfg.id) continue;
    auto p = std::make_unique<Peer>();
    p->client = std::make_unique<RpcClient>(c->rt, addr);
    c->peers[id] = std::move(p);
  }
  c->reset_election_timer();
  c->ready.set();
  c->tasks.push_back(c->rt.spawn("raft.apply", [c] { c->apply_loop(); }));
  c->tasks.push_back(c->rt.spawn("raft.events", [c] { c->events_loop(); }));
  if (c->cfg.voter) {
    c->tasks.push_back(c->rt.spawn("raft.ticker", [c] { c->ticker_loop(); }));
  } else {
    c->tasks.push_back(c->rt.spawn("raft.observer", [c] { c->observer_loop(); }));
  }
  return {};
}

Result<std::int64_t> RaftNode::propose(std::span<const std::uint8_t> entry) {
  if (!core_->ready.is_set()) return make_error_code(RaftErrc::not_started);
  // Empty entries are Raft's own term-start markers.
  if (entry.empty()) return std::errc::invalid_argument;
  return core_->propose(entry);
}

Result<std::int64_t> RaftNode::propose_all(const std::vector<std::vector<std::uint8_t>>& entries) {
  if (!core_->ready.is_set()) return make_error_code(RaftErrc::not_started);
  if (entries.empty()) return std::errc::invalid_argument;
  for (const auto& e : entries)
    if (e.empty()) return std::errc::invalid_argument;
  return core_->propose_all(entries);
}

Result<void> RaftNode::wait_applied(std::int64_t index, Instant deadline) {
  return core_->wait_applied(index, deadline);
}

bool RaftNode::is_leader() const { return core_->role == Role::leader; }
bool RaftNode::is_ready_leader() const { return is_leader() && core_->leader_ready; }
NodeId RaftNode::leader_id() const { return core_->leader; }
std::int64_t RaftNode::term() const { return core_->qs.term; }
std::int64_t RaftNode::commit_index() const { return core_->commit; }
std::int64_t RaftNode::applied_index() const { return core_->applied; }
NodeId RaftNode::id() const { return core_->cfg.id; }
const RaftStats& RaftNode::stats() const { return core_->stats; }

bool RaftNode::repairing() const { return core_->repairing; }

void RaftNode::on_leadership(std::function<void(std::int64_t)> ready,
                             std::function<void(std::int64_t)> lost) {
  core_->on_ready = std::move(ready);
  core_->on_lost = std::move(lost);
}

}  // namespace castle::raft
