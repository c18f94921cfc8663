// Applying committed entries to the state machine, snapshots, and the
// proposers' wait for their entries.
#include "system/raft/raft_core.h"

namespace castle::raft {

namespace {
// Entry bytes read per apply step: bounds the time the apply fiber holds mu.
constexpr std::size_t apply_bytes_max = 64 << 10;
}  // namespace

void Core::apply_loop() {
  while (!stopped) {
    enum class Step { applied, idle, read_failed } step = Step::idle;
    {
      // The log is read under mu only: a truncation or compaction holding
      // mu may be halfway (its segments being replaced), and while
      // storage_failed() reopens it there is no log at all.
      MutexLock lock(rt, mu);
      const std::int64_t to = log ? std::min(commit, log->last_index()) : applied;
      if (applied < to && applied >= log->base_index()) {
        auto entries = log->read_entries(applied + 1, to, apply_bytes_max);
        step = entries && !entries->empty() ? Step::applied : Step::read_failed;
        if (step == Step::applied) apply_entries(*entries);
        if (!entries) read_failed(applied + 1, entries.error());
      }
    }
    if (step == Step::idle) {
      // A deadline as well as the notification: a reopened log or an
      // installed snapshot may also change what can be applied.
      if (applied >= commit) commit_changed.wait(rt, rt.now() + cfg.heartbeat_interval);
      else rt.sleep_for(cfg.heartbeat_interval);
      continue;
    }
    if (step == Step::read_failed) {
      ++stats.storage_errors;
      rt.sleep_for(cfg.heartbeat_interval);
      continue;
    }
    maybe_snapshot();
  }
}

void Core::apply_entries(const std::vector<LogEntry>& entries) {
  for (const auto& e : entries) {
    if (e.index > commit) break;
    CASTLE_ASSERT(e.index == applied + 1, "entries apply in index order, once each");
    // Term-start entries are empty and Raft's own: the state machine sees
    // only what was proposed.
    if (!e.data.empty()) sm.apply(e.index, e.term, e.data);
    CASTLE_TRACE(rt.tracer(), "raft.commit",
                 {{"index", e.index},
                  {"term", e.term},
                  {"hash", entry_hash(e.term, e.data)}});
    if (auto it = awaited.find(e.index); it != awaited.end()) it->second = e.term;
    applied = e.index;
    if (role == Role::leader && !leader_ready && applied >= term_start_index &&
        term_at(term_start_index) == qs.term) {
      leader_ready = true;
      CASTLE_TRACE(rt.tracer(), "raft.leader.ready", {{"term", qs.term}, {"index", applied}});
      leadership_events.try_send({true, qs.term});
    }
  }
  applied_changed.notify_all();
}

void Core::maybe_snapshot() {
  // Buggify: a snapshot early, so compaction and InstallSnapshot are common.
  const bool early = applied > snap_index && rt.buggify("raft.snapshot_early", 2);
  if (!early && applied - snap_index < cfg.snapshot_threshold) return;
  MutexLock lock(rt, mu);
  if (applied <= snap_index || (!early && applied - snap_index < cfg.snapshot_threshold)) return;
  (void)snapshot_applied();
}

bool Core::snapshot_applied() {
  const auto term = term_at(applied);
  if (!term) return false;
  Snapshot s{applied, *term, sm.snapshot()};
  if (!save_snapshot(rt.disk(), cfg.dir, s)) {
    ++stats.storage_errors;
    return false;
  }
  snap_index = s.index;
  snap_term = s.term;
  ++stats.snapshots_taken;
  CASTLE_TRACE(rt.tracer(), "raft.snapshot.taken", {{"index", s.index}, {"term", s.term}});
  if (!log->compact_through(s.index)) {
    storage_failed();
    return false;
  }
  return true;
}

Result<void> Core::wait_applied(std::int64_t index, Instant deadline) {
  const std::int64_t term = qs.term;
  const std::uint64_t gen = role_gen;
  for (;;) {
    if (applied >= index) {
      auto it = awaited.find(index);
      const bool ours = it != awaited.end() && it->second == term;
      if (it != awaited.end()) awaited.erase(it);
      if (ours) return {};
      return make_error_code(RaftErrc::leadership_lost);  // replaced, or skipped by a snapshot
    }
    if (role != Role::leader || role_gen != gen) return make_error_code(RaftErrc::leadership_lost);
    if (!applied_changed.wait(rt, deadline) && applied < index)
      return make_error_code(RaftErrc::timed_out);
  }
}

void Core::events_loop() {
  for (;;) {
    auto [status, ev] = leadership_events.recv(rt);
    if (status != ChannelStatus::ok) return;
    if (ev->first && on_ready) on_ready(ev->second);
    if (!ev->first && on_lost) on_lost(ev->second);
  }
}

}  // namespace castle::raft
