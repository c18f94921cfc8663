#pragma once
// Which partitions a cluster run left without an undamaged replica it may
// elect, and whether its metadata quorum can elect a leader at all. A
// replica whose log a bit flip damaged is offline until salvaged, and it is
// salvaged only once the controller no longer counts on it: when every
// replica a partition may elect (ISR and ELR; with unclean election, every
// replica) is such a one, the partition stays offline, as it does in Kafka
// (a failed log directory on every in-sync replica). A final read that
// cannot finish there is then what the configuration promises, not a
// liveness bug: the harness excuses it (excuse_unreachable in
// system_kafka.cpp), and only where the trace shows the damage on nodes
// whose disks were flipped.

#include <map>
#include <set>
#include <string>
#include <vector>

#include "system/runtime/trace.h"

namespace castle::scenarios {

class DamageWatch {
 public:
  void observe(const TraceEvent& e);
  // "t-5: every eligible replica (s0) is damaged" for each partition whose
  // every replica it may elect is damaged on nodes in `flipped`: the ISR
  // and ELR, or with unclean election every replica.
  std::vector<std::string> unavailable(const std::set<std::string>& flipped, bool unclean,
                                       std::set<std::string>* partitions) const;
  // "every metadata quorum voter (s0) is repairing a damaged log" when each
  // voter (a node whose Raft role was ever not observer) is, on a flipped
  // disk: none campaigns while it repairs, so none can be elected, and the
  // committed metadata they lost is nowhere else. Empty otherwise.
  std::string quorum_unavailable(const std::set<std::string>& flipped) const;

 private:
  struct Latest {
    std::int64_t partition_epoch = -1;
    std::vector<std::int64_t> eligible;  // ISR and ELR
    std::vector<std::int64_t> replicas;
  };
  std::set<std::pair<std::string, std::string>> damaged_;  // (node, partition dir name)
  std::map<std::string, Latest> partitions_;              // "t-5" -> latest record
  std::set<std::string> voters_;
  std::set<std::string> repairing_;
};

}  // namespace castle::scenarios
