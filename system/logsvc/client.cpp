#include "system/logsvc/client.h"

namespace castle::logsvc {

Client::Client(Runtime& rt, Address server, Duration timeout)
    : rt_(rt), server_(std::move(server)), timeout_(timeout) {}

Result<void> Client::ensure_connected(Instant deadline) {
  if (conn_) return {};
  const Duration left = deadline - rt_.now();
  if (left <= Duration::zero()) return std::errc::timed_out;
  auto c = rt_.net().connect(server_, left);
  if (!c) return c.error();
  conn_ = std::move(*c);
  return {};
}

Result<Message> Client::call(Message request, bool* sent) {
  *sent = false;
  const Instant deadline = rt_.now() + timeout_;
  if (auto r = ensure_connected(deadline); !r) return r.error();
  request.request_id = next_request_id_++;
  *sent = true;
  if (auto w = conn_->write(encode(request)); !w) {
    conn_.reset();
    return w.error();
  }
  bool eos = false;
  auto body = read_frame(*conn_, deadline, &eos);
  if (!body) {
    conn_.reset();
    return body.error();
  }
  auto reply = decode(*body);
  if (!reply || reply->request_id != request.request_id) {
    conn_.reset();
    return std::errc::bad_message;
  }
  return std::move(*reply);
}

AppendResult Client::append(std::span<const std::uint8_t> payload) {
  Message m;
  m.kind = Kind::append;
  m.payload.assign(payload.begin(), payload.end());
  bool sent = false;
  auto reply = call(std::move(m), &sent);
  if (!reply) return {sent ? Outcome::unknown : Outcome::failed, 0, reply.error().message()};
  if (reply->kind == Kind::append_ok) return {Outcome::ok, reply->offset, {}};
  if (reply->kind == Kind::error && reply->error == ErrorCode::failed)
    return {Outcome::failed, 0, reply->message};
  return {Outcome::unknown, 0, reply->message};
}

Result<ReadResult> Client::read(std::uint64_t from, std::uint32_t records_max) {
  Message m;
  m.kind = Kind::read;
  m.offset = from;
  m.records_max = records_max;
  bool sent = false;
  auto reply = call(std::move(m), &sent);
  if (!reply) return reply.error();
  if (reply->kind != Kind::read_ok) return std::errc::io_error;
  return ReadResult{reply->offset, std::move(reply->entries)};
}

Result<ReadResult> Client::read_all() {
  ReadResult all;
  for (;;) {
    auto part = read(all.entries.size(), 1000);
    if (!part) return part.error();
    all.log_end = part->log_end;
    if (part->entries.empty()) return all;
    for (auto& e : part->entries) {
      if (e.offset != all.entries.size()) return std::errc::bad_message;
      all.entries.push_back(std::move(e));
    }
  }
}

}  // namespace castle::logsvc
