// The follower's side: AppendEntries, InstallSnapshot, and serving
// observers' fetches (which only the leader answers with data).
#include "system/raft/raft_core.h"
#include "system/storage/batch_builder.h"

namespace castle::raft {

bool Core::accept_leader(std::int64_t term, NodeId from) {
  if (term > qs.term) {
    if (!observe_term(term, from)) return false;
  } else if (role != Role::follower || leader != from) {
    become_follower(term, from);  // a candidate of this term lost
  }
  last_leader_contact = rt.now();
  have_leader_contact = true;
  reset_election_timer();
  return true;
}

namespace {
AppendResponse reject(std::int64_t term, std::int64_t last, std::int64_t hint) {
  return {term, false, last, std::max<std::int64_t>(1, hint)};
}
}  // namespace

AppendResponse Core::handle_append(const AppendRequest& req, bool* malformed) {
  auto entries = decode_entries(req.entries);
  auto spans = storage::split_batches(req.entries);
  if (!entries || !spans) {
    *malformed = true;
    return {};
  }
  for (std::size_t i = 0; i < entries->size(); ++i) {
    const auto& e = (*entries)[i];
    if (e.index != req.prev_index + 1 + static_cast<std::int64_t>(i) || e.term > req.term) {
      *malformed = true;
      return {};
    }
  }
  MutexLock lock(rt, mu);
  const std::int64_t last = log->last_index();
  if (req.term < qs.term || !accept_leader(req.term, req.leader))
    return reject(qs.term, last, last + 1);
  if (req.prev_index > last) return reject(qs.term, last, last + 1);
  // Entries up to the snapshot are committed, hence equal to the leader's.
  if (req.prev_index > snap_index) {
    const std::int64_t mine = *term_at(req.prev_index);
    if (mine != req.prev_term) {
      const std::int64_t first = log->first_index_of_term(mine).value_or(req.prev_index);
      return reject(qs.term, last, std::min(std::max(first, commit + 1), req.prev_index));
    }
  }
  // Skip what we already hold; cut a conflicting suffix; append the rest.
  std::size_t fresh = 0;
  for (; fresh < entries->size(); ++fresh) {
    const auto& e = (*entries)[fresh];
    if (e.index <= snap_index) continue;
    if (e.index > log->last_index()) break;
    if (*term_at(e.index) == e.term) continue;
    if (!log->truncate_after(e.index - 1)) {
      storage_failed();
      return reject(qs.term, log->last_index(), log->last_index() + 1);
    }
    break;
  }
  if (fresh < entries->size()) {
    const std::uint8_t* from = (*spans)[fresh].data();
    const std::span<const std::uint8_t> tail(from, req.entries.data() + req.entries.size());
    if (!log->append_batches(tail) ||
        (!bug("raft-ack-before-sync") && !log->flush())) {
      storage_failed();
      return reject(qs.term, log->last_index(), log->last_index() + 1);
    }
    CASTLE_TRACE(rt.tracer(), "raft.append",
                 {{"first", (*entries)[fresh].index},
                  {"last", entries->back().index},
                  {"term", entries->back().term}});
  }
  const std::int64_t match = req.prev_index + static_cast<std::int64_t>(entries->size());
  // No entries: the leader sends none once it has sent its whole log.
  if (entries->empty()) end_repair();
  const std::int64_t new_commit = std::min(req.commit_index, match);
  if (new_commit > commit) set_commit(new_commit);
  return {qs.term, true, match, match + 1};
}

Result<void> Core::install_snapshot(Snapshot snap) {
  if (snap.index <= applied) return adopt_applied_snapshot(std::move(snap));
  if (auto r = save_snapshot(rt.disk(), cfg.dir, snap); !r) return r;
  if (auto r = sm.restore(snap.data); !r) return r;
  const auto held = term_at(snap.index);
  Result<void> r = (held && *held == snap.term && snap.index <= log->last_index())
                       ? log->compact_through(snap.index)
                       : log->reset_to(snap.index);
  if (!r) storage_failed();
  snap_index = snap.index;
  snap_term = snap.term;
  if (commit < snap.index) commit = snap.index;
  applied = snap.index;
  ++stats.snapshots_installed;
  CASTLE_TRACE(rt.tracer(), "raft.snapshot.installed", {{"index", snap.index}, {"term", snap.term}});
  applied_changed.notify_all();
  commit_changed.notify_all();
  return {};
}

// A snapshot of entries already applied changes nothing, unless a repair
// cut the log below it: then the log must resume at the snapshot, or the
// leader, taking this node for caught up to it, sends entries after it
// that the short log refuses, forever (cluster-swarm-disk 2037).
// The state machine stays where it is (it is ahead of the snapshot).
Result<void> Core::adopt_applied_snapshot(Snapshot snap) {
  if (snap.index <= log->last_index() || snap.index <= snap_index) return {};
  if (auto r = save_snapshot(rt.disk(), cfg.dir, snap); !r) return r;
  if (auto r = log->reset_to(snap.index); !r) {
    storage_failed();
    return r;
  }
  snap_index = snap.index;
  snap_term = snap.term;
  CASTLE_TRACE(rt.tracer(), "raft.snapshot.installed", {{"index", snap.index}, {"term", snap.term}});
  return {};
}

SnapshotResponse Core::handle_snapshot(const SnapshotRequest& req) {
  MutexLock lock(rt, mu);
  if (req.term < qs.term || !accept_leader(req.term, req.leader)) return {qs.term, false};
  const bool ok = install_snapshot({req.last_index, req.last_term, req.data}).ok();
  if (!ok) ++stats.storage_errors;
  return {qs.term, ok};
}

FetchResponse Core::handle_fetch(const FetchRequest& req) {
  MutexLock lock(rt, mu);
  FetchResponse resp;
  resp.leader = leader;
  resp.term = qs.term;
  resp.is_leader = role == Role::leader;
  if (!resp.is_leader) return resp;
  resp.commit_index = commit;
  if (req.next_index <= log->base_index()) {
    if (auto snap = snapshot_to_send()) {
      resp.has_snapshot = true;
      resp.snapshot_index = snap->index;
      resp.snapshot_term = snap->term;
      resp.snapshot = std::move(snap->data);
    }
    return resp;
  }
  // Observers get committed entries only, so they never have to truncate.
  if (req.next_index <= commit) {
    auto bytes = log->read_batches(req.next_index, commit, cfg.append_bytes_max);
    if (bytes) resp.entries = std::move(*bytes);
    else read_failed(req.next_index, bytes.error());
  }
  return resp;
}

}  // namespace castle::raft
