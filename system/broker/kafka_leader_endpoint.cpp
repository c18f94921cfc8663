#include "system/broker/kafka_leader_endpoint.h"

#include "system/util/endian.h"

namespace castle::broker {

using namespace protocol;
namespace repl = replication;

namespace {

constexpr std::int16_t offset_for_leader_epoch_version = 3;
constexpr std::int16_t fetch_version = 11;
constexpr Duration connect_timeout = milliseconds(1000);
// Beyond the fetch's own long-poll wait: a leader that says nothing for
// this long is treated as gone.
constexpr Duration response_grace = milliseconds(2000);
constexpr std::uint32_t response_bytes_max = 64u << 20;

}  // namespace

KafkaLeaderEndpoint::KafkaLeaderEndpoint(Runtime& rt, std::int32_t self_id,
                                         std::function<std::optional<Address>()> resolve)
    : rt_(rt), self_id_(self_id), resolve_(std::move(resolve)) {}

Result<void> KafkaLeaderEndpoint::connect() {
  if (conn_) return {};
  const auto address = resolve_();
  if (!address) return std::errc::host_unreachable;
  auto c = rt_.net().connect(*address, connect_timeout);
  if (!c) return c.error();
  conn_ = std::move(*c);
  return {};
}

Result<Response> KafkaLeaderEndpoint::roundtrip(std::int16_t version, const Request& request,
                                                Duration timeout) {
  if (auto r = connect(); !r) return r.error();
  RequestHeader h;
  h.api_key = std::visit([](const auto& m) { return std::decay_t<decltype(m)>::api_key; }, request);
  h.api_version = version;
  h.correlation_id = next_correlation_++;
  h.client_id = "castle-replica-" + std::to_string(self_id_);
  auto fail = [&](std::error_code e) -> Result<Response> {
    conn_->close();
    conn_.reset();
    return e;
  };
  if (auto w = conn_->write(encode_request_frame(h, request)); !w) return fail(w.error());
  const Instant deadline = rt_.now() + timeout;
  std::uint8_t prefix[4];
  auto got = read_exact(*conn_, prefix, deadline);
  if (!got.status) return fail(got.status.error());
  if (got.end_of_stream) return fail(std::make_error_code(std::errc::connection_reset));
  const std::uint32_t size = static_cast<std::uint32_t>(load_be(prefix, 4));
  if (size > response_bytes_max) return fail(std::make_error_code(std::errc::message_size));
  Bytes body(size);
  if (auto r = read_exact(*conn_, body, deadline); !r.status || r.end_of_stream)
    return fail(std::make_error_code(std::errc::connection_reset));
  auto parsed = decode_response(h.api_key, version, body);
  if (!parsed || parsed->header.correlation_id != h.correlation_id)
    return fail(std::make_error_code(std::errc::bad_message));
  return std::move(parsed).value().body;
}

Result<std::vector<repl::EpochAnswer>> KafkaLeaderEndpoint::offset_for_leader_epoch(
    const std::vector<repl::EpochQuery>& queries) {
  OffsetForLeaderEpochRequest req;
  req.replica_id = BrokerId{self_id_};
  for (const auto& q : queries) {
    if (req.topics.empty() || req.topics.back().topic != q.tp.topic) req.topics.push_back({q.tp.topic, {}});
    req.topics.back().partitions.push_back(
        {PartitionId{q.tp.partition}, LeaderEpoch{q.current_leader_epoch}, LeaderEpoch{q.leader_epoch}});
  }
  auto resp = roundtrip(offset_for_leader_epoch_version, Request{std::move(req)}, response_grace);
  if (!resp) return resp.error();
  const auto* r = std::get_if<OffsetForLeaderEpochResponse>(&*resp);
  if (r == nullptr) return std::errc::bad_message;
  std::vector<repl::EpochAnswer> out;
  for (const auto& t : r->topics)
    for (const auto& p : t.partitions)
      out.push_back({{t.topic, raw(p.partition)}, p.error_code, raw(p.leader_epoch), raw(p.end_offset)});
  return out;
}

Result<repl::FetchReply> KafkaLeaderEndpoint::fetch(const repl::FetchQuery& query) {
  FetchRequest req;
  req.replica_id = BrokerId{self_id_};
  req.max_wait_ms = query.max_wait_ms;
  req.min_bytes = query.min_bytes;
  req.max_bytes = query.max_bytes;
  for (std::size_t i = 0; i < query.partitions.size(); ++i) {
    const auto& p = query.partitions[i];
    if (req.topics.empty() || req.topics.back().topic != p.tp.topic) {
      req.topics.push_back({p.tp.topic, {}});
      req.topics.back().partitions.reserve(query.partitions.size() - i);
    }
    req.topics.back().partitions.push_back({PartitionId{p.tp.partition}, LeaderEpoch{p.current_leader_epoch},
                                            Offset{p.fetch_offset}, Offset{p.log_start_offset},
                                            p.partition_max_bytes});
  }
  const Duration timeout = milliseconds(std::max(query.max_wait_ms, 0)) + response_grace;
  auto resp = roundtrip(fetch_version, Request{std::move(req)}, timeout);
  if (!resp) return resp.error();
  auto* r = std::get_if<FetchResponse>(&*resp);
  if (r == nullptr) return std::errc::bad_message;
  repl::FetchReply out;
  out.error = r->error_code;
  out.partitions.reserve(query.partitions.size());
  for (auto& t : r->topics) {
    for (auto& p : t.partitions) {
      repl::PartitionData d;
      d.tp = {t.topic, raw(p.partition_index)};
      d.error = p.error_code;
      d.high_watermark = raw(p.high_watermark);
      d.log_start_offset = raw(p.log_start_offset);
      if (p.records) d.records = std::move(*p.records);  // the response is ours to take
      out.partitions.push_back(std::move(d));
    }
  }
  return out;
}

}  // namespace castle::broker
