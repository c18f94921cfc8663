#pragma once
// The proof service: a node that accepts framed records over TCP, appends
// them to a file, fdatasyncs, acknowledges, and serves them back. It is
// written only against the runtime interface, so the same code runs in the
// simulator under faults and as a real process. Its contract: a record
// acknowledged with an offset is durable at that offset; a record answered
// `failed` is not stored and never will be; a damaged record is reported
// corrupt, never served with wrong bytes.

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "system/logsvc/wire.h"
#include "system/runtime/runtime.h"
#include "system/runtime/sync.h"

namespace castle::logsvc {

struct ServerConfig {
  Address listen{"0.0.0.0", 7070};
  std::string dir = "logsvc";
  std::size_t batch_records_max = 64;    // group commit: records per sync
  std::size_t queue_records_max = 1024;  // appends waiting for the writer
  std::uint32_t read_records_max = 1000;
  Duration retry_backoff = milliseconds(100);
  // Told the bound address once listening (a real process prints it).
  std::function<void(const Address&)> on_listening;
  // Planted bugs, for proving that the checkers catch them. Empty in real use.
  std::set<std::string> bugs;
  // Empty outside planted-bug runs: no string is built for the lookup then.
  bool bug(const char* name) const { return !bugs.empty() && bugs.count(name) != 0; }
};

// The planted bugs this service knows, with what each breaks.
const std::vector<std::pair<std::string, std::string>>& planted_bugs();

struct ServerStats {
  std::uint64_t appended = 0;
  std::uint64_t syncs = 0;
  std::uint64_t write_errors = 0;
  std::uint64_t recoveries = 0;
  std::uint64_t corrupt_records = 0;
  std::uint64_t bad_frames = 0;
};

class Server {
 public:
  Server(Runtime& rt, ServerConfig config);
  ~Server();

  // Recovers the log and serves until the process ends. Returns only if it
  // cannot listen.
  Result<void> run();
  const ServerStats& stats() const { return stats_; }

 private:
  struct Pending;
  Result<void> recover();
  void writer_loop();
  void write_batch(std::vector<std::unique_ptr<Pending>>& batch);
  bool undo_unsynced();
  void serve_connection(std::unique_ptr<Connection> conn);
  Message handle(const Message& request);
  Message handle_append(const Message& request);
  Message handle_read(const Message& request);

  Runtime& rt_;
  ServerConfig config_;
  ServerStats stats_;
  std::shared_ptr<File> file_;
  std::vector<Scan::Item> index_;  // by offset: index_[o].offset == o
  std::uint64_t file_end_ = 0;     // where the next record goes
  std::uint64_t synced_end_ = 0;   // everything before this is durable
  Channel<std::unique_ptr<Pending>> queue_;
  std::vector<Task> tasks_;
};

}  // namespace castle::logsvc
