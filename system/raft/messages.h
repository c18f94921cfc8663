#pragma once
// Raft's RPC messages (request types 1-19 of the controller port, rpc.h)
// and their bodies. Every decoder rejects a short, long or garbled body
// with nullopt; a node answers nothing to such a request (the RPC server
// closes the connection).
//
// Indexes start at 1; index 0 with term 0 is the empty log's "previous
// entry". Entries travel as the leader's log bytes: whole RecordBatch v2
// batches, one entry each, base offset = index - 1, leader epoch = term.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "system/raft/codec.h"

namespace castle::raft {

using NodeId = std::int32_t;
inline constexpr NodeId no_node = -1;

enum class MessageType : std::int16_t {
  vote = 1,              // RequestVote and PreVote (flag in the body)
  append_entries = 2,
  install_snapshot = 3,
  fetch = 4,             // an observer pulls committed entries
};

struct VoteRequest {
  std::int64_t term = 0;   // for a pre-vote: the term the candidate would take
  NodeId candidate = no_node;
  std::int64_t last_index = 0;
  std::int64_t last_term = 0;
  bool pre_vote = false;
};
struct VoteResponse {
  std::int64_t term = 0;
  bool granted = false;
};

struct AppendRequest {
  std::int64_t term = 0;
  NodeId leader = no_node;
  std::int64_t prev_index = 0;
  std::int64_t prev_term = 0;
  std::int64_t commit_index = 0;
  Bytes entries;  // batches, possibly none (a heartbeat)
};
struct AppendResponse {
  std::int64_t term = 0;
  bool success = false;
  // On success: the last index known to match the leader's log.
  // On a mismatch: match_index is the follower's last index, and next_hint
  // where the leader should try next (fast backtrack).
  std::int64_t match_index = 0;
  std::int64_t next_hint = 0;
};

struct SnapshotRequest {
  std::int64_t term = 0;
  NodeId leader = no_node;
  std::int64_t last_index = 0;
  std::int64_t last_term = 0;
  Bytes data;
};
struct SnapshotResponse {
  std::int64_t term = 0;
  bool success = false;
};

struct FetchRequest {
  NodeId observer = no_node;
  std::int64_t next_index = 1;
};
struct FetchResponse {
  NodeId leader = no_node;     // who this node thinks leads (itself if it answers with data)
  std::int64_t term = 0;
  bool is_leader = false;
  std::int64_t commit_index = 0;
  // Either entries from next_index (committed only), or a snapshot when
  // next_index is below the leader's log start.
  Bytes entries;
  bool has_snapshot = false;
  std::int64_t snapshot_index = 0;
  std::int64_t snapshot_term = 0;
  Bytes snapshot;
};

Bytes encode(const VoteRequest& m);
Bytes encode(const VoteResponse& m);
Bytes encode(const AppendRequest& m);
Bytes encode(const AppendResponse& m);
Bytes encode(const SnapshotRequest& m);
Bytes encode(const SnapshotResponse& m);
Bytes encode(const FetchRequest& m);
Bytes encode(const FetchResponse& m);

std::optional<VoteRequest> decode_vote_request(std::span<const std::uint8_t> b);
std::optional<VoteResponse> decode_vote_response(std::span<const std::uint8_t> b);
std::optional<AppendRequest> decode_append_request(std::span<const std::uint8_t> b);
std::optional<AppendResponse> decode_append_response(std::span<const std::uint8_t> b);
std::optional<SnapshotRequest> decode_snapshot_request(std::span<const std::uint8_t> b);
std::optional<SnapshotResponse> decode_snapshot_response(std::span<const std::uint8_t> b);
std::optional<FetchRequest> decode_fetch_request(std::span<const std::uint8_t> b);
std::optional<FetchResponse> decode_fetch_response(std::span<const std::uint8_t> b);

}  // namespace castle::raft
