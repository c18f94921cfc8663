#include "scenarios/scenario.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace castle::scenarios {

using nlohmann::json;

const std::vector<std::string>& fault_kinds() {
  static const std::vector<std::string> kinds = {
      "crash",     "pause",         "isolate",     "split",      "oneway",
      "bridge",    "clog",          "latency",     "reset",      "clock_drift",
      "clock_jump", "disk_eio",     "disk_sync_eio", "disk_bitflip", "disk_full", "slow_sync"};
  return kinds;
}

namespace {

struct Failure {
  ParseError error;
};

[[noreturn]] void fail(const std::string& field, const std::string& message) {
  throw Failure{ParseError{field, message}};
}

// Reads fields of one JSON object, remembering which were used so that an
// unknown (misspelt) field is an error rather than silently ignored.
class Fields {
 public:
  Fields(const json& j, std::string path) : j_(j), path_(std::move(path)) {
    if (!j.is_object()) fail(where(), "must be an object");
  }

  template <class T>
  void integer(const char* key, T* out, std::int64_t lo, std::int64_t hi) {
    const json* v = take(key);
    if (!v) return;
    if (!v->is_number_integer()) fail(at(key), "must be an integer");
    const auto x = v->get<std::int64_t>();
    if (x < lo || x > hi)
      fail(at(key), "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    *out = static_cast<T>(x);
  }
  void number(const char* key, double* out, double lo, double hi) {
    const json* v = take(key);
    if (!v) return;
    if (!v->is_number()) fail(at(key), "must be a number");
    const double x = v->get<double>();
    if (x < lo || x > hi) fail(at(key), "out of range");
    *out = x;
  }
  void string(const char* key, std::string* out) {
    const json* v = take(key);
    if (!v) return;
    if (!v->is_string()) fail(at(key), "must be a string");
    *out = v->get<std::string>();
  }
  void boolean(const char* key, bool* out) {
    const json* v = take(key);
    if (!v) return;
    if (!v->is_boolean()) fail(at(key), "must be true or false");
    *out = v->get<bool>();
  }
  void strings(const char* key, std::vector<std::string>* out) {
    const json* v = take(key);
    if (!v) return;
    if (!v->is_array()) fail(at(key), "must be an array of strings");
    out->clear();
    for (const auto& e : *v) {
      if (!e.is_string()) fail(at(key), "must be an array of strings");
      out->push_back(e.get<std::string>());
    }
  }
  const json* object(const char* key) {
    const json* v = take(key);
    if (v && !v->is_object()) fail(at(key), "must be an object");
    return v;
  }
  // Any JSON value, for a shape the typed readers do not cover.
  const json* value(const char* key) { return take(key); }
  const json* array(const char* key) {
    const json* v = take(key);
    if (v && !v->is_array()) fail(at(key), "must be an array");
    return v;
  }
  void require(const char* key) {
    if (!j_.contains(key)) fail(at(key), "is required");
  }
  // Every field present must have been read.
  void finish() const {
    for (const auto& [k, v] : j_.items())
      if (!used_.count(k)) fail(at(k), "unknown field");
  }
  std::string at(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  std::string where() const { return path_.empty() ? "scenario" : path_; }

 private:
  const json* take(const char* key) {
    used_.insert(key);
    auto it = j_.find(key);
    return it == j_.end() ? nullptr : &*it;
  }
  const json& j_;
  std::string path_;
  std::set<std::string> used_;
};

void check_kind(const std::string& kind, const std::string& field) {
  for (const auto& k : fault_kinds())
    if (k == kind) return;
  std::string all;
  for (const auto& k : fault_kinds()) all += (all.empty() ? "" : ", ") + k;
  fail(field, "unknown fault kind '" + kind + "' (known: " + all + ")");
}

FaultSpec parse_fault(const json& j, const std::string& path) {
  Fields f(j, path);
  FaultSpec s;
  f.require("at_ms");
  f.require("kind");
  f.integer("at_ms", &s.at_ms, 0, 1LL << 40);
  f.string("kind", &s.kind);
  check_kind(s.kind, f.at("kind"));
  f.integer("duration_ms", &s.duration_ms, 0, 1LL << 40);
  f.strings("nodes", &s.nodes);
  f.strings("others", &s.others);
  f.integer("amount", &s.amount, -(1LL << 40), 1LL << 40);
  f.number("rate", &s.rate, 0.0, 1.0);
  f.finish();
  return s;
}

void parse_random(const json& j, RandomFaults* r) {
  Fields f(j, "faults.random");
  r->enabled = true;
  f.integer("start_ms", &r->start_ms, 0, 1LL << 40);
  f.integer("interval_min_ms", &r->interval_min_ms, 1, 1LL << 40);
  f.integer("interval_max_ms", &r->interval_max_ms, 1, 1LL << 40);
  f.integer("duration_min_ms", &r->duration_min_ms, 0, 1LL << 40);
  f.integer("duration_max_ms", &r->duration_max_ms, 0, 1LL << 40);
  f.strings("kinds", &r->kinds);
  for (std::size_t i = 0; i < r->kinds.size(); ++i)
    check_kind(r->kinds[i], "faults.random.kinds[" + std::to_string(i) + "]");
  f.strings("targets", &r->targets);
  if (r->interval_min_ms > r->interval_max_ms)
    fail("faults.random.interval_min_ms", "must not exceed interval_max_ms");
  if (r->duration_min_ms > r->duration_max_ms)
    fail("faults.random.duration_min_ms", "must not exceed duration_max_ms");
  f.finish();
}

void parse_faults(const json& j, Scenario& s) {
  Fields f(j, "faults");
  if (const json* t = f.array("timeline")) {
    for (std::size_t i = 0; i < t->size(); ++i)
      s.timeline.push_back(parse_fault((*t)[i], "faults.timeline[" + std::to_string(i) + "]"));
  }
  if (const json* r = f.object("random")) parse_random(*r, &s.random);
  f.finish();
}

void parse_kafka(const json& j, KafkaSpec* k) {
  Fields f(j, "kafka");
  f.integer("partitions", &k->partitions, 1, 1000);
  std::string acks = "all";
  f.string("acks", &acks);
  if (acks == "all" || acks == "-1") {
    k->acks = -1;
  } else if (acks == "1" || acks == "0") {
    k->acks = acks == "1" ? 1 : 0;
  } else {
    fail("kafka.acks", "must be \"all\", \"1\" or \"0\"");
  }
  f.boolean("idempotence", &k->idempotence);
  f.integer("linger_ms", &k->linger_ms, 0, 1LL << 30);
  f.number("poll_fraction", &k->poll_fraction, 0.0, 1.0);
  f.number("assign_fraction", &k->assign_fraction, 0.0, 1.0);
  f.integer("rate_per_s", &k->rate_per_s, 0, 1'000'000);
  f.integer("consumers", &k->consumers, -1, 1 << 20);
  if (k->poll_fraction + k->assign_fraction > 1.0)
    fail("kafka.poll_fraction", "poll_fraction + assign_fraction must not exceed 1");
  if (const json* b = f.object("broker")) {
    for (const auto& [name, v] : b->items()) {
      if (!v.is_string()) fail("kafka.broker." + name, "must be a string (a property value)");
      k->broker[name] = v.get<std::string>();
    }
  }
  f.integer("controllers", &k->controllers, 0, 9);
  f.integer("replication_factor", &k->replication_factor, 0, 64);
  f.string("durability", &k->durability);
  if (k->durability != "auto" && k->durability != "strict")
    fail("kafka.durability", "must be auto or strict");
  if (k->idempotence && k->acks != -1)
    fail("kafka.idempotence", "needs acks \"all\", as Kafka's producer requires");
  f.finish();
}

// "election_timeout_ms": [min, max], each a positive integer.
void parse_timeout_range(const json* v, const std::string& field, RaftSpec* r) {
  if (!v) return;
  if (!v->is_array() || v->size() != 2 || !(*v)[0].is_number_integer() ||
      !(*v)[1].is_number_integer())
    fail(field, "must be [min, max], two integers in milliseconds");
  r->election_timeout_min_ms = (*v)[0].get<std::int64_t>();
  r->election_timeout_max_ms = (*v)[1].get<std::int64_t>();
  if (r->election_timeout_min_ms < 1 || r->election_timeout_max_ms > 600'000)
    fail(field, "must lie between 1 and 600000 ms");
  if (r->election_timeout_min_ms > r->election_timeout_max_ms)
    fail(field, "min must not exceed max");
}

void parse_raft(const json& j, RaftSpec* r) {
  Fields f(j, "raft");
  f.integer("observers", &r->observers, 0, 16);
  f.integer("snapshot_threshold", &r->snapshot_threshold, 1, 1LL << 40);
  f.integer("heartbeat_ms", &r->heartbeat_ms, 1, 60'000);
  f.integer("append_bytes_max", &r->append_bytes_max, 1, 64 << 20);
  parse_timeout_range(f.value("election_timeout_ms"), "raft.election_timeout_ms", r);
  f.finish();
  // Raft needs heartbeats well inside the election timeout, or followers
  // would campaign against a healthy leader.
  if (r->heartbeat_ms >= r->election_timeout_min_ms)
    fail("raft.heartbeat_ms", "must be below the minimum election timeout");
}

void parse_sections(Fields& f, Scenario& s) {
  if (const json* k = f.object("kafka")) parse_kafka(*k, &s.kafka);
  if (const json* r = f.object("raft")) parse_raft(*r, &s.raft);
  if (const json* c = f.object("cluster")) {
    Fields cf(*c, "cluster");
    cf.integer("servers", &s.servers, 1, 64);
    cf.integer("clients", &s.clients, 1, 256);
    cf.finish();
  }
  if (const json* w = f.object("workload")) {
    Fields wf(*w, "workload");
    wf.integer("interval_ms", &s.interval_ms, 0, 1LL << 30);
    wf.integer("timeout_ms", &s.timeout_ms, 1, 1LL << 30);
    wf.integer("payload_bytes", &s.payload_bytes, 8, 65536);
    wf.finish();
  }
  if (const json* n = f.object("network")) {
    Fields nf(*n, "network");
    nf.integer("latency_min_us", &s.latency_min_us, 1, 1LL << 30);
    nf.integer("latency_max_us", &s.latency_max_us, 1, 1LL << 30);
    nf.finish();
    if (s.latency_min_us > s.latency_max_us)
      fail("network.latency_min_us", "must not exceed latency_max_us");
  }
  if (const json* d = f.object("disk")) {
    Fields df(*d, "disk");
    df.integer("sync_latency_min_us", &s.sync_latency_min_us, 0, 1LL << 30);
    df.integer("sync_latency_max_us", &s.sync_latency_max_us, 0, 1LL << 30);
    df.finish();
    if (s.sync_latency_min_us > s.sync_latency_max_us)
      fail("disk.sync_latency_min_us", "must not exceed sync_latency_max_us");
  }
  if (const json* fa = f.object("faults")) parse_faults(*fa, s);
}

// Silent corruption of synced data is outside Raft's fault model
// (system/raft/raft_node.h): a flipped vote or entry is not a Raft bug.
void check_raft_faults(const Scenario& s) {
  const char* why = "disk_bitflip is outside Raft's fault model (silent corruption of synced data)";
  for (std::size_t i = 0; i < s.timeline.size(); ++i)
    if (s.timeline[i].kind == "disk_bitflip")
      fail("faults.timeline[" + std::to_string(i) + "].kind", why);
  if (!s.random.enabled) return;
  if (s.random.kinds.empty())
    fail("faults.random.kinds", "a raft scenario lists its fault kinds (every kind includes disk_bitflip)");
  for (std::size_t i = 0; i < s.random.kinds.size(); ++i)
    if (s.random.kinds[i] == "disk_bitflip") fail("faults.random.kinds[" + std::to_string(i) + "]", why);
}

void check_kafka_shape(const Scenario& s) {
  const KafkaSpec& k = s.kafka;
  if (k.controllers > s.servers) fail("kafka.controllers", "must not exceed cluster.servers");
  if (k.replication_factor > s.servers) fail("kafka.replication_factor", "must not exceed cluster.servers");
  if (s.servers == 1 && (k.controllers > 1 || k.replication_factor > 1))
    fail("kafka.controllers", "one server runs a standalone broker: no controllers or replicas to set");
}

Scenario parse_root(const json& j) {
  Fields f(j, "");
  Scenario s;
  f.require("name");
  f.string("name", &s.name);
  f.string("purpose", &s.purpose);
  f.string("system", &s.system);
  if (s.system != "logsvc" && s.system != "kafka" && s.system != "raft")
    fail("system", "unknown system '" + s.system + "' (known: logsvc, kafka, raft)");
  f.integer("duration_ms", &s.duration_ms, 1, 1LL << 40);
  f.integer("liveness_window_ms", &s.liveness_window_ms, 1, 1LL << 40);
  f.boolean("buggify", &s.buggify);
  f.boolean("swarm", &s.swarm);
  std::vector<std::string> bugs;
  f.strings("bugs", &bugs);
  s.bugs.insert(bugs.begin(), bugs.end());
  f.string("expect", &s.expect);
  if (s.expect != "pass" && s.expect != "safety" && s.expect != "liveness")
    fail("expect", "must be pass, safety or liveness");
  parse_sections(f, s);
  f.finish();
  if (s.system == "kafka") check_kafka_shape(s);
  if (s.system != "raft" && j.contains("raft")) fail("raft", "only for \"system\": \"raft\"");
  if (s.system == "raft") check_raft_faults(s);
  return s;
}

}  // namespace

std::optional<Scenario> parse_scenario(const std::string& text, ParseError* error) {
  json j;
  try {
    j = json::parse(text, nullptr, true, /*ignore_comments=*/true);
  } catch (const json::parse_error& e) {
    if (error) *error = {"scenario", std::string("not valid JSON: ") + e.what()};
    return std::nullopt;
  }
  try {
    return parse_root(j);
  } catch (const Failure& f) {
    if (error) *error = f.error;
    return std::nullopt;
  }
}

std::optional<Scenario> load_scenario(const std::string& path, ParseError* error) {
  std::ifstream in(path);
  if (!in) {
    if (error) *error = {path, "cannot open the scenario file"};
    return std::nullopt;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_scenario(ss.str(), error);
}

namespace {
json fault_to_json(const FaultSpec& f) {
  json j = {{"at_ms", f.at_ms}, {"kind", f.kind}};
  if (f.duration_ms) j["duration_ms"] = f.duration_ms;
  if (!f.nodes.empty()) j["nodes"] = f.nodes;
  if (!f.others.empty()) j["others"] = f.others;
  if (f.amount) j["amount"] = f.amount;
  if (f.rate > 0) j["rate"] = f.rate;
  return j;
}
}  // namespace

std::string scenario_to_json(const Scenario& s) {
  json j = {{"name", s.name},
            {"purpose", s.purpose},
            {"system", s.system},
            {"duration_ms", s.duration_ms},
            {"liveness_window_ms", s.liveness_window_ms},
            {"buggify", s.buggify},
            {"swarm", s.swarm},
            {"expect", s.expect},
            {"cluster", {{"servers", s.servers}, {"clients", s.clients}}},
            {"workload",
             {{"interval_ms", s.interval_ms},
              {"timeout_ms", s.timeout_ms},
              {"payload_bytes", s.payload_bytes}}},
            {"network", {{"latency_min_us", s.latency_min_us}, {"latency_max_us", s.latency_max_us}}},
            {"disk",
             {{"sync_latency_min_us", s.sync_latency_min_us},
              {"sync_latency_max_us", s.sync_latency_max_us}}}};
  if (s.system == "kafka") {
    const auto& k = s.kafka;
    j["kafka"] = {{"partitions", k.partitions},
                  {"acks", k.acks == -1 ? "all" : std::to_string(k.acks)},
                  {"idempotence", k.idempotence},
                  {"linger_ms", k.linger_ms},
                  {"poll_fraction", k.poll_fraction},
                  {"assign_fraction", k.assign_fraction},
                  {"rate_per_s", k.rate_per_s},
                  {"consumers", k.consumers},
                  {"broker", k.broker},
                  {"controllers", k.controllers},
                  {"replication_factor", k.replication_factor},
                  {"durability", k.durability}};
  }
  if (s.system == "raft") {
    const auto& r = s.raft;
    j["raft"] = {{"observers", r.observers},
                 {"snapshot_threshold", r.snapshot_threshold},
                 {"heartbeat_ms", r.heartbeat_ms},
                 {"append_bytes_max", r.append_bytes_max},
                 {"election_timeout_ms", {r.election_timeout_min_ms, r.election_timeout_max_ms}}};
  }
  if (!s.bugs.empty()) j["bugs"] = std::vector<std::string>(s.bugs.begin(), s.bugs.end());
  json faults = json::object();
  json timeline = json::array();
  for (const auto& f : s.timeline) timeline.push_back(fault_to_json(f));
  if (!timeline.empty()) faults["timeline"] = timeline;
  if (s.random.enabled)
    faults["random"] = {{"start_ms", s.random.start_ms},
                        {"interval_min_ms", s.random.interval_min_ms},
                        {"interval_max_ms", s.random.interval_max_ms},
                        {"duration_min_ms", s.random.duration_min_ms},
                        {"duration_max_ms", s.random.duration_max_ms},
                        {"kinds", s.random.kinds},
                        {"targets", s.random.targets}};
  if (!faults.empty()) j["faults"] = faults;
  return j.dump(2) + "\n";
}

}  // namespace castle::scenarios
