#include "system/replication/local_endpoint.h"

#include "system/runtime/sync.h"

namespace castle::replication {

template <class T, class Serve>
Result<T> LocalLeaderEndpoint::call(const char* name, Serve serve) {
  if (!connected()) return std::errc::not_connected;
  Promise<T> promise;
  Future<T> future = promise.future();
  // The serving fiber owns the promise: if the leader node crashes under
  // it, the promise breaks and the caller sees a reset connection.
  leader_rt_->spawn(name, [serve = std::move(serve), p = std::move(promise),
                           svc = service_]() mutable { p.set(serve(*svc)); });
  switch (future.wait(follower_rt_, follower_rt_.now() + request_timeout_)) {
    case FutureStatus::ready: return std::move(future.value());
    case FutureStatus::broken: return std::errc::connection_reset;
    case FutureStatus::timed_out: return std::errc::timed_out;
  }
  return std::errc::timed_out;
}

Result<std::vector<EpochAnswer>> LocalLeaderEndpoint::offset_for_leader_epoch(
    const std::vector<EpochQuery>& queries) {
  return call<std::vector<EpochAnswer>>(
      "serve-offset-for-leader-epoch",
      [queries](LeaderService& s) { return s.offset_for_leader_epoch(queries); });
}

Result<FetchReply> LocalLeaderEndpoint::fetch(const FetchQuery& query) {
  return call<FetchReply>("serve-fetch", [query](LeaderService& s) { return s.fetch(query); });
}

}  // namespace castle::replication
