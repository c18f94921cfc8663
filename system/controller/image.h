#pragma once
// The metadata image: the cluster metadata that the committed records of the
// metadata log build. It is the Raft state machine: every node (voter or
// observer) replays the same records into the same image, and brokers act on
// it (who leads what, in which epoch, with which ISR, where brokers listen).
//
// Replay is defensive: a record that does not decode, or that does not fit
// the image (a partition of an unknown topic, an ISR outside the replicas, a
// fence of an epoch that is not the broker's current one), is skipped and
// counted. Every node skips the same records, so images stay equal.
//
// All containers are ordered maps: iteration (queries, snapshots) is sorted
// and never depends on addresses.

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "system/controller/records.h"
#include "system/raft/state_machine.h"

namespace castle::controller {

struct BrokerState {
  BrokerId id{0};
  IncarnationId incarnation_id;
  BrokerEpoch epoch{0};  // index of the registration record
  Endpoint endpoint;
  std::optional<std::string> rack;
  bool fenced = true;  // a new registration starts fenced
  bool in_controlled_shutdown = false;
  // May lead and join ISRs.
  bool alive() const { return !fenced && !in_controlled_shutdown; }
  bool operator==(const BrokerState&) const = default;
};

struct PartitionState {
  BrokerIds replicas;  // preference order: the first is the preferred leader
  BrokerIds isr;       // a subset of replicas; empty only while elr is not
  BrokerId leader = kNoLeader;  // kNoLeader or a member of the ISR
  LeaderEpoch leader_epoch{0};
  PartitionEpoch partition_epoch{0};
  // Eligible leader replicas (Kafka's KIP-966): replicas that left the ISR
  // while it was below min.insync.replicas. The high watermark does not
  // advance then, so each still holds every committed record, and one may
  // lead when no ISR member is alive. Disjoint from the ISR; emptied once
  // the ISR is back at min.insync.replicas.
  BrokerIds elr;
  bool operator==(const PartitionState&) const = default;
};

struct TopicState {
  std::string name;
  TopicId id;
  TopicConfigs configs;
  std::map<PartitionId, PartitionState> partitions;
  bool operator==(const TopicState&) const = default;
};

// One partition, named both ways (brokers key their logs by name).
struct PartitionRef {
  std::string topic;
  TopicId topic_id;
  PartitionId partition{0};
  auto operator<=>(const PartitionRef&) const = default;
  bool operator==(const PartitionRef&) const = default;
};

// Whether a partition state is well formed: replicas unique and non-empty,
// ISR and ELR unique, disjoint and within the replicas, not both empty,
// leader none or in the ISR, epochs not negative. Records and snapshots
// that break it are refused.
bool is_well_formed(const PartitionState& p);

// Version 1 added the ELR; version 0 snapshots are still read.
inline constexpr std::int16_t kSnapshotVersion = 1;

class MetadataImage final : public raft::StateMachine {
 public:
  // raft::StateMachine
  void apply(std::int64_t index, std::int64_t term, std::span<const std::uint8_t> entry) override;
  std::vector<std::uint8_t> snapshot() const override;
  Result<void> restore(std::span<const std::uint8_t> snapshot) override;

  // Applies a decoded record as the entry at `index` (> last_applied_index).
  // False, with nothing changed but the applied index, for a record that
  // does not fit the image.
  bool apply_record(std::int64_t index, std::int64_t term, const MetadataRecord& record);

  // ---- queries ----
  std::int64_t last_applied_index() const { return last_applied_index_; }
  std::int64_t last_applied_term() const { return last_applied_term_; }
  // Entries that did not decode or did not fit (the same on every node).
  std::int64_t skipped_count() const { return skipped_count_; }

  const std::map<BrokerId, BrokerState>& brokers() const { return brokers_; }
  const BrokerState* broker(BrokerId id) const;
  std::optional<Endpoint> endpoint(BrokerId id) const;
  // Registered, unfenced and not shutting down: may lead and join ISRs.
  bool is_alive(BrokerId id) const;
  // Alive brokers, sorted by id.
  BrokerIds alive_brokers() const;

  const std::map<TopicId, TopicState>& topics() const { return topics_; }
  const std::map<std::string, TopicId>& topic_ids_by_name() const { return topic_ids_; }
  const TopicState* topic(const TopicId& id) const;
  const TopicState* topic(std::string_view name) const;
  const PartitionState* partition(const TopicId& id, PartitionId partition) const;
  const PartitionState* partition(std::string_view topic, PartitionId partition) const;

  // Partitions that list the broker as a replica / whose leader it is,
  // sorted by (topic name, partition).
  std::vector<PartitionRef> partitions_of_replica(BrokerId id) const;
  std::vector<PartitionRef> partitions_led_by(BrokerId id) const;

  bool operator==(const MetadataImage& other) const;

 private:
  bool apply_one(std::int64_t index, const RegisterBrokerRecord& rec);
  bool apply_one(std::int64_t index, const FenceBrokerRecord& rec);
  bool apply_one(std::int64_t index, const UnfenceBrokerRecord& rec);
  bool apply_one(std::int64_t index, const BrokerShutdownRecord& rec);
  bool apply_one(std::int64_t index, const TopicRecord& rec);
  bool apply_one(std::int64_t index, const PartitionRecord& rec);
  bool apply_one(std::int64_t index, const PartitionChangeRecord& rec);
  bool apply_one(std::int64_t index, const RemoveTopicRecord& rec);
  bool apply_one(std::int64_t index, const NoOpRecord& rec);
  BrokerState* current_broker(BrokerId id, BrokerEpoch epoch);
  template <class F>
  std::vector<PartitionRef> partitions_where(F pred) const;

  std::int64_t last_applied_index_ = 0;
  std::int64_t last_applied_term_ = 0;
  std::int64_t skipped_count_ = 0;
  std::map<BrokerId, BrokerState> brokers_;
  std::map<TopicId, TopicState> topics_;
  std::map<std::string, TopicId> topic_ids_;  // name -> id, kept in step with topics_
};

}  // namespace castle::controller
