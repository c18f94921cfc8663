#pragma once
// The cluster half of a broker's configuration, with KRaft's property
// names: the roles of the process, the controller quorum's voters, the
// controller listener, and the replication and fencing timings. A broker
// without `controller.quorum.voters` runs alone (every partition has one
// replica, itself); with it, it joins the quorum and the cluster.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "system/runtime/net.h"

namespace castle::broker {

struct PropertyError;

struct QuorumVoter {
  std::int32_t id = 0;
  Address address;
  friend bool operator==(const QuorumVoter&, const QuorumVoter&) = default;
};

struct ClusterConfig {
  bool broker_role = true;                              // process.roles contains broker
  bool controller_role = false;                         // process.roles contains controller
  std::vector<QuorumVoter> voters;                      // controller.quorum.voters, sorted by id
  std::string controller_listener_name = "CONTROLLER";  // controller.listener.names (the first)
  std::optional<Address> controller_listen;             // listeners' CONTROLLER://host:port
  std::string metadata_log_dir;                         // metadata.log.dir ("" = log.dirs)
  std::int64_t election_timeout_ms = 1000;       // controller.quorum.election.timeout.ms
  std::int64_t election_backoff_max_ms = 1000;   // controller.quorum.election.backoff.max.ms
  std::int64_t quorum_fetch_timeout_ms = 2000;   // controller.quorum.fetch.timeout.ms
  std::int64_t broker_session_timeout_ms = 9000;     // broker.session.timeout.ms
  std::int64_t broker_heartbeat_interval_ms = 2000;  // broker.heartbeat.interval.ms
  std::int64_t replica_lag_time_max_ms = 30000;      // replica.lag.time.max.ms
  std::int32_t replica_fetch_max_bytes = 1048576;    // replica.fetch.max.bytes
  std::int32_t replica_fetch_min_bytes = 1;          // replica.fetch.min.bytes
  std::int32_t replica_fetch_wait_max_ms = 500;      // replica.fetch.wait.max.ms
  std::int32_t replica_fetch_backoff_ms = 1000;      // replica.fetch.backoff.ms
  bool unclean_leader_election = false;              // unclean.leader.election.enable
  bool controlled_shutdown = true;                   // controlled.shutdown.enable

  // Part of a quorum (otherwise a standalone broker).
  bool enabled() const { return !voters.empty(); }
};

// Whether `name` is one of the cluster properties above.
bool is_cluster_property(const std::string& name);

// Parses "1@host:9093,2@host:9093": ids unique and non-negative, each with
// host:port. Sorted by id.
bool parse_quorum_voters(const std::string& name, const std::string& text,
                         std::vector<QuorumVoter>* out, PropertyError* error);

// Applies the cluster properties of `props` onto `c`, then checks them
// together, as Kafka does at start-up: process.roles needs voters; a
// controller must be a voter and have a controller listener; the extra
// listeners (name → address, from `listeners`) may only be the controller
// listener. `node_id` is the process's node.id.
bool apply_cluster_properties(const std::map<std::string, std::string>& props,
                              const std::map<std::string, Address>& extra_listeners,
                              std::int32_t node_id, ClusterConfig* c, PropertyError* error);

// (name, value) of every cluster property as configured.
std::vector<std::pair<std::string, std::string>> describe_cluster_config(const ClusterConfig& c);

// Kafka's failure-detection timings (elections, heartbeats and sessions,
// ISR lag, replica fetch waits) shortened about tenfold, so that a small
// cluster in the simulator notices a failure within simulated seconds. The
// scenarios and the cluster tests both start from these; properties
// applied afterwards override them.
void use_fast_failure_detection(ClusterConfig& c);

}  // namespace castle::broker
