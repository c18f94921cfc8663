#pragma once
// A controller and the image its records build, without Raft: every decision's
// records are "committed" at once, at the next log indexes, which is what the
// node does once Raft commits them.

#include <cstdint>
#include <string>
#include <vector>

#include "system/controller/controller.h"

namespace castle::controller::testing {

inline BrokerIds ids(std::initializer_list<int> raw_ids) {
  BrokerIds out;
  for (int i : raw_ids) out.push_back(BrokerId{i});
  return out;
}

inline IncarnationId incarnation(int n) {
  IncarnationId id;
  id.bytes[0] = static_cast<std::uint8_t>(n);
  id.bytes[1] = 0xc0;
  return id;
}

struct Rig {
  explicit Rig(ControllerConfig config = {}) : controller(std::move(config)) {
    controller.becoming_leader(image, now);
  }

  MetadataImage image;
  Controller controller;
  Instant now = instant_from_ns(1'000'000'000);
  std::vector<MetadataRecord> log;  // every committed record, in order

  void commit(const std::vector<MetadataRecord>& records) {
    for (const MetadataRecord& rec : records) {
      const bool ok = image.apply_record(image.last_applied_index() + 1, 1, rec);
      CASTLE_ASSERT(ok, "a controller record did not fit the image");
      log.push_back(rec);
    }
  }

  void advance_ms(std::int64_t ms) { now += milliseconds(ms); }

  // Registers and returns the new broker epoch (the registration's index).
  // `clean`: the process found its clean-shutdown marker.
  BrokerEpoch register_broker(int id, int inc = 1, bool clean = false) {
    auto d = controller.register_broker(
        image,
        {BrokerId{id}, incarnation(inc), Endpoint{"b" + std::to_string(id), 9000 + id}, {}, clean},
        now);
    CASTLE_ASSERT(d.response.error == ErrorCode::NONE, "registration refused");
    if (d.records.empty()) return d.response.broker_epoch;
    commit(d.records);
    return BrokerEpoch{image.last_applied_index()};
  }

  // `offline`: the replicas the broker reports offline.
  BrokerHeartbeatResponse heartbeat(int id, bool want_shutdown = false,
                                    std::vector<TopicIdPartition> offline = {}) {
    const BrokerState* b = image.broker(BrokerId{id});
    CASTLE_ASSERT(b != nullptr, "heartbeat of an unknown broker");
    auto d = controller.heartbeat(
        image, {BrokerId{id}, b->epoch, image.last_applied_index(), want_shutdown, std::move(offline)},
        now);
    commit(d.records);
    return d.response;
  }

  // Registers and unfences brokers 1..n.
  void start_brokers(int n) {
    for (int i = 1; i <= n; ++i) register_broker(i);
    for (int i = 1; i <= n; ++i) heartbeat(i);
  }

  CreateTopicsResponse::Result create(const std::string& name, std::int32_t partitions,
                                      std::int16_t rf, TopicConfigs configs = {}) {
    auto d = controller.create_topics(image, {{{name, partitions, rf, std::move(configs)}}, false});
    commit(d.records);
    return d.response.topics.at(0);
  }

  void tick() { commit(controller.tick(image, now)); }

  // The partition's leader asks for `isr`; the error AlterPartition gave.
  ErrorCode alter_isr(const std::string& topic, int p, const BrokerIds& isr) {
    const PartitionState s = partition(topic, p);
    auto d = controller.alter_partition(
        image, {s.leader, image.broker(s.leader)->epoch,
                {{image.topic(topic)->id, {{PartitionId{p}, s.leader_epoch, isr, s.partition_epoch}}}}});
    commit(d.records);
    if (d.response.error != ErrorCode::NONE) return d.response.error;
    return d.response.topics.at(0).partitions.at(0).error;
  }

  // The partition as a heartbeat names it.
  TopicIdPartition ref(const std::string& topic, int p) const {
    return {image.topic(topic)->id, PartitionId{p}};
  }

  const PartitionState& partition(const std::string& topic, int p) const {
    const PartitionState* s = image.partition(topic, PartitionId{p});
    CASTLE_ASSERT(s != nullptr, "no such partition");
    return *s;
  }
};

}  // namespace castle::controller::testing
