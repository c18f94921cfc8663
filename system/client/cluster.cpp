#include "system/client/cluster.h"

#include <algorithm>

namespace castle::client {

using protocol::MetadataRequest;
using protocol::MetadataResponse;
using protocol::raw;

const std::vector<std::pair<std::string, std::string>>& planted_bugs() {
  static const std::vector<std::pair<std::string, std::string>> bugs = {
      {"client-accept-stale-metadata",
       "takes up the older leader epoch a lagging broker's Metadata describes (KIP-320 says keep "
       "the newer), so produces and fetches go to a deposed leader"},
  };
  return bugs;
}

namespace {

// Marks the flag for the life of the scope and wakes waiters when done.
class Busy {
 public:
  Busy(bool& flag, WaitList& done) : flag_(flag), done_(done) { flag_ = true; }
  ~Busy() {
    flag_ = false;
    done_.notify_all();
  }
  Busy(const Busy&) = delete;
  Busy& operator=(const Busy&) = delete;

 private:
  bool& flag_;
  WaitList& done_;
};

TopicInfo topic_from(const MetadataResponse::Topic& t) {
  TopicInfo info;
  info.name = t.name;
  info.error = t.error_code;
  info.is_internal = t.is_internal;
  for (const auto& p : t.partitions) {
    PartitionInfo pi;
    pi.partition = raw(p.partition_index);
    pi.leader = raw(p.leader_id);
    pi.leader_epoch = raw(p.leader_epoch);
    pi.error = p.error_code;
    for (auto b : p.replica_nodes) pi.replicas.push_back(raw(b));
    for (auto b : p.isr_nodes) pi.isr.push_back(raw(b));
    info.partitions.push_back(std::move(pi));
  }
  std::sort(info.partitions.begin(), info.partitions.end(),
            [](const PartitionInfo& a, const PartitionInfo& b) { return a.partition < b.partition; });
  return info;
}

// The partition's entry; topic_from keeps them sorted by partition.
const PartitionInfo* find_partition(const TopicInfo& t, std::int32_t partition) {
  auto it = std::lower_bound(t.partitions.begin(), t.partitions.end(), partition,
                             [](const PartitionInfo& p, std::int32_t id) { return p.partition < id; });
  return it != t.partitions.end() && it->partition == partition ? &*it : nullptr;
}

}  // namespace

Cluster::Cluster(Runtime& rt, ClientConfig config) : rt_(rt), config_(std::move(config)) {
  CASTLE_ASSERT(!config_.bootstrap_servers.empty(), "bootstrap.servers is required");
}

Cluster::~Cluster() { close(); }

ConnectionOptions Cluster::connection_options() const {
  ConnectionOptions o;
  o.client_id = config_.client_id;
  o.connect_timeout = milliseconds(config_.socket_connection_setup_timeout_ms);
  o.request_timeout = milliseconds(config_.request_timeout_ms);
  o.in_flight_max = static_cast<std::size_t>(config_.max_in_flight_requests_per_connection);
  return o;
}

void Cluster::close() {
  for (auto& [name, e] : endpoints_) {
    if (e->conn) e->conn->close();
    e->conn.reset();
  }
}

Result<std::shared_ptr<BrokerConnection>> Cluster::connect_to(Address address) {
  auto& slot = endpoints_[address.to_string()];
  if (!slot) slot = std::make_unique<Endpoint>();
  Endpoint& e = *slot;
  while (e.connecting) e.connected.wait(rt_);
  if (e.conn && !e.conn->broken()) return e.conn;
  e.conn.reset();
  if (e.failed_at) {
    // Back off before hammering an address that just refused us.
    const Instant retry_at = *e.failed_at + milliseconds(config_.reconnect_backoff_ms);
    if (rt_.now() < retry_at) rt_.sleep_until(retry_at);
  }
  Busy busy(e.connecting, e.connected);
  auto opened = BrokerConnection::open(rt_, address, connection_options());
  if (!opened) {
    e.failed_at = rt_.now();
    return opened.error();
  }
  e.failed_at.reset();
  e.conn = *opened;
  return e.conn;
}

Result<std::shared_ptr<BrokerConnection>> Cluster::connection(std::int32_t node_id) {
  auto it = brokers_.find(node_id);
  if (it == brokers_.end()) {
    mark_stale();
    return client_error(ClientError::metadata_unavailable);
  }
  auto c = connect_to(it->second.address);
  if (!c) mark_stale();
  return c;
}

Result<std::shared_ptr<BrokerConnection>> Cluster::any_connection() {
  std::vector<Address> candidates;
  for (const auto& [id, b] : brokers_) candidates.push_back(b.address);
  for (const Address& a : config_.bootstrap_servers) candidates.push_back(a);
  CASTLE_ASSERT(!candidates.empty(), "bootstrap.servers is never empty");
  std::error_code last;
  const std::size_t start = next_broker_++;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    auto c = connect_to(candidates[(start + i) % candidates.size()]);
    if (c) return c;
    last = c.error();
  }
  return last;
}

Result<void> Cluster::refresh(const std::vector<std::string>& topics, bool all_topics) {
  for (const auto& t : topics) interesting_.insert(t);
  while (refreshing_) refresh_done_.wait(rt_);
  Busy busy(refreshing_, refresh_done_);
  if (refresh_failed_at_) {
    const Instant retry_at = *refresh_failed_at_ + milliseconds(config_.retry_backoff_ms);
    if (rt_.now() < retry_at) rt_.sleep_until(retry_at);
  }
  Result<void> r = refresh_once(all_topics);
  if (r) {
    refresh_failed_at_.reset();
  } else {
    refresh_failed_at_ = rt_.now();
  }
  return r;
}

Result<void> Cluster::refresh_once(bool all_topics) {
  auto conn = any_connection();
  if (!conn) return conn.error();
  MetadataRequest req;
  if (all_topics) {
    req.topics = std::nullopt;
  } else {
    req.topics = std::vector<std::string>(interesting_.begin(), interesting_.end());
  }
  req.allow_auto_topic_creation = config_.allow_auto_create_topics;
  auto resp = response_as<MetadataResponse>((*conn)->call(std::move(req)));
  if (!resp) return resp.error();
  apply(*resp, all_topics);
  return {};
}

void Cluster::apply(const MetadataResponse& m, bool all_topics) {
  brokers_.clear();
  for (const auto& b : m.brokers) {
    brokers_[raw(b.node_id)] =
        BrokerInfo{raw(b.node_id), Address{b.host, static_cast<std::uint16_t>(b.port)}};
  }
  std::map<std::string, TopicInfo> previous;
  if (all_topics) previous.swap(topics_);
  stale_ = false;
  for (const auto& t : m.topics) {
    TopicInfo info = topic_from(t);
    auto old = topics_.find(t.name);
    if (old != topics_.end()) previous[t.name] = std::move(old->second);
    if (!config_.bug("client-accept-stale-metadata")) keep_newer_epochs(info, previous[t.name]);
    trace_leaders(info, previous[t.name]);
    topics_[t.name] = std::move(info);
  }
  refreshed_at_ = rt_.now();
}

// A broker that has not caught up with the metadata log (or a deposed
// leader) may describe a partition at an older leader epoch than we have
// seen: acting on it would send fetches to a zombie leader, which answers
// with its own shorter log. As Kafka's clients do (KIP-320), the newer
// view stays and the metadata is asked again soon.
void Cluster::keep_newer_epochs(TopicInfo& fresh, const TopicInfo& old) {
  if (fresh.error != ErrorCode::NONE) return;
  for (PartitionInfo& p : fresh.partitions) {
    const PartitionInfo* held = find_partition(old, p.partition);
    if (held == nullptr || p.leader_epoch < 0 || held->leader_epoch <= p.leader_epoch) continue;
    p = *held;
    stale_ = true;
  }
}

// Each partition whose leader or epoch we now hold differently, for the
// checkers (client.leader: checkers/client_leader_invariant.cpp).
void Cluster::trace_leaders(const TopicInfo& fresh, const TopicInfo& old) const {
  if (!rt_.tracer().enabled() || fresh.error != ErrorCode::NONE) return;
  for (const PartitionInfo& p : fresh.partitions) {
    const PartitionInfo* held = find_partition(old, p.partition);
    if (held != nullptr && held->leader == p.leader && held->leader_epoch == p.leader_epoch) continue;
    CASTLE_TRACE(rt_.tracer(), "client.leader",
                 {{"topic", fresh.name}, {"partition", std::int64_t{p.partition}},
                  {"epoch", std::int64_t{p.leader_epoch}}, {"leader", std::int64_t{p.leader}},
                  {"previous_epoch", std::int64_t{held != nullptr ? held->leader_epoch : -1}}});
  }
}

Result<void> Cluster::refresh_if_stale() {
  const bool old = !refreshed_at_ || rt_.now() >= *refreshed_at_ + milliseconds(config_.metadata_max_age_ms);
  if (!stale_ && !old) return {};
  return refresh();
}

Result<const TopicInfo*> Cluster::wait_for_topic(const std::string& topic, Instant deadline) {
  interesting_.insert(topic);
  for (bool first = true;; first = false) {
    const TopicInfo* t = this->topic(topic);
    // Cached metadata will do: the sender refreshes it when it is stale.
    if (t && t->error == ErrorCode::NONE && !t->partitions.empty()) return t;
    if (t && t->error != ErrorCode::NONE && !is_retriable(t->error)) return kafka_error(t->error);
    if (rt_.now() >= deadline) {
      if (t && t->error != ErrorCode::NONE) return kafka_error(t->error);
      return client_error(ClientError::metadata_unavailable);
    }
    // Known but not usable yet (being created, no leader): ask again soon.
    if (!first) rt_.sleep_until(std::min(deadline, rt_.now() + milliseconds(config_.retry_backoff_ms)));
    (void)refresh({topic});
  }
}

const TopicInfo* Cluster::topic(const std::string& name) const {
  auto it = topics_.find(name);
  return it == topics_.end() ? nullptr : &it->second;
}

std::optional<std::int32_t> Cluster::leader(const TopicPartition& tp) const {
  const TopicInfo* t = topic(tp.topic);
  const PartitionInfo* p = t ? find_partition(*t, tp.partition) : nullptr;
  if (!p || p->leader < 0 || p->error == ErrorCode::LEADER_NOT_AVAILABLE) return std::nullopt;
  return p->leader;
}

std::int32_t Cluster::leader_epoch(const TopicPartition& tp) const {
  const TopicInfo* t = topic(tp.topic);
  const PartitionInfo* p = t ? find_partition(*t, tp.partition) : nullptr;
  return p ? p->leader_epoch : -1;
}

std::vector<std::string> Cluster::topic_names() const {
  std::vector<std::string> out;
  for (const auto& [name, t] : topics_) out.push_back(name);
  return out;
}

void Cluster::forget_topic(const std::string& name) {
  interesting_.erase(name);
  topics_.erase(name);
}

}  // namespace castle::client
