#pragma once
// The topics this broker hosts and their partition logs on disk.
//
// Layout under log.dirs, as Kafka's: one directory per partition named
// `<topic>-<partition>`, holding the partition log and a
// `partition.metadata` file (topic name, partition count, topic config
// overrides). A partition directory counts only once its metadata file is
// durable: creation writes it last, deletion removes it first, and a
// directory without one (a creation or deletion cut short by a crash) is
// removed when the broker starts.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "system/broker/broker_config.h"
#include "system/broker/partition.h"
#include "system/broker/topic_config.h"
#include "system/runtime/runtime.h"

namespace castle::broker {

struct Topic {
  std::string name;
  TopicOverrides overrides;
  std::vector<PartitionPtr> partitions;
};

// Kafka's rule: 1-249 characters of [a-zA-Z0-9._-], not "." or "..".
bool valid_topic_name(const std::string& name, std::string* why);

enum class CreateError { none, already_exists, being_deleted, invalid_name, disk };

class TopicTable {
 public:
  TopicTable(Runtime& rt, const BrokerConfig& config) : rt_(rt), config_(config) {}

  // Opens and recovers every partition under log.dirs; finishes deletions
  // and creations that a crash cut short.
  Result<void> load();

  const Topic* find(const std::string& name) const;
  PartitionPtr partition(const std::string& topic, std::int32_t index) const;
  const std::map<std::string, Topic>& topics() const { return topics_; }

  // Creates the topic's partition logs; they are durable when it returns.
  CreateError create(const std::string& name, std::int32_t partitions,
                     const TopicOverrides& overrides);
  // Deletes the topic's logs. False if no such topic.
  Result<bool> remove(const std::string& name);

  // Cluster mode: the metadata names this broker a replica of one
  // partition of a topic of `partition_count`. Opens its log, creating it
  // (durably) if it is new; the leader epoch and high watermark are left
  // to replication.
  Result<PartitionPtr> open_replica(const std::string& name, std::int32_t index,
                                    std::int32_t partition_count, const TopicOverrides& overrides);
  // Cluster mode: the partition is no longer assigned here; its log goes.
  Result<void> remove_replica(const std::string& name, std::int32_t index);

  // Flushes every log (clean shutdown).
  Result<void> flush_all();
  // Clean-shutdown marker (Kafka's .kafka_cleanshutdown): written once
  // every log is flushed at a clean stop; load() reads and removes it, so a
  // crash after this start finds none. Whether this start found one.
  Result<void> mark_clean_shutdown();
  bool started_clean() const { return started_clean_; }
  // Retention, for the broker's maintenance fiber.
  void run_maintenance();
  // Brings offline partitions back (recover_partition without salvage);
  // those that still fail stay offline. Standalone: in a cluster
  // ReplicaManager::recover_offline decides which may come back.
  void recover_offline();
  // Brings one offline partition back: reopens (recovers) the log, with
  // `salvage` a damaged one cut at its first damaged batch
  // (Log::open_salvaging), and cuts what a failed append left behind.
  // False if it stays offline. In a cluster, the caller first lets go of
  // the partition's leader and follower states (they hold the old log).
  bool recover_partition(Partition& p, bool salvage);
  std::vector<PartitionPtr> all_partitions() const;

 private:
  Result<PartitionPtr> open_partition(const std::string& topic, std::int32_t index,
                                      const TopicOverrides& overrides);
  Result<void> reopen(Partition& p, const TopicOverrides& overrides, bool salvage);
  // An offline partition without a log: it did not open (data_corrupt).
  PartitionPtr damaged_partition(const std::string& topic, std::int32_t index, const char* what);
  void place(const PartitionPtr& p, std::int32_t partition_count, const TopicOverrides* overrides);
  Result<void> write_metadata(const Partition& p, std::int32_t partition_count,
                              const TopicOverrides& overrides);
  Result<PartitionPtr> restore_metadata(const PartitionPtr& p, std::int32_t partition_count,
                                        const TopicOverrides& overrides);
  Result<void> remove_partition_dir(const std::string& dir);
  Result<void> load_partition_dir(const std::string& name);
  Result<void> take_clean_shutdown_marker();

  Runtime& rt_;
  const BrokerConfig& config_;
  std::map<std::string, Topic> topics_;
  std::set<std::string> deleting_;
  bool started_clean_ = false;
};

// Rebuilds a partition's producer state from its log's batch headers.
Result<void> rebuild_producer_state(Partition& p);

}  // namespace castle::broker
