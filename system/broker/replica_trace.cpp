#include "system/broker/replica_trace.h"

#include "system/runtime/trace.h"

namespace castle::broker {

void ReplicaTracer::on_append(std::int64_t base, std::int64_t last, std::uint32_t crc) {
  CASTLE_TRACE(tracer_, "replica.append",
               {{"topic", topic_}, {"partition", partition_}, {"base", base}, {"last", last}, {"crc", crc}});
}

void ReplicaTracer::on_truncate(std::int64_t offset) {
  CASTLE_TRACE(tracer_, "replica.truncate", {{"topic", topic_}, {"partition", partition_}, {"offset", offset}});
}

void ReplicaTracer::on_high_watermark(std::int64_t hw) {
  CASTLE_TRACE(tracer_, "replica.hw", {{"topic", topic_}, {"partition", partition_}, {"hw", hw}});
}

void ReplicaTracer::on_durable(std::int64_t end) {
  CASTLE_TRACE(tracer_, "replica.durable", {{"topic", topic_}, {"partition", partition_}, {"end", end}});
}

void ReplicaTracer::opened(const storage::Log& log) const {
  CASTLE_TRACE(tracer_, "replica.open",
               {{"topic", topic_}, {"partition", partition_}, {"leo", log.log_end_offset()},
                {"hw", log.high_watermark()}});
}

std::unique_ptr<ReplicaTracer> trace_replica(Runtime& rt, storage::Log& log, const std::string& topic,
                                             std::int32_t partition) {
  auto t = std::make_unique<ReplicaTracer>(rt.tracer(), topic, partition);
  t->opened(log);
  log.set_observer(t.get());
  return t;
}

std::string trace_id_list(const std::vector<std::int32_t>& ids) {
  std::string out;
  for (std::int32_t id : ids) out += (out.empty() ? "" : ",") + std::to_string(id);
  return out;
}

}  // namespace castle::broker
