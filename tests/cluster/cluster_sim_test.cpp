// The broker's cluster mode in the simulator, end to end with the real
// pieces: Raft metadata quorum, controller, replication, partition logs on
// the simulated disk, Castle's Kafka client over the simulated network.
// Each test starts N combined nodes (tests/cluster/cluster_rig.h) and drives
// them from a client node.

#include <map>
#include <set>

#include "system/protocol/messages.h"
#include "system/storage/batch_builder.h"
#include "system/util/endian.h"
#include "tests/cluster/cluster_rig.h"

namespace castle::cluster::testing {
namespace {

using client::Admin;
using client::ConsumerRecord;
using client::DeliveryReport;
using client::PartitionInfo;
using client::TopicInfo;
using client::to_bytes;

std::unique_ptr<Admin> make_admin(Runtime& rt, const Rig& rig) {
  auto a = Admin::create(rt, rig.client_config());
  CASTLE_ASSERT(a.ok(), "admin config is valid");
  return std::move(*a);
}

std::unique_ptr<client::Producer> make_producer(Runtime& rt, const Rig& rig) {
  client::ProducerConfig c;
  c.client = rig.client_config();
  c.acks = -1;
  c.delivery_timeout_ms = 120000;
  auto p = client::Producer::create(rt, c);
  CASTLE_ASSERT(p.ok(), "producer config is valid");
  return std::move(*p);
}

std::unique_ptr<client::Consumer> make_consumer(Runtime& rt, const Rig& rig) {
  client::ConsumerConfig c;
  c.client = rig.client_config();
  c.auto_offset_reset = client::OffsetReset::earliest;
  auto p = client::Consumer::create(rt, c);
  CASTLE_ASSERT(p.ok(), "consumer config is valid");
  return std::move(*p);
}

// The topic as a broker describes it now (empty name if it could not).
TopicInfo describe(Runtime& rt, const Rig& rig, const std::string& topic) {
  auto admin = make_admin(rt, rig);
  auto r = admin->describe_topics({topic});
  if (!r || r->empty()) return {};
  return r->front();
}

// Polls describe() until `holds` is true of the topic or the limit passes.
bool wait_for_topic(Runtime& rt, const Rig& rig, const std::string& topic,
                    const std::function<bool(const TopicInfo&)>& holds, Duration limit = seconds(60)) {
  const Instant deadline = rt.now() + limit;
  while (rt.now() < deadline) {
    TopicInfo t = describe(rt, rig, topic);
    if (!t.name.empty() && t.error == protocol::ErrorCode::NONE && holds(t)) return true;
    rt.sleep_for(milliseconds(250));
  }
  return false;
}

bool all_isr_full(const TopicInfo& t, std::size_t partitions, std::size_t rf) {
  if (t.partitions.size() != partitions) return false;
  for (const PartitionInfo& p : t.partitions)
    if (p.leader < 0 || p.replicas.size() != rf || p.isr.size() != rf) return false;
  return true;
}

void create_topic(Runtime& rt, const Rig& rig, const std::string& name, std::int32_t partitions,
                  std::int16_t rf, std::map<std::string, std::string> configs = {}) {
  auto admin = make_admin(rt, rig);
  auto r = admin->create_topics({client::NewTopic{name, partitions, rf, std::move(configs)}});
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_FALSE(r->at(name)) << r->at(name).message();
}

// Sends values "<prefix><i>" for i in [0, n) and waits for every report.
std::vector<DeliveryReport> send_all(Runtime& rt, client::Producer& p, const std::string& topic,
                                     const std::string& prefix, int n) {
  std::vector<Future<DeliveryReport>> fs;
  for (int i = 0; i < n; ++i)
    fs.push_back(p.send(topic, to_bytes("k" + std::to_string(i)), to_bytes(prefix + std::to_string(i))));
  std::vector<DeliveryReport> out;
  for (auto& f : fs) {
    EXPECT_EQ(f.wait(rt, rt.now() + seconds(150)), FutureStatus::ready);
    out.push_back(f.ready() ? f.value() : DeliveryReport{});
  }
  return out;
}

std::vector<ConsumerRecord> consume(Runtime& rt, client::Consumer& c, std::size_t count,
                                    Duration limit = seconds(60)) {
  std::vector<ConsumerRecord> out;
  const Instant deadline = rt.now() + limit;
  while (out.size() < count && rt.now() < deadline) {
    auto got = c.poll(milliseconds(200));
    if (!got) continue;  // a leader moved: the consumer refreshes and goes on
    for (auto& r : *got) out.push_back(std::move(r));
  }
  return out;
}

// Every acknowledged record is read, at the offset it was acknowledged
// with, and each partition's offsets come back dense and in order.
void check_read_back(const std::vector<DeliveryReport>& acked, const std::vector<ConsumerRecord>& got) {
  std::map<std::pair<std::int32_t, std::int64_t>, std::string> by_position;
  std::map<std::int32_t, std::int64_t> next;
  for (const ConsumerRecord& r : got) {
    EXPECT_EQ(r.offset, next[r.partition]++) << "partition " << r.partition;
    by_position[{r.partition, r.offset}] = client::to_string(*r.value);
  }
  for (const DeliveryReport& d : acked) {
    if (!d.ok()) continue;
    EXPECT_TRUE(by_position.count({d.partition, d.offset}))
        << "acknowledged " << d.partition << "@" << d.offset << " not read";
  }
}

// One request to one broker over a fresh connection, with the codec: for
// tests that must see exactly what a broker answers.
std::optional<protocol::Response> raw_call(Runtime& rt, const Address& a, std::int16_t version,
                                           const protocol::Request& request) {
  auto c = rt.net().connect(a, seconds(1));
  if (!c) return std::nullopt;
  protocol::RequestHeader h;
  h.api_key = std::visit([](const auto& m) { return std::decay_t<decltype(m)>::api_key; }, request);
  h.api_version = version;
  h.correlation_id = 1;
  h.client_id = "cluster-test";
  if (!(*c)->write(protocol::encode_request_frame(h, request))) return std::nullopt;
  std::uint8_t prefix[4];
  if (auto got = read_exact(**c, prefix, rt.now() + seconds(30)); !got.status || got.end_of_stream)
    return std::nullopt;
  protocol::Bytes body(load_be(prefix, 4));
  if (!read_exact(**c, body, rt.now() + seconds(30)).status) return std::nullopt;
  auto r = protocol::decode_response(h.api_key, version, body);
  if (!r) return std::nullopt;
  return std::move(r).value().body;
}

// The brokers a Metadata v7 answer lists, asked of the first node that
// answers.
int count_brokers(Runtime& rt, const Rig& rig) {
  for (const Address& a : rig.client_config().bootstrap_servers) {
    protocol::MetadataRequest req;
    req.topics = std::vector<std::string>{};
    auto r = raw_call(rt, a, 7, protocol::Request{req});
    if (r) return static_cast<int>(std::get<protocol::MetadataResponse>(*r).brokers.size());
  }
  return 0;
}

void wait_for_brokers(Runtime& rt, const Rig& rig, int n) {
  const Instant deadline = rt.now() + seconds(60);
  while (rt.now() < deadline && count_brokers(rt, rig) != n) rt.sleep_for(milliseconds(250));
  ASSERT_EQ(count_brokers(rt, rig), n) << "brokers registered and unfenced";
}

// The quorum elects a controller, every broker registers and is unfenced;
// a topic of 3 partitions with replication factor 3 gets leaders and full
// ISRs; acks=all writes are all read back in per-partition order.
TEST(ClusterSim, BrokersRegisterAndReplicatedTopicServesProduceAndConsume) {
  Rig rig(3);
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    wait_for_brokers(rt, rig, 3);
    create_topic(rt, rig, "orders", 3, 3);
    ASSERT_TRUE(wait_for_topic(rt, rig, "orders", [](const TopicInfo& t) { return all_isr_full(t, 3, 3); }));
    auto producer = make_producer(rt, rig);
    const auto acked = send_all(rt, *producer, "orders", "v", 90);
    for (const auto& d : acked) EXPECT_TRUE(d.ok()) << d.error.message();
    auto consumer = make_consumer(rt, rig);
    consumer->assign({{"orders", 0}, {"orders", 1}, {"orders", 2}});
    const auto got = consume(rt, *consumer, acked.size());
    EXPECT_EQ(got.size(), acked.size());
    check_read_back(acked, got);
  }));
}

// Every buggify point armed (each a legal behaviour: one-batch fetches and
// replica fetches, produces refused or timed out after the append, early
// segment rolls and Raft snapshots, one-entry AppendEntries, spurious ISR
// shrinks, client connections broken with a request unanswered): an
// idempotent producer's records are all acknowledged and read
// back once each, in per-partition order, and the points did fire.
TEST(ClusterSim, WithEveryBuggifyPointArmedEveryRecordIsDeliveredOnce) {
  Rig rig(3, 5);
  rig.world.set_buggify({true, 1.0, 0.05});
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    wait_for_brokers(rt, rig, 3);
    create_topic(rt, rig, "bug", 3, 3);
    ASSERT_TRUE(wait_for_topic(rt, rig, "bug", [](const TopicInfo& t) { return all_isr_full(t, 3, 3); }));
    client::ProducerConfig pc;
    pc.client = rig.client_config();
    pc.acks = -1;
    pc.enable_idempotence = true;
    pc.delivery_timeout_ms = 120000;
    auto producer = client::Producer::create(rt, pc);
    ASSERT_TRUE(producer.ok());
    std::vector<DeliveryReport> acked;
    for (int round = 0; round < 10; ++round)
      for (auto& d : send_all(rt, **producer, "bug", "r" + std::to_string(round) + "-", 40)) {
        EXPECT_TRUE(d.ok()) << d.error.message();
        acked.push_back(d);
      }
    auto consumer = make_consumer(rt, rig);
    consumer->assign({{"bug", 0}, {"bug", 1}, {"bug", 2}});
    const auto got = consume(rt, *consumer, acked.size());
    EXPECT_EQ(got.size(), acked.size()) << "a record missing or stored twice";
    check_read_back(acked, got);
  }));
  for (const char* point : {"broker.fetch_short", "broker.replica_fetch_short", "broker.produce_not_leader",
                            "broker.produce_timeout", "log.roll_early", "client.reset_after_write"}) {
    const auto& points = rig.world.buggify_points();
    const auto it = points.find(point);
    ASSERT_NE(it, points.end()) << point << " never reached";
    EXPECT_GT(it->second.fired, 0u) << point;
  }
}

const PartitionInfo& partition_of(const TopicInfo& t, std::int32_t index) {
  for (const auto& p : t.partitions)
    if (p.partition == index) return p;
  static const PartitionInfo none;
  return none;
}

bool in_isr(const PartitionInfo& p, std::int32_t id) {
  return std::find(p.isr.begin(), p.isr.end(), id) != p.isr.end();
}

// Three brokers up and `topic` created with `partitions` partitions of three
// replicas (and these topic configs), every ISR full; then `n` records sent
// (values "<prefix><i>"). Returns their reports and sets *first to
// partition 0 as described then.
std::vector<DeliveryReport> start_and_send(Runtime& rt, Rig& rig, const std::string& topic,
                                           std::int32_t partitions, const std::string& prefix, int n,
                                           PartitionInfo* first,
                                           std::map<std::string, std::string> configs = {}) {
  wait_for_brokers(rt, rig, 3);
  create_topic(rt, rig, topic, partitions, 3, std::move(configs));
  EXPECT_TRUE(wait_for_topic(rt, rig, topic, [&](const TopicInfo& t) {
    return all_isr_full(t, static_cast<std::size_t>(partitions), 3);
  }));
  auto producer = make_producer(rt, rig);
  std::vector<DeliveryReport> acked = send_all(rt, *producer, topic, prefix, n);
  *first = partition_of(describe(rt, rig, topic), 0);
  return acked;
}

// A replica of p that is not its leader.
std::int32_t follower_of(const PartitionInfo& p) {
  return p.replicas[0] == p.leader ? p.replicas[1] : p.replicas[0];
}

// Crashing the leader of a partition: a new leader from the ISR with a
// higher epoch; the producer (refreshing metadata on NOT_LEADER) goes on;
// every acknowledged record is read afterwards in per-partition order; the
// restarted node follows, truncates, catches up and rejoins the ISR.
// (It found two livelocks: a follower asking the same epoch question
// forever when its last epoch started at its log end with no records, and
// a fetcher waking at once forever for a backoff already over.)
TEST(ClusterSim, LeaderCrashElectsFromIsrAndLosesNoAcknowledgedWrite) {
  Rig rig(3);
  PartitionInfo before;
  std::vector<DeliveryReport> acked;
  ASSERT_TRUE(rig.run([&](Runtime& rt) { acked = start_and_send(rt, rig, "pay", 3, "a", 60, &before); }));
  ASSERT_GE(before.leader, 0);
  rig.server(before.leader).crash();
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    auto producer = make_producer(rt, rig);
    for (const auto& d : send_all(rt, *producer, "pay", "b", 60)) {
      EXPECT_TRUE(d.ok()) << d.error.message();
      acked.push_back(d);
    }
    const PartitionInfo after = partition_of(describe(rt, rig, "pay"), 0);
    EXPECT_NE(after.leader, before.leader);
    EXPECT_GE(after.leader, 0);
    EXPECT_GT(after.leader_epoch, before.leader_epoch);
    EXPECT_TRUE(in_isr(before, after.leader)) << "the new leader came from the ISR";
  }));
  rig.server(before.leader).restart();
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    EXPECT_TRUE(wait_for_topic(rt, rig, "pay", [&](const TopicInfo& t) { return all_isr_full(t, 3, 3); },
                               seconds(90)))
        << "the restarted node rejoins every ISR";
    auto consumer = make_consumer(rt, rig);
    consumer->assign({{"pay", 0}, {"pay", 1}, {"pay", 2}});
    const auto got = consume(rt, *consumer, acked.size());
    EXPECT_EQ(got.size(), acked.size());
    check_read_back(acked, got);
  }, seconds(400)));
}

// min.insync.replicas=2 on a five-node cluster (the quorum survives two
// crashes): with both followers of a partition down the ISR shrinks to the
// leader and an acks=all produce is refused with NOT_ENOUGH_REPLICAS.
TEST(ClusterSim, AcksAllBelowMinInsyncReplicasIsRefused) {
  Rig rig(5);
  PartitionInfo p0;
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    wait_for_brokers(rt, rig, 5);
    create_topic(rt, rig, "strict", 1, 3, {{"min.insync.replicas", "2"}});
    ASSERT_TRUE(wait_for_topic(rt, rig, "strict", [](const TopicInfo& t) { return all_isr_full(t, 1, 3); }));
    p0 = partition_of(describe(rt, rig, "strict"), 0);
  }));
  for (std::int32_t id : p0.replicas)
    if (id != p0.leader) rig.server(id).crash();
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    ASSERT_TRUE(wait_for_topic(rt, rig, "strict", [](const TopicInfo& t) {
      return t.partitions.size() == 1 && t.partitions[0].isr.size() == 1;
    })) << "the ISR shrinks to the leader";
    // The client would retry NOT_ENOUGH_REPLICAS until its delivery
    // timeout: a raw Produce shows the leader's answer.
    protocol::ProduceRequest req;
    req.acks = -1;
    req.timeout_ms = 5000;
    storage::Record rec;
    rec.value = to_bytes("refused");
    const std::vector<storage::Record> recs{rec};
    req.topics.push_back({"strict", {{protocol::PartitionId{0}, storage::build_batch(recs)}}});
    auto r = raw_call(rt, Address{node_name(p0.leader), kafka_port}, 7, protocol::Request{req});
    ASSERT_TRUE(r.has_value());
    const auto& resp = std::get<protocol::ProduceResponse>(*r);
    ASSERT_EQ(resp.topics.size(), 1u);
    EXPECT_EQ(resp.topics[0].partitions.at(0).error_code, protocol::ErrorCode::NOT_ENOUGH_REPLICAS);
  }, seconds(200)));
}

// A follower cut off the network drops out of the ISR after
// replica.lag.time.max.ms (or its fencing, whichever the controller sees
// first) and rejoins once the link heals and it has caught up.
TEST(ClusterSim, PartitionedFollowerLeavesAndRejoinsTheIsr) {
  Rig rig(3);
  PartitionInfo p0;
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    wait_for_brokers(rt, rig, 3);
    create_topic(rt, rig, "lag", 1, 3);
    ASSERT_TRUE(wait_for_topic(rt, rig, "lag", [](const TopicInfo& t) { return all_isr_full(t, 1, 3); }));
    p0 = partition_of(describe(rt, rig, "lag"), 0);
  }));
  const std::int32_t follower = follower_of(p0);
  rig.world.network().isolate(rig.server(follower).id());
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    EXPECT_TRUE(wait_for_topic(rt, rig, "lag", [&](const TopicInfo& t) {
      return t.partitions.size() == 1 && !in_isr(t.partitions[0], follower);
    })) << "the isolated follower leaves the ISR";
    auto producer = make_producer(rt, rig);
    for (const auto& d : send_all(rt, *producer, "lag", "x", 20)) EXPECT_TRUE(d.ok()) << d.error.message();
  }));
  rig.world.network().heal_all();
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    EXPECT_TRUE(wait_for_topic(rt, rig, "lag", [&](const TopicInfo& t) { return all_isr_full(t, 1, 3); }))
        << "the healed follower catches up and rejoins";
  }));
}

// A bit flipped in a committed batch on the partition leader's disk: the
// consumer's read of it fails the CRC, the leader takes its replica offline
// and reports it in its heartbeat, the controller moves leadership to an
// intact ISR member, and every acknowledged record is read from there; the
// damaged replica comes back salvaged (cut at the damage), fetches the rest
// again and rejoins the ISR.
TEST(ClusterSim, DamagedBatchOnTheLeaderMovesLeadershipAndTheReplicaHeals) {
  Rig rig(3);
  PartitionInfo before;
  std::vector<DeliveryReport> acked;
  ASSERT_TRUE(rig.run([&](Runtime& rt) { acked = start_and_send(rt, rig, "dmg", 1, "a", 40, &before); }));
  ASSERT_GE(before.leader, 0);
  // Byte 70 of the first batch lies in its records, which the CRC covers.
  ASSERT_TRUE(rig.server(before.leader).sim_disk().flip_bit("kafka-logs/dmg-0/00000000000000000000.log", 70, 1));
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    auto consumer = make_consumer(rt, rig);
    consumer->assign({{"dmg", 0}});
    const auto got = consume(rt, *consumer, acked.size());
    EXPECT_EQ(got.size(), acked.size());
    check_read_back(acked, got);
    const PartitionInfo after = partition_of(describe(rt, rig, "dmg"), 0);
    EXPECT_NE(after.leader, before.leader);
    EXPECT_GT(after.leader_epoch, before.leader_epoch);
    EXPECT_TRUE(wait_for_topic(rt, rig, "dmg", [](const TopicInfo& t) { return all_isr_full(t, 1, 3); }))
        << "the salvaged replica catches up and rejoins the ISR";
  }));
}

// A follower whose sync fails goes offline; its reopen then finds a bit
// flipped below its recovery point (every write synced, so the flipped
// batch was checkpointed). That damage counts as found: once the
// controller no longer counts on the replica it comes back salvaged (and,
// as its sync had failed, empty), fetches everything again and rejoins the
// ISR. Before, it stayed offline for good (cluster-swarm-disk 4029).
TEST(ClusterSim, DamageAReopenFindsIsSalvagedOnceTheReplicaIsReleased) {
  Rig rig(3);
  PartitionInfo p0;
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    for (const auto& d : start_and_send(rt, rig, "rdmg", 1, "a", 20, &p0, {{"flush.messages", "1"}}))
      EXPECT_TRUE(d.ok()) << d.error.message();
  }));
  const std::int32_t follower = follower_of(p0);
  sim::SimDisk& disk = rig.server(follower).sim_disk();
  ASSERT_TRUE(disk.flip_bit("kafka-logs/rdmg-0/00000000000000000000.log", 70, 1));
  sim::DiskConfig c = disk.config();
  c.sync_eio_rate = 1.0;
  c.eio_only_in_path = "rdmg-0";
  disk.set_config(c);
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    auto producer = make_producer(rt, rig);
    for (const auto& d : send_all(rt, *producer, "rdmg", "b", 5)) EXPECT_TRUE(d.ok()) << d.error.message();
    EXPECT_TRUE(wait_for_topic(rt, rig, "rdmg", [&](const TopicInfo& t) {
      return t.partitions.size() == 1 && !in_isr(t.partitions[0], follower);
    })) << "the offline follower leaves the ISR";
    c.sync_eio_rate = 0;
    disk.set_config(c);
    EXPECT_TRUE(wait_for_topic(rt, rig, "rdmg", [](const TopicInfo& t) { return all_isr_full(t, 1, 3); }))
        << "the salvaged replica catches up and rejoins the ISR";
  }, seconds(200)));
}

// A bit flip in a replica's partition.metadata (its topic configuration)
// does not keep its broker down: the partition starts offline, the
// controller's metadata gives the configuration again, the file is
// rewritten, and the replica (its log intact) rejoins the ISR.
TEST(ClusterSim, ADamagedPartitionMetadataIsRestoredFromTheController) {
  Rig rig(3);
  PartitionInfo p0;
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    for (const auto& d : start_and_send(rt, rig, "rmeta", 1, "a", 20, &p0, {{"flush.messages", "1"}}))
      EXPECT_TRUE(d.ok()) << d.error.message();
  }));
  const std::int32_t follower = follower_of(p0);
  const std::string file = "kafka-logs/rmeta-0/partition.metadata";
  rig.server(follower).crash();
  ASSERT_TRUE(rig.server(follower).sim_disk().flip_bit(file, 0, 4));  // "version" no more
  rig.server(follower).restart();
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    auto producer = make_producer(rt, rig);
    for (const auto& d : send_all(rt, *producer, "rmeta", "b", 5)) EXPECT_TRUE(d.ok()) << d.error.message();
    EXPECT_TRUE(wait_for_topic(rt, rig, "rmeta", [](const TopicInfo& t) { return all_isr_full(t, 1, 3); },
                               seconds(90)))
        << "the replica rejoins the ISR";
  }, seconds(200)));
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    (void)rt;
    auto bytes = read_whole_file(rig.server(follower).sim_disk(), file);
    ASSERT_TRUE(bytes.ok());
    const std::string text(bytes->begin(), bytes->end());
    EXPECT_EQ(text.rfind("version: 0\ntopic_name: rmeta\n", 0), 0u) << text;
    EXPECT_NE(text.find("config.flush.messages: 1"), std::string::npos) << text;
  }));
}

}  // namespace
}  // namespace castle::cluster::testing
