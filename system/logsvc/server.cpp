#include "system/logsvc/server.h"

namespace castle::logsvc {

struct Server::Pending {
  std::vector<std::uint8_t> payload;
  Promise<Message> reply;
};

namespace {
Message error_reply(std::uint64_t request_id, ErrorCode code, std::string why) {
  Message m;
  m.kind = Kind::error;
  m.request_id = request_id;
  m.error = code;
  m.message = std::move(why);
  return m;
}
}  // namespace

const std::vector<std::pair<std::string, std::string>>& planted_bugs() {
  static const std::vector<std::pair<std::string, std::string>> bugs = {
      {"logsvc-ack-before-sync", "acknowledge appends before fdatasync (a crash loses them)"},
      {"logsvc-no-dir-sync", "never sync the directory, so a new log file can vanish in a crash"},
      {"logsvc-serve-corrupt", "skip the checksum when serving, returning damaged records"},
  };
  return bugs;
}

Server::Server(Runtime& rt, ServerConfig config)
    : rt_(rt), config_(std::move(config)), queue_(config_.queue_records_max) {}

Server::~Server() {
  queue_.close();
  for (auto& t : tasks_) t.cancel();
}

Result<void> Server::recover() {
  ++stats_.recoveries;
  if (auto r = rt_.disk().make_dirs(config_.dir); !r) return r;
  if (!config_.bug("logsvc-no-dir-sync")) {
    if (auto r = rt_.disk().sync_dir(parent_dir(config_.dir)); !r) return r;
  }
  const std::string path = join_path(config_.dir, "log.dat");
  auto f = rt_.disk().open(path, OpenMode::create);
  if (!f) return f.error();
  // The name must survive a crash before any record is acknowledged.
  if (!config_.bug("logsvc-no-dir-sync")) {
    if (auto r = rt_.disk().sync_dir(config_.dir); !r) return r;
  }
  auto image = read_whole_file(rt_.disk(), path);
  if (!image) return image.error();
  Scan scan = scan_log(*image);
  // Cut a torn tail, and make the cut durable before appending after it.
  if (scan.valid_end < image->size()) {
    if (auto r = (*f)->truncate(scan.valid_end); !r) return r;
  }
  if (auto r = (*f)->datasync(); !r) return r;
  for (const auto& item : scan.items)
    if (item.status == RecordStatus::corrupt) ++stats_.corrupt_records;
  CASTLE_TRACE(rt_.tracer(), "logsvc.recovered",
               {{"records", static_cast<std::uint64_t>(scan.items.size())},
                {"corrupt_regions", scan.corrupt_regions},
                {"cut_bytes", static_cast<std::uint64_t>(image->size() - scan.valid_end)}});
  index_ = std::move(scan.items);
  file_end_ = synced_end_ = scan.valid_end;
  file_ = std::move(*f);
  return {};
}

Result<void> Server::run() {
  while (!recover()) {
    // A disk error during recovery: try again rather than serve a guess.
    rt_.sleep_for(config_.retry_backoff);
  }
  auto listener = rt_.net().listen(config_.listen);
  if (!listener) return listener.error();
  if (config_.on_listening) config_.on_listening((*listener)->local_address());
  tasks_.push_back(rt_.spawn("logsvc.writer", [this] { writer_loop(); }));
  for (;;) {
    auto conn = (*listener)->accept();
    if (!conn) {
      rt_.sleep_for(config_.retry_backoff);
      continue;
    }
    auto c = std::make_shared<std::unique_ptr<Connection>>(std::move(*conn));
    rt_.spawn("logsvc.conn", [this, c] { serve_connection(std::move(*c)); });
  }
}

void Server::writer_loop() {
  for (;;) {
    auto [status, first] = queue_.recv(rt_);
    if (status != ChannelStatus::ok) return;
    std::vector<std::unique_ptr<Pending>> batch;
    batch.push_back(std::move(*first));
    while (batch.size() < config_.batch_records_max) {
      auto more = queue_.try_recv();
      if (!more) break;
      batch.push_back(std::move(*more));
    }
    write_batch(batch);
  }
}

void Server::write_batch(std::vector<std::unique_ptr<Pending>>& batch) {
  std::vector<std::uint8_t> bytes;
  std::vector<Scan::Item> items;
  const std::uint64_t base = index_.size();
  for (std::size_t i = 0; i < batch.size(); ++i) {
    items.push_back({base + i, RecordStatus::ok, file_end_ + bytes.size(),
                     static_cast<std::uint32_t>(batch[i]->payload.size())});
    auto rec = encode_record(base + i, batch[i]->payload);
    bytes.insert(bytes.end(), rec.begin(), rec.end());
  }
  // A fault point: a batch written in two parts, so a crash between them
  // leaves a torn record that recovery must cut.
  if (bytes.size() > 1 && rt_.buggify("logsvc.split_write")) {
    const std::size_t half = bytes.size() / 2;
    if (!file_->pwrite(file_end_, std::span(bytes).first(half))) ++stats_.write_errors;
    rt_.yield();
  }
  Result<void> w = file_->pwrite(file_end_, bytes);
  const bool skip_sync = config_.bug("logsvc-ack-before-sync");
  Result<void> s = w && !skip_sync ? file_->datasync() : w;
  ++stats_.syncs;
  if (s) {
    file_end_ += bytes.size();
    synced_end_ = file_end_;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      index_.push_back(items[i]);
      Message ok;
      ok.kind = Kind::append_ok;
      ok.offset = items[i].offset;
      batch[i]->reply.set(std::move(ok));
    }
    stats_.appended += batch.size();
    return;
  }
  ++stats_.write_errors;
  // The bytes may or may not be on disk. Undo them durably to turn the
  // outcome into a definite failure; if even that fails, say unknown and
  // rebuild the state from what the disk holds.
  const bool undone = undo_unsynced();
  const ErrorCode code = undone ? ErrorCode::failed : ErrorCode::unknown;
  for (auto& p : batch) p->reply.set(error_reply(0, code, s.error().message()));
  if (!undone) {
    while (!recover()) rt_.sleep_for(config_.retry_backoff);
  }
}

bool Server::undo_unsynced() {
  if (!file_->truncate(synced_end_)) return false;
  if (!file_->datasync()) return false;
  file_end_ = synced_end_;
  return true;
}

void Server::serve_connection(std::unique_ptr<Connection> conn) {
  for (;;) {
    bool eos = false;
    auto body = read_frame(*conn, std::nullopt, &eos);
    if (!body) break;
    auto request = decode(*body);
    if (!request) {
      ++stats_.bad_frames;
      auto reply = encode(error_reply(0, ErrorCode::bad_request, "malformed frame"));
      (void)conn->write(reply);
      break;
    }
    Message reply = handle(*request);
    reply.request_id = request->request_id;
    // Fault points for the simulator: a reply that is slow, or lost with its
    // connection after the work was done (the client cannot tell which).
    if (rt_.buggify("logsvc.slow_reply")) rt_.sleep_for(milliseconds(rt_.rng().between(1, 200)));
    if (rt_.buggify("logsvc.drop_reply")) break;
    if (!conn->write(encode(reply))) break;
  }
  conn->close();
}

Message Server::handle(const Message& request) {
  switch (request.kind) {
    case Kind::append: return handle_append(request);
    case Kind::read: return handle_read(request);
    default: return error_reply(0, ErrorCode::bad_request, "not a request");
  }
}

Message Server::handle_append(const Message& request) {
  auto p = std::make_unique<Pending>();
  p->payload = request.payload;
  Future<Message> reply = p->reply.future();
  if (queue_.send(rt_, std::move(p)) != ChannelStatus::ok)
    return error_reply(0, ErrorCode::failed, "shutting down");
  if (reply.wait(rt_) != FutureStatus::ready)
    return error_reply(0, ErrorCode::unknown, "writer ended");
  return std::move(reply.value());
}

Message Server::handle_read(const Message& request) {
  Message m;
  m.kind = Kind::read_ok;
  m.offset = index_.size();
  const std::uint32_t limit = std::min(request.records_max, config_.read_records_max);
  std::size_t bytes = 0;
  // Held here: a recovery may replace file_ while this fiber waits on a read.
  std::shared_ptr<File> file = file_;
  for (std::uint64_t o = request.offset; o < index_.size() && m.entries.size() < limit; ++o) {
    const Scan::Item item = index_[o];  // a copy: index_ may grow while we read
    Entry e{o, item.status, {}};
    if (item.status == RecordStatus::ok) {
      e.payload.resize(item.length);
      auto n = file->pread(item.position + record_header_bytes, e.payload);
      if (!n || *n != item.length) return error_reply(0, ErrorCode::unknown, "read failed");
      auto again = encode_record(o, e.payload);
      // Verify on the way out: a bit flipped since recovery is reported, not served.
      std::vector<std::uint8_t> header(record_header_bytes);
      auto hn = file->pread(item.position, header);
      const bool verify = !config_.bug("logsvc-serve-corrupt");
      if (verify && (!hn || !std::equal(header.begin(), header.end(), again.begin()))) {
        e.status = RecordStatus::corrupt;
        e.payload.clear();
      }
    }
    bytes += e.payload.size() + 13;
    m.entries.push_back(std::move(e));
    if (bytes > frame_bytes_max / 2) break;
  }
  return m;
}

}  // namespace castle::logsvc
