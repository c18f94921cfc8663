// RaftNode in a simulated cluster: elections, replication, conflict
// truncation, the commit rule, persistence across crashes, pre-vote,
// snapshot installs and observers. Each test drives the cluster with
// crashes and link cuts and then compares the state machines' applied
// entries, which must agree entry for entry.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "sim/disk.h"
#include "system/raft/commit_rule.h"
#include "system/raft/durable.h"
#include "system/storage/checkpoint.h"
#include "tests/raft/raft_rig.h"
#include "tests/sim/node_rig.h"

namespace castle::raft {
namespace {

using testing::Cluster;

std::string text_of(const Bytes& b) { return std::string(b.begin(), b.end()); }

// Every live machine's applied sequence is a prefix of the longest one.
void expect_agreement(Cluster& c) {
  std::vector<std::pair<std::int64_t, Bytes>> longest;
  for (int i = 0; i < c.size(); ++i)
    if (c.machine(i) && c.machine(i)->applied.size() > longest.size())
      longest = c.machine(i)->applied;
  for (int i = 0; i < c.size(); ++i) {
    if (!c.machine(i)) continue;
    const auto& mine = c.machine(i)->applied;
    for (std::size_t k = 0; k < mine.size(); ++k)
      EXPECT_EQ(mine[k], longest[k]) << "node " << i << " entry " << k;
  }
}

bool applied_everywhere(Cluster& c, std::size_t n) {
  for (int i = 0; i < c.size(); ++i)
    if (!c.machine(i) || c.machine(i)->applied.size() < n) return false;
  return true;
}

// A leader is elected, commits one more entry (the `n`th) everywhere, and
// every node agrees.
void expect_a_leader_commits_entry(Cluster& c, std::size_t n) {
  const int leading = c.wait_leader();
  ASSERT_GE(leading, 0);
  ASSERT_TRUE(c.propose(leading, "later").ok());
  c.world().run_until([&] { return applied_everywhere(c, n); }, c.world().now() + 3'000'000'000);
  EXPECT_TRUE(applied_everywhere(c, n));
  expect_agreement(c);
}

TEST(RaftCommitRule, VotesNeedAnUpToDateLog) {
  EXPECT_TRUE(log_up_to_date(3, 5, 2, 9));   // later last term wins over length
  EXPECT_FALSE(log_up_to_date(2, 9, 3, 5));
  EXPECT_TRUE(log_up_to_date(3, 5, 3, 5));   // equal is enough
  EXPECT_FALSE(log_up_to_date(3, 4, 3, 5));  // same term, shorter
}

TEST(RaftCommitRule, QuorumIndexIsTheMajorityMatch) {
  EXPECT_EQ(quorum_index({5, 3, 9}, majority(3)), 5);
  EXPECT_EQ(quorum_index({5, 3, 9, 1, 2}, majority(5)), 3);
  EXPECT_EQ(quorum_index({4}, majority(1)), 4);
}

// Figure 8 of the Raft paper: S1 leads term 4 and has re-replicated index 2
// (term 2) to a majority, but its own entry 3 (term 4) is only on itself.
// Index 2 must not commit: S5 (last term 3) could still win and overwrite it.
TEST(RaftCommitRule, Figure8OldTermEntryOnAMajorityDoesNotCommit) {
  const std::int64_t q = quorum_index({3, 2, 2, 1, 2}, majority(5));
  ASSERT_EQ(q, 2);
  EXPECT_EQ(advance_commit(1, q, /*term at 2=*/2, /*current=*/4), 1);
  // Once index 3 (term 4) is on a majority, 2 and 3 commit together.
  const std::int64_t q2 = quorum_index({3, 3, 3, 1, 2}, majority(5));
  EXPECT_EQ(advance_commit(1, q2, 4, 4), 3);
  // The planted bug's rule would commit the old entry.
  EXPECT_EQ(advance_commit(1, q, 2, 4, /*any_term=*/true), 2);
}

TEST(Raft, ElectsOneLeaderAndReplicatesToEveryNode) {
  Cluster c(1, 3);
  const int leader = c.wait_leader();
  ASSERT_GE(leader, 0);
  for (int k = 0; k < 10; ++k) {
    auto r = c.propose(leader, "e" + std::to_string(k));
    ASSERT_TRUE(r.ok()) << r.error().message();
  }
  // A follower refuses and names the leader.
  const int follower = (leader + 1) % 3;
  auto refused = c.propose(follower, "x");
  EXPECT_EQ(refused.error(), make_error_code(RaftErrc::not_leader));
  EXPECT_EQ(c.node(follower)->leader_id(), leader);
  c.world().run_until([&] { return applied_everywhere(c, 10); }, c.world().now() + 2'000'000'000);
  ASSERT_TRUE(applied_everywhere(c, 10));
  EXPECT_EQ(text_of(c.machine(0)->applied[9].second), "e9");
  expect_agreement(c);
}

// A controller decision's records go in as one proposal: appended in order,
// synced once, the last index returned, and applied everywhere in order; an
// empty entry (Raft's own marker) is refused and appends nothing.
TEST(Raft, ProposeAllAppendsEveryEntryInOrder) {
  Cluster c(3, 3);
  const int leader = c.wait_leader();
  ASSERT_GE(leader, 0);
  auto out = std::make_shared<std::optional<Result<std::int64_t>>>();
  auto refused = std::make_shared<std::optional<Result<std::int64_t>>>();
  c.sim_node(leader).spawn("test.propose_all", [&c, leader, out, refused] {
    std::vector<Bytes> entries;
    for (int k = 0; k < 300; ++k) {
      const std::string t = "a" + std::to_string(k);
      entries.emplace_back(t.begin(), t.end());
    }
    *refused = c.node(leader)->propose_all({Bytes{'x'}, Bytes{}});
    *out = c.node(leader)->propose_all(entries);
  });
  c.world().run_until([&] { return out->has_value(); }, c.world().now() + 2'000'000'000);
  ASSERT_TRUE(out->has_value());
  ASSERT_TRUE(refused->has_value());
  EXPECT_FALSE(refused->value().ok());
  ASSERT_TRUE(out->value().ok()) << out->value().error().message();
  c.world().run_until([&] { return applied_everywhere(c, 300); }, c.world().now() + 5'000'000'000);
  ASSERT_TRUE(applied_everywhere(c, 300));
  const auto& applied = c.machine(leader)->applied;
  ASSERT_EQ(applied.size(), 300u);
  EXPECT_EQ(applied.back().first, out->value().value());
  for (int k = 0; k < 300; ++k) EXPECT_EQ(text_of(applied[static_cast<std::size_t>(k)].second), "a" + std::to_string(k));
  EXPECT_EQ(c.ready_leader(), leader);
  expect_agreement(c);
}

// An isolated leader keeps an entry it cannot commit; the majority elects a
// new leader and commits others; on healing, the old leader's uncommitted
// entry is truncated and replaced.
TEST(Raft, IsolatedLeaderIsReplacedAndItsConflictingEntryTruncated) {
  Cluster c(2, 3);
  const int old_leader = c.wait_leader();
  ASSERT_GE(old_leader, 0);
  ASSERT_TRUE(c.propose(old_leader, "before").ok());
  const std::int64_t old_term = c.node(old_leader)->term();
  c.isolate(old_leader);
  auto lost = c.propose(old_leader, "doomed", milliseconds(300));
  EXPECT_FALSE(lost.ok());
  c.world().run_until(
      [&] {
        const int l = c.ready_leader();
        return l >= 0 && l != old_leader;
      },
      c.world().now() + 10'000'000'000);
  const int new_leader = c.ready_leader();
  ASSERT_GE(new_leader, 0);
  ASSERT_NE(new_leader, old_leader);
  EXPECT_GT(c.node(new_leader)->term(), old_term);
  ASSERT_TRUE(c.propose(new_leader, "after").ok());
  c.heal();
  c.world().run_until([&] { return applied_everywhere(c, 2); }, c.world().now() + 5'000'000'000);
  ASSERT_TRUE(applied_everywhere(c, 2));
  for (int i = 0; i < 3; ++i)
    for (const auto& [idx, b] : c.machine(i)->applied) EXPECT_NE(text_of(b), "doomed");
  EXPECT_FALSE(c.node(old_leader)->is_leader());
  expect_agreement(c);
}

// Crash every node and restart them all: terms do not go back, votes are
// remembered, and the state machines are rebuilt from snapshot and log.
TEST(Raft, StateSurvivesCrashAndRestartOfEveryNode) {
  Cluster c(3, 3);
  const int leader = c.wait_leader();
  ASSERT_GE(leader, 0);
  for (int k = 0; k < 60; ++k) ASSERT_TRUE(c.propose(leader, "p" + std::to_string(k)).ok());
  c.world().run_until([&] { return applied_everywhere(c, 60); }, c.world().now() + 2'000'000'000);
  std::vector<std::int64_t> terms;
  for (int i = 0; i < 3; ++i) terms.push_back(c.node(i)->term());
  for (int i = 0; i < 3; ++i) c.sim_node(i).crash();
  for (int i = 0; i < 3; ++i) c.sim_node(i).restart();
  c.world().run_until([&] { return c.node(0) && c.node(1) && c.node(2); },
                      c.world().now() + 2'000'000'000);
  for (int i = 0; i < 3; ++i) {
    ASSERT_NE(c.node(i), nullptr);
    EXPECT_GE(c.node(i)->term(), terms[static_cast<std::size_t>(i)]) << "node " << i;
  }
  const int again = c.wait_leader();
  ASSERT_GE(again, 0);
  ASSERT_TRUE(c.propose(again, "later").ok());
  c.world().run_until([&] { return applied_everywhere(c, 61); }, c.world().now() + 3'000'000'000);
  ASSERT_TRUE(applied_everywhere(c, 61));
  EXPECT_EQ(text_of(c.machine(0)->applied[0].second), "p0");
  EXPECT_EQ(text_of(c.machine(0)->applied[60].second), "later");
  expect_agreement(c);
}

// A bit flipped in a follower's log below what it flushed: it restarts
// (the damage no longer keeps it down) with its log cut at the damage and
// the repair marked on disk, with the floor its log had reached. Until its
// log matches a leader's to its end it votes only for candidates at least
// that up to date: with the leader cut off, the third voter, which missed
// the entries, cannot be elected with its vote. Healed, it catches up, the
// marker goes, and every node agrees.
TEST(Raft, ADamagedLogIsCutAndRepairedBeforeItsNodeVotesAgain) {
  Cluster c(5, 3, 0, [](RaftConfig& cfg) { cfg.snapshot_threshold = 1'000'000; });
  const int leader = c.wait_leader();
  ASSERT_GE(leader, 0);
  const int damaged = (leader + 1) % 3, third = (leader + 2) % 3;
  c.isolate(third);
  for (int k = 0; k < 30; ++k) ASSERT_TRUE(c.propose(leader, "p" + std::to_string(k)).ok());
  c.world().run_until([&] { return c.machine(damaged)->applied.size() >= 30; }, c.world().now() + 2'000'000'000);
  c.sim_node(damaged).crash();
  // In the first entry's CRC-covered bytes: the cut leaves nothing, so by
  // its log alone the third voter would look up to date enough.
  ASSERT_TRUE(c.sim_node(damaged).sim_disk().flip_bit("raft/log/00000000000000000000.log", 30, 1));
  c.heal();
  c.isolate(leader);
  c.sim_node(damaged).restart();
  c.world().run_until([&] { return c.node(damaged) != nullptr; }, c.world().now() + 2'000'000'000);
  ASSERT_NE(c.node(damaged), nullptr) << "a damaged log does not keep the node down";
  EXPECT_TRUE(c.node(damaged)->repairing());
  EXPECT_TRUE(c.sim_node(damaged).sim_disk().exists("raft/repairing"));
  c.run_for(seconds(5));
  EXPECT_FALSE(c.node(third)->is_leader()) << "elected, missing entries, with the vote of a node under repair";
  c.heal();
  c.world().run_until([&] { return !c.node(damaged)->repairing(); }, c.world().now() + 5'000'000'000);
  EXPECT_FALSE(c.node(damaged)->repairing());
  EXPECT_FALSE(c.sim_node(damaged).sim_disk().exists("raft/repairing"));
  expect_a_leader_commits_entry(c, 31);
}

// A bit flip in the leader's log, found when it reads entries to send to a
// follower that was away: the entries were applied, so the leader heals
// from its state machine (a snapshot, the log compacted past the damage)
// and the follower catches up from that snapshot. Before, the leader
// failed that read forever and the follower never caught up.
TEST(Raft, ALeaderHealsDamageItReadsInAppliedEntriesWithASnapshot) {
  Cluster c(9, 3, 0, [](RaftConfig& cfg) { cfg.snapshot_threshold = 1'000'000; });
  const int leader = c.wait_leader();
  ASSERT_GE(leader, 0);
  const int away = (leader + 1) % 3;
  c.sim_node(away).crash();
  for (int k = 0; k < 30; ++k) ASSERT_TRUE(c.propose(leader, "p" + std::to_string(k)).ok());
  c.world().run_until([&] { return c.machine(leader)->applied.size() >= 30; }, c.world().now() + 2'000'000'000);
  ASSERT_TRUE(c.sim_node(leader).sim_disk().flip_bit("raft/log/00000000000000000000.log", 200, 1));
  c.sim_node(away).restart();
  c.world().run_until([&] { return applied_everywhere(c, 30); }, c.world().now() + 5'000'000'000);
  EXPECT_TRUE(applied_everywhere(c, 30)) << "the follower never caught up";
  EXPECT_GE(c.node(leader)->stats().snapshots_taken, 1u);
  expect_agreement(c);
}

// A node under repair that voted for nobody would leave a quorum with one
// other voter down without a leader for good (it does not campaign
// either). Its floor lets it vote for the third, whose log is as up to
// date as its own was: that one is elected and repairs it.
// (When the damage is in its log's recovery point checkpoint instead, the
// salvage cuts nothing: the log's end is the floor, nothing was lost, and
// the repair ends at once.)
void one_voter_down_one_damaged_in(const std::string& file) {
  Cluster c(8, 3, 0, [](RaftConfig& cfg) { cfg.snapshot_threshold = 1'000'000; });
  const int leader = c.wait_leader();
  ASSERT_GE(leader, 0);
  const int damaged = (leader + 1) % 3;
  for (int k = 0; k < 30; ++k) ASSERT_TRUE(c.propose(leader, "p" + std::to_string(k)).ok());
  c.world().run_until([&] { return applied_everywhere(c, 30); }, c.world().now() + 2'000'000'000);
  c.sim_node(damaged).crash();
  c.sim_node(leader).crash();
  ASSERT_TRUE(c.sim_node(damaged).sim_disk().flip_bit("raft/log/" + file, file.ends_with(".log") ? 200 : 4, 1));
  c.sim_node(damaged).restart();
  c.world().run_until([&] { return c.node(damaged) != nullptr; }, c.world().now() + 2'000'000'000);
  ASSERT_NE(c.node(damaged), nullptr);
  EXPECT_EQ(c.node(damaged)->repairing(), file.ends_with(".log"));
  c.world().run_until([&] { return !c.node(damaged)->repairing(); }, c.world().now() + 10'000'000'000);
  EXPECT_FALSE(c.node(damaged)->repairing()) << "no leader was elected to repair it";
  c.sim_node(leader).restart();
  c.world().run_until([&] { return c.node(leader) != nullptr; }, c.world().now() + 2'000'000'000);
  expect_a_leader_commits_entry(c, 31);
}

TEST(Raft, ANodeUnderRepairVotesForACandidateAsUpToDateAsItsLogWas) {
  for (const std::string file : {"00000000000000000000.log", "recovery-point-offset-checkpoint"}) {
    SCOPED_TRACE(file);
    one_voter_down_one_damaged_in(file);
  }
}

// With two voters, a leader flushes an entry the other voter never got and
// its log is then damaged: its floor includes that entry, so by the floor
// it would refuse the other voter forever (cluster-swarm-disk 615). But the
// other voter is in every majority, so it holds every committed entry: the
// node under repair votes for it, and the unreplicated entry is lost, as
// an uncommitted entry may be.
TEST(Raft, WithTwoVotersANodeUnderRepairVotesForTheOtherEvenBelowItsFloor) {
  Cluster c(8, 2, 0, [](RaftConfig& cfg) { cfg.snapshot_threshold = 1'000'000; });
  const int damaged = c.wait_leader();
  ASSERT_GE(damaged, 0);
  const int other = 1 - damaged;
  for (int k = 0; k < 30; ++k) ASSERT_TRUE(c.propose(damaged, "p" + std::to_string(k)).ok());
  c.world().run_until([&] { return applied_everywhere(c, 30); }, c.world().now() + 2'000'000'000);
  c.isolate(other);
  EXPECT_FALSE(c.propose(damaged, "unreplicated", milliseconds(300)).ok());
  c.sim_node(damaged).crash();
  c.sim_node(other).crash();
  c.heal();
  ASSERT_TRUE(c.sim_node(damaged).sim_disk().flip_bit("raft/log/00000000000000000000.log", 200, 1));
  c.sim_node(damaged).restart();
  c.sim_node(other).restart();
  c.world().run_until([&] { return c.node(damaged) != nullptr && c.node(other) != nullptr; },
                      c.world().now() + 2'000'000'000);
  ASSERT_NE(c.node(damaged), nullptr);
  EXPECT_TRUE(c.node(damaged)->repairing());
  c.world().run_until([&] { return !c.node(damaged)->repairing(); }, c.world().now() + 10'000'000'000);
  EXPECT_FALSE(c.node(damaged)->repairing()) << "no leader was elected to repair it";
  expect_a_leader_commits_entry(c, 31);
  for (const auto& [idx, b] : c.machine(damaged)->applied) EXPECT_NE(text_of(b), "unreplicated");
}

// A lone voter's log fails (a sync, then reads, for a while) and the reopen
// finds damage: it repairs, and a repairing voter must not campaign. The
// ticker's election timeout ran out while the reopen held the lock, and its
// campaign, let in once the reopen was over, did not look again: the voter
// won its own election with the cut log and rewrote committed entries
// (cluster-swarm-disk 5816).
TEST(Raft, AVoterWhoseRepairBeganWhileItWaitedToCampaignDoesNotCampaign) {
  Cluster c(15, 1, 0, [](RaftConfig& cfg) { cfg.snapshot_threshold = 1'000'000; });
  const int lone = c.wait_leader();
  ASSERT_EQ(lone, 0);
  for (int k = 0; k < 30; ++k) ASSERT_TRUE(c.propose(lone, "p" + std::to_string(k)).ok());
  const std::int64_t term = c.node(lone)->term();
  auto& disk = c.sim_node(lone).sim_disk();
  ASSERT_TRUE(disk.flip_bit("raft/log/00000000000000000000.log", 200, 1));
  sim::DiskConfig failing = disk.config();
  failing.sync_eio_rate = failing.read_eio_rate = 1.0;
  failing.eio_only_in_path = "raft/log";
  disk.set_config(failing);
  EXPECT_FALSE(c.propose(lone, "fails", milliseconds(300)).ok());
  c.run_for(seconds(2));  // past the election timeout, the reopen failing
  failing.sync_eio_rate = failing.read_eio_rate = 0;
  disk.set_config(failing);
  c.run_for(seconds(3));
  ASSERT_TRUE(c.node(lone)->repairing()) << "the reopen found the damage";
  EXPECT_FALSE(c.node(lone)->is_leader()) << "elected itself with a cut log";
  EXPECT_EQ(c.node(lone)->term(), term);
}

// A bit flip in the quorum-state file must not change whom the node voted
// for (its checksum catches it) nor keep it down: the mirror written after
// it holds every vote that left the node, and the load writes the damaged
// copy again. Both damaged, the node cannot know its vote, and says so
// instead of guessing.
TEST(RaftDurable, ADamagedQuorumStateIsReadFromItsMirror) {
  sim::testing::NodeRig rig(7);
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    Disk& disk = rt.disk();
    ASSERT_TRUE(disk.make_dirs("raft").ok());
    EXPECT_EQ(load_quorum_state(disk, "raft").value(), QuorumState{});
    ASSERT_TRUE(save_quorum_state(disk, "raft", {3, 1}).ok());
    ASSERT_TRUE(save_quorum_state(disk, "raft", {5, 2}).ok());
    // "1\n1\n5 2\n<crc>\n": byte 4 is the term, which would read as 4.
    ASSERT_TRUE(rig.disk().flip_bit("raft/quorum-state", 4, 0));
    EXPECT_EQ(load_quorum_state(disk, "raft").value(), (QuorumState{5, 2}));
    EXPECT_TRUE(storage::read_checkpoint(disk, "raft/quorum-state").ok()) << "the primary is written again";
    ASSERT_TRUE(rig.disk().flip_bit("raft/quorum-state", 4, 0));
    ASSERT_TRUE(rig.disk().flip_bit("raft/quorum-state.mirror", 4, 0));
    auto lost = load_quorum_state(disk, "raft");
    ASSERT_FALSE(lost.ok());
    EXPECT_EQ(lost.error(), std::errc::illegal_byte_sequence);
    // The next save repairs both.
    ASSERT_TRUE(save_quorum_state(disk, "raft", {6, no_node}).ok());
    EXPECT_EQ(load_quorum_state(disk, "raft").value(), (QuorumState{6, no_node}));
  }));
}

// A primary newer than its mirror (its rename survived a crash though the
// directory sync failed, so the mirror was never written): the state read
// is the primary's, and the load mirrors it, so that a later flip of the
// primary does not bring the older term back (cluster-buggify-disk 25033).
TEST(RaftDurable, ALoadMirrorsAPrimaryTheMirrorIsBehind) {
  sim::testing::NodeRig rig(8);
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    Disk& disk = rt.disk();
    ASSERT_TRUE(disk.make_dirs("raft").ok());
    ASSERT_TRUE(save_quorum_state(disk, "raft", {2, 0}).ok());
    ASSERT_TRUE(storage::write_checkpoint(disk, "raft/quorum-state", {{3, no_node}}).ok());
    EXPECT_EQ(load_quorum_state(disk, "raft").value(), (QuorumState{3, no_node}));
    ASSERT_TRUE(rig.disk().flip_bit("raft/quorum-state", 4, 0));
    EXPECT_EQ(load_quorum_state(disk, "raft").value(), (QuorumState{3, no_node})) << "the term went back";
  }));
}

// A follower cut off for a long time keeps losing pre-votes, so its term
// does not run away, and when it returns the healthy leader keeps leading.
TEST(Raft, PreVoteKeepsARejoiningNodeFromDeposingTheLeader) {
  Cluster c(4, 3);
  const int leader = c.wait_leader();
  ASSERT_GE(leader, 0);
  const std::int64_t term = c.node(leader)->term();
  const int lonely = (leader + 1) % 3;
  c.isolate(lonely);
  c.run_for(seconds(5));
  EXPECT_EQ(c.node(lonely)->term(), term) << "pre-vote failed, so no term was taken";
  c.heal();
  c.run_for(seconds(2));
  EXPECT_EQ(c.ready_leader(), leader);
  EXPECT_EQ(c.node(leader)->term(), term);
  ASSERT_TRUE(c.propose(leader, "still").ok());
}

// A follower down while the leader snapshots and compacts its log comes
// back and is brought up to date by InstallSnapshot.
TEST(Raft, LaggingFollowerInstallsTheLeadersSnapshot) {
  Cluster c(5, 3);
  const int leader = c.wait_leader();
  ASSERT_GE(leader, 0);
  const int lagger = (leader + 1) % 3;
  c.sim_node(lagger).crash();
  for (int k = 0; k < 120; ++k) ASSERT_TRUE(c.propose(leader, "s" + std::to_string(k)).ok());
  EXPECT_GE(c.node(leader)->stats().snapshots_taken, 1u);
  c.sim_node(lagger).restart();
  c.world().run_until([&] { return applied_everywhere(c, 120); }, c.world().now() + 5'000'000'000);
  ASSERT_TRUE(applied_everywhere(c, 120));
  EXPECT_GE(c.node(lagger)->stats().snapshots_installed, 1u);
  expect_agreement(c);
}

// Flips a bit in every snapshot file of a node; returns how many.
int flip_every_snapshot(sim::SimDisk& disk) {
  int flipped = 0;
  auto names = disk.list("raft");
  if (!names) return 0;
  for (const auto& name : *names)
    if (name.starts_with("snapshot-")) flipped += disk.flip_bit("raft/" + name, 0, 3) ? 1 : 0;
  return flipped;
}

// The leader's own snapshot is damaged (a bit flip at rest) while a
// follower is down; the log is compacted past it, so the follower needs a
// snapshot to catch up. The leader takes a new one from its state machine
// instead of offering the damaged one's absence forever (cluster-swarm-disk
// 23340: an observer stopped applying metadata for good).
TEST(Raft, ALeaderWhoseSnapshotIsDamagedSendsANewOne) {
  Cluster c(17, 3);
  const int leader = c.wait_leader();
  ASSERT_GE(leader, 0);
  const int lagger = (leader + 1) % 3;
  c.sim_node(lagger).crash();
  for (int k = 0; k < 120; ++k) ASSERT_TRUE(c.propose(leader, "s" + std::to_string(k)).ok());
  const auto taken = c.node(leader)->stats().snapshots_taken;
  ASSERT_GE(taken, 1u);
  ASSERT_GE(flip_every_snapshot(c.sim_node(leader).sim_disk()), 1);
  c.sim_node(lagger).restart();
  c.world().run_until([&] { return applied_everywhere(c, 120); }, c.world().now() + 5'000'000'000);
  EXPECT_TRUE(applied_everywhere(c, 120)) << "the follower never caught up";
  EXPECT_GT(c.node(leader)->stats().snapshots_taken, taken);
  expect_agreement(c);
}

// A follower whose snapshot is damaged (its log compacted past it) has
// lost the entries between: it starts anyway, repairs (votes for nobody)
// and is refilled from the leader, by snapshot, until every node agrees.
TEST(Raft, ADamagedSnapshotIsRepairedFromTheLeader) {
  Cluster c(6, 3);
  const int leader = c.wait_leader();
  ASSERT_GE(leader, 0);
  for (int k = 0; k < 120; ++k) ASSERT_TRUE(c.propose(leader, "s" + std::to_string(k)).ok());
  c.world().run_until([&] { return applied_everywhere(c, 120); }, c.world().now() + 5'000'000'000);
  const int damaged = (leader + 1) % 3;
  ASSERT_GE(c.node(damaged)->stats().snapshots_taken, 1u);
  c.sim_node(damaged).crash();
  ASSERT_GE(flip_every_snapshot(c.sim_node(damaged).sim_disk()), 1);
  c.sim_node(damaged).restart();
  c.world().run_until([&] { return c.node(damaged) != nullptr; }, c.world().now() + 2'000'000'000);
  ASSERT_NE(c.node(damaged), nullptr) << "a damaged snapshot does not keep the node down";
  EXPECT_TRUE(c.node(damaged)->repairing());
  ASSERT_TRUE(c.propose(c.wait_leader(), "after").ok());
  c.world().run_until([&] { return applied_everywhere(c, 121) && !c.node(damaged)->repairing(); },
                      c.world().now() + 5'000'000'000);
  EXPECT_TRUE(applied_everywhere(c, 121));
  EXPECT_FALSE(c.node(damaged)->repairing());
  expect_agreement(c);
}

// An observer applies the committed log but never votes or leads.
TEST(Raft, ObserverFollowsCommittedEntriesWithoutVoting) {
  Cluster c(6, 3, 1);
  const int leader = c.wait_leader();
  ASSERT_GE(leader, 0);
  ASSERT_NE(leader, 3);
  for (int k = 0; k < 20; ++k) ASSERT_TRUE(c.propose(leader, "o" + std::to_string(k)).ok());
  c.world().run_until([&] { return applied_everywhere(c, 20); }, c.world().now() + 3'000'000'000);
  ASSERT_TRUE(applied_everywhere(c, 20));
  EXPECT_EQ(c.node(3)->leader_id(), leader);
  EXPECT_FALSE(c.node(3)->is_leader());
  EXPECT_EQ(c.node(3)->term(), c.node(leader)->term());
  expect_agreement(c);
}

}  // namespace
}  // namespace castle::raft

namespace castle::raft {
namespace {

// One seed of random crashes, restarts and isolations of a 5-voter cluster
// while a client proposes through whoever leads; then everything heals.
// Returns what went wrong (empty if nothing): a node's term going back, a
// machine disagreeing with another, or no leader/commit after healing.
std::string chaos(std::uint64_t seed, std::set<std::string> bugs = {}) {
  testing::Cluster c(seed, 5, 0, [&](RaftConfig& cfg) { cfg.bugs = bugs; });
  Rng rng(seed * 7919);
  std::vector<std::int64_t> max_term(5, 0);
  auto check_terms = [&]() -> std::string {
    for (int i = 0; i < 5; ++i) {
      if (!c.node(i)) continue;
      if (c.node(i)->term() < max_term[static_cast<std::size_t>(i)])
        return "node " + std::to_string(i) + " term went back";
      max_term[static_cast<std::size_t>(i)] = c.node(i)->term();
    }
    return "";
  };
  // Every entry any machine ever applied, by index: a committed entry
  // must never change, also across crashes that rebuild a machine.
  std::map<std::int64_t, Bytes> ever;
  auto agree = [&]() -> std::string {
    for (int i = 0; i < 5; ++i) {
      if (!c.machine(i)) continue;
      for (const auto& [index, bytes] : c.machine(i)->applied) {
        auto [it, fresh] = ever.emplace(index, bytes);
        if (!fresh && it->second != bytes)
          return "committed entry " + std::to_string(index) + " changed";
      }
    }
    std::vector<std::pair<std::int64_t, Bytes>> longest;
    for (int i = 0; i < 5; ++i)
      if (c.machine(i) && c.machine(i)->applied.size() > longest.size())
        longest = c.machine(i)->applied;
    for (int i = 0; i < 5; ++i) {
      if (!c.machine(i)) continue;
      const auto& mine = c.machine(i)->applied;
      for (std::size_t k = 0; k < mine.size(); ++k)
        if (mine[k] != longest[k]) return "machines disagree at entry " + std::to_string(k);
    }
    return "";
  };
  for (int round = 0; round < 30; ++round) {
    const int victim = static_cast<int>(rng.below(5));
    const int other = (victim + 1 + static_cast<int>(rng.below(4))) % 5;
    switch (rng.below(5)) {
      case 0:
        if (c.sim_node(victim).up()) c.sim_node(victim).crash();
        break;
      case 1: c.isolate(victim); break;
      case 2:  // a 2|3 split: {victim, other} against the rest
        for (int i = 0; i < 5; ++i)
          if (i != victim && i != other) {
            c.world().network().cut_both(victim, i);
            c.world().network().cut_both(other, i);
          }
        break;
      case 3:  // a majority crashes at once, losing what it had not synced
        for (int i : {victim, other, (other + 1) % 5 == victim ? (other + 2) % 5 : (other + 1) % 5})
          if (c.sim_node(i).up()) c.sim_node(i).crash();
        break;
      default: break;
    }
    const int leader = c.ready_leader();
    if (leader >= 0) (void)c.propose(leader, "r" + std::to_string(round), milliseconds(300));
    c.run_for(milliseconds(static_cast<std::int64_t>(rng.between(50, 400))));
    if (rng.chance(0.5)) c.heal();
    for (int i = 0; i < 5; ++i)
      if (!c.sim_node(i).up() && rng.chance(0.5)) c.sim_node(i).restart();
    c.run_for(milliseconds(20));
    if (auto e = check_terms(); !e.empty()) return e;
    if (auto e = agree(); !e.empty()) return e;
  }
  c.heal();
  for (int i = 0; i < 5; ++i)
    if (!c.sim_node(i).up()) c.sim_node(i).restart();
  // A node that led before the healing may still believe it leads for a
  // moment; a client retries, as it would against any leader change.
  Result<std::int64_t> r = make_error_code(RaftErrc::not_leader);
  for (int attempt = 0; attempt < 5 && !r; ++attempt) {
    const int leader = c.wait_leader(seconds(20));
    if (leader < 0) return "no leader after healing";
    r = c.propose(leader, "final", seconds(5));
    if (!r) c.run_for(milliseconds(200));
  }
  if (!r) return "no commit after healing: " + r.error().message();
  c.world().run_until(
      [&] {
        for (int i = 0; i < 5; ++i)
          if (!c.node(i) || c.node(i)->applied_index() < *r) return false;
        return true;
      },
      c.world().now() + 10'000'000'000);
  for (int i = 0; i < 5; ++i)
    if (!c.node(i) || c.node(i)->applied_index() < *r) return "a node did not catch up";
  if (auto e = check_terms(); !e.empty()) return e;
  return agree();
}

TEST(Raft, RandomFaultsKeepAgreementAndHealAcrossSeeds) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) EXPECT_EQ(chaos(seed), "") << "seed " << seed;
}

// Planted bugs the random chaos cannot stage, each with where it is caught.
const std::map<std::string, std::string>& staged_elsewhere() {
  static const std::map<std::string, std::string> bugs = {
      {"raft-commit-older-term",
       "Figure 8 needs a lagging voter moved between partition sides around four elections: "
       "RaftCommitRule.Figure8OldTermEntryOnAMajorityDoesNotCommit pins the rule, and "
       "scenarios/raft-planted-commit-older-term.json stages it"},
  };
  return bugs;
}

// Each planted bug is caught by the same chaos within a bounded number of
// seeds (printed: seeds-to-detect), while the clean runs above pass.
TEST(Raft, EachPlantedBugIsCaughtWithinBoundedSeeds) {
  constexpr std::uint64_t seed_limit = 30;
  for (const auto& [bug, why] : planted_bugs()) {
    if (staged_elsewhere().count(bug)) {
      std::printf("planted bug %s is not staged by the chaos: %s\n", bug.c_str(),
                  staged_elsewhere().at(bug).c_str());
      continue;
    }
    std::uint64_t caught = 0;
    std::string what;
    for (std::uint64_t seed = 1; seed <= seed_limit && caught == 0; ++seed) {
      what = chaos(seed, {bug});
      if (!what.empty()) caught = seed;
    }
    EXPECT_GT(caught, 0u) << bug << " not caught in " << seed_limit << " seeds";
    std::printf("planted bug %s caught at seed %llu: %s\n", bug.c_str(),
                static_cast<unsigned long long>(caught), what.c_str());
  }
}

// A misspelt exemption would excuse nothing but read as if it did.
TEST(Raft, StagedElsewhereArePlantedBugs) {
  for (const auto& [name, where] : staged_elsewhere()) {
    const auto& all = planted_bugs();
    EXPECT_TRUE(std::any_of(all.begin(), all.end(), [&](const auto& b) { return b.first == name; })) << name;
    EXPECT_FALSE(where.empty()) << name;
  }
}

}  // namespace
}  // namespace castle::raft
