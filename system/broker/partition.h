#pragma once
// One partition this broker hosts (standalone: leads): its log, leader epoch and idempotent
// producer state. Every log operation holds `lock`, because an append or a
// read may suspend in the disk and the Log is not re-entrant. Handlers hold
// a shared_ptr while they work, so a topic deleted meanwhile is freed only
// when the last of them lets go (`deleted` tells them to stop).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "system/broker/producer_state.h"
#include "system/broker/replica_trace.h"
#include "system/replication/follower_state.h"
#include "system/replication/leader_state.h"
#include "system/runtime/sync.h"
#include "system/storage/log.h"

namespace castle::broker {

struct Partition {
  std::string topic;
  std::int32_t index = 0;
  std::string dir;  // <log.dirs>/<topic>-<index>
  // Declared before the log, so that the log, which calls it, goes first.
  std::unique_ptr<ReplicaTracer> tracer;
  std::unique_ptr<storage::Log> log;
  std::int32_t leader_epoch = 0;
  ProducerStateTable producers;
  Mutex lock;
  bool deleted = false;
  // A disk error left the log in a state we could not undo: the partition
  // answers KAFKA_STORAGE_ERROR until the broker restarts and recovers it,
  // as Kafka takes a failed log directory offline.
  bool offline = false;
  // Where the log must be cut when it comes back (the end before the
  // append that could not be undone).
  std::int64_t undo_to = -1;
  // A sync of the log failed: the disk may have given up writes that
  // reads still return, so the log comes back with everything past its
  // recovery point cut (Log::open_cutting_unsynced).
  bool sync_failed = false;
  // An operation failed on the disk in a way that may have been such a
  // sync (reopening the log, writing a checkpoint to take a role): the
  // log comes back with its unsynced tail written again instead of cut
  // (Log::open_rewriting_unsynced), which keeps what reads still show.
  bool rewrite_unsynced = false;
  // Cluster mode: a read found a batch failing its CRC (a bit flip on the
  // disk), or the log did not open at start for damage (then `log` is
  // null). The log comes back salvaged, cut at the first damaged batch,
  // once the controller no longer counts on this replica.
  bool damaged = false;
  // Cluster mode: partition.metadata failed its parse at start. The
  // partition stays offline until the controller's metadata gives its
  // topic configuration again (TopicTable::open_replica rewrites the file):
  // opened with defaults, it could sync less often than its topic asks.
  bool metadata_lost = false;
  // Cluster mode: at most one of these is set, as the metadata says. The
  // leader state serves produce and fetch; the follower state belongs to
  // a replica fetcher, which alone touches the log meanwhile.
  std::shared_ptr<replication::LeaderPartition> leader;
  std::shared_ptr<replication::FollowerPartition> follower;
  // What the last leadership here knew when it ended, for one of the same
  // leader epoch after it (the replica went offline and came back;
  // ReplicaManager::lead): the partition state the controller committed,
  // which AlterPartition answers may have brought ahead of this broker's
  // metadata image, and the ISR change it sent and never saw settled.
  struct LeadershipLeft {
    replication::PartitionState state;
    std::optional<std::vector<std::int32_t>> proposed;
  };
  std::optional<LeadershipLeft> left;

  // A leadership here stops committing at once, not when the broker's
  // recovery loop releases the role: until then the ISR answers and
  // metadata still reach it, and a high watermark counting the tail a
  // reopen may cut would go back.
  void take_offline() {
    offline = true;
    if (leader) leader->go_offline();
  }
};

using PartitionPtr = std::shared_ptr<Partition>;

}  // namespace castle::broker
