#include "scenarios/raft_machine.h"

#include "system/runtime/assert.h"

namespace castle::scenarios {

namespace {

constexpr std::size_t value_bytes = 8;
// A snapshot holds at most this many values; more means a garbled count.
constexpr std::int32_t snapshot_entries_max = 10'000'000;

std::uint8_t filler(std::int64_t value, std::size_t i) {
  return static_cast<std::uint8_t>(value * 31 + static_cast<std::int64_t>(i));
}

// FNV-1a over the previous hash, the index and the value.
std::uint64_t mix(std::uint64_t h, std::int64_t index, std::int64_t value) {
  if (h == 0) h = 1469598103934665603ull;
  for (std::int64_t x : {index, value})
    for (int i = 0; i < 8; ++i) {
      h ^= static_cast<std::uint8_t>(static_cast<std::uint64_t>(x) >> (8 * i));
      h *= 1099511628211ull;
    }
  return h;
}

}  // namespace

raft::Bytes encode_value(std::int64_t value, int payload_bytes) {
  CASTLE_ASSERT(payload_bytes >= static_cast<int>(value_bytes), "a payload holds its value");
  raft::Bytes b(static_cast<std::size_t>(payload_bytes));
  for (std::size_t i = 0; i < value_bytes; ++i)
    b[i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(value) >> (56 - 8 * i));
  for (std::size_t i = value_bytes; i < b.size(); ++i) b[i] = filler(value, i);
  return b;
}

std::optional<std::int64_t> decode_value(std::span<const std::uint8_t> entry) {
  if (entry.size() < value_bytes) return std::nullopt;
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < value_bytes; ++i) v = (v << 8) | entry[i];
  const auto value = static_cast<std::int64_t>(v);
  for (std::size_t i = value_bytes; i < entry.size(); ++i)
    if (entry[i] != filler(value, i)) return std::nullopt;
  return value;
}

void ValueListMachine::apply(std::int64_t index, std::int64_t, std::span<const std::uint8_t> entry) {
  CASTLE_ASSERT(entries_.empty() || index > entries_.back().index, "entries apply in index order");
  const std::int64_t value = decode_value(entry).value_or(raft_garbled_value);
  entries_.push_back({index, value});
  hash_ = mix(hash_, index, value);
}

std::vector<std::uint8_t> ValueListMachine::snapshot() const {
  raft::Writer w;
  w.i64(static_cast<std::int64_t>(hash_));
  w.i32(static_cast<std::int32_t>(entries_.size()));
  for (const auto& e : entries_) {
    w.i64(e.index);
    w.i64(e.value);
  }
  return w.take();
}

Result<void> ValueListMachine::restore(std::span<const std::uint8_t> snapshot) {
  raft::Reader r(snapshot);
  const auto hash = static_cast<std::uint64_t>(r.i64());
  const std::int32_t n = r.i32();
  if (n < 0 || n > snapshot_entries_max) return std::errc::illegal_byte_sequence;
  std::vector<Entry> out;
  std::uint64_t h = 0;
  for (std::int32_t k = 0; k < n; ++k) {
    Entry e{r.i64(), r.i64()};
    if (!out.empty() && e.index <= out.back().index) return std::errc::illegal_byte_sequence;
    h = mix(h, e.index, e.value);
    out.push_back(e);
  }
  // The hash proves the list is the one the snapshot was taken of.
  if (!r.done() || h != hash) return std::errc::illegal_byte_sequence;
  entries_ = std::move(out);
  hash_ = h;
  return {};
}

raft::Bytes encode(const ProposeRequest& m) {
  raft::Writer w;
  w.i64(m.value);
  w.i64(m.wait_ms);
  w.bytes(m.entry);
  return w.take();
}

raft::Bytes encode(const ProposeResponse& m) {
  raft::Writer w;
  w.i8(static_cast<std::int8_t>(m.status));
  w.i64(m.index);
  w.i32(m.leader);
  return w.take();
}

std::optional<ProposeRequest> decode_propose_request(std::span<const std::uint8_t> b) {
  raft::Reader r(b);
  ProposeRequest m;
  m.value = r.i64();
  m.wait_ms = r.i64();
  m.entry = r.bytes();
  if (!r.done() || m.wait_ms < 0 || m.entry.empty()) return std::nullopt;
  return m;
}

std::optional<ProposeResponse> decode_propose_response(std::span<const std::uint8_t> b) {
  raft::Reader r(b);
  ProposeResponse m;
  const std::int8_t status = r.i8();
  m.index = r.i64();
  m.leader = r.i32();
  if (!r.done() || status < 0 || status > 2) return std::nullopt;
  m.status = static_cast<ProposeStatus>(status);
  return m;
}

}  // namespace castle::scenarios
