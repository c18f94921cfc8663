// Castle's client against one Castle broker in the simulator: produce and
// consume at every acks level, long-poll fetches, offsets and resets,
// metadata refresh, idempotent retries across connection faults, and a
// broker crash. Each test drives the client from a fiber of the client
// node and checks what comes back from the broker's log.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <set>
#include <string>

#include "system/client/connection.h"
#include "system/client/partitioner.h"
#include "tests/client/client_rig.h"

namespace castle::client::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::string key_of(int i) { return "key-" + std::to_string(i % 17); }
std::string value_of(int i) { return "value-" + std::to_string(i); }

// Sends n keyed records ("value-<i>", key "key-<i mod 17>") and returns the
// futures of their reports.
std::vector<Future<DeliveryReport>> send_keyed(Producer& p, const std::string& topic, int n,
                                               int first = 0) {
  std::vector<Future<DeliveryReport>> out;
  for (int i = first; i < first + n; ++i)
    out.push_back(p.send(topic, to_bytes(key_of(i)), to_bytes(value_of(i))));
  return out;
}

std::vector<DeliveryReport> reports(Runtime& rt, std::vector<Future<DeliveryReport>>& fs) {
  std::vector<DeliveryReport> out;
  for (auto& f : fs) {
    EXPECT_EQ(f.wait(rt, rt.now() + seconds(60)), FutureStatus::ready);
    out.push_back(f.ready() ? f.value() : DeliveryReport{});
  }
  return out;
}

// Per-partition checks of what a consumer read back: offsets contiguous from
// 0 in order, each value once, each key on murmur2's partition.
void check_consumed(const std::vector<ConsumerRecord>& got, int n, std::int32_t partitions) {
  std::map<std::int32_t, std::int64_t> next_offset;
  std::set<std::string> values;
  for (const ConsumerRecord& r : got) {
    ASSERT_TRUE(r.key && r.value);
    EXPECT_EQ(r.offset, next_offset[r.partition]++) << "partition " << r.partition;
    EXPECT_TRUE(values.insert(to_string(*r.value)).second) << "duplicate " << to_string(*r.value);
    EXPECT_EQ(r.partition, partition_for_key(*r.key, partitions)) << to_string(*r.key);
  }
  EXPECT_EQ(values.size(), static_cast<std::size_t>(n));
  EXPECT_EQ(got.size(), static_cast<std::size_t>(n));
}

// Every acks level: everything sent is read back once, in order per
// partition, on the partition its key hashes to; with acks 1 and all the
// reported offsets are the offsets the records are read at.
TEST(ClientSim, ProduceAndConsumeAtEveryAcksLevel) {
  for (std::int16_t acks : {0, 1, -1}) {
    Rig rig;
    ASSERT_TRUE(rig.run([&](Runtime& rt) {
      const std::string topic = "acks" + std::to_string(acks);
      create_topic(rt, rig, topic, 3);
      ProducerConfig pc = rig.producer_config(acks);
      pc.linger_ms = 5;
      auto producer = make_producer(rt, pc);
      const int n = 600;
      auto futures = send_keyed(*producer, topic, n);
      ASSERT_TRUE(producer->flush(seconds(30)).ok());
      std::map<std::string, DeliveryReport> by_value;
      int i = 0;
      for (const DeliveryReport& d : reports(rt, futures)) {
        EXPECT_TRUE(d.ok()) << d.error.message();
        if (acks == 0) {
          EXPECT_EQ(d.offset, -1);
        }
        by_value[value_of(i++)] = d;
      }
      EXPECT_LT(producer->stats().requests, static_cast<std::uint64_t>(n) / 4)  // batching
          << "acks=" << acks;

      auto consumer = make_consumer(rt, rig.consumer_config());
      consumer->assign(partitions_of(topic, 3));
      auto got = consume(rt, *consumer, n);
      check_consumed(got, n, 3);
      if (acks != 0) {
        for (const ConsumerRecord& r : got) {
          const DeliveryReport& d = by_value[to_string(*r.value)];
          EXPECT_EQ(d.partition, r.partition);
          EXPECT_EQ(d.offset, r.offset);
        }
      }
    })) << "acks=" << acks;
  }
}


Duration since(Runtime& rt, Instant t0) { return rt.now() - t0; }

// A poll started before the produce returns the record as soon as it is
// written, not before and not at the end of fetch.max.wait.ms; a poll with
// nothing to read rests in the broker for fetch.max.wait.ms per fetch
// instead of spinning.
TEST(ClientSim, LongPollReturnsRecordsWhenTheyArriveAndWaitsOtherwise) {
  Rig rig;
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    create_topic(rt, rig, "lp", 1);
    ConsumerConfig cc = rig.consumer_config();
    cc.fetch_max_wait_ms = 2000;
    auto consumer = make_consumer(rt, cc);
    consumer->assign({{"lp", 0}});
    ASSERT_EQ(*consumer->position({"lp", 0}), 0);

    Instant sent_at{};
    Task late = rt.spawn("late producer", [&] {
      auto producer = make_producer(rt, rig.producer_config(1));
      rt.sleep_for(milliseconds(300));
      sent_at = rt.now();
      auto f = producer->send("lp", std::nullopt, to_bytes("late"));
      EXPECT_EQ(f.wait(rt), FutureStatus::ready);
    });
    const Instant t0 = rt.now();
    auto got = consumer->poll(seconds(5));
    ASSERT_TRUE(got.ok());
    ASSERT_EQ(got->size(), 1u);
    EXPECT_EQ(to_string(*got->at(0).value), "late");
    EXPECT_GE(rt.now(), sent_at);
    EXPECT_GE(since(rt, t0), milliseconds(300));
    EXPECT_LT(rt.now() - sent_at, milliseconds(100));  // far below fetch.max.wait.ms
    late.join();

    ConsumerConfig idle = rig.consumer_config();
    idle.fetch_max_wait_ms = 400;
    auto waiting = make_consumer(rt, idle);
    waiting->assign({{"lp", 0}});
    ASSERT_EQ(*waiting->position({"lp", 0}), 0);
    (void)consume(rt, *waiting, 1);  // past the one record
    const std::uint64_t fetches_before = waiting->stats().fetches;
    const Instant t1 = rt.now();
    auto none = waiting->poll(seconds(4));
    ASSERT_TRUE(none.ok());
    EXPECT_TRUE(none->empty());
    EXPECT_GE(since(rt, t1), seconds(4));
    EXPECT_LT(since(rt, t1), milliseconds(4100));
    const std::uint64_t fetches = waiting->stats().fetches - fetches_before;
    EXPECT_GE(fetches, 9u);   // 4000 / 400 = 10 fetches, each held ~400 ms
    EXPECT_LE(fetches, 11u);
  }));
}

// ListOffsets (earliest, latest, by timestamp) through the admin; a seek
// into the middle of a batch skips the records before it; out-of-range
// positions follow auto.offset.reset; seek_to_* are lazy lookups.
TEST(ClientSim, OffsetsSeeksAndResets) {
  Rig rig;
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    create_topic(rt, rig, "off", 1);
    const TopicPartition tp{"off", 0};
    ProducerConfig pc = rig.producer_config(1);
    pc.linger_ms = 50;  // the ten records go in one batch
    auto producer = make_producer(rt, pc);
    std::vector<Future<DeliveryReport>> fs;
    for (int i = 0; i < 10; ++i) {
      ProducerRecord r;
      r.topic = "off";
      r.value = to_bytes(value_of(i));
      r.timestamp_ms = 1000 + 10 * i;
      fs.push_back(producer->send(std::move(r)));
    }
    ASSERT_TRUE(producer->flush().ok());
    EXPECT_EQ(producer->stats().requests, 1u);
    for (auto& d : reports(rt, fs)) EXPECT_TRUE(d.ok());

    auto admin = make_admin(rt, rig);
    auto offs = admin->list_offsets({{tp, offset_earliest}});
    EXPECT_EQ(offs[tp].offset, 0);
    EXPECT_EQ(admin->list_offsets({{tp, offset_latest}})[tp].offset, 10);
    EXPECT_EQ(admin->list_offsets({{tp, 1035}})[tp].offset, 4);
    EXPECT_EQ(admin->list_offsets({{tp, 5000}})[tp].offset, -1);

    auto consumer = make_consumer(rt, rig.consumer_config());
    consumer->assign({tp});
    ASSERT_TRUE(consumer->seek(tp, 5).ok());
    auto got = consume(rt, *consumer, 5);
    ASSERT_EQ(got.size(), 5u);
    EXPECT_EQ(got.front().offset, 5);
    EXPECT_EQ(got.front().timestamp_ms, 1050);
    EXPECT_EQ(*consumer->position(tp), 10);
    EXPECT_EQ(consumer->high_watermark(tp), 10);

    ASSERT_TRUE(consumer->seek(tp, 100).ok());  // out of range: reset to earliest
    got = consume(rt, *consumer, 10);
    ASSERT_EQ(got.size(), 10u);
    EXPECT_EQ(got.front().offset, 0);

    ASSERT_TRUE(consumer->seek_to_beginning({tp}).ok());
    EXPECT_EQ(*consumer->position(tp), 0);
    ASSERT_TRUE(consumer->seek_to_end({tp}).ok());
    EXPECT_EQ(*consumer->position(tp), 10);
    EXPECT_EQ(consumer->seek({"off", 3}, 0).error(), client_error(ClientError::not_assigned));

    ConsumerConfig strict = rig.consumer_config();
    strict.auto_offset_reset = OffsetReset::none;
    auto none = make_consumer(rt, strict);
    none->assign({tp});
    EXPECT_EQ(none->poll(milliseconds(100)).error(), client_error(ClientError::no_offset));
    ASSERT_TRUE(none->seek(tp, 100).ok());
    auto out_of_range = none->poll(seconds(1));
    EXPECT_EQ(out_of_range.error(), client_error(ClientError::no_offset));

    ConsumerConfig tail = rig.consumer_config();
    tail.auto_offset_reset = OffsetReset::latest;
    auto latest = make_consumer(rt, tail);
    latest->assign({tp});
    auto empty = latest->poll(milliseconds(300));
    ASSERT_TRUE(empty.ok());
    EXPECT_TRUE(empty->empty());
    auto f = producer->send("off", std::nullopt, to_bytes("eleventh"));
    ASSERT_EQ(f.wait(rt), FutureStatus::ready);
    got = consume(rt, *latest, 1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].offset, 10);
  }));
}

// Fetch byte limits smaller than a batch still make progress: the broker
// returns the first batch whole (as Kafka does since KIP-74), and the
// consumer reads everything in order, a few batches per fetch.
TEST(ClientSim, SmallFetchLimitsStillReadEverything) {
  Rig rig;
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    create_topic(rt, rig, "small", 1);
    ProducerConfig pc = rig.producer_config(1);
    pc.linger_ms = 20;
    auto producer = make_producer(rt, pc);
    std::vector<Future<DeliveryReport>> fs;
    for (int round = 0; round < 5; ++round) {
      for (int i = 0; i < 10; ++i)
        fs.push_back(producer->send("small", std::nullopt, to_bytes(value_of(round * 10 + i))));
      ASSERT_TRUE(producer->flush().ok());
    }
    for (const DeliveryReport& d : reports(rt, fs)) ASSERT_TRUE(d.ok());
    ConsumerConfig cc = rig.consumer_config();
    cc.max_partition_fetch_bytes = 100;  // a batch of ten is larger
    cc.fetch_max_bytes = 100;
    auto consumer = make_consumer(rt, cc);
    consumer->assign({{"small", 0}});
    auto got = consume(rt, *consumer, 50);
    ASSERT_EQ(got.size(), 50u);
    for (int i = 0; i < 50; ++i) EXPECT_EQ(to_string(*got[static_cast<std::size_t>(i)].value), value_of(i));
    EXPECT_GE(consumer->stats().fetches, 5u);
  }));
}

// A topic created after the client started is found by a metadata refresh;
// before that a send fails after max.block.ms; deletion is seen too.
TEST(ClientSim, MetadataRefreshFindsTopicsCreatedLater) {
  broker::BrokerConfig cfg;
  cfg.auto_create_topics = false;
  Rig rig(1, cfg);
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    ProducerConfig pc = rig.producer_config(-1);
    pc.client.allow_auto_create_topics = false;
    pc.max_block_ms = 500;
    auto producer = make_producer(rt, pc);
    auto admin = make_admin(rt, rig);

    const Instant t0 = rt.now();
    auto early = producer->send("later", to_bytes("abc"), to_bytes("v"));
    ASSERT_TRUE(early.ready());
    EXPECT_EQ(early.value().error, kafka_error(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION));
    EXPECT_GE(since(rt, t0), milliseconds(500));
    auto described = admin->describe_topics({"later"});
    ASSERT_TRUE(described.ok());
    EXPECT_EQ(described->at(0).error, ErrorCode::UNKNOWN_TOPIC_OR_PARTITION);

    auto created = admin->create_topics({NewTopic{"later", 4, 1, {}}});
    ASSERT_TRUE(created.ok());
    EXPECT_FALSE(created->at("later"));
    auto again = admin->create_topics({NewTopic{"later", 4, 1, {}}});
    EXPECT_EQ(again->at("later"), kafka_error(ErrorCode::TOPIC_ALREADY_EXISTS));

    auto sent = producer->send("later", to_bytes("abc"), to_bytes("v"));
    ASSERT_EQ(sent.wait(rt), FutureStatus::ready);
    EXPECT_TRUE(sent.value().ok()) << sent.value().error.message();
    EXPECT_EQ(sent.value().partition, partition_for_key(to_bytes("abc"), 4));

    described = admin->describe_topics({"later"});
    ASSERT_TRUE(described.ok());
    ASSERT_EQ(described->at(0).partitions.size(), 4u);
    for (const PartitionInfo& p : described->at(0).partitions) EXPECT_EQ(p.leader, rig.config.node_id);

    auto deleted = admin->delete_topics({"later"});
    ASSERT_TRUE(deleted.ok());
    EXPECT_FALSE(deleted->at("later"));
    described = admin->describe_topics({"later"});
    EXPECT_EQ(described->at(0).error, ErrorCode::UNKNOWN_TOPIC_OR_PARTITION);
  }));
}

// The connection layer: versions negotiated with ApiVersions, pipelined
// requests answered in order, every in-flight request failed at once when
// the connection resets, and request.timeout.ms enforced.
TEST(ClientSim, ConnectionPipelinesNegotiatesAndFailsCleanly) {
  Rig rig;
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    create_topic(rt, rig, "conn", 1);
    ConnectionOptions o;
    auto opened = BrokerConnection::open(rt, {"broker", broker_port}, o);
    ASSERT_TRUE(opened.ok()) << opened.error().message();
    std::shared_ptr<BrokerConnection> conn = *opened;
    EXPECT_EQ(conn->version(ApiKey::produce), protocol::supported_versions(ApiKey::produce)->max);
    EXPECT_EQ(conn->version(ApiKey::fetch), protocol::supported_versions(ApiKey::fetch)->max);

    std::vector<int> order;
    for (int i = 0; i < 4; ++i) {
      ASSERT_TRUE(conn->send(protocol::MetadataRequest{}, [&order, i](Result<protocol::Response> r) {
        EXPECT_TRUE(r.ok());
        order.push_back(i);
      }).ok());
    }
    EXPECT_EQ(conn->in_flight(), 4u);
    auto sync = conn->call(protocol::MetadataRequest{});
    ASSERT_TRUE(sync.ok());
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));

    // Two long polls held by the broker, then a reset: both fail at once.
    protocol::FetchRequest fetch;
    fetch.max_wait_ms = 5000;
    fetch.min_bytes = 1;
    protocol::FetchRequest::Partition fp;
    fp.partition_max_bytes = 1 << 20;
    fetch.topics.push_back({"conn", {fp}});
    std::vector<std::error_code> failures;
    for (int i = 0; i < 2; ++i) {
      ASSERT_TRUE(conn->send(fetch, [&](Result<protocol::Response> r) {
        failures.push_back(r.error());
      }, seconds(10)).ok());
    }
    rt.sleep_for(milliseconds(100));
    EXPECT_TRUE(failures.empty());
    const Instant reset_at = rt.now();
    rig.world.network().reset_connections(rig.client_node.id());
    while (failures.size() < 2 && since(rt, reset_at) < seconds(1)) rt.sleep_for(milliseconds(1));
    ASSERT_EQ(failures.size(), 2u);
    EXPECT_EQ(failures[0], std::make_error_code(std::errc::connection_reset));
    EXPECT_LT(since(rt, reset_at), milliseconds(10));
    EXPECT_TRUE(conn->broken());
    EXPECT_FALSE(conn->send(protocol::MetadataRequest{}, [](Result<protocol::Response>) {}).ok());

    // Answers held back longer than request.timeout.ms: the request fails
    // with timed_out after that long.
    o.request_timeout = milliseconds(1000);
    auto slow = BrokerConnection::open(rt, {"broker", broker_port}, o);
    ASSERT_TRUE(slow.ok());
    rig.world.network().clog(rig.broker_node.id(), rig.client_node.id(), seconds(5));
    const Instant t0 = rt.now();
    auto timed_out = (*slow)->call(protocol::MetadataRequest{});
    EXPECT_EQ(timed_out.error(), std::make_error_code(std::errc::timed_out));
    EXPECT_GE(since(rt, t0), milliseconds(1000));
    EXPECT_LT(since(rt, t0), milliseconds(1100));
    EXPECT_TRUE((*slow)->broken());
  }));
}

// Sends keyed records at a steady pace while a chaos fiber holds the
// broker's answers back and then resets the client's connections, so that
// batches the broker already wrote are sent again. Returns what a consumer
// reads back afterwards and the producer's stats.
struct ChaosRun {
  std::vector<ConsumerRecord> consumed;
  std::vector<DeliveryReport> reports;
  ProducerStats stats;
  std::uint64_t broker_duplicates = 0;
  std::uint64_t trace_hash = 0;
};

ChaosRun produce_under_resets(bool idempotent, int n) {
  Rig rig(3);
  ChaosRun out;
  EXPECT_TRUE(rig.run([&](Runtime& rt) {
    create_topic(rt, rig, "chaos", 2);
    ProducerConfig pc = rig.producer_config(-1);
    pc.enable_idempotence = idempotent;
    pc.linger_ms = 2;
    pc.client.retry_backoff_ms = 20;
    pc.client.request_timeout_ms = 2000;
    auto producer = make_producer(rt, pc);
    bool sending = true;
    Task chaos = rt.spawn("chaos", [&] {
      while (sending) {
        rt.sleep_for(milliseconds(25));
        rig.world.network().clog(rig.broker_node.id(), rig.client_node.id(), milliseconds(15));
        rt.sleep_for(milliseconds(5));
        rig.world.network().reset_connections(rig.client_node.id());
      }
    });
    std::vector<Future<DeliveryReport>> fs;
    for (int i = 0; i < n; ++i) {
      fs.push_back(producer->send("chaos", to_bytes(key_of(i)), to_bytes(value_of(i))));
      if (i % 5 == 4) rt.sleep_for(milliseconds(1));
    }
    EXPECT_TRUE(producer->flush(seconds(60)).ok());
    sending = false;
    chaos.join();
    out.reports = reports(rt, fs);
    out.stats = producer->stats();
    out.broker_duplicates = rig.broker != nullptr ? rig.broker->stats().duplicate_batches : 0;
    auto consumer = make_consumer(rt, rig.consumer_config());
    consumer->assign(partitions_of("chaos", 2));
    out.consumed = consume(rt, *consumer, static_cast<std::size_t>(2 * n), seconds(5));
  }));
  out.trace_hash = rig.world.trace_hash();
  return out;
}

// With enable.idempotence, retries across connection resets write every
// record exactly once and in order per partition: the broker recognises
// the resent batches by their sequence numbers.
TEST(ClientSim, IdempotentRetriesAcrossResetsProduceNoDuplicates) {
  const int n = 1500;
  ChaosRun run = produce_under_resets(true, n);
  std::printf("idempotent: %llu requests, %llu batches resent, %llu deduplicated by the broker\n",
              static_cast<unsigned long long>(run.stats.requests),
              static_cast<unsigned long long>(run.stats.retries),
              static_cast<unsigned long long>(run.broker_duplicates));
  for (const DeliveryReport& d : run.reports) EXPECT_TRUE(d.ok()) << d.error.message();
  EXPECT_GT(run.stats.retries, 0u);  // the faults did make it resend
  EXPECT_GT(run.broker_duplicates, 0u);  // and some resends had been written already
  EXPECT_EQ(run.stats.producer_id_resets, 0u);
  check_consumed(run.consumed, n, 2);
  // Order per partition is the order of sending.
  std::map<std::int32_t, int> last;
  for (const ConsumerRecord& r : run.consumed) {
    const int i = std::stoi(to_string(*r.value).substr(6));
    auto it = last.find(r.partition);
    if (it != last.end()) {
      EXPECT_GT(i, it->second);
    }
    last[r.partition] = i;
  }
}

// The same faults without idempotence do write duplicates: the check above
// can fail.
TEST(ClientSim, WithoutIdempotenceTheSameFaultsWriteDuplicates) {
  const int n = 1500;
  ChaosRun run = produce_under_resets(false, n);
  std::printf("not idempotent: %llu batches resent, %zu records read for %d sent\n",
              static_cast<unsigned long long>(run.stats.retries), run.consumed.size(), n);
  for (const DeliveryReport& d : run.reports) EXPECT_TRUE(d.ok()) << d.error.message();
  EXPECT_GT(run.stats.retries, 0u);
  EXPECT_GT(run.consumed.size(), static_cast<std::size_t>(n));
}

// The client draws its randomness and time from the runtime only: the same
// seed gives the same run, step for step.
TEST(ClientSim, SameSeedSameRun) {
  ChaosRun a = produce_under_resets(true, 300);
  ChaosRun b = produce_under_resets(true, 300);
  EXPECT_EQ(a.trace_hash, b.trace_hash);
  ASSERT_EQ(a.consumed.size(), b.consumed.size());
  for (std::size_t i = 0; i < a.consumed.size(); ++i) {
    EXPECT_EQ(a.consumed[i].offset, b.consumed[i].offset);
    EXPECT_EQ(a.consumed[i].value, b.consumed[i].value);
  }
}

// With log.flush.interval.messages=1 every acknowledged record is synced:
// after a crash and restart of the broker all of them are read back, and
// the client carries on producing to the restarted broker.
TEST(ClientSim, BrokerCrashAndRestartKeepsWhatWasSynced) {
  broker::BrokerConfig cfg;
  cfg.log.flush_interval_messages = 1;
  Rig rig(5, cfg);
  const int n = 400;
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    create_topic(rt, rig, "dur", 2);
    auto producer = make_producer(rt, rig.producer_config(-1));
    auto fs = send_keyed(*producer, "dur", n);
    ASSERT_TRUE(producer->flush(seconds(30)).ok());
    for (const DeliveryReport& d : reports(rt, fs)) ASSERT_TRUE(d.ok());
  }));
  rig.crash_broker();
  rig.world.run_for(milliseconds(200));
  rig.restart_broker();
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    auto consumer = make_consumer(rt, rig.consumer_config());
    consumer->assign(partitions_of("dur", 2));
    check_consumed(consume(rt, *consumer, n), n, 2);
    std::map<std::int32_t, std::int64_t> next_offset;
    for (std::int32_t p = 0; p < 2; ++p) next_offset[p] = *consumer->position({"dur", p});
    EXPECT_EQ(next_offset[0] + next_offset[1], n);
    auto producer = make_producer(rt, rig.producer_config(-1));
    auto more = send_keyed(*producer, "dur", 100, n);
    ASSERT_TRUE(producer->flush(seconds(30)).ok());
    std::map<std::string, DeliveryReport> by_value;
    int i = n;
    for (const DeliveryReport& d : reports(rt, more)) {
      EXPECT_TRUE(d.ok()) << d.error.message();
      by_value[value_of(i++)] = d;
    }
    auto got = consume(rt, *consumer, 100);
    ASSERT_EQ(got.size(), 100u);
    for (const ConsumerRecord& r : got) {
      EXPECT_EQ(r.offset, next_offset[r.partition]++);  // the log continues where it was
      EXPECT_EQ(by_value[to_string(*r.value)].offset, r.offset);
    }
  }));
}

// An idempotent producer sending while the broker crashes and restarts:
// it retries until the broker is back, every record gets a report, and
// every record reported written is read back exactly once.
TEST(ClientSim, IdempotentProducerRidesThroughABrokerCrash) {
  broker::BrokerConfig cfg;
  cfg.log.flush_interval_messages = 1;
  Rig rig(9, cfg);
  ASSERT_TRUE(rig.run([&](Runtime& rt) { create_topic(rt, rig, "ride", 2); }));
  rig.world.after(milliseconds(150), [&] { rig.crash_broker(); });
  rig.world.after(milliseconds(450), [&] { rig.restart_broker(); });
  const int n = 1000;
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    ProducerConfig pc = rig.producer_config(-1);
    pc.enable_idempotence = true;
    pc.linger_ms = 2;
    pc.client.retry_backoff_ms = 20;
    pc.client.reconnect_backoff_ms = 20;
    auto producer = make_producer(rt, pc);
    std::vector<Future<DeliveryReport>> fs;
    for (int i = 0; i < n; ++i) {
      fs.push_back(producer->send("ride", to_bytes(key_of(i)), to_bytes(value_of(i))));
      if (i % 5 == 4) rt.sleep_for(milliseconds(1));
    }
    ASSERT_TRUE(producer->flush(seconds(60)).ok());
    std::set<std::string> acked;
    int i = 0;
    for (const DeliveryReport& d : reports(rt, fs)) {
      EXPECT_TRUE(d.ok()) << d.error.message();
      if (d.ok()) acked.insert(value_of(i));
      ++i;
    }
    EXPECT_GT(producer->stats().retries, 0u);
    auto consumer = make_consumer(rt, rig.consumer_config());
    consumer->assign(partitions_of("ride", 2));
    auto got = consume(rt, *consumer, acked.size(), seconds(10));
    std::set<std::string> seen;
    for (const ConsumerRecord& r : got)
      EXPECT_TRUE(seen.insert(to_string(*r.value)).second) << "duplicate " << to_string(*r.value);
    for (const std::string& v : acked) EXPECT_TRUE(seen.count(v)) << "lost " << v;
  }));
}

}  // namespace
}  // namespace castle::client::testing
