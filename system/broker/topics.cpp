#include "system/broker/topics.h"

#include "system/controller/topic_creation.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <string_view>

#include "system/runtime/trace.h"
#include "system/storage/batch.h"

namespace castle::broker {

namespace {

constexpr const char* metadata_file = "partition.metadata";
// The Raft metadata log's default home, <log.dirs>/__cluster_metadata-0.
constexpr const char* metadata_topic = "__cluster_metadata";
constexpr const char* clean_shutdown_file = ".castle_cleanshutdown";

struct PartitionMetadata {
  std::string topic;
  std::int32_t partition_count = 0;
  TopicOverrides overrides;
};

std::string encode_metadata(const PartitionMetadata& m) {
  std::string s = "version: 0\ntopic_name: " + m.topic +
                  "\npartition_count: " + std::to_string(m.partition_count) + "\n";
  for (const auto& [k, v] : m.overrides) s += "config." + k + ": " + v + "\n";
  return s;
}

bool decode_metadata(std::string_view text, PartitionMetadata* m) {
  bool versioned = false;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    const auto colon = line.find(": ");
    if (colon == std::string_view::npos) return false;
    const std::string key(line.substr(0, colon));
    const std::string value(line.substr(colon + 2));
    if (key == "version") {
      versioned = value == "0";
    } else if (key == "topic_name") {
      m->topic = value;
    } else if (key == "partition_count") {
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), m->partition_count);
      if (ec != std::errc{} || p != value.data() + value.size()) return false;
    } else if (key.rfind("config.", 0) == 0) {
      m->overrides[key.substr(7)] = value;
    }
  }
  return versioned && !m->topic.empty() && m->partition_count > 0;
}

// Splits "<topic>-<index>"; false if the name is not of that shape.
bool split_partition_dir(const std::string& name, std::string* topic, std::int32_t* index) {
  const auto dash = name.rfind('-');
  if (dash == std::string::npos || dash == 0 || dash + 1 == name.size()) return false;
  const char* b = name.data() + dash + 1;
  const char* e = name.data() + name.size();
  auto [p, ec] = std::from_chars(b, e, *index);
  if (ec != std::errc{} || p != e || *index < 0) return false;
  *topic = name.substr(0, dash);
  std::string why;
  return valid_topic_name(*topic, &why);
}

std::string partition_dir_name(const std::string& topic, std::int32_t index) {
  return topic + "-" + std::to_string(index);
}

}  // namespace

// Kafka's rule, kept once in the controller (which validates every topic a
// cluster creates).
bool valid_topic_name(const std::string& name, std::string* why) {
  return controller::is_valid_topic_name(name, why);
}

Result<void> rebuild_producer_state(Partition& p) {
  p.producers.clear();
  constexpr std::size_t chunk = 1 << 20;
  std::int64_t offset = p.log->log_start_offset();
  while (offset < p.log->log_end_offset()) {
    auto r = p.log->read(offset, chunk);
    if (!r) return r.error();
    std::span<const std::uint8_t> rest(r->bytes);
    while (rest.size() >= storage::batch_header_bytes) {
      storage::BatchView b(rest);
      if (b.producer_id() >= 0 && b.base_sequence() >= 0) {
        const BatchSequence seq{b.producer_id(), b.producer_epoch(), b.base_sequence(),
                                b.base_sequence() + b.last_offset_delta()};
        p.producers.record(seq, b.base_offset(), b.last_offset());
      }
      rest = rest.subspan(b.size_bytes());
    }
    if (r->next_offset <= offset) break;
    offset = r->next_offset;
  }
  return {};
}

PartitionPtr TopicTable::damaged_partition(const std::string& topic, std::int32_t index,
                                           const char* what) {
  auto p = std::make_shared<Partition>();
  p->topic = topic;
  p->index = index;
  p->dir = join_path(config_.log_dir, partition_dir_name(topic, index));
  p->take_offline();
  p->damaged = true;
  CASTLE_TRACE(rt_.tracer(), "broker.partition_offline", {{"dir", p->dir}, {"error", what}, {"damaged", true}});
  return p;
}

Result<PartitionPtr> TopicTable::open_partition(const std::string& topic, std::int32_t index,
                                                const TopicOverrides& overrides) {
  auto p = std::make_shared<Partition>();
  p->topic = topic;
  p->index = index;
  p->dir = join_path(config_.log_dir, partition_dir_name(topic, index));
  if (auto r = rt_.disk().make_dirs(p->dir); !r) return r.error();
  storage::LogConfig log_config = topic_log_config(config_, overrides);
  if (config_.bug("broker-ack-before-sync")) {
    log_config.flush_interval_messages = std::numeric_limits<std::int64_t>::max();
    log_config.flush_interval_ms = std::numeric_limits<std::int64_t>::max();
  }
  auto log = storage::Log::open(rt_, p->dir, log_config);
  if (!log) return log.error();
  p->log = std::move(*log);
  p->tracer = trace_replica(rt_, *p->log, topic, index);
  if (config_.bug("broker-offset-reuse-after-restart") && p->log->log_end_offset() > 0) {
    if (auto r = p->log->truncate_to(p->log->log_end_offset() - 1); !r) return r.error();
  }
  // In a cluster the controller hands out leader epochs and replication
  // moves the high watermark; only a standalone broker decides them here.
  if (config_.cluster.enabled()) {
    if (auto r = rebuild_producer_state(*p); !r) return r.error();
    return p;
  }
  // Every start of a leader is a new leader epoch, as a controller's
  // election would make it; followers use it to find divergence.
  const auto& epochs = p->log->epochs();
  p->leader_epoch = epochs.empty() ? 0 : epochs.back().epoch + 1;
  if (auto r = p->log->assign_epoch(p->leader_epoch, p->log->log_end_offset()); !r)
    return r.error();
  // A single replica is its own ISR: everything in the log is committed.
  if (auto r = p->log->set_high_watermark(p->log->log_end_offset()); !r) return r.error();
  if (auto r = rebuild_producer_state(*p); !r) return r.error();
  return p;
}

Result<void> TopicTable::remove_partition_dir(const std::string& dir) {
  Disk& disk = rt_.disk();
  // The metadata goes first and durably: from then on the directory is a
  // leftover that the next start removes, whatever happens below.
  if (disk.exists(join_path(dir, metadata_file))) {
    if (auto r = disk.remove(join_path(dir, metadata_file)); !r) return r.error();
    if (auto r = disk.sync_dir(dir); !r) return r.error();
  }
  auto names = disk.list(dir);
  if (!names) return names.error();
  for (const auto& n : *names) {
    if (auto r = disk.remove(join_path(dir, n)); !r) return r.error();
  }
  if (auto r = disk.remove(dir); !r) return r.error();
  return disk.sync_dir(config_.log_dir);
}

Result<void> TopicTable::load_partition_dir(const std::string& name) {
  std::string topic;
  std::int32_t index = 0;
  if (!split_partition_dir(name, &topic, &index)) return {};  // not ours
  if (topic == metadata_topic) return {};  // the Raft metadata log, not a partition
  const std::string dir = join_path(config_.log_dir, name);
  auto bytes = read_whole_file(rt_.disk(), join_path(dir, metadata_file));
  if (!bytes) {
    if (!rt_.disk().list(dir)) return {};  // a file, not a partition directory
    CASTLE_TRACE(rt_.tracer(), "broker.leftover_dir", {{"dir", dir}});
    return remove_partition_dir(dir);
  }
  PartitionMetadata m;
  if (!decode_metadata(std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()), &m) ||
      m.topic != topic || index >= m.partition_count) {
    // Damaged metadata: standalone, refuse to guess; in a cluster the
    // controller's metadata says it again (open_replica).
    if (!config_.cluster.enabled()) return std::errc::illegal_byte_sequence;
    PartitionPtr p = damaged_partition(topic, index, "damaged partition.metadata at start");
    p->metadata_lost = true;
    place(p, index + 1, nullptr);  // what parsed of the file is not to be trusted
    return {};
  }
  auto p = open_partition(topic, index, m.overrides);
  // In a cluster a damaged log does not keep the broker down (Kafka starts
  // with a failed log directory offline): the partition starts offline, its
  // heartbeats report it, and it comes back salvaged.
  if (!p && p.error() == std::errc::illegal_byte_sequence && config_.cluster.enabled())
    p = damaged_partition(topic, index, "damaged log at start");
  if (!p) return p.error();
  place(*p, m.partition_count, &m.overrides);
  return {};
}

// Files a partition under its topic, which has at least `partition_count`
// partitions and, when given, these overrides.
void TopicTable::place(const PartitionPtr& p, std::int32_t partition_count,
                       const TopicOverrides* overrides) {
  Topic& t = topics_[p->topic];
  t.name = p->topic;
  if (overrides != nullptr) t.overrides = *overrides;
  if (t.partitions.size() < static_cast<std::size_t>(partition_count))
    t.partitions.resize(static_cast<std::size_t>(partition_count));
  t.partitions[static_cast<std::size_t>(p->index)] = p;
}

Result<void> TopicTable::load() {
  if (auto r = rt_.disk().make_dirs(config_.log_dir); !r) return r.error();
  // The log directory's own entry must be durable before anything in it is.
  if (auto r = rt_.disk().sync_dir(parent_dir(config_.log_dir)); !r) return r.error();
  if (auto r = take_clean_shutdown_marker(); !r) return r.error();
  auto names = rt_.disk().list(config_.log_dir);
  if (!names) return names.error();
  for (const auto& name : *names) {
    if (auto r = load_partition_dir(name); !r) return r.error();
  }
  // A creation cut short leaves some partitions without metadata (removed
  // above as leftovers): finish it, so the topic has the count it declares.
  // In a cluster a broker hosts only its replicas: the metadata decides.
  for (auto& [name, t] : topics_) {
    if (config_.cluster.enabled()) break;
    for (std::size_t i = 0; i < t.partitions.size(); ++i) {
      if (t.partitions[i]) continue;
      auto p = open_partition(name, static_cast<std::int32_t>(i), t.overrides);
      if (!p) return p.error();
      if (auto r = write_metadata(**p, static_cast<std::int32_t>(t.partitions.size()), t.overrides); !r)
        return r.error();
      t.partitions[i] = std::move(*p);
    }
  }
  return rt_.disk().sync_dir(config_.log_dir);
}

const Topic* TopicTable::find(const std::string& name) const {
  auto it = topics_.find(name);
  return it == topics_.end() ? nullptr : &it->second;
}

PartitionPtr TopicTable::partition(const std::string& topic, std::int32_t index) const {
  const Topic* t = find(topic);
  if (t == nullptr || index < 0 || static_cast<std::size_t>(index) >= t->partitions.size())
    return nullptr;
  return t->partitions[static_cast<std::size_t>(index)];
}

CreateError TopicTable::create(const std::string& name, std::int32_t partitions,
                               const TopicOverrides& overrides) {
  std::string why;
  if (!valid_topic_name(name, &why)) return CreateError::invalid_name;
  if (topics_.count(name) != 0) return CreateError::already_exists;
  if (deleting_.count(name) != 0) return CreateError::being_deleted;
  // Reserve the name before the first suspension, so a concurrent create
  // of the same topic sees it.
  Topic& t = topics_[name];
  t.name = name;
  t.overrides = overrides;
  for (std::int32_t i = 0; i < partitions; ++i) {
    auto p = open_partition(name, i, overrides);
    Result<void> written = p ? write_metadata(**p, partitions, overrides) : Result<void>(p.error());
    if (!written) {
      CASTLE_TRACE(rt_.tracer(), "broker.create_failed",
                   {{"topic", name}, {"error", written.error().message()}});
      for (auto& done : t.partitions) done->deleted = true;
      topics_.erase(name);
      return CreateError::disk;
    }
    t.partitions.push_back(std::move(*p));
  }
  if (!rt_.disk().sync_dir(config_.log_dir)) return CreateError::disk;
  return CreateError::none;
}

Result<bool> TopicTable::remove(const std::string& name) {
  auto it = topics_.find(name);
  if (it == topics_.end()) return false;
  Topic t = std::move(it->second);
  topics_.erase(it);
  deleting_.insert(name);
  Result<void> status;
  for (auto& p : t.partitions) {
    MutexLock lock(rt_, p->lock);
    p->deleted = true;
    p->log.reset();
    if (auto r = remove_partition_dir(p->dir); !r && status) status = r;
  }
  deleting_.erase(name);
  if (!status) return status.error();
  return true;
}

// A copy: the table may change while a log operation suspends.
std::vector<PartitionPtr> TopicTable::all_partitions() const {
  std::vector<PartitionPtr> all;
  for (const auto& [name, t] : topics_)
    for (const auto& p : t.partitions)
      if (p) all.push_back(p);  // a cluster broker may host some partitions only
  return all;
}

Result<PartitionPtr> TopicTable::open_replica(const std::string& name, std::int32_t index,
                                              std::int32_t partition_count,
                                              const TopicOverrides& overrides) {
  CASTLE_ASSERT(index >= 0 && index < partition_count, "a partition of the topic");
  if (PartitionPtr p = partition(name, index)) {
    if (p->metadata_lost) return restore_metadata(p, partition_count, overrides);
    return p;
  }
  std::string why;
  if (!valid_topic_name(name, &why) || name == metadata_topic) return std::errc::invalid_argument;
  auto p = open_partition(name, index, overrides);
  if (!p) return p.error();
  if (auto r = write_metadata(**p, partition_count, overrides); !r) return r.error();
  if (auto r = rt_.disk().sync_dir(config_.log_dir); !r) return r.error();
  // Another fiber may have opened it while this one was in the disk.
  if (PartitionPtr existing = partition(name, index)) return existing;
  place(*p, partition_count, &overrides);
  return *p;
}

// partition.metadata, written atomically; the caller syncs the log
// directory (once for many partitions where it writes many).
Result<void> TopicTable::write_metadata(const Partition& p, std::int32_t partition_count,
                                        const TopicOverrides& overrides) {
  const std::string text = encode_metadata({p.topic, partition_count, overrides});
  return write_file_atomic(rt_.disk(), join_path(p.dir, metadata_file),
                           std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

// The controller's metadata gives back what a damaged partition.metadata
// held: written again, the replica is no longer damaged for it, and the
// recovery loop reopens its log as at any start (salvaging it only if the
// log is damaged too).
Result<PartitionPtr> TopicTable::restore_metadata(const PartitionPtr& p, std::int32_t partition_count,
                                                  const TopicOverrides& overrides) {
  MutexLock lock(rt_, p->lock);
  if (!p->metadata_lost) return p;
  if (auto r = write_metadata(*p, partition_count, overrides); !r) return r.error();
  if (auto r = rt_.disk().sync_dir(config_.log_dir); !r) return r.error();
  place(p, partition_count, &overrides);
  p->metadata_lost = false;
  p->damaged = false;
  CASTLE_TRACE(rt_.tracer(), "broker.partition_metadata_restored", {{"dir", p->dir}});
  return p;
}

Result<void> TopicTable::remove_replica(const std::string& name, std::int32_t index) {
  auto it = topics_.find(name);
  if (it == topics_.end() || index < 0 || static_cast<std::size_t>(index) >= it->second.partitions.size())
    return {};
  PartitionPtr p = std::move(it->second.partitions[static_cast<std::size_t>(index)]);
  it->second.partitions[static_cast<std::size_t>(index)] = nullptr;
  if (std::none_of(it->second.partitions.begin(), it->second.partitions.end(),
                   [](const PartitionPtr& q) { return q != nullptr; }))
    topics_.erase(it);
  if (!p) return {};
  MutexLock lock(rt_, p->lock);
  p->deleted = true;
  p->log.reset();
  return remove_partition_dir(p->dir);
}

Result<void> TopicTable::flush_all() {
  Result<void> status;
  for (auto& p : all_partitions()) {
    {
      MutexLock lock(rt_, p->lock);
      if (p->deleted || !p->log) continue;
      if (auto r = p->log->flush(); !r && status) status = r;
    }
  }
  return status;
}

Result<void> TopicTable::mark_clean_shutdown() {
  return write_file_atomic(rt_.disk(), join_path(config_.log_dir, clean_shutdown_file), {});
}

// The marker is removed durably before anything is written: from now on a
// crash may lose unsynced records, and the next start must not think it clean.
Result<void> TopicTable::take_clean_shutdown_marker() {
  const std::string path = join_path(config_.log_dir, clean_shutdown_file);
  started_clean_ = rt_.disk().exists(path);
  if (!started_clean_) return {};
  if (auto r = rt_.disk().remove(path); !r) return r;
  return rt_.disk().sync_dir(config_.log_dir);
}

void TopicTable::recover_offline() {
  for (auto& p : all_partitions()) {
    if (p->offline) (void)recover_partition(*p, /*salvage=*/false);
  }
}

bool TopicTable::recover_partition(Partition& p, bool salvage) {
  MutexLock lock(rt_, p.lock);
  if (!p.offline || p.deleted || p.metadata_lost) return false;
  const Topic* t = find(p.topic);
  if (t == nullptr) return false;
  const bool salvaging = salvage && p.damaged;
  if (auto r = reopen(p, t->overrides, salvaging); !r) {  // the next round tries again
    // The attempt may have failed a sync of a segment (the flush that
    // ends recovery, a cut): the disk may then have given up those writes,
    // and the next attempt's sync would succeed without them and move the
    // recovery point past them (cluster-swarm seed 20841: the log was
    // damaged below its recovery point after the next crash). So the next
    // attempt writes the unsynced tail again before it syncs.
    if (r.error() != std::errc::illegal_byte_sequence) p.rewrite_unsynced = true;
    // Damage the reopen found (offline for another reason, a failed sync
    // say) is damage all the same: once the controller no longer counts on
    // this replica it is salvaged, or it would stay offline for good and
    // the ISR could not grow back (cluster-swarm-disk seed 4029).
    if (r.error() == std::errc::illegal_byte_sequence) p.damaged = true;
    CASTLE_TRACE(rt_.tracer(), "broker.partition_recovery_failed",
                 {{"dir", p.dir}, {"salvage", salvaging}, {"error", r.error().message()}, {"damaged", p.damaged}});
    return false;
  }
  p.offline = false;
  p.damaged = false;
  p.undo_to = -1;
  p.sync_failed = false;
  p.rewrite_unsynced = false;
  CASTLE_TRACE(rt_.tracer(), "broker.partition_online",
               {{"dir", p.dir}, {"salvaged", salvaging}, {"leo", p.log->log_end_offset()}});
  return true;
}

// With the partition's lock held.
Result<void> TopicTable::reopen(Partition& p, const TopicOverrides& overrides, bool salvage) {
  p.log.reset();
  const storage::LogConfig log_config = topic_log_config(config_, overrides);
  auto log = salvage               ? storage::Log::open_salvaging(rt_, p.dir, log_config)
             : p.sync_failed      ? storage::Log::open_cutting_unsynced(rt_, p.dir, log_config)
             : p.rewrite_unsynced ? storage::Log::open_rewriting_unsynced(rt_, p.dir, log_config)
                                  : storage::Log::open(rt_, p.dir, log_config);
  if (!log) return log.error();
  p.log = std::move(*log);
  p.tracer = trace_replica(rt_, *p.log, p.topic, p.index);
  if (p.undo_to >= 0 && p.log->log_end_offset() > p.undo_to) {
    if (auto r = p.log->truncate_to(p.undo_to); !r) return r;
  }
  // Salvaging trusts what reads return, and after a failed sync the disk
  // may have given up writes that reads still show. Nobody counts on a
  // salvaged replica: it keeps none of its records and fetches them again.
  if (salvage && p.sync_failed && p.log->log_end_offset() > p.log->log_start_offset()) {
    if (auto r = p.log->truncate_to(p.log->log_start_offset()); !r) return r;
  }
  // Standalone, the log end is committed; in a cluster replication says.
  if (!config_.cluster.enabled()) {
    if (auto r = p.log->set_high_watermark(p.log->log_end_offset()); !r) return r;
  }
  return rebuild_producer_state(p);
}

void TopicTable::run_maintenance() {
  for (auto& p : all_partitions()) {
    MutexLock lock(rt_, p->lock);
    // A follower's log belongs to its fetcher, which takes no lock.
    if (p->deleted || !p->log || p->follower) continue;
    if (auto r = p->log->enforce_retention(); !r) {
      CASTLE_TRACE(rt_.tracer(), "broker.retention_failed",
                   {{"dir", p->dir}, {"error", r.error().message()}});
    }
  }
}

}  // namespace castle::broker
