// The leader's side of log replication: one replicator fiber per peer,
// proposals, and the commit rule.
#include "system/raft/commit_rule.h"
#include "system/raft/raft_core.h"

namespace castle::raft {

namespace {
// Awaited proposals kept at most; older ones are forgotten (their waiters
// then report an unknown outcome).
constexpr std::size_t awaited_max = 4096;
}  // namespace

void Core::wake_peers() {
  for (auto& [id, p] : peers) p->wake.notify_all();
}

void Core::set_commit(std::int64_t index) {
  CASTLE_ASSERT(index > commit, "the commit index only grows");
  commit = index;
  commit_changed.notify_all();
}

void Core::advance_commit() {
  if (role != Role::leader) return;
  // The leader counts itself only for what it has synced.
  std::vector<std::int64_t> match{bug("raft-ack-before-sync") ? log->last_index()
                                                              : log->synced_index()};
  for (const auto& [id, p] : peers) match.push_back(p->match_index);
  std::size_t quorum = majority(voter_count());
  if (bug("raft-commit-without-majority")) quorum = std::max<std::size_t>(1, voter_count() / 2);
  const std::int64_t q = quorum_index(match, quorum);
  const std::int64_t next = raft::advance_commit(commit, q, term_at(q), qs.term,
                                                 bug("raft-commit-older-term"));
  if (next > commit) {
    set_commit(next);
    wake_peers();  // tell the followers soon rather than at the next heartbeat
  }
}

Result<std::int64_t> Core::propose(std::span<const std::uint8_t> entry) {
  return propose_all({std::vector<std::uint8_t>(entry.begin(), entry.end())});
}

Result<std::int64_t> Core::propose_all(const std::vector<std::vector<std::uint8_t>>& entries) {
  if (role != Role::leader) return make_error_code(RaftErrc::not_leader);
  MutexLock lock(rt, mu);
  if (role != Role::leader) return make_error_code(RaftErrc::not_leader);
  std::int64_t first = 0, last = 0;
  for (const auto& entry : entries) {
    auto idx = log->append(entry, qs.term);
    if (!idx) {
      storage_failed();
      return make_error_code(RaftErrc::storage);
    }
    if (first == 0) first = *idx;
    last = *idx;
    awaited[*idx] = -1;
    if (awaited.size() > awaited_max) awaited.erase(awaited.begin());
  }
  CASTLE_TRACE(rt.tracer(), "raft.append", {{"first", first}, {"last", last}, {"term", qs.term}});
  if (!bug("raft-ack-before-sync") && !log->flush()) {
    storage_failed();
    return make_error_code(RaftErrc::storage);
  }
  advance_commit();
  wake_peers();
  return last;
}

void Core::replicate_loop(NodeId peer_id, std::uint64_t gen) {
  Peer& p = *peers.at(peer_id);
  while (!stopped && role == Role::leader && role_gen == gen) {
    const bool more = replicate_once(peer_id, gen);
    if (role != Role::leader || role_gen != gen) return;
    if (!more) p.wake.wait(rt, rt.now() + cfg.heartbeat_interval);
  }
}

namespace {
struct Outgoing {
  std::optional<AppendRequest> append;
  std::optional<SnapshotRequest> snapshot;
};
}  // namespace

// Builds the next request for a peer from the log (under mu).
static std::optional<Outgoing> next_request(Core& c, Peer& p) {
  Outgoing out;
  // Below the log's base the entries are compacted; at the base itself the
  // term is known only if a snapshot of ours ends there (a newer snapshot
  // may have moved snap_index past a base compaction has not reached yet:
  // raft-sync-eio seed 76 asked from the base forever). Either way the
  // follower needs the snapshot.
  const auto prev_term = c.term_at(p.next_index - 1);
  if (p.next_index <= c.log->base_index() || !prev_term) {
    // The entries it needs are compacted: send the snapshot instead.
    auto snap = c.snapshot_to_send();
    if (!snap) return std::nullopt;
    out.snapshot = SnapshotRequest{c.qs.term, c.cfg.id, snap->index, snap->term, std::move(snap->data)};
    return out;
  }
  AppendRequest req;
  req.term = c.qs.term;
  req.leader = c.cfg.id;
  req.prev_index = p.next_index - 1;
  req.prev_term = *prev_term;
  req.commit_index = c.commit;
  if (p.next_index <= c.log->last_index()) {
    // Buggify: one entry at a time (the first is always sent).
    const std::size_t max_bytes = c.rt.buggify("raft.append_short", 4) ? 1 : c.cfg.append_bytes_max;
    auto bytes = c.log->read_batches(p.next_index, c.log->last_index(), max_bytes);
    if (!bytes) {
      c.read_failed(p.next_index, bytes.error());
      return std::nullopt;
    }
    req.entries = std::move(*bytes);
  }
  out.append = std::move(req);
  return out;
}

// One request to a peer and its response. True if there is more to send now.
bool Core::replicate_once(NodeId peer_id, std::uint64_t gen) {
  Peer& p = *peers.at(peer_id);
  std::optional<Outgoing> out;
  {
    MutexLock lock(rt, mu);
    if (role != Role::leader || role_gen != gen) return false;
    out = next_request(*this, p);
  }
  if (!out) return false;
  const bool is_snapshot = out->snapshot.has_value();
  const Bytes body = is_snapshot ? encode(*out->snapshot) : encode(*out->append);
  const auto type = is_snapshot ? MessageType::install_snapshot : MessageType::append_entries;
  auto reply = p.client->call(static_cast<std::int16_t>(type), body, cfg.rpc_timeout);
  if (!reply) return false;
  MutexLock lock(rt, mu);
  if (role != Role::leader || role_gen != gen) return false;
  // A reply from a newer term deposes us; any other counts as contact.
  auto heard = [&](std::int64_t term) {
    if (term > qs.term) {
      (void)observe_term(term, no_node);
      return false;
    }
    p.last_ack = rt.now();
    return true;
  };
  if (is_snapshot) {
    auto resp = decode_snapshot_response(*reply);
    if (!resp || !heard(resp->term)) return false;
    if (resp->success) {
      p.match_index = std::max(p.match_index, out->snapshot->last_index);
      p.next_index = p.match_index + 1;
      advance_commit();
    }
    return resp->success;
  }
  auto resp = decode_append_response(*reply);
  if (!resp || !heard(resp->term)) return false;
  if (resp->success) {
    p.match_index = std::max(p.match_index, resp->match_index);
    p.next_index = p.match_index + 1;
    advance_commit();
    return p.next_index <= log->last_index();
  }
  // Back up to the follower's hint: the start of its conflicting term, or
  // its log end, never below what it holds. A follower whose log is shorter
  // than its match index lost entries it had acknowledged (only a planted
  // bug does that): believe it rather than retry forever.
  // (A failed response's match_index is the follower's last index.)
  if (resp->match_index < p.match_index) p.match_index = resp->match_index;
  const std::int64_t back = std::min(resp->next_hint, p.next_index - 1);
  p.next_index = std::max(p.match_index + 1, back);
  return true;
}

}  // namespace castle::raft
