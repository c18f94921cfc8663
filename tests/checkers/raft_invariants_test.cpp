// The Raft state invariants over synthetic raft.* trace events: each holds
// for a legal sequence (including the legal-but-surprising ones a correct
// Raft produces: a stale leader learning it won after a newer election, a
// deposed leader's entry applied later) and reports the violation it
// exists for.
#include <gtest/gtest.h>

#include "checkers/raft_invariants.h"

namespace castle::checkers {
namespace {

TraceEvent role(const std::string& node, const std::string& r, std::int64_t term, std::int64_t leader) {
  return {node, 0, "raft.role", {{"term", term}, {"role", r}, {"leader", leader}}};
}
TraceEvent vote(const std::string& node, std::int64_t term, std::int64_t voted_for) {
  return {node, 0, "raft.vote", {{"term", term}, {"voted_for", voted_for}}};
}
TraceEvent append(const std::string& node, std::int64_t index, std::int64_t term) {
  return {node, 0, "raft.append", {{"first", index}, {"last", index}, {"term", term}}};
}
TraceEvent commit(const std::string& node, std::int64_t index, std::int64_t term, std::int64_t hash) {
  return {node, 0, "raft.commit", {{"index", index}, {"term", term}, {"hash", hash}}};
}

CheckResult run(const std::vector<TraceEvent>& events) {
  InvariantSet set;
  add_raft_invariants(set);
  for (const auto& e : events) set.observe(e);
  CheckResult r;
  set.finish(r);
  return r;
}

std::string types(const CheckResult& r) {
  std::string s;
  for (const auto& a : r.anomalies) s += a.type + ": " + a.description + "\n";
  return s;
}

// n0 leads term 1 and commits its entry 2; n1 then wins term 2.
std::vector<TraceEvent> clean_two_terms() {
  return {role("n0", "candidate", 1, -1), vote("n1", 1, 0), role("n0", "leader", 1, 0),
          append("n0", 1, 1),            commit("n0", 1, 1, 11), append("n0", 2, 1),
          commit("n0", 2, 1, 22),        commit("n1", 1, 1, 11), commit("n1", 2, 1, 22),
          role("n1", "candidate", 2, -1), role("n1", "leader", 2, 1), append("n1", 3, 2),
          commit("n1", 3, 2, 33),        role("n0", "follower", 2, 1), commit("n0", 3, 2, 33)};
}

TEST(RaftInvariants, CleanElectionsAndCommitsPass) {
  const auto r = run(clean_two_terms());
  EXPECT_TRUE(r.valid()) << types(r);
}

TEST(RaftInvariants, TwoLeadersOfOneTermAreReported) {
  auto ev = clean_two_terms();
  ev.push_back(role("n2", "candidate", 2, -1));
  ev.push_back(role("n2", "leader", 2, 2));
  const auto r = run(ev);
  EXPECT_EQ(r.counts.count("two-leaders-in-term"), 1u) << types(r);
  EXPECT_EQ(r.counts.count("split-brain"), 1u) << types(r);
}

TEST(RaftInvariants, TermGoingBackAcrossARestartIsReported) {
  auto ev = clean_two_terms();
  ev.push_back({"n0", 0, "node.crash", {{"incarnation", 1}}});
  ev.push_back(role("n0", "follower", 0, -1));  // recovered term 0: the vote was not durable
  const auto r = run(ev);
  ASSERT_EQ(r.counts.count("term-went-back"), 1u) << types(r);
  EXPECT_EQ(r.anomalies[0].key, "n0");
}

TEST(RaftInvariants, ACommittedEntryThatChangesIsReported) {
  auto ev = clean_two_terms();
  ev.push_back(commit("n2", 2, 1, 99));  // same index and term, another entry
  auto r = run(ev);
  EXPECT_EQ(r.counts.count("committed-entry-changed"), 1u) << types(r);
  ev = clean_two_terms();
  ev.push_back(commit("n2", 3, 1, 33));  // another term at index 3
  r = run(ev);
  EXPECT_EQ(r.counts.count("committed-entry-changed"), 1u) << types(r);
}

// n0 campaigns for term 1 and its voters grant; n1 wins term 2 before n0
// counts its replies, so n0 announces term 1 after term 2 began. Legal Raft:
// n0 can commit nothing (term 2's majority refuses it).
TEST(RaftInvariants, AStaleLeaderThatLearnsItWonLateIsLinearizable) {
  const std::vector<TraceEvent> ev = {
      role("n0", "candidate", 1, -1), vote("n2", 1, 0),           role("n1", "candidate", 2, -1),
      vote("n2", 2, 1),               role("n1", "leader", 2, 1), role("n0", "leader", 1, 0),
      append("n0", 1, 1),             append("n1", 1, 2),         commit("n1", 1, 2, 5),
      role("n0", "follower", 2, 1),   commit("n0", 1, 2, 5)};
  const auto r = run(ev);
  EXPECT_TRUE(r.valid()) << types(r);
}

// A deposed leader's entry committed later by a newer leader is applied on
// the deposed node: no read of the old term (it is no longer the leader).
TEST(RaftInvariants, ADeposedLeadersEntryCommittedLaterIsNoStaleRead) {
  const std::vector<TraceEvent> ev = {
      role("n0", "candidate", 1, -1), role("n0", "leader", 1, 0), append("n0", 1, 1),
      role("n1", "candidate", 2, -1), role("n1", "leader", 2, 1), append("n0", 2, 1),
      role("n2", "candidate", 3, -1), role("n2", "leader", 3, 2), append("n2", 3, 3),
      commit("n2", 1, 1, 1),          commit("n2", 2, 1, 2),      commit("n2", 3, 3, 3),
      role("n0", "follower", 3, 2),   commit("n0", 1, 1, 1),      commit("n0", 2, 1, 2)};
  const auto r = run(ev);
  EXPECT_TRUE(r.valid()) << types(r);
}

// A minority leader that still commits its own entries appended after the
// majority elected a newer leader: the read of (1, n0) cannot precede the
// write of term 2.
TEST(RaftInvariants, AMinorityLeaderCommittingAfterANewerElectionIsStale) {
  const std::vector<TraceEvent> ev = {
      role("n0", "candidate", 1, -1), role("n0", "leader", 1, 0), append("n0", 1, 1),
      commit("n0", 1, 1, 1),          role("n1", "candidate", 2, -1), role("n1", "leader", 2, 1),
      append("n0", 2, 1),             commit("n0", 2, 1, 2)};
  const auto r = run(ev);
  EXPECT_EQ(r.counts.count("stale-leader"), 1u) << types(r);
  EXPECT_TRUE(r.anomalies[0].ops.empty()) << "event numbers are not history operations";
}

}  // namespace
}  // namespace castle::checkers
