// ListOffsets (API key 2), versions 0-5. Timestamp -2 is the earliest
// offset (the log start), -1 the latest (the high watermark); any other is
// the first record whose timestamp is at least the one asked for, found
// with the time index and then record by record inside the batch (a
// compressed batch answers with its first offset). v0 answers a list of
// offsets; v1+ one offset with its timestamp; v4+ with its leader epoch.

#include "system/broker/broker_core.h"
#include "system/storage/batch.h"
#include "system/storage/batch_builder.h"

namespace castle::broker {

using protocol::ErrorCode;
using protocol::ListOffsetsRequest;
using protocol::ListOffsetsResponse;

namespace {

constexpr std::int64_t latest_timestamp = -1;
constexpr std::int64_t earliest_timestamp = -2;

struct Found {
  std::int64_t offset = -1;
  std::int64_t timestamp = -1;
};

// The leader epoch in force at `offset`, from the epoch cache.
std::int32_t epoch_at(const storage::Log& log, std::int64_t offset) {
  std::int32_t epoch = -1;
  for (const auto& e : log.epochs())
    if (e.start_offset <= offset) epoch = e.epoch;
  return epoch;
}

// Refines a batch-level answer to the first record at or after `ts`.
Result<Found> first_record_at_or_after(storage::Log& log, std::int64_t batch_offset,
                                       std::int64_t ts) {
  auto r = log.read(batch_offset, 1, log.high_watermark());
  if (!r) return r.error();
  if (r->bytes.size() < storage::batch_header_bytes) return Found{};
  storage::BatchView batch(r->bytes);
  Found found{batch.base_offset(), batch.max_timestamp()};
  auto records = storage::decode_batch(batch.bytes());
  if (!records) return found;  // compressed: the batch's first offset
  for (const auto& rec : *records) {
    if (rec.offset >= batch_offset && rec.record.timestamp_ms >= ts)
      return Found{rec.offset, rec.record.timestamp_ms};
  }
  return found;
}

Result<Found> lookup(storage::Log& log, std::int64_t ts) {
  if (ts == earliest_timestamp) return Found{log.log_start_offset(), -1};
  if (ts == latest_timestamp) return Found{log.high_watermark(), -1};
  auto at = log.offset_for_timestamp(ts);
  if (!at) return at.error();
  if (!*at || **at >= log.high_watermark()) return Found{};
  return first_record_at_or_after(log, **at, ts);
}

ListOffsetsResponse::Partition list_partition(RequestContext& ctx, const std::string& topic,
                                              const ListOffsetsRequest::Partition& in) {
  Broker::Impl& b = ctx.broker;
  ListOffsetsResponse::Partition out;
  out.partition_index = in.partition_index;
  LockedPartition p(b, topic, in.partition_index, in.current_leader_epoch);
  if (p.error() != ErrorCode::NONE) {
    out.error_code = p.error();
    return out;
  }
  auto found = lookup(*p->log, in.timestamp);
  if (!found) {
    out.error_code = ErrorCode::KAFKA_STORAGE_ERROR;
    return out;
  }
  if (ctx.version() == 0) {
    if (found->offset >= 0 && in.max_num_offsets > 0)
      out.old_style_offsets.push_back(protocol::Offset{found->offset});
    return out;
  }
  out.offset = protocol::Offset{found->offset};
  out.timestamp = found->timestamp;
  if (found->offset >= 0) {
    const bool at_end = found->offset >= p->log->log_end_offset();
    out.leader_epoch = protocol::LeaderEpoch{at_end ? p->leader_epoch : epoch_at(*p->log, found->offset)};
  }
  return out;
}

}  // namespace

std::optional<protocol::Response> handle(RequestContext& ctx, ListOffsetsRequest& req) {
  ListOffsetsResponse resp;
  for (const auto& t : req.topics) {
    ListOffsetsResponse::Topic rt{t.name, {}};
    for (const auto& part : t.partitions) rt.partitions.push_back(list_partition(ctx, t.name, part));
    resp.topics.push_back(std::move(rt));
  }
  return resp;
}

}  // namespace castle::broker
