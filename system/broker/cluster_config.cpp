#include "system/broker/cluster_config.h"

#include <algorithm>
#include <functional>
#include <set>

#include "system/broker/property_parsing.h"

namespace castle::broker {

namespace {

using ClusterSetter = std::function<bool(const std::string& name, const std::string& value,
                                         ClusterConfig* c, PropertyError* error)>;

struct ClusterProperty {
  const char* name;
  ClusterSetter set;
};

template <class Int>
ClusterSetter int_field(Int ClusterConfig::*field, std::int64_t min) {
  return [field, min](const std::string& n, const std::string& v, ClusterConfig* c,
                      PropertyError* e) { return parse_int(n, v, min, &(c->*field), e); };
}

ClusterSetter bool_field(bool ClusterConfig::*field) {
  return [field](const std::string& n, const std::string& v, ClusterConfig* c, PropertyError* e) {
    return parse_bool(n, v, &(c->*field), e);
  };
}

// Comma-separated, trimmed, empty items dropped.
std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const std::string_view item = trim(text.substr(0, comma));
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

bool parse_roles(const std::string& name, const std::string& text, ClusterConfig* c,
                 PropertyError* error) {
  const auto roles = split_list(text);
  if (roles.empty()) return fail(error, name, "needs broker, controller or both");
  c->broker_role = c->controller_role = false;
  for (const auto& r : roles) {
    if (r == "broker") c->broker_role = true;
    else if (r == "controller") c->controller_role = true;
    else return fail(error, name, "unknown role '" + r + "' (roles are broker and controller)");
  }
  return true;
}

bool parse_listener_names(const std::string& name, const std::string& text, ClusterConfig* c,
                          PropertyError* error) {
  const auto names = split_list(text);
  if (names.empty()) return fail(error, name, "needs a listener name");
  c->controller_listener_name = names.front();
  return true;
}

const std::vector<ClusterProperty>& cluster_properties() {
  static const std::vector<ClusterProperty> properties = {
      {"process.roles", parse_roles},
      {"controller.quorum.voters",
       [](const std::string& n, const std::string& v, ClusterConfig* c, PropertyError* e) {
         return parse_quorum_voters(n, v, &c->voters, e);
       }},
      {"controller.listener.names", parse_listener_names},
      {"metadata.log.dir",
       [](const std::string& n, const std::string& v, ClusterConfig* c, PropertyError* e) {
         c->metadata_log_dir = std::string(trim(v));
         return !c->metadata_log_dir.empty() || fail(e, n, "needs a directory");
       }},
      {"controller.quorum.election.timeout.ms", int_field(&ClusterConfig::election_timeout_ms, 1)},
      {"controller.quorum.election.backoff.max.ms",
       int_field(&ClusterConfig::election_backoff_max_ms, 1)},
      {"controller.quorum.fetch.timeout.ms", int_field(&ClusterConfig::quorum_fetch_timeout_ms, 1)},
      {"broker.session.timeout.ms", int_field(&ClusterConfig::broker_session_timeout_ms, 1)},
      {"broker.heartbeat.interval.ms", int_field(&ClusterConfig::broker_heartbeat_interval_ms, 1)},
      {"replica.lag.time.max.ms", int_field(&ClusterConfig::replica_lag_time_max_ms, 1)},
      {"replica.fetch.max.bytes", int_field(&ClusterConfig::replica_fetch_max_bytes, 1)},
      {"replica.fetch.min.bytes", int_field(&ClusterConfig::replica_fetch_min_bytes, 1)},
      {"replica.fetch.wait.max.ms", int_field(&ClusterConfig::replica_fetch_wait_max_ms, 0)},
      {"replica.fetch.backoff.ms", int_field(&ClusterConfig::replica_fetch_backoff_ms, 0)},
      {"unclean.leader.election.enable", bool_field(&ClusterConfig::unclean_leader_election)},
      {"controlled.shutdown.enable", bool_field(&ClusterConfig::controlled_shutdown)},
  };
  return properties;
}

// The checks Kafka makes at start-up on the combination.
bool check_combination(const ClusterConfig& c, const std::map<std::string, Address>& extra_listeners,
                       std::int32_t node_id, bool roles_given, PropertyError* error) {
  for (const auto& [name, address] : extra_listeners)
    if (name != c.controller_listener_name)
      return fail(error, "listeners",
                  "listener '" + name + "' is neither PLAINTEXT nor the controller listener '" +
                      c.controller_listener_name + "' (controller.listener.names)");
  if (c.voters.empty()) {
    if (roles_given)
      return fail(error, "process.roles", "needs controller.quorum.voters (the quorum to join)");
    return true;
  }
  const bool voter = std::any_of(c.voters.begin(), c.voters.end(),
                                 [&](const QuorumVoter& v) { return v.id == node_id; });
  if (c.controller_role && !voter)
    return fail(error, "controller.quorum.voters",
                "node.id " + std::to_string(node_id) + " has the controller role but is not a voter");
  if (c.controller_role && !c.controller_listen)
    return fail(error, "listeners",
                "a controller needs a " + c.controller_listener_name + "://HOST:PORT listener");
  if (!c.controller_role && voter)
    return fail(error, "process.roles",
                "node.id " + std::to_string(node_id) + " is a voter but not a controller");
  return true;
}

}  // namespace

bool is_cluster_property(const std::string& name) {
  for (const auto& p : cluster_properties())
    if (name == p.name) return true;
  return false;
}

bool parse_quorum_voters(const std::string& name, const std::string& text,
                         std::vector<QuorumVoter>* out, PropertyError* error) {
  std::vector<QuorumVoter> voters;
  std::set<std::int32_t> ids;
  for (const auto& item : split_list(text)) {
    const auto at = item.find('@');
    std::int32_t id = 0;
    if (at == std::string::npos || !parse_int(name, item.substr(0, at), 0, &id, nullptr))
      return fail(error, name, "'" + item + "' is not ID@HOST:PORT");
    auto address = Address::parse(item.substr(at + 1));
    if (!address) return fail(error, name, "'" + item + "' is not ID@HOST:PORT");
    if (!ids.insert(id).second) return fail(error, name, "voter " + std::to_string(id) + " listed twice");
    voters.push_back({id, *address});
  }
  if (voters.empty()) return fail(error, name, "needs at least one ID@HOST:PORT");
  std::sort(voters.begin(), voters.end(),
            [](const QuorumVoter& a, const QuorumVoter& b) { return a.id < b.id; });
  *out = std::move(voters);
  return true;
}

bool apply_cluster_properties(const std::map<std::string, std::string>& props,
                              const std::map<std::string, Address>& extra_listeners,
                              std::int32_t node_id, ClusterConfig* c, PropertyError* error) {
  ClusterConfig next = *c;
  for (const auto& p : cluster_properties()) {
    auto it = props.find(p.name);
    if (it != props.end() && !p.set(p.name, it->second, &next, error)) return false;
  }
  const bool roles_given = props.count("process.roles") != 0;
  if (!roles_given && !next.voters.empty()) {
    // Unset roles: a voter is broker and controller (combined mode), anyone
    // else a broker.
    next.broker_role = true;
    next.controller_role = std::any_of(next.voters.begin(), next.voters.end(),
                                       [&](const QuorumVoter& v) { return v.id == node_id; });
  }
  auto listener = extra_listeners.find(next.controller_listener_name);
  next.controller_listen = listener == extra_listeners.end()
                               ? std::nullopt
                               : std::optional<Address>(listener->second);
  if (!check_combination(next, extra_listeners, node_id, roles_given, error)) return false;
  *c = std::move(next);
  return true;
}

std::vector<std::pair<std::string, std::string>> describe_cluster_config(const ClusterConfig& c) {
  std::string roles = c.broker_role ? "broker" : "";
  if (c.controller_role) roles += roles.empty() ? "controller" : ",controller";
  std::string voters;
  for (const auto& v : c.voters)
    voters += (voters.empty() ? "" : ",") + std::to_string(v.id) + "@" + v.address.to_string();
  auto b = [](bool v) { return std::string(v ? "true" : "false"); };
  auto n = [](std::int64_t v) { return std::to_string(v); };
  std::vector<std::pair<std::string, std::string>> out = {
      {"broker.heartbeat.interval.ms", n(c.broker_heartbeat_interval_ms)},
      {"broker.session.timeout.ms", n(c.broker_session_timeout_ms)},
      {"controlled.shutdown.enable", b(c.controlled_shutdown)},
      {"controller.listener.names", c.controller_listener_name},
      {"controller.quorum.election.backoff.max.ms", n(c.election_backoff_max_ms)},
      {"controller.quorum.election.timeout.ms", n(c.election_timeout_ms)},
      {"controller.quorum.fetch.timeout.ms", n(c.quorum_fetch_timeout_ms)},
      {"replica.fetch.backoff.ms", n(c.replica_fetch_backoff_ms)},
      {"replica.fetch.max.bytes", n(c.replica_fetch_max_bytes)},
      {"replica.fetch.min.bytes", n(c.replica_fetch_min_bytes)},
      {"replica.fetch.wait.max.ms", n(c.replica_fetch_wait_max_ms)},
      {"replica.lag.time.max.ms", n(c.replica_lag_time_max_ms)},
      {"unclean.leader.election.enable", b(c.unclean_leader_election)},
  };
  // Only what was set: a standalone broker has no quorum to name.
  if (c.enabled()) {
    out.push_back({"controller.quorum.voters", voters});
    out.push_back({"process.roles", roles});
  }
  if (!c.metadata_log_dir.empty()) out.push_back({"metadata.log.dir", c.metadata_log_dir});
  return out;
}

void use_fast_failure_detection(ClusterConfig& c) {
  c.election_timeout_ms = 500;
  c.broker_heartbeat_interval_ms = 200;
  c.broker_session_timeout_ms = 2000;
  c.replica_lag_time_max_ms = 2000;
  c.replica_fetch_wait_max_ms = 200;
  c.replica_fetch_backoff_ms = 200;
}

}  // namespace castle::broker
