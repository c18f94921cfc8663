// Fetch (API key 1), versions 0-11. Consumers read up to the high
// watermark. Long polling: when fewer than min.bytes are ready the request
// waits (up to max.wait.ms) for appends, then reads again.
//
// Limits as Kafka's (KIP-74): max.bytes for the response and
// partition.max.bytes per partition, except that the first partition with
// data returns at least one whole batch, so a consumer always progresses.
// Fetch sessions (v7+) are not kept: a request for a new session gets
// session id 0, which tells the client to keep sending full fetches.
//
// In a cluster consumers are served by the partition's leader only
// (NOT_LEADER_OR_FOLLOWER elsewhere); followers' fetches (replica_id >= 0)
// go to fetch_replica.cpp.

#include "system/broker/broker_core.h"
#include "system/storage/batch.h"

namespace castle::broker {

using protocol::ErrorCode;
using protocol::FetchRequest;
using protocol::FetchResponse;
using protocol::Offset;

namespace {

struct FetchBudget {
  std::int64_t remaining = 0;  // bytes the response may still carry
  std::int64_t total = 0;      // bytes carried so far
  bool error = false;          // some partition answered with an error
};

// The planted bug broker-fetch-drops-batch: of several batches, the first
// goes missing.
void drop_first_batch(std::vector<std::uint8_t>& bytes) {
  if (bytes.size() < storage::batch_header_bytes) return;
  const std::size_t first = storage::BatchView(bytes).size_bytes();
  if (first < bytes.size()) bytes.erase(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(first));
}

void read_partition(RequestContext& ctx, const std::string& topic, const FetchRequest::Partition& in,
                    FetchBudget& budget, FetchResponse::Partition& out) {
  Broker::Impl& b = ctx.broker;
  out.partition_index = in.partition;
  out.records = std::vector<std::uint8_t>{};
  auto fail = [&](ErrorCode e) {
    out.error_code = e;
    out.high_watermark = Offset{-1};
    out.records.reset();
    budget.error = true;
  };
  LockedPartition p(b, topic, in.partition, in.current_leader_epoch);
  if (p.error() != ErrorCode::NONE) return fail(p.error());
  storage::Log& log = *p->log;
  const std::int64_t hw = log.high_watermark();
  out.high_watermark = Offset{hw};
  out.last_stable_offset = Offset{hw};  // no transactions: everything committed is stable
  out.log_start_offset = Offset{log.log_start_offset()};
  const std::int64_t offset = protocol::raw(in.fetch_offset);
  if (offset < log.log_start_offset() || offset > log.log_end_offset()) {
    fail(ErrorCode::OFFSET_OUT_OF_RANGE);
    out.high_watermark = Offset{hw};
    return;
  }
  if (offset >= hw) return;
  // Buggify: a fetch may return less than it could (one batch), as a
  // small max.bytes would.
  const std::int64_t limit = b.rt.buggify("broker.fetch_short", 4)
                                 ? 1
                                 : std::min<std::int64_t>(in.partition_max_bytes, budget.remaining);
  if (limit <= 0 && budget.total > 0) return;
  auto r = log.read(offset, static_cast<std::size_t>(std::max<std::int64_t>(limit, 1)), hw);
  if (!r) {
    if (r.error() == std::errc::result_out_of_range) return fail(ErrorCode::OFFSET_OUT_OF_RANGE);
    if (r.error() == std::errc::illegal_byte_sequence) take_damaged_offline(b, *p, offset);
    return fail(ErrorCode::KAFKA_STORAGE_ERROR);
  }
  const auto size = static_cast<std::int64_t>(r->bytes.size());
  // Past the first partition with data, a batch that does not fit waits
  // for the next fetch.
  if (size > limit && budget.total > 0) return;
  if (b.config.bug("broker-fetch-drops-batch")) drop_first_batch(r->bytes);
  budget.total += size;
  budget.remaining -= size;
  out.records = std::move(r->bytes);
}

FetchResponse read_all(RequestContext& ctx, const FetchRequest& req, FetchBudget& budget) {
  FetchResponse resp;
  budget = FetchBudget{ctx.version() >= 3 ? req.max_bytes : std::numeric_limits<std::int32_t>::max(), 0,
                       false};
  for (const auto& t : req.topics) {
    FetchResponse::Topic rt;
    rt.topic = t.topic;
    rt.partitions.reserve(t.partitions.size());
    for (const auto& part : t.partitions) {
      rt.partitions.emplace_back();
      read_partition(ctx, t.topic, part, budget, rt.partitions.back());
    }
    resp.topics.push_back(std::move(rt));
  }
  return resp;
}

}  // namespace

std::optional<protocol::Response> handle(RequestContext& ctx, FetchRequest& req) {
  Broker::Impl& b = ctx.broker;
  ++b.stats.fetches;
  if (b.cluster && protocol::raw(req.replica_id) >= 0) return handle_replica_fetch(ctx, req);
  if (ctx.version() >= 7 && req.session_id != 0) {
    FetchResponse resp;
    resp.error_code = ErrorCode::FETCH_SESSION_ID_NOT_FOUND;
    return resp;
  }
  const Instant deadline = b.rt.now() + milliseconds(std::max(0, req.max_wait_ms));
  for (;;) {
    FetchBudget budget;
    FetchResponse resp = read_all(ctx, req, budget);
    if (budget.total >= req.min_bytes || budget.error || b.stopping || b.rt.now() >= deadline)
      return resp;
    b.data_arrived.wait(b.rt, deadline);
  }
}

}  // namespace castle::broker
