#include "system/raft/messages.h"

namespace castle::raft {

namespace {
// Terms and indexes are never negative on the wire; a negative one is garbage.
bool sane(std::int64_t v) { return v >= 0; }
template <class T>
std::optional<T> finish(const Reader& r, T m, bool valid) {
  if (!r.done() || !valid) return std::nullopt;
  return m;
}
}  // namespace

Bytes encode(const VoteRequest& m) {
  Writer w;
  w.i64(m.term);
  w.i32(m.candidate);
  w.i64(m.last_index);
  w.i64(m.last_term);
  w.i8(m.pre_vote ? 1 : 0);
  return w.take();
}
std::optional<VoteRequest> decode_vote_request(std::span<const std::uint8_t> b) {
  Reader r(b);
  VoteRequest m;
  m.term = r.i64();
  m.candidate = r.i32();
  m.last_index = r.i64();
  m.last_term = r.i64();
  const std::int8_t pre = r.i8();
  m.pre_vote = pre == 1;
  return finish(r, m, sane(m.term) && sane(m.last_index) && sane(m.last_term) && (pre | 1) == 1);
}

Bytes encode(const VoteResponse& m) {
  Writer w;
  w.i64(m.term);
  w.i8(m.granted ? 1 : 0);
  return w.take();
}
std::optional<VoteResponse> decode_vote_response(std::span<const std::uint8_t> b) {
  Reader r(b);
  VoteResponse m;
  m.term = r.i64();
  m.granted = r.i8() == 1;
  return finish(r, m, sane(m.term));
}

Bytes encode(const AppendRequest& m) {
  Writer w;
  w.i64(m.term);
  w.i32(m.leader);
  w.i64(m.prev_index);
  w.i64(m.prev_term);
  w.i64(m.commit_index);
  w.bytes(m.entries);
  return w.take();
}
std::optional<AppendRequest> decode_append_request(std::span<const std::uint8_t> b) {
  Reader r(b);
  AppendRequest m;
  m.term = r.i64();
  m.leader = r.i32();
  m.prev_index = r.i64();
  m.prev_term = r.i64();
  m.commit_index = r.i64();
  m.entries = r.bytes();
  return finish(r, std::move(m),
                sane(m.term) && sane(m.prev_index) && sane(m.prev_term) && sane(m.commit_index));
}

Bytes encode(const AppendResponse& m) {
  Writer w;
  w.i64(m.term);
  w.i8(m.success ? 1 : 0);
  w.i64(m.match_index);
  w.i64(m.next_hint);
  return w.take();
}
std::optional<AppendResponse> decode_append_response(std::span<const std::uint8_t> b) {
  Reader r(b);
  AppendResponse m;
  m.term = r.i64();
  m.success = r.i8() == 1;
  m.match_index = r.i64();
  m.next_hint = r.i64();
  return finish(r, m, sane(m.term) && sane(m.match_index) && m.next_hint >= 1);
}

Bytes encode(const SnapshotRequest& m) {
  Writer w;
  w.i64(m.term);
  w.i32(m.leader);
  w.i64(m.last_index);
  w.i64(m.last_term);
  w.bytes(m.data);
  return w.take();
}
std::optional<SnapshotRequest> decode_snapshot_request(std::span<const std::uint8_t> b) {
  Reader r(b);
  SnapshotRequest m;
  m.term = r.i64();
  m.leader = r.i32();
  m.last_index = r.i64();
  m.last_term = r.i64();
  m.data = r.bytes();
  return finish(r, std::move(m), sane(m.term) && m.last_index >= 1 && sane(m.last_term));
}

Bytes encode(const SnapshotResponse& m) {
  Writer w;
  w.i64(m.term);
  w.i8(m.success ? 1 : 0);
  return w.take();
}
std::optional<SnapshotResponse> decode_snapshot_response(std::span<const std::uint8_t> b) {
  Reader r(b);
  SnapshotResponse m;
  m.term = r.i64();
  m.success = r.i8() == 1;
  return finish(r, m, sane(m.term));
}

Bytes encode(const FetchRequest& m) {
  Writer w;
  w.i32(m.observer);
  w.i64(m.next_index);
  return w.take();
}
std::optional<FetchRequest> decode_fetch_request(std::span<const std::uint8_t> b) {
  Reader r(b);
  FetchRequest m;
  m.observer = r.i32();
  m.next_index = r.i64();
  return finish(r, m, m.next_index >= 1);
}

Bytes encode(const FetchResponse& m) {
  Writer w;
  w.i32(m.leader);
  w.i64(m.term);
  w.i8(m.is_leader ? 1 : 0);
  w.i64(m.commit_index);
  w.bytes(m.entries);
  w.i8(m.has_snapshot ? 1 : 0);
  w.i64(m.snapshot_index);
  w.i64(m.snapshot_term);
  w.bytes(m.snapshot);
  return w.take();
}
std::optional<FetchResponse> decode_fetch_response(std::span<const std::uint8_t> b) {
  Reader r(b);
  FetchResponse m;
  m.leader = r.i32();
  m.term = r.i64();
  m.is_leader = r.i8() == 1;
  m.commit_index = r.i64();
  m.entries = r.bytes();
  m.has_snapshot = r.i8() == 1;
  m.snapshot_index = r.i64();
  m.snapshot_term = r.i64();
  m.snapshot = r.bytes();
  return finish(r, std::move(m),
                sane(m.term) && sane(m.commit_index) && sane(m.snapshot_index) &&
                    sane(m.snapshot_term));
}

}  // namespace castle::raft
