#include "scenarios/contract.h"

#include <algorithm>

namespace castle::scenarios {

namespace {

bool injected_kind(const std::vector<FaultSpec>& faults, const std::string& kind) {
  for (const auto& f : faults)
    if (f.kind == kind) return true;
  return false;
}

std::string property(const KafkaSpec& k, const std::string& name, const std::string& fallback) {
  auto it = k.broker.find(name);
  return it != k.broker.end() ? it->second : fallback;
}


// Every anomaly a lost acknowledged write can show as. A consumer may have
// read the lost tail before the producer's retry wrote the same value again
// at another offset: duplicate too.
const std::set<std::string>& loss_anomalies() {
  static const std::set<std::string> v{"lost-write",        "unseen",    "inconsistent-offsets",
                                       "nonmonotonic-poll", "poll-skip", "nonmonotonic-send",
                                       "nonlinearizable",   "duplicate"};
  return v;
}

// The servers whose log may lose acknowledged records of their own: a
// crash with unsynced writes, a bit flip, or a disk error. A failing sync
// (disk_sync_eio) is one only when writes are acknowledged unsynced: the
// broker then cuts the log's unsynced tail, which the disk may have given
// up; with every write synced, that tail holds nothing acknowledged.
std::set<std::string> amnesiac_servers(const KafkaSpec& k, const std::vector<FaultSpec>& injected) {
  std::set<std::string> out;
  for (const auto& f : injected) {
    const bool loses = ((f.kind == "crash" || f.kind == "disk_sync_eio") && !syncs_every_write(k)) ||
                       f.kind == "disk_bitflip" || f.kind == "disk_eio";
    if (loses) out.insert(f.nodes.begin(), f.nodes.end());
  }
  return out;
}

void allow_loss(Contract& c, std::vector<std::string>& why, std::string reason) {
  c.allowed.insert(loss_anomalies().begin(), loss_anomalies().end());
  why.push_back(std::move(reason));
}

// One broker holds every partition: any server that may lose records loses them.
void standalone_rules(const Scenario& s, const std::vector<FaultSpec>& injected, Contract& c,
                      std::vector<std::string>& why) {
  const bool crash = injected_kind(injected, "crash") || injected_kind(injected, "disk_sync_eio");
  const bool disk = injected_kind(injected, "disk_bitflip") || injected_kind(injected, "disk_eio");
  if ((crash && !syncs_every_write(s.kafka)) || disk) {
    c.committed_may_be_lost = true;
    allow_loss(c, why, disk ? "disk faults may cut the log's tail"
                            : "a crash or a failed sync loses writes not yet synced (log.flush.interval.messages != 1)");
  }
}

// Replicated partitions: an acknowledged acks=all write is on every ISR
// member (at least min.insync.replicas of them), and a clean election picks
// one of them. A broker that restarts after losing its unsynced tail is
// fenced and leaves the ISRs, but the last ISR member stays in it (as in
// Kafka before KIP-966) and is elected again with what it kept. So a write
// can be lost only once at least min.insync.replicas distinct brokers may
// have lost records; the run's trace may also show a loss directly
// (committed-lost-in-crashes: after crashes no replica holds a record below
// the high watermark).
void cluster_rules(const Scenario& s, const std::vector<FaultSpec>& injected, bool loss_witnessed,
                   Contract& c, std::vector<std::string>& why) {
  const KafkaSpec& k = s.kafka;
  const int rf = k.replication_factor > 0 ? k.replication_factor : std::min(3, s.servers);
  const int min_isr = std::clamp(std::stoi(property(k, "min.insync.replicas", "1")), 1, rf);
  c.unclean = property(k, "unclean.leader.election.enable", "false") == "true";
  const auto amnesiac = amnesiac_servers(k, injected);
  if (c.unclean && !injected.empty()) {
    c.committed_may_be_lost = true;
    allow_loss(c, why, "unclean leader election may elect a replica without the acknowledged writes");
  } else if (static_cast<int>(amnesiac.size()) >= min_isr) {
    c.committed_may_be_lost = true;
    allow_loss(c, why, std::to_string(amnesiac.size()) +
                           " brokers may have lost unsynced or damaged records, at least min.insync.replicas=" +
                           std::to_string(min_isr));
  } else if (loss_witnessed) {
    c.committed_may_be_lost = true;
    allow_loss(c, why, "crashes or disk damage took committed records from every replica (the trace shows it)");
  }
  if (k.acks == 1 && !injected.empty() && !c.committed_may_be_lost)
    allow_loss(c, why, "acks=1 is answered before followers have the batch: a leader change loses it");
}

}  // namespace

bool syncs_every_write(const KafkaSpec& k) { return property(k, "log.flush.interval.messages", "") == "1"; }

Contract kafka_contract(const Scenario& s, const std::vector<FaultSpec>& injected, bool loss_witnessed) {
  Contract c;
  const KafkaSpec& k = s.kafka;
  c.corruption = injected_kind(injected, "disk_bitflip");
  if (k.durability == "strict") {
    c.summary = "strict: no anomaly is allowed";
    return c;
  }
  std::vector<std::string> why;
  if (k.acks == 0) {
    c.allowed.insert({"lost-write", "unseen", "nonlinearizable"});
    why.push_back("acks=0 sends may be lost");
  }
  if (s.servers > 1) {
    cluster_rules(s, injected, loss_witnessed, c, why);
  } else {
    standalone_rules(s, injected, c, why);
  }
  if (!k.idempotence) {
    c.allowed.insert({"duplicate", "nonlinearizable"});
    why.push_back("without idempotence a retried send may be stored twice");
  }
  if (why.empty()) {
    c.summary = "no loss allowed: acknowledged writes are synced, replicated, or no fault can lose them";
  } else {
    for (const auto& w : why) c.summary += (c.summary.empty() ? "" : "; ") + w;
  }
  return c;
}

SortedAnomalies sort_history_anomalies(std::vector<checkers::Anomaly> anomalies, const Contract& c,
                                       bool final_read_done) {
  SortedAnomalies out;
  for (auto& a : anomalies) {
    if (c.allowed.count(a.type)) {
      out.allowed.push_back(std::move(a));
    } else if (a.type == "unseen" && !final_read_done) {
      out.unverified.push_back(std::move(a));
    } else {
      out.failing.push_back(std::move(a));
    }
  }
  return out;
}

}  // namespace castle::scenarios
