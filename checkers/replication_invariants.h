#pragma once
// State invariants of partition replication, over the brokers' replica.*
// trace events (the schema is in docs/cluster.md, "Trace events of
// replication"):
//
//   replica.leader   {topic, partition, epoch, leo, id} this node (broker id) leads from leo on
//   replica.hw       {topic, partition, hw}             this node's high watermark moved
//   replica.append   {topic, partition, base, last, crc} a batch appended on this node
//   replica.truncate {topic, partition, offset}         this node's log cut at offset
//   replica.open     {topic, partition, leo}            the log as recovered at open
//   replica.durable  {topic, partition, end}            a sync made everything below end durable
//   replica.ack      {topic, partition, epoch, base, last} an acks=all produce succeeded here
//   replica.isr_expand {topic, partition, epoch, broker, leo} this leader asks to add broker,
//                                                      whose log end it knows as leo
//   metadata.partition {topic, partition, leader, epoch, partition_epoch, isr, snapshot}
//                                                      this node applied a committed partition
//                                                      state (every node, on replay too)
//   broker.registered {id, broker_epoch}               this node registered as broker id
//   node.crash       (the simulator's)                  the node's unsynced tail may be gone
//
// Anomalies (type):
//   partition-split-brain   two nodes lead one partition in one leader epoch
//   hw-went-back            a leader's high watermark decreased while it led
//                           (a follower copies its leader's, which may be
//                           lower after an election, as in Kafka)
//   replica-divergence      two replicas hold different batches below their
//                           high watermarks (the first to commit an offset
//                           fixes what every replica must hold there)
//   committed-lost-in-crashes  evidence, not a violation: after a log was
//                           reopened following a crash, no replica holds a
//                           record below the highest high watermark (every
//                           copy was unsynced or damaged); the durability
//                           contract reads it to allow acknowledged losses
//   leader-missing-committed a node became leader of an epoch with a log
//                           shorter than the highest high watermark published
//                           before any later epoch began (with unclean
//                           election off, every elected leader holds every
//                           record committed before its election)
//   isr-member-missing-committed
//                           a committed ISR change of the same leader and
//                           epoch added a broker whose log ended below the
//                           highest high watermark published (unless its
//                           node crashed during the epoch: amnesia)
//   isr-expand-missing-committed
//                           a leader asked to add a broker to the ISR whose
//                           log end, as the leader knew it, was below the
//                           highest high watermark published (unless the
//                           leader's node crashed during the epoch); over
//                           replica.isr_expand {topic, partition, epoch,
//                           broker, leo}
//   acked-not-durable       with every write synced (the option says so), an
//                           acks=all produce was acknowledged while a member
//                           of the epoch's committed ISR had not synced the
//                           batch: a follower counted for records its disk
//                           may not keep (over replica.durable {topic,
//                           partition, end}: a sync made the log durable
//                           below end)
//   split-brain, phantom-leader, stale-leader
//                           a partition's (leader epoch, leader) history is
//                           not linearizable as a compare-and-set register
//                           (checkers/epoch_register.h; which events are
//                           which operations, and why: partition_leader_register.cpp)
//
// Divergence, leader-missing-committed and the two ISR checks hold only where the durability
// contract says committed records survive: not with unclean leader
// election, not when crashes may take unsynced records from every replica
// at once, and divergence not under silent disk corruption either. The
// options say which to skip. The register assumes clean elections too (a
// leader elected from outside the ISR had not fetched what the old one
// acknowledged), but no option turns it off.

#include <memory>

#include "checkers/invariants.h"

namespace castle::checkers {

struct ReplicationInvariantOptions {
  // Committed records may be lost (unclean election, or crashes of every
  // replica with unsynced data): skip leader-missing-committed and
  // replica-divergence.
  bool committed_may_be_lost = false;
  bool corruption_injected = false;  // skip replica-divergence
  // Every write is synced (log.flush.interval.messages=1): check
  // acked-not-durable.
  bool every_write_synced = false;
};

std::unique_ptr<TraceInvariant> replication_invariants(ReplicationInvariantOptions options = {});
// Anomaly descriptions name the trace event numbers (the n-th event seen);
// their ops are empty.
std::unique_ptr<TraceInvariant> partition_leader_linearizable();

// Every ISR the metadata commits names only alive brokers (isr_invariant.cpp):
//   isr-member-not-alive    a node applied a partition record or change whose
//                           ISR names a broker its image had fenced, had in
//                           controlled shutdown, or never registered
// (over metadata.partition {..., partition_epoch, isr} and metadata.broker
// {broker, alive}).
std::unique_ptr<TraceInvariant> isr_members_alive();

// What clients hold of partition leadership (client_leader_invariant.cpp),
// over client.leader {topic, partition, epoch, leader} (a client took up a
// partition's leader from Metadata) and metadata.partition:
//   client-phantom-leader   a client holds an (epoch, leader) never elected
//   client-epoch-regressed  a client went back to an older leader epoch
std::unique_ptr<TraceInvariant> client_leaders_consistent();

// All four, for a run with partition replication.
void add_replication_invariants(InvariantSet& set, ReplicationInvariantOptions options = {});

}  // namespace castle::checkers
