#include "system/broker/controller_service.h"

#include "system/runtime/trace.h"

namespace castle::broker {

using controller::ErrorCode;

namespace {

constexpr Duration tick_interval = milliseconds(100);
// A commit slower than this is answered NOT_CONTROLLER: the broker retries,
// which is safe since every decision is checked against the image again.
constexpr Duration commit_timeout = milliseconds(5000);

template <class M>
Result<std::vector<std::uint8_t>> encoded(const M& m) {
  return controller::encode_rpc(m);
}

}  // namespace

ControllerService::ControllerService(Runtime& rt, raft::RaftNode& raft, MetadataState& metadata,
                                     controller::ControllerConfig config)
    : rt_(rt), raft_(raft), metadata_(metadata), controller_(std::move(config)) {}

void ControllerService::attach(raft::RpcServer& server, std::weak_ptr<void> owner) {
  using T = controller::RpcType;
  auto on = [&](T type, auto method) {
    server.handle(static_cast<std::int16_t>(type),
                  [this, method, owner](std::span<const std::uint8_t> body)
                      -> Result<std::vector<std::uint8_t>> {
                    auto alive = owner.lock();
                    if (!alive) return std::errc::operation_canceled;
                    return (this->*method)(body);
                  });
  };
  on(T::broker_registration_request, &ControllerService::on_register);
  on(T::broker_heartbeat_request, &ControllerService::on_heartbeat);
  on(T::alter_partition_request, &ControllerService::on_alter_partition);
  on(T::create_topics_request, &ControllerService::on_create_topics);
  on(T::delete_topics_request, &ControllerService::on_delete_topics);
  // Raft calls this once the term's first entry is applied, so the image
  // holds everything committed before the term: fresh leases for all.
  raft_.on_leadership(
      [this](std::int64_t term) {
        controller_.becoming_leader(metadata_.image(), rt_.now());
        ready_term_ = term;
        CASTLE_TRACE(rt_.tracer(), "controller.active", {{"term", term}});
      },
      [this](std::int64_t) { ready_term_ = -1; });
}

void ControllerService::start(std::shared_ptr<void> owner) {
  tick_ = rt_.spawn("controller.tick", [this, owner] { tick_loop(); });
}

void ControllerService::stop() {
  stopping_ = true;
  tick_.cancel();
}

bool ControllerService::ready() const {
  return ready_term_ >= 0 && raft_.is_ready_leader() && raft_.term() == ready_term_;
}

Result<std::int64_t> ControllerService::commit(
    const std::vector<controller::MetadataRecord>& records) {
  if (records.empty()) return 0;
  std::vector<std::vector<std::uint8_t>> entries;
  entries.reserve(records.size());
  for (const auto& r : records) entries.push_back(controller::encode_record(r));
  auto index = raft_.propose_all(entries);
  if (!index) return index.error();
  const std::int64_t last = *index;
  if (auto w = raft_.wait_applied(last, rt_.now() + commit_timeout); !w) return w.error();
  return last;
}

Result<std::vector<std::uint8_t>> ControllerService::on_register(std::span<const std::uint8_t> body) {
  auto req = controller::decode_rpc<controller::BrokerRegistrationRequest>(body);
  if (!req) return std::errc::bad_message;
  MutexLock lock(rt_, mutex_);
  controller::BrokerRegistrationResponse no{ErrorCode::NOT_CONTROLLER};
  if (!ready()) return encoded(no);
  auto d = controller_.register_broker(metadata_.image(), req.value(), rt_.now());
  auto last = commit(d.records);
  if (!last) return encoded(no);
  // The registration record is the last one: its index is the broker epoch.
  if (*last > 0 && d.response.error == ErrorCode::NONE)
    d.response.broker_epoch = controller::BrokerEpoch{*last};
  return encoded(d.response);
}

Result<std::vector<std::uint8_t>> ControllerService::on_heartbeat(std::span<const std::uint8_t> body) {
  auto req = controller::decode_rpc<controller::BrokerHeartbeatRequest>(body);
  if (!req) return std::errc::bad_message;
  MutexLock lock(rt_, mutex_);
  controller::BrokerHeartbeatResponse no;
  no.error = ErrorCode::NOT_CONTROLLER;
  if (!ready()) return encoded(no);
  auto d = controller_.heartbeat(metadata_.image(), req.value(), rt_.now());
  if (!commit(d.records)) return encoded(no);
  return encoded(d.response);
}

Result<std::vector<std::uint8_t>> ControllerService::on_alter_partition(
    std::span<const std::uint8_t> body) {
  auto req = controller::decode_rpc<controller::AlterPartitionRequest>(body);
  if (!req) return std::errc::bad_message;
  MutexLock lock(rt_, mutex_);
  controller::AlterPartitionResponse no;
  no.error = ErrorCode::NOT_CONTROLLER;
  if (!ready()) return encoded(no);
  auto d = controller_.alter_partition(metadata_.image(), req.value());
  if (!commit(d.records)) return encoded(no);
  return encoded(d.response);
}

Result<std::vector<std::uint8_t>> ControllerService::on_create_topics(
    std::span<const std::uint8_t> body) {
  auto req = controller::decode_rpc<controller::CreateTopicsRequest>(body);
  if (!req) return std::errc::bad_message;
  MutexLock lock(rt_, mutex_);
  controller::CreateTopicsResponse no;
  for (const auto& t : req->topics) {
    controller::CreateTopicsResponse::Result r;
    r.name = t.name;
    r.error = ErrorCode::NOT_CONTROLLER;
    no.topics.push_back(std::move(r));
  }
  if (!ready()) return encoded(no);
  auto d = controller_.create_topics(metadata_.image(), req.value());
  if (!commit(d.records)) return encoded(no);
  return encoded(d.response);
}

Result<std::vector<std::uint8_t>> ControllerService::on_delete_topics(
    std::span<const std::uint8_t> body) {
  auto req = controller::decode_rpc<controller::DeleteTopicsRequest>(body);
  if (!req) return std::errc::bad_message;
  MutexLock lock(rt_, mutex_);
  controller::DeleteTopicsResponse no;
  for (const auto& name : req->names) no.topics.push_back({name, {}, ErrorCode::NOT_CONTROLLER});
  if (!ready()) return encoded(no);
  auto d = controller_.delete_topics(metadata_.image(), req.value());
  if (!commit(d.records)) return encoded(no);
  return encoded(d.response);
}

void ControllerService::tick_loop() {
  while (!stopping_) {
    rt_.sleep_for(tick_interval);
    if (!ready()) continue;
    MutexLock lock(rt_, mutex_);
    if (!ready()) continue;
    auto records = controller_.tick(metadata_.image(), rt_.now());
    // Buggify: a leadership moved to another ISR member now and then, as
    // a preferred-replica election would (on a tick with nothing to repair).
    if (records.empty() && rt_.buggify("controller.move_leader", 0.4))
      records = controller_.move_a_leader(metadata_.image(), rt_.rng().next());
    if (auto r = commit(records); !r) {
      CASTLE_TRACE(rt_.tracer(), "controller.tick_failed", {{"error", r.error().message()}});
    }
  }
}

}  // namespace castle::broker
