#pragma once
// The proof service's wire format and on-disk record format.
//
// Frames on a connection: u32 big-endian body length, then the body:
// u8 kind, u64 request id, then per kind:
//   append      payload bytes (the rest of the body)
//   append_ok   u64 offset
//   read        u64 from offset, u32 records max
//   read_ok     u64 log end, u32 count, count x {u64 offset, u8 status, u32 len, bytes}
//   error       u16 code, message bytes
//
// On disk, log.dat is a sequence of records: a 24-byte header
// {u32 magic, u32 payload length, u64 offset, u32 payload crc32c,
//  u32 header crc32c (of the 20 bytes before it)} and the payload.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "system/runtime/net.h"

namespace castle::logsvc {

inline constexpr std::uint32_t frame_bytes_max = 1 << 20;
inline constexpr std::uint32_t record_magic = 0xC45713E0u;
inline constexpr std::size_t record_header_bytes = 24;

enum class Kind : std::uint8_t { append = 1, append_ok = 2, read = 3, read_ok = 4, error = 5 };

enum class ErrorCode : std::uint16_t {
  failed = 1,       // definitely not stored
  unknown = 2,      // may or may not be stored
  bad_request = 3,
};

enum class RecordStatus : std::uint8_t { ok = 0, corrupt = 1 };

struct Entry {
  std::uint64_t offset = 0;
  RecordStatus status = RecordStatus::ok;
  std::vector<std::uint8_t> payload;
};

struct Message {
  Kind kind = Kind::error;
  std::uint64_t request_id = 0;
  std::vector<std::uint8_t> payload;  // append
  std::uint64_t offset = 0;           // append_ok; read: from; read_ok: log end
  std::uint32_t records_max = 0;      // read
  std::vector<Entry> entries;         // read_ok
  ErrorCode error = ErrorCode::failed;
  std::string message;                // error
};

// Encodes a message as one frame, length prefix included.
std::vector<std::uint8_t> encode(const Message& m);
// Decodes a frame body (without the length prefix). nullopt if malformed.
std::optional<Message> decode(std::span<const std::uint8_t> body);

// Reads one frame. end_of_stream at a clean boundary; an oversized length
// is reported as message_size.
Result<std::vector<std::uint8_t>> read_frame(Connection& conn, std::optional<Instant> deadline,
                                             bool* end_of_stream);

// The on-disk record of a payload at an offset.
std::vector<std::uint8_t> encode_record(std::uint64_t offset, std::span<const std::uint8_t> payload);

// What a scan of log.dat found.
struct Scan {
  struct Item {
    std::uint64_t offset;
    RecordStatus status;
    std::uint64_t position;  // of the header in the file
    std::uint32_t length;    // payload bytes
  };
  std::vector<Item> items;         // in file order, offsets increasing
  std::uint64_t valid_end = 0;     // where the last good record ends
  std::uint64_t corrupt_regions = 0;
};
// Scans a whole log image. A header that fails its checks starts a search
// for the next good header: a region skipped that way before a good record
// is corruption (its offsets are reported corrupt); one at the end is a torn
// tail and is cut off by valid_end.
Scan scan_log(std::span<const std::uint8_t> image);

}  // namespace castle::logsvc
