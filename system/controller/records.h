#pragma once
// The records of the metadata log (KRaft-style). Each Raft entry carries one
// record: `i16 type | i16 version | body`, big-endian, every length checked.
// A record that does not decode (truncated, garbage, an unknown type or
// version, bytes left over) is an error value, never a crash: Raft hands the
// image whatever a leader proposed, and the image skips what it cannot read.

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "system/controller/types.h"
#include "system/protocol/codec.h"

namespace castle::controller {

// A broker joined (or re-joined after a restart). Its broker epoch is the
// index of this record in the metadata log; it starts fenced.
struct RegisterBrokerRecord {
  BrokerId broker_id{0};
  IncarnationId incarnation_id;  // new on every process start
  Endpoint endpoint;
  std::optional<std::string> rack;
  bool operator==(const RegisterBrokerRecord&) const = default;
};

// The broker registered at `epoch` may no longer lead or join ISRs (silent
// past its session timeout, or replaced by a newer registration).
struct FenceBrokerRecord {
  BrokerId broker_id{0};
  BrokerEpoch epoch{0};
  bool operator==(const FenceBrokerRecord&) const = default;
};

// The broker registered at `epoch` caught up with the metadata log and is
// usable again.
struct UnfenceBrokerRecord {
  BrokerId broker_id{0};
  BrokerEpoch epoch{0};
  bool operator==(const UnfenceBrokerRecord&) const = default;
};

// The broker registered at `epoch` asked for a controlled shutdown: it is
// no longer elected and leaves ISRs where others remain.
struct BrokerShutdownRecord {
  BrokerId broker_id{0};
  BrokerEpoch epoch{0};
  bool operator==(const BrokerShutdownRecord&) const = default;
};

using TopicConfigs = std::map<std::string, std::string>;

struct TopicRecord {
  std::string name;
  TopicId topic_id;
  TopicConfigs configs;  // topic-level overrides, Kafka's names
  bool operator==(const TopicRecord&) const = default;
};

// A partition's full state, written when its topic is created.
struct PartitionRecord {
  TopicId topic_id;
  PartitionId partition{0};
  BrokerIds replicas;
  BrokerIds isr;
  BrokerId leader = kNoLeader;
  LeaderEpoch leader_epoch{0};
  PartitionEpoch partition_epoch{0};
  BrokerIds elr = {};  // version 1 on
  bool operator==(const PartitionRecord&) const = default;
};

// A change of some of a partition's fields. Applying it bumps the partition
// epoch; a change of leader also bumps the leader epoch.
struct PartitionChangeRecord {
  TopicId topic_id;
  PartitionId partition{0};
  std::optional<BrokerIds> isr;
  std::optional<BrokerId> leader;
  std::optional<BrokerIds> replicas;
  std::optional<BrokerIds> elr = {};  // version 1 on
  bool operator==(const PartitionChangeRecord&) const = default;
};

struct RemoveTopicRecord {
  TopicId topic_id;
  bool operator==(const RemoveTopicRecord&) const = default;
};

// Written by a new Raft leader to commit an entry of its own term.
struct NoOpRecord {
  bool operator==(const NoOpRecord&) const = default;
};

using MetadataRecord =
    std::variant<RegisterBrokerRecord, FenceBrokerRecord, UnfenceBrokerRecord, BrokerShutdownRecord,
                 TopicRecord, PartitionRecord, PartitionChangeRecord, RemoveTopicRecord, NoOpRecord>;

// The record types on the wire (never renumber: they are in every log).
enum class RecordType : std::int16_t {
  register_broker = 1,
  fence_broker = 2,
  unfence_broker = 3,
  broker_shutdown = 4,
  topic = 5,
  partition = 6,
  partition_change = 7,
  remove_topic = 8,
  no_op = 9,
};

// The version every record type is written at. Version 1 added the ELR to
// the partition records; version 0 records are still read (without one).
inline constexpr std::int16_t kRecordVersion = 1;
inline constexpr std::int16_t kRecordVersionMin = 0;

// Bounds that a decoded record must respect; larger values are garbage.
inline constexpr std::size_t kReplicasMax = 64;
inline constexpr std::size_t kTopicConfigsMax = 256;

RecordType record_type(const MetadataRecord& record);
const char* to_string(RecordType type);

protocol::Bytes encode_record(const MetadataRecord& record);
protocol::Decoded<MetadataRecord> decode_record(std::span<const std::uint8_t> bytes);

// Pieces shared with the snapshot and RPC codecs.
void write_uuid(protocol::Writer& w, const Uuid& id);
Uuid read_uuid(protocol::Reader& r);
void write_broker_ids(protocol::Writer& w, const BrokerIds& ids);
BrokerIds read_broker_ids(protocol::Reader& r);
void write_configs(protocol::Writer& w, const TopicConfigs& configs);
TopicConfigs read_configs(protocol::Reader& r);
// A boolean that must be written as 0 or 1 (anything else fails the read).
bool read_flag(protocol::Reader& r);

}  // namespace castle::controller
