#pragma once
// The cluster metadata as this broker knows it: the metadata image that Raft
// replays (voter or observer), plus a wait list that the reconciler sleeps
// on. Raft calls apply() from its own fiber and must not be held up there,
// so acting on a change is left to whoever waits on `changed()`.
//
// Every committed partition leadership it applies (a partition record or
// change, or a snapshot restored) is traced as metadata.partition {topic,
// partition, leader, epoch, partition_epoch, isr}: the leader-election
// linearizability check takes the first node to apply one as the earliest
// the election can have taken effect. Every broker record (registration,
// fencing, unfencing, controlled shutdown) is traced as metadata.broker
// {broker, alive}, so that the ISR invariant can check each committed ISR
// against the brokers as the same image saw them.

#include <cstdint>
#include <span>
#include <vector>

#include "system/controller/image.h"
#include "system/raft/state_machine.h"
#include "system/runtime/sync.h"

namespace castle::broker {

class MetadataState final : public raft::StateMachine {
 public:
  explicit MetadataState(const Tracer& tracer) : tracer_(tracer) {}

  void apply(std::int64_t index, std::int64_t term, std::span<const std::uint8_t> entry) override;
  std::vector<std::uint8_t> snapshot() const override { return image_.snapshot(); }
  Result<void> restore(std::span<const std::uint8_t> snapshot) override;

  const controller::MetadataImage& image() const { return image_; }
  // Counts applies and restores: a reconciler compares it with the version
  // it last acted on.
  std::uint64_t version() const { return version_; }
  WaitList& changed() { return changed_; }

 private:
  void bump() {
    ++version_;
    changed_.notify_all();
  }
  // from_snapshot: restored, not applied from a record (a snapshot may fall
  // between a decision's broker record and its partition changes).
  void trace_partition(const controller::TopicId& topic, controller::PartitionId partition,
                       bool from_snapshot = false) const;
  void trace_broker(controller::BrokerId id) const;

  const Tracer& tracer_;
  controller::MetadataImage image_;
  std::uint64_t version_ = 0;
  WaitList changed_;
};

}  // namespace castle::broker
