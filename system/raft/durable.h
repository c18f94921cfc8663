#pragma once
// What a Raft node keeps on disk besides its log, in its data directory:
//
//   quorum-state              "<term> <voted_for>" as a checkpoint
//                             (storage/checkpoint.h), replaced atomically
//   quorum-state.mirror       the same, written after it: a term or vote
//                             lost to damage could be given twice
//   repairing                 present while the log is being repaired
//                             after damage (see Core::begin_repair)
//   snapshot-<index>-<term>   the state machine's bytes after entry
//                             <index>, with a CRC-32C trailer, written
//                             atomically; older ones are removed after
//
// All are written with temp file, sync, rename and directory sync, so a
// crash leaves the old or the new one, never a mix.

#include <cstdint>
#include <optional>
#include <string>

#include "system/raft/codec.h"
#include "system/raft/messages.h"
#include "system/runtime/disk.h"

namespace castle::raft {

struct QuorumState {
  std::int64_t term = 0;
  NodeId voted_for = no_node;
  friend bool operator==(const QuorumState&, const QuorumState&) = default;
};

// Missing files are the initial state. A damaged primary is read from its
// mirror, and the copies that differ from what is read are written again;
// both damaged is std::errc::illegal_byte_sequence (the node cannot know
// whom it voted for, and must not guess). For recovery: it may write.
Result<QuorumState> load_quorum_state(Disk& disk, const std::string& dir);
Result<void> save_quorum_state(Disk& disk, const std::string& dir, const QuorumState& s);

// The repair marker: written durably before a damaged log is cut, removed
// (and the removal synced) once the log again matches a leader's. It holds
// the floor: the last term and the flushed index of the log before the
// damage (every entry this node may have acknowledged lies at or below
// it), so that the node votes only for candidates at least as up to date
// as its log was. Unknown (nullopt) when the log's checkpoints were
// damaged too: the node then votes for nobody until repaired.
struct RepairFloor {
  std::int64_t term = 0;
  std::int64_t index = 0;
};
bool repairing(Disk& disk, const std::string& dir);
Result<void> mark_repairing(Disk& disk, const std::string& dir, std::optional<RepairFloor> floor);
// The floor of the marker; nullopt if unknown, damaged or absent.
std::optional<RepairFloor> repair_floor(Disk& disk, const std::string& dir);
Result<void> clear_repairing(Disk& disk, const std::string& dir);

struct Snapshot {
  std::int64_t index = 0;
  std::int64_t term = 0;
  Bytes data;
};

// The newest snapshot whose checksum holds (nullopt if none).
Result<std::optional<Snapshot>> load_latest_snapshot(Disk& disk, const std::string& dir);
// Writes a snapshot durably, then removes older ones (best effort).
Result<void> save_snapshot(Disk& disk, const std::string& dir, const Snapshot& s);
// Parses "snapshot-<index>-<term>"; false for any other name.
bool parse_snapshot_name(const std::string& name, std::int64_t* index, std::int64_t* term);

}  // namespace castle::raft
