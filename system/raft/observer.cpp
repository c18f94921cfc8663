// Observers: nodes that follow the committed log without voting. They pull
// from the leader (Fetch), so the leader never tracks them and they never
// count for commit. Their log holds committed entries only.
#include "system/raft/raft_core.h"

namespace castle::raft {

void Core::observer_loop() {
  CASTLE_ASSERT(!peers.empty(), "an observer follows at least one voter");
  auto it = peers.begin();
  NodeId target = it->first;
  while (!stopped) {
    NodeId hint = no_node;
    if (fetch_from(target, &hint)) continue;
    if (hint != no_node && hint != target && peers.count(hint)) {
      target = hint;
    } else {
      // Nobody named a leader: try the next voter.
      it = peers.upper_bound(target);
      target = it == peers.end() ? peers.begin()->first : it->first;
    }
    rt.sleep_for(cfg.heartbeat_interval);
  }
}

// One fetch from `target`. True if it brought something new; *hint is the
// leader the target named when it is not the leader.
bool Core::fetch_from(NodeId target, NodeId* hint) {
  if (!log) return false;  // storage_failed() is reopening it
  const FetchRequest req{cfg.id, log->last_index() + 1};
  auto reply = peers.at(target)->client->call(static_cast<std::int16_t>(MessageType::fetch),
                                              encode(req), cfg.rpc_timeout);
  if (!reply) return false;
  auto resp = decode_fetch_response(*reply);
  if (!resp) return false;
  if (!resp->is_leader) {
    *hint = resp->leader;
    return false;
  }
  *hint = target;
  MutexLock lock(rt, mu);
  if (resp->term > qs.term) (void)set_quorum_state({resp->term, no_node});
  if (leader != target) {
    leader = target;
    trace_role();
  }
  if (resp->has_snapshot) {
    if (resp->snapshot_index <= applied && resp->snapshot_index <= log->last_index()) return false;
    return install_snapshot({resp->snapshot_index, resp->snapshot_term, resp->snapshot}).ok();
  }
  auto entries = decode_entries(resp->entries);
  if (!entries) return false;
  if (!entries->empty()) {
    if (entries->front().index != log->last_index() + 1) return false;
    if (!log->append_batches(resp->entries)) {
      storage_failed();
      return false;
    }
  }
  const std::int64_t known = std::min(resp->commit_index, log->last_index());
  if (known > commit) set_commit(known);
  return !entries->empty();
}

}  // namespace castle::raft
