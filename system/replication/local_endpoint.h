#pragma once
// A LeaderEndpoint served in process by a LeaderService: for tests, and
// for a broker test that wants replication without sockets. The follower's
// fiber hands each request to a fiber spawned on the leader's runtime (so
// the leader's disk and clock are the leader node's, and a crash of the
// leader node ends the request as it would end a connection) and waits
// for the answer up to request_timeout.
//
// connect() names the leader's incarnation; disconnect() (the leader node
// went down) makes every call fail until the next connect().

#include <memory>

#include "system/replication/leader_endpoint.h"
#include "system/replication/leader_service.h"
#include "system/runtime/runtime.h"

namespace castle::replication {

class LocalLeaderEndpoint final : public LeaderEndpoint {
 public:
  LocalLeaderEndpoint(Runtime& follower_rt, Duration request_timeout)
      : follower_rt_(follower_rt), request_timeout_(request_timeout) {}

  void connect(Runtime& leader_rt, LeaderService& service) {
    leader_rt_ = &leader_rt;
    service_ = &service;
  }
  void disconnect() {
    leader_rt_ = nullptr;
    service_ = nullptr;
  }
  bool connected() const { return service_ != nullptr; }

  Result<std::vector<EpochAnswer>> offset_for_leader_epoch(
      const std::vector<EpochQuery>& queries) override;
  Result<FetchReply> fetch(const FetchQuery& query) override;

 private:
  template <class T, class Serve>
  Result<T> call(const char* name, Serve serve);

  Runtime& follower_rt_;
  Duration request_timeout_;
  Runtime* leader_rt_ = nullptr;
  LeaderService* service_ = nullptr;
};

}  // namespace castle::replication
