#pragma once
// How a follower's fetcher talks to one leader broker. The broker supplies
// an endpoint over a Kafka connection (OffsetForLeaderEpoch and Fetch with
// replica_id set); tests supply LocalLeaderEndpoint (local_endpoint.h),
// which serves from real LeaderPartitions in process. A call blocks the
// calling fiber; a transport failure (connection lost, timeout) is an
// error value, and the fetcher backs off and tries again.

#include <vector>

#include "system/replication/types.h"
#include "system/runtime/result.h"

namespace castle::replication {

class LeaderEndpoint {
 public:
  virtual ~LeaderEndpoint() = default;
  // One answer per query, in any order (matched by partition).
  virtual Result<std::vector<EpochAnswer>> offset_for_leader_epoch(
      const std::vector<EpochQuery>& queries) = 0;
  virtual Result<FetchReply> fetch(const FetchQuery& query) = 0;
};

}  // namespace castle::replication
