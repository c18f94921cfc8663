// Elections: the election timer, pre-vote, votes, and role changes.
#include "system/raft/commit_rule.h"
#include "system/raft/raft_core.h"

namespace castle::raft {

void Core::reset_election_timer() {
  const auto lo = cfg.election_timeout_min.count();
  const auto hi = cfg.election_timeout_max.count();
  election_deadline = rt.now() + Duration(rt.rng().between(lo, hi));
}

bool Core::quorum_alive() const {
  // The leader counts itself; a peer counts if it answered within the
  // longest election timeout, after which the followers may elect another.
  std::size_t alive = 1;
  const Instant since = rt.now() - cfg.election_timeout_max;
  for (const auto& [id, p] : peers)
    if (p->last_ack >= since) ++alive;
  return alive >= majority(voter_count());
}

void Core::ticker_loop() {
  while (!stopped) {
    rt.sleep_for(cfg.heartbeat_interval);
    if (role == Role::leader) {
      if (!quorum_alive()) {
        MutexLock lock(rt, mu);
        if (role == Role::leader && !quorum_alive()) become_follower(qs.term, no_node);
      }
      continue;
    }
    if (rt.now() >= election_deadline && !repairing) campaign();
  }
}

// Sends one round of vote requests (pre-vote or real) and counts the
// grants; true on a majority. Each request runs in its own fiber so a dead
// peer does not delay the others.
bool Core::poll_voters(bool pre_vote, std::int64_t term) {
  struct Tally {
    std::size_t granted = 1;  // our own
    std::size_t answered = 1;
    std::int64_t higher_term = 0;
    WaitList changed;
  };
  Bytes body;
  {
    // Under mu: a truncation holding it may be halfway, and while
    // storage_failed() reopens the log there is none (no campaign then).
    MutexLock lock(rt, mu);
    if (!log || repairing) return false;
    body = encode(VoteRequest{term, cfg.id, log->last_index(), last_log_term(), pre_vote});
  }
  auto tally = std::make_shared<Tally>();
  auto self = shared_from_this();
  for (const auto& [id, p] : peers) {
    Peer* peer = p.get();
    rt.spawn(pre_vote ? "raft.prevote" : "raft.vote", [self, tally, peer, body] {
      auto r = peer->client->call(static_cast<std::int16_t>(MessageType::vote), body,
                                  self->cfg.rpc_timeout);
      std::optional<VoteResponse> resp;
      if (r) resp = decode_vote_response(*r);
      if (resp && resp->granted) ++tally->granted;
      if (resp && !resp->granted) tally->higher_term = std::max(tally->higher_term, resp->term);
      ++tally->answered;
      tally->changed.notify_all();
    });
  }
  const std::size_t need = majority(voter_count());
  const Instant deadline = rt.now() + cfg.rpc_timeout + milliseconds(10);
  while (tally->granted < need && tally->answered < voter_count()) {
    if (!tally->changed.wait(rt, deadline)) break;
  }
  if (tally->higher_term > qs.term) {
    MutexLock lock(rt, mu);
    (void)observe_term(tally->higher_term, no_node);
  }
  return tally->granted >= need;
}

void Core::campaign() {
  reset_election_timer();
  const std::uint64_t gen = role_gen;
  // Pre-vote: would a majority vote for us at term + 1? Nobody's term moves.
  if (!poll_voters(true, qs.term + 1)) {
    ++stats.pre_votes_lost;
    return;
  }
  std::int64_t term = 0;
  {
    MutexLock lock(rt, mu);
    // The ticker saw no repair, but one may have begun while this waited
    // for mu (a reopen holds it throughout): a lone voter then won its own
    // election with a cut log and rewrote committed entries (seed 5816).
    if (role_gen != gen || role == Role::leader || repairing) return;
    term = qs.term + 1;
    if (!set_quorum_state({term, cfg.id})) return;
    role = Role::candidate;
    leader = no_node;
    ++role_gen;
    ++stats.elections;
    trace_role();
  }
  const std::uint64_t candidate_gen = role_gen;
  const bool won = poll_voters(false, term);
  MutexLock lock(rt, mu);
  if (won && role == Role::candidate && role_gen == candidate_gen && qs.term == term && !repairing)
    become_leader(term);
}

VoteResponse Core::handle_vote(const VoteRequest& req) {
  MutexLock lock(rt, mu);
  // A log under repair may lack entries this node acknowledged: the
  // candidate must be at least as up to date as the log was (its floor).
  // With two voters the candidate is in every majority, so it holds every
  // committed entry: what this node had beyond it was never committed.
  const bool in_every_majority = voter_count() == 2;
  if (repairing && !in_every_majority &&
      (!repair_floor ||
       !log_up_to_date(req.last_term, req.last_index, repair_floor->term, repair_floor->index)))
    return {qs.term, false};
  const bool log_ok = bug("raft-vote-without-log-check") || (repairing && in_every_majority) ||
                      log_up_to_date(req.last_term, req.last_index, last_log_term(),
                                     log->last_index());
  if (req.pre_vote) {
    // Refuse while a leader is alive: a node cut off and back must not
    // depose a healthy leader (its term may be far ahead by now).
    const bool leader_alive =
        role == Role::leader ||
        (have_leader_contact && rt.now() < last_leader_contact + cfg.election_timeout_min);
    return {qs.term, req.term > qs.term && log_ok && !leader_alive && cfg.voter};
  }
  if (req.term < qs.term || !cfg.voter) return {qs.term, false};
  if (req.term > qs.term && !observe_term(req.term, no_node)) return {qs.term, false};
  const bool free = qs.voted_for == no_node || qs.voted_for == req.candidate;
  if (!free || !log_ok) return {qs.term, false};
  if (!set_quorum_state({qs.term, req.candidate})) return {qs.term, false};
  reset_election_timer();
  return {qs.term, true};
}

bool Core::observe_term(std::int64_t term, NodeId new_leader) {
  if (term <= qs.term) return true;
  if (!set_quorum_state({term, no_node})) return false;
  become_follower(term, new_leader);
  return true;
}

void Core::become_follower(std::int64_t term, NodeId new_leader) {
  CASTLE_ASSERT(term == qs.term, "the term is persisted before the role changes");
  const bool was_leader = role == Role::leader;
  const Role next = cfg.voter ? Role::follower : Role::observer;
  const bool changed = role != next || leader != new_leader;
  role = next;
  leader = new_leader;
  ++role_gen;
  leader_ready = false;
  if (was_leader) {
    wake_peers();
    applied_changed.notify_all();  // proposers waiting learn that leadership is gone
    leadership_events.try_send({false, term});
  }
  if (changed) trace_role();
}

void Core::become_leader(std::int64_t term) {
  role = Role::leader;
  leader = cfg.id;
  ++role_gen;
  ++stats.terms_led;
  const std::uint64_t gen = role_gen;
  for (auto& [id, p] : peers) {
    p->next_index = log->last_index() + 1;
    p->match_index = 0;
    p->last_ack = rt.now();  // a fresh lease: check-quorum starts counting now
  }
  trace_role();
  // The term-start entry: nothing of an older term commits until an entry
  // of this term does, and the leader is ready once it is applied.
  auto idx = log->append({}, term);
  if (!idx) {
    storage_failed();
    return;
  }
  CASTLE_TRACE(rt.tracer(), "raft.append", {{"first", *idx}, {"last", *idx}, {"term", term}});
  term_start_index = *idx;
  if (!bug("raft-ack-before-sync") && !log->flush()) {
    storage_failed();
    return;
  }
  auto self = shared_from_this();
  for (auto& [id, p] : peers) {
    const NodeId peer_id = id;
    tasks.push_back(rt.spawn("raft.replicate", [self, peer_id, gen] {
      self->replicate_loop(peer_id, gen);
    }));
  }
  // Finished tasks stay as handles; drop them so the list stays bounded.
  std::erase_if(tasks, [](const Task& t) { return t.done(); });
  advance_commit();
}

}  // namespace castle::raft
