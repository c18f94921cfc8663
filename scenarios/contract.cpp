#include "scenarios/contract.h"

namespace castle::scenarios {

namespace {

bool injected_kind(const std::vector<FaultSpec>& faults, const std::string& kind) {
  for (const auto& f : faults)
    if (f.kind == kind) return true;
  return false;
}

bool syncs_every_write(const KafkaSpec& k) {
  auto it = k.broker.find("log.flush.interval.messages");
  return it != k.broker.end() && it->second == "1";
}

}  // namespace

Contract kafka_contract(const Scenario& s, const std::vector<FaultSpec>& injected) {
  Contract c;
  const KafkaSpec& k = s.kafka;
  if (k.durability == "strict") {
    c.summary = "strict: no anomaly is allowed";
    return c;
  }
  std::vector<std::string> why;
  if (k.acks == 0) {
    c.allowed.insert({"lost-write", "unseen", "nonlinearizable"});
    why.push_back("acks=0 sends may be lost");
  }
  const bool crash = injected_kind(injected, "crash");
  const bool disk = injected_kind(injected, "disk_bitflip") || injected_kind(injected, "disk_eio");
  if ((crash && !syncs_every_write(k)) || disk) {
    // A consumer may have read the lost tail before the producer's retry
    // wrote the same value again at another offset: duplicate too.
    c.allowed.insert({"lost-write", "unseen", "inconsistent-offsets", "nonmonotonic-poll",
                      "poll-skip", "nonmonotonic-send", "nonlinearizable", "duplicate"});
    why.push_back(disk ? "disk faults may cut the log's tail"
                       : "a crash loses writes not yet synced (log.flush.interval.messages != 1)");
  }
  if (!k.idempotence) {
    c.allowed.insert({"duplicate", "nonlinearizable"});
    why.push_back("without idempotence a retried send may be stored twice");
  }
  if (why.empty()) {
    c.summary = "no loss allowed: acknowledged writes are synced or no fault can lose them";
  } else {
    c.summary.clear();
    for (const auto& w : why) c.summary += (c.summary.empty() ? "" : "; ") + w;
  }
  return c;
}

}  // namespace castle::scenarios
