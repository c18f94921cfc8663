#pragma once
// The proof service's client: one request at a time over one connection,
// reconnecting after any error. Every append ends in one of three outcomes,
// the same three a Jepsen history records: ok (with the offset), failed
// (definitely not stored), unknown (the request may have been stored).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "system/logsvc/wire.h"
#include "system/runtime/runtime.h"

namespace castle::logsvc {

enum class Outcome { ok, failed, unknown };

struct AppendResult {
  Outcome outcome = Outcome::unknown;
  std::uint64_t offset = 0;
  std::string error;
};

struct ReadResult {
  std::uint64_t log_end = 0;
  std::vector<Entry> entries;
};

class Client {
 public:
  Client(Runtime& rt, Address server, Duration timeout);
  AppendResult append(std::span<const std::uint8_t> payload);
  Result<ReadResult> read(std::uint64_t from, std::uint32_t records_max);
  // Reads the whole log from offset 0.
  Result<ReadResult> read_all();
  void disconnect() { conn_.reset(); }

 private:
  Result<void> ensure_connected(Instant deadline);
  // Sends a request and waits for its reply. sent says whether any byte of
  // the request may have reached the server.
  Result<Message> call(Message request, bool* sent);

  Runtime& rt_;
  Address server_;
  Duration timeout_;
  std::unique_ptr<Connection> conn_;
  std::uint64_t next_request_id_ = 1;
};

}  // namespace castle::logsvc
