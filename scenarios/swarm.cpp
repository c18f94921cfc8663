#include "scenarios/swarm.h"

#include <algorithm>

#include "system/runtime/random.h"

namespace castle::scenarios {

namespace {

// A non-empty random subset of the pool, in pool order.
std::vector<std::string> subset(Rng& rng, const std::vector<std::string>& pool) {
  std::vector<std::string> out;
  for (const auto& k : pool)
    if (rng.chance(0.5)) out.push_back(k);
  if (out.empty()) out.push_back(pool[rng.below(pool.size())]);
  return out;
}

void draw_kafka(Rng& rng, Scenario& s) {
  KafkaSpec& k = s.kafka;
  k.partitions = static_cast<int>(rng.between(1, 8));
  switch (rng.below(4)) {
    case 0: k.acks = -1; k.idempotence = true; break;
    case 1: k.acks = -1; k.idempotence = false; break;
    case 2: k.acks = 1; k.idempotence = false; break;
    default: k.acks = 0; k.idempotence = false; break;
  }
  if (rng.chance(0.5)) {
    k.broker["log.flush.interval.messages"] = "1";
  } else {
    k.broker.erase("log.flush.interval.messages");
  }
  k.linger_ms = static_cast<std::int64_t>(rng.below(6));
  k.poll_fraction = 0.2 + 0.1 * static_cast<double>(rng.below(5));
}

// A cluster's shape and replication settings, over a cluster scenario
// (more than one server): two to five brokers, one to three controller
// voters among them (the rest brokers only), replication factor up to
// three, any min.insync.replicas up to it, unclean election now and then,
// and how soon a lagging follower leaves the ISR.
void draw_cluster(Rng& rng, Scenario& s) {
  KafkaSpec& k = s.kafka;
  s.servers = static_cast<int>(rng.between(2, 5));
  const int most = std::min(3, s.servers);
  k.controllers = static_cast<int>(rng.between(1, most));
  k.replication_factor = static_cast<int>(rng.between(1, most));
  k.broker["min.insync.replicas"] = std::to_string(rng.between(1, k.replication_factor));
  if (rng.chance(0.1)) {
    k.broker["unclean.leader.election.enable"] = "true";
  } else {
    k.broker.erase("unclean.leader.election.enable");
  }
  static const char* const lag_ms[] = {"1000", "3000", "10000"};
  k.broker["replica.lag.time.max.ms"] = lag_ms[rng.below(3)];
}

}  // namespace

Scenario draw_swarm(const Scenario& base, std::uint64_t seed) {
  if (!base.swarm) return base;
  Scenario s = base;
  // Its own stream: the world's streams stay those of the seed.
  Rng rng(seed ^ 0x5a5a'7357'c0de'0001ULL);
  s.clients = static_cast<int>(rng.between(1, 5));
  if (s.system == "logsvc") s.servers = static_cast<int>(rng.between(1, 4));
  if (s.system == "kafka") draw_kafka(rng, s);
  if (s.system == "kafka" && base.servers > 1) draw_cluster(rng, s);
  s.interval_ms = static_cast<std::int64_t>(rng.between(1, 20));
  if (s.random.enabled) {
    const auto& pool = s.random.kinds.empty() ? fault_kinds() : s.random.kinds;
    s.random.kinds = subset(rng, pool);
    s.random.interval_min_ms = rng.between(100, 1000);
    s.random.interval_max_ms = s.random.interval_min_ms + rng.between(0, 2000);
  }
  return s;
}

std::string describe_swarm(const Scenario& s) {
  std::string kinds;
  for (const auto& k : s.random.kinds) kinds += (kinds.empty() ? "" : ",") + k;
  std::string line = "servers=" + std::to_string(s.servers) + " clients=" + std::to_string(s.clients) +
                     " interval_ms=" + std::to_string(s.interval_ms) + " faults=" + kinds;
  if (s.system == "kafka") {
    const auto& k = s.kafka;
    const bool synced = k.broker.count("log.flush.interval.messages") != 0;
    line += " partitions=" + std::to_string(k.partitions) + " acks=" + std::to_string(k.acks) +
            " idempotence=" + (k.idempotence ? "true" : "false") + " synced=" + (synced ? "true" : "false");
    if (s.servers > 1) {
      line += " controllers=" + std::to_string(k.controllers) +
              " replication_factor=" + std::to_string(k.replication_factor);
      for (const char* name : {"min.insync.replicas", "unclean.leader.election.enable", "replica.lag.time.max.ms"})
        if (auto it = k.broker.find(name); it != k.broker.end()) line += " " + it->first + "=" + it->second;
    }
  }
  return line;
}

}  // namespace castle::scenarios
