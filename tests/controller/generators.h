#pragma once
// RapidCheck generators for the controller's records. Draws with operator*
// and so must run inside a RapidCheck property.

#include <rapidcheck.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "system/controller/records.h"

namespace castle::controller::testing {

inline Uuid arb_uuid() {
  Uuid id;
  for (auto& b : id.bytes) b = *rc::gen::arbitrary<std::uint8_t>();
  return id;
}

inline std::string arb_text() {
  return *rc::gen::container<std::string>(rc::gen::inRange<char>(32, 127));
}

inline BrokerIds arb_broker_ids() {
  const auto n = *rc::gen::inRange<std::size_t>(0, 6);
  BrokerIds ids;
  for (std::size_t i = 0; i < n; ++i) ids.push_back(BrokerId{*rc::gen::inRange(-1, 8)});
  return ids;
}

inline std::optional<BrokerIds> arb_optional_broker_ids() {
  if (*rc::gen::arbitrary<bool>()) return std::nullopt;
  return arb_broker_ids();
}

inline TopicConfigs arb_configs() {
  TopicConfigs configs;
  const auto n = *rc::gen::inRange<std::size_t>(0, 4);
  for (std::size_t i = 0; i < n; ++i) configs[arb_text()] = arb_text();
  return configs;
}

// Any record, every field arbitrary (whether or not an image accepts it).
inline MetadataRecord arb_record() {
  switch (*rc::gen::inRange(0, 9)) {
    case 0:
      return RegisterBrokerRecord{BrokerId{*rc::gen::arbitrary<std::int32_t>()}, arb_uuid(),
                                  Endpoint{arb_text(), *rc::gen::arbitrary<std::int32_t>()},
                                  *rc::gen::arbitrary<bool>() ? std::optional(arb_text())
                                                              : std::nullopt};
    case 1:
      return FenceBrokerRecord{BrokerId{*rc::gen::arbitrary<std::int32_t>()},
                               BrokerEpoch{*rc::gen::arbitrary<std::int64_t>()}};
    case 2:
      return UnfenceBrokerRecord{BrokerId{*rc::gen::arbitrary<std::int32_t>()},
                                 BrokerEpoch{*rc::gen::arbitrary<std::int64_t>()}};
    case 3:
      return BrokerShutdownRecord{BrokerId{*rc::gen::arbitrary<std::int32_t>()},
                                  BrokerEpoch{*rc::gen::arbitrary<std::int64_t>()}};
    case 4:
      return TopicRecord{arb_text(), arb_uuid(), arb_configs()};
    case 5:
      return PartitionRecord{arb_uuid(),
                             PartitionId{*rc::gen::arbitrary<std::int32_t>()},
                             arb_broker_ids(),
                             arb_broker_ids(),
                             BrokerId{*rc::gen::arbitrary<std::int32_t>()},
                             LeaderEpoch{*rc::gen::arbitrary<std::int32_t>()},
                             PartitionEpoch{*rc::gen::arbitrary<std::int32_t>()},
                             arb_broker_ids()};
    case 6: {
      std::optional<BrokerId> leader;
      if (*rc::gen::arbitrary<bool>()) leader = BrokerId{*rc::gen::arbitrary<std::int32_t>()};
      return PartitionChangeRecord{arb_uuid(), PartitionId{*rc::gen::arbitrary<std::int32_t>()},
                                   arb_optional_broker_ids(), leader, arb_optional_broker_ids(),
                                   arb_optional_broker_ids()};
    }
    case 7:
      return RemoveTopicRecord{arb_uuid()};
    default:
      return NoOpRecord{};
  }
}


// A record over a small universe (brokers 0-4, three topic ids and names,
// partitions 0-2, epochs that are recent indexes) so that most of them fit
// an image built from the same generator and change it.
inline TopicId small_topic_id(int i) {
  TopicId id;
  id.bytes[15] = static_cast<std::uint8_t>(i + 1);
  return id;
}

inline BrokerIds small_broker_ids(std::size_t size_min) {
  auto ids = *rc::gen::unique<std::vector<int>>(rc::gen::inRange(0, 5));
  BrokerIds out;
  for (int i : ids) out.push_back(BrokerId{i});
  while (out.size() < size_min) out.push_back(BrokerId{static_cast<int>(out.size()) + 10});
  return out;
}

inline MetadataRecord arb_plausible_record(std::int64_t index_max) {
  const BrokerId broker{*rc::gen::inRange(0, 5)};
  const BrokerEpoch epoch{*rc::gen::inRange<std::int64_t>(1, index_max + 1)};
  const int t = *rc::gen::inRange(0, 3);
  const PartitionId partition{*rc::gen::inRange(0, 3)};
  switch (*rc::gen::inRange(0, 9)) {
    case 0:
      return RegisterBrokerRecord{broker, arb_uuid(), Endpoint{"h", 9092 + raw(broker)}, {}};
    case 1: return FenceBrokerRecord{broker, epoch};
    case 2: return UnfenceBrokerRecord{broker, epoch};
    case 3: return BrokerShutdownRecord{broker, epoch};
    case 4: return TopicRecord{std::string("t") + std::to_string(t), small_topic_id(t), arb_configs()};
    case 5: {
      BrokerIds replicas = small_broker_ids(1);
      BrokerIds isr(replicas.begin(), replicas.begin() + 1);
      BrokerIds elr(replicas.begin() + 1, replicas.end());
      if (*rc::gen::arbitrary<bool>()) elr.clear();
      return PartitionRecord{small_topic_id(t), partition, replicas, isr, isr[0], {}, {}, elr};
    }
    case 6: {
      std::optional<BrokerId> leader;
      if (*rc::gen::arbitrary<bool>()) leader = BrokerId{*rc::gen::inRange(-1, 5)};
      std::optional<BrokerIds> isr;
      if (*rc::gen::arbitrary<bool>()) isr = small_broker_ids(1);
      std::optional<BrokerIds> elr;
      if (*rc::gen::inRange(0, 4) == 0) elr = small_broker_ids(0);
      return PartitionChangeRecord{small_topic_id(t), partition, isr, leader, std::nullopt, elr};
    }
    case 7: return RemoveTopicRecord{small_topic_id(t)};
    default: return NoOpRecord{};
  }
}

}  // namespace castle::controller::testing
