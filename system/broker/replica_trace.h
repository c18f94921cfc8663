#pragma once
// The replica.* trace events of one partition's log (docs/cluster.md,
// "Trace events of replication"): every append, truncation and high
// watermark move as the log makes it, and the log as recovered at open.
// The state invariants (checkers/replication_invariants.h) read them.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "system/runtime/runtime.h"
#include "system/storage/log.h"

namespace castle::broker {

class ReplicaTracer : public storage::LogObserver {
 public:
  ReplicaTracer(const Tracer& tracer, std::string topic, std::int32_t partition)
      : tracer_(tracer), topic_(std::move(topic)), partition_(partition) {}

  void on_append(std::int64_t base, std::int64_t last, std::uint32_t crc) override;
  void on_truncate(std::int64_t offset) override;
  void on_high_watermark(std::int64_t hw) override;
  void on_durable(std::int64_t end) override;
  void opened(const storage::Log& log) const;

 private:
  const Tracer& tracer_;
  std::string topic_;
  std::int32_t partition_;
};

// Watches `log` with a new tracer (held by the caller as long as the log)
// and traces replica.open.
std::unique_ptr<ReplicaTracer> trace_replica(Runtime& rt, storage::Log& log, const std::string& topic,
                                             std::int32_t partition);

// Broker ids as a trace field: "0,1,2" (the checkers parse it back).
std::string trace_id_list(const std::vector<std::int32_t>& ids);

}  // namespace castle::broker
