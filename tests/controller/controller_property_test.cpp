// Random runs of the controller: sequences of registrations (new and
// restarted incarnations), heartbeats after random delays, ticks, topic
// creation and deletion, AlterPartition by the current leader with a random
// ISR (sometimes with stale epochs), controlled shutdowns and controller
// failovers that toggle unclean election, each decision committed into the
// image. Registrations are clean or unclean at random, and the
// min.insync.replicas of the controller and of topics varies. After every
// step the invariants of Kafka's metadata (with KIP-966's ELR) must hold:
//   - ISR and ELR are disjoint and within the replicas, not both empty;
//   - a leader is in the ISR and the replicas and is alive (unfenced, not
//     shutting down): fenced brokers lead nothing;
//   - the ISR holds only alive brokers;
//   - the ELR is empty while the ISR is at min.insync.replicas;
//   - leader epochs, partition epochs and broker epochs never decrease;
//   - a new leader was in the ISR or the ELR before its election, unless
//     unclean election was allowed for the topic; from outside the ISR it
//     becomes the whole ISR;
//   - a broker just registered after an unclean shutdown is in no ISR or
//     ELR, except as a partition's only eligible replica;
//   - every record the controller proposed fitted the image.
// The same property run with a planted bug must fail.

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <algorithm>
#include <map>

#include "system/controller/controller.h"
#include "tests/controller/rig.h"

namespace castle::controller {
namespace {

using testing::incarnation;
using testing::Rig;

const std::vector<std::string> kTopics = {"a", "b", "c"};

struct Run {
  Rig rig;
  std::set<std::string> bugs;
  int next_incarnation = 100;

  explicit Run(ControllerConfig config) : rig(config), bugs(config.bugs) {}

  void register_one() {
    const int id = *rc::gen::inRange(1, 6);
    const BrokerState* b = rig.image.broker(BrokerId{id});
    // Mostly a restart with a new incarnation; sometimes a retry.
    const int inc = (b != nullptr && *rc::gen::inRange(0, 4) == 0) ? b->incarnation_id.bytes[0]
                                                                    : ++next_incarnation % 250;
    const bool clean = *rc::gen::arbitrary<bool>();
    auto d = rig.controller.register_broker(
        rig.image, {BrokerId{id}, incarnation(inc), Endpoint{"h", 9000 + id}, {}, clean}, rig.now);
    RC_ASSERT(d.response.error == ErrorCode::NONE);
    rig.commit(d.records);
    if (!clean && !d.records.empty()) check_forgotten(BrokerId{id});
  }

  void check_forgotten(BrokerId id) const {
    for (const auto& [tid, t] : rig.image.topics()) {
      for (const auto& [index, p] : t.partitions) {
        const bool eligible = contains(p.isr, id) || contains(p.elr, id);
        RC_ASSERT(!eligible || p.isr.size() + p.elr.size() == 1);
      }
    }
  }

  void heartbeat_one(bool want_shutdown) {
    if (rig.image.brokers().empty()) return;
    const auto& brokers = rig.image.brokers();
    auto it = std::next(brokers.begin(), *rc::gen::inRange<long>(0, static_cast<long>(brokers.size())));
    // Sometimes the broker lags behind its registration and stays fenced.
    const std::int64_t offset = *rc::gen::inRange(0, 4) == 0 ? raw(it->second.epoch) - 1
                                                              : rig.image.last_applied_index();
    auto d = rig.controller.heartbeat(
        rig.image, {it->first, it->second.epoch, offset, want_shutdown, {}}, rig.now);
    RC_ASSERT(d.response.error == ErrorCode::NONE);
    rig.commit(d.records);
  }

  void create_one() {
    const std::string& name = *rc::gen::elementOf(kTopics);
    TopicConfigs configs;
    const int unclean = *rc::gen::inRange(0, 3);
    if (unclean == 1) configs["unclean.leader.election.enable"] = "true";
    if (unclean == 2) configs["unclean.leader.election.enable"] = "false";
    if (*rc::gen::inRange(0, 3) == 0) configs["min.insync.replicas"] = std::to_string(*rc::gen::inRange(1, 4));
    auto d = rig.controller.create_topics(
        rig.image, {{{name, *rc::gen::inRange(1, 4), static_cast<std::int16_t>(*rc::gen::inRange(1, 4)),
                      configs}},
                    false});
    rig.commit(d.records);
  }

  void delete_one() {
    auto d = rig.controller.delete_topics(rig.image, {{*rc::gen::elementOf(kTopics)}});
    rig.commit(d.records);
  }

  // The current leader of a random partition asks for a random ISR: its
  // replicas in any subset, itself usually included, epochs usually current.
  void alter_one() {
    std::vector<std::pair<TopicId, PartitionId>> led;
    for (const auto& [id, t] : rig.image.topics()) {
      for (const auto& [index, p] : t.partitions) {
        if (p.leader != kNoLeader) led.emplace_back(id, index);
      }
    }
    if (led.empty()) return;
    const auto [topic, index] = *rc::gen::elementOf(led);
    const PartitionState& p = *rig.image.partition(topic, index);
    BrokerIds isr;
    for (BrokerId r : p.replicas) {
      if (r == p.leader ? *rc::gen::inRange(0, 10) != 0 : *rc::gen::arbitrary<bool>()) isr.push_back(r);
    }
    const int stale = *rc::gen::inRange(0, 6);
    const LeaderEpoch le{raw(p.leader_epoch) - (stale == 0 ? 1 : 0)};
    const PartitionEpoch pe{raw(p.partition_epoch) - (stale == 1 ? 1 : 0)};
    auto d = rig.controller.alter_partition(
        rig.image, {p.leader, rig.image.broker(p.leader)->epoch, {{topic, {{index, le, isr, pe}}}}});
    rig.commit(d.records);
  }

  // A new controller (a Raft failover), perhaps with unclean toggled.
  void failover() {
    ControllerConfig config = rig.controller.config();
    if (*rc::gen::arbitrary<bool>()) {
      config.unclean_leader_election_enable = !config.unclean_leader_election_enable;
    }
    rig.controller = Controller(config);
    rig.controller.becoming_leader(rig.image, rig.now);
  }

  void step() {
    switch (*rc::gen::inRange(0, 12)) {
      case 0: case 1: register_one(); break;
      case 2: case 3: heartbeat_one(false); break;
      case 4: heartbeat_one(*rc::gen::inRange(0, 3) == 0); break;
      case 5: rig.advance_ms(*rc::gen::inRange(0, 12'000)); break;
      case 6: case 7: rig.tick(); break;
      case 8: create_one(); break;
      case 9: alter_one(); break;
      case 10: *rc::gen::inRange(0, 4) == 0 ? delete_one() : failover(); break;
      default: rig.advance_ms(*rc::gen::inRange(0, 3000)); heartbeat_one(false); break;
    }
  }
};

void check_partition(const ControllerConfig& config, const MetadataImage& image,
                     const TopicState& topic, const PartitionState& p) {
  RC_ASSERT(is_well_formed(p));
  if (p.leader != kNoLeader) {
    RC_ASSERT(contains(p.isr, p.leader));
    RC_ASSERT(contains(p.replicas, p.leader));
    RC_ASSERT(image.is_alive(p.leader));
  }
  const std::size_t min = std::clamp<std::size_t>(
      static_cast<std::size_t>(min_insync_replicas(config, topic)), 1, p.replicas.size());
  if (p.isr.size() >= min) RC_ASSERT(p.elr.empty());
  for (BrokerId m : p.isr) RC_ASSERT(image.is_alive(m));
}

// Compares one partition with its state before the step.
void check_transition(const ControllerConfig& config, const TopicState& topic,
                      const PartitionState& before, const PartitionState& after) {
  RC_ASSERT(after.leader_epoch >= before.leader_epoch);
  RC_ASSERT(after.partition_epoch >= before.partition_epoch);
  const bool new_leader = after.leader != before.leader && after.leader != kNoLeader;
  if (!new_leader || contains(before.isr, after.leader)) return;
  // From the ELR, or by an unclean election, and the new leader is the
  // whole ISR. (A failover step changes the config but decides nothing, so
  // the config now is the one that decided.)
  RC_ASSERT(after.isr == BrokerIds{after.leader});
  if (contains(before.elr, after.leader)) return;
  RC_ASSERT(unclean_election_enabled(config, topic));
}

void check_step(const MetadataImage& before, const Run& run) {
  const MetadataImage& image = run.rig.image;
  RC_ASSERT(image.skipped_count() == 0);
  for (const auto& [id, b] : before.brokers()) {
    RC_ASSERT(image.broker(id) != nullptr);
    RC_ASSERT(image.broker(id)->epoch >= b.epoch);
  }
  for (const auto& [id, topic] : image.topics()) {
    for (const auto& [index, p] : topic.partitions) {
      check_partition(run.rig.controller.config(), image, topic, p);
      if (const PartitionState* old = before.partition(id, index)) {
        check_transition(run.rig.controller.config(), topic, *old, p);
      }
    }
  }
}

void random_run(const std::set<std::string>& bugs) {
  ControllerConfig config;
  config.bugs = bugs;
  config.unclean_leader_election_enable = bugs.empty() && *rc::gen::inRange(0, 4) == 0;
  config.min_insync_replicas = *rc::gen::inRange(1, 4);
  Run run(config);
  // Start from a running cluster with a topic, so that most of the steps
  // act on partitions rather than on an empty cluster.
  run.rig.start_brokers(*rc::gen::inRange(1, 6));
  run.create_one();
  const auto steps = *rc::gen::inRange(20, 300);
  for (int i = 0; i < steps; ++i) {
    const MetadataImage before = run.rig.image;
    run.step();
    check_step(before, run);
  }
  RC_CLASSIFY(!run.rig.image.topics().empty(), "has topics at the end");
  RC_TAG(run.rig.image.alive_brokers().size());
}

TEST(ControllerProperty, RandomOperationsKeepKafkasInvariants) {
  EXPECT_TRUE(rc::check("invariants hold after every step", [] { random_run({}); }));
}

// The invariants catch a planted bug. One check of 100 runs finds each bug
// most of the time; up to ten checks make a miss (a flaky pass) negligible.
bool caught(const std::string& bug) {
  for (int attempt = 0; attempt < 10; ++attempt) {
    if (!rc::check("(expected to fail) " + bug, [&] { random_run({bug}); })) return true;
  }
  return false;
}

TEST(ControllerProperty, UncleanElectionBugIsCaught) {
  EXPECT_TRUE(caught("controller-unclean-election"));
}

TEST(ControllerProperty, IsrExpandAnyBugIsCaught) { EXPECT_TRUE(caught("controller-isr-expand-any")); }

}  // namespace
}  // namespace castle::controller
