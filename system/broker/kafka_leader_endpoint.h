#pragma once
// replication::LeaderEndpoint over the Kafka protocol: a follower's fetcher
// reaches its leader's PLAINTEXT listener with OffsetForLeaderEpoch v3 and
// Fetch v11 (replica_id = this broker, each partition's current leader
// epoch), as a Kafka follower does. One connection, one request at a time
// (the fetcher is one fiber); any transport error or timeout drops the
// connection, and the next call reconnects to wherever the metadata says
// the leader listens now.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "system/protocol/messages.h"
#include "system/replication/leader_endpoint.h"
#include "system/runtime/runtime.h"

namespace castle::broker {

class KafkaLeaderEndpoint final : public replication::LeaderEndpoint {
 public:
  // `resolve` names the leader's address now (nullopt: unknown).
  KafkaLeaderEndpoint(Runtime& rt, std::int32_t self_id,
                      std::function<std::optional<Address>()> resolve);

  Result<std::vector<replication::EpochAnswer>> offset_for_leader_epoch(
      const std::vector<replication::EpochQuery>& queries) override;
  Result<replication::FetchReply> fetch(const replication::FetchQuery& query) override;

 private:
  // Sends one request and reads its response, within timeout.
  Result<protocol::Response> roundtrip(std::int16_t version, const protocol::Request& request,
                                       Duration timeout);
  Result<void> connect();

  Runtime& rt_;
  std::int32_t self_id_;
  std::function<std::optional<Address>()> resolve_;
  std::unique_ptr<Connection> conn_;
  std::int32_t next_correlation_ = 1;
};

}  // namespace castle::broker
