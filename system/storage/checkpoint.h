#pragma once
// Checkpoint files in Kafka's text format, with a checksum line added:
//
//   1            version (Kafka's is 0, which has no checksum)
//   <count>      number of entry lines
//   <entry>...   one per line, fields separated by single spaces
//   <crc>        CRC-32C of every byte above, in decimal
//
// Kafka's format has no checksum, so a flipped bit in a digit still
// parses: a high watermark or a Raft term that silently moved. Version 1
// makes every such flip corruption (CRC-32C detects all 1- and 2-bit
// errors in files this small). Version 0 files, without the line, are
// still read (written by Castle before it had the checksum).
//
// Files are replaced atomically (temp file, datasync, rename, directory
// sync), so after a crash a checkpoint is either the old or the new one.
// A file that does not parse or fails its checksum is corruption, reported
// as std::errc::illegal_byte_sequence (the log's data_corrupt), never
// guessed at.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "system/runtime/disk.h"

namespace castle::storage {

// Entry lines of at most this many fields, and files of at most this many
// entries: anything larger is garbage, not a checkpoint.
inline constexpr std::size_t checkpoint_fields_max = 4;
inline constexpr std::size_t checkpoint_entries_max = 1 << 20;

using CheckpointEntry = std::vector<std::int64_t>;

Result<void> write_checkpoint(Disk& disk, const std::string& path,
                              const std::vector<CheckpointEntry>& entries);
// nullopt when the file does not exist.
Result<std::optional<std::vector<CheckpointEntry>>> read_checkpoint(Disk& disk,
                                                                    const std::string& path);

// A checkpoint kept twice, for state that must never be forgotten (a Raft
// vote, the end of a block of producer ids): `path` is written, then
// `path.mirror`, and the caller acts on the state only once both are. So
// the mirror holds every state acted on, and a damaged primary is read
// from it. A disk error other than damage is returned as it is; both
// damaged is corruption (std::errc::illegal_byte_sequence).
Result<void> write_mirrored_checkpoint(Disk& disk, const std::string& path,
                                       const std::vector<CheckpointEntry>& entries);
Result<std::optional<std::vector<CheckpointEntry>>> read_mirrored_checkpoint(Disk& disk,
                                                                             const std::string& path);
// On recovery, before the state is acted on: what read_mirrored_checkpoint
// gives, written again to both copies where they differ. A primary whose
// rename survived a crash though its directory sync had failed holds a
// state the mirror lacks; acted on as it is, a later bit flip in the
// primary would bring the older mirror back (a Raft term went back:
// cluster-buggify-disk 25033).
Result<std::optional<std::vector<CheckpointEntry>>> recover_mirrored_checkpoint(Disk& disk,
                                                                                const std::string& path);

// A checkpoint of one offset: a single entry line "<offset>".
Result<void> write_offset_checkpoint(Disk& disk, const std::string& path, std::int64_t offset);
Result<std::optional<std::int64_t>> read_offset_checkpoint(Disk& disk, const std::string& path);

}  // namespace castle::storage
