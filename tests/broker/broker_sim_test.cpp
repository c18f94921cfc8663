// The broker in the simulator, spoken to with the raw codec: what each API
// answers, ordering on a pipelined connection, acks levels, long polling,
// idempotent deduplication (also across a crash), recovery of what was
// synced, and bad input that closes a connection without hurting others.
#include <gtest/gtest.h>

#include "system/broker/topics.h"
#include "tests/broker/broker_rig.h"
#include "tests/sim/node_rig.h"

namespace castle::broker::testing {
namespace {

CreateTopicsRequest create_req(const std::string& name, std::int32_t partitions,
                               std::vector<CreateTopicsRequest::Config> configs = {}) {
  CreateTopicsRequest r;
  CreateTopicsRequest::Topic t;
  t.name = name;
  t.num_partitions = partitions;
  t.replication_factor = 1;
  t.configs = std::move(configs);
  r.topics.push_back(t);
  return r;
}

ProduceRequest produce_req(const std::string& topic, std::int32_t partition, Bytes records,
                           std::int16_t acks = 1) {
  ProduceRequest r;
  r.acks = acks;
  r.timeout_ms = 30000;
  r.topics.push_back({topic, {{PartitionId{partition}, std::move(records)}}});
  return r;
}

FetchRequest fetch_req(const std::string& topic, std::int32_t partition, std::int64_t offset,
                       std::int32_t max_wait_ms = 0, std::int32_t min_bytes = 0) {
  FetchRequest r;
  r.max_wait_ms = max_wait_ms;
  r.min_bytes = min_bytes;
  r.max_bytes = 1 << 20;
  FetchRequest::Partition p;
  p.partition = PartitionId{partition};
  p.fetch_offset = Offset{offset};
  p.partition_max_bytes = 1 << 20;
  r.topics.push_back({topic, {p}});
  return r;
}

ListOffsetsRequest list_req(const std::string& topic, std::int32_t partition, std::int64_t ts) {
  ListOffsetsRequest r;
  ListOffsetsRequest::Partition p;
  p.partition_index = PartitionId{partition};
  p.timestamp = ts;
  r.topics.push_back({topic, {p}});
  return r;
}

std::int64_t list_offset(Wire& w, const std::string& topic, std::int32_t p, std::int64_t ts) {
  auto r = w.call<ListOffsetsResponse>(4, list_req(topic, p, ts));
  EXPECT_EQ(r.topics.at(0).partitions.at(0).error_code, ErrorCode::NONE);
  return raw(r.topics.at(0).partitions.at(0).offset);
}

const ProduceResponse::Partition& only(const ProduceResponse& r) {
  return r.topics.at(0).partitions.at(0);
}
const FetchResponse::Partition& only(const FetchResponse& r) { return r.topics.at(0).partitions.at(0); }

TEST(BrokerSim, PipelinedApiVersionsAndMetadataV0AreAnsweredInOrder) {
  Rig rig;
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    Wire w(rt, rig.address());
    ASSERT_TRUE(w.connected());
    // kafka-python sends these two back to back before reading.
    const auto c1 = w.send(0, ApiVersionsRequest{});
    MetadataRequest md;
    const auto c2 = w.send(0, md);
    auto r1 = w.recv(ApiKey::api_versions, 0);
    auto r2 = w.recv(ApiKey::metadata, 0);
    ASSERT_TRUE(r1 && r2);
    EXPECT_EQ(r1->header.correlation_id, c1);
    EXPECT_EQ(r2->header.correlation_id, c2);
    const auto& av = std::get<ApiVersionsResponse>(r1->body);
    EXPECT_EQ(av.error_code, ErrorCode::NONE);
    EXPECT_GE(av.api_keys.size(), 10u);
    const auto& m = std::get<MetadataResponse>(r2->body);
    ASSERT_EQ(m.brokers.size(), 1u);
    EXPECT_EQ(m.brokers[0].host, "broker");
    EXPECT_EQ(m.brokers[0].port, broker_port);
  }));
}

TEST(BrokerSim, ApiVersionsV3GetsUnsupportedVersionWithTheKeyList) {
  Rig rig;
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    Wire w(rt, rig.address());
    ApiVersionsRequest req;
    req.client_software_name = "x";
    req.client_software_version = "1";
    const auto corr = w.send(3, req);
    auto r = w.recv(ApiKey::api_versions, 0);  // the fallback is in the v0 format
    ASSERT_TRUE(r);
    EXPECT_EQ(r->header.correlation_id, corr);
    const auto& av = std::get<ApiVersionsResponse>(r->body);
    EXPECT_EQ(av.error_code, ErrorCode::UNSUPPORTED_VERSION);
    EXPECT_FALSE(av.api_keys.empty());
  }));
}

TEST(BrokerSim, CreateProduceFetchListOffsets) {
  Rig rig;
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    Wire w(rt, rig.address());
    auto c = w.call<CreateTopicsResponse>(4, create_req("orders", 3));
    ASSERT_EQ(c.topics.at(0).error_code, ErrorCode::NONE);
    auto again = w.call<CreateTopicsResponse>(4, create_req("orders", 3));
    EXPECT_EQ(again.topics.at(0).error_code, ErrorCode::TOPIC_ALREADY_EXISTS);

    auto p1 = w.call<ProduceResponse>(7, produce_req("orders", 1, make_batch({"a", "b", "c"}, 1000)));
    ASSERT_EQ(only(p1).error_code, ErrorCode::NONE);
    EXPECT_EQ(raw(only(p1).base_offset), 0);
    auto p2 = w.call<ProduceResponse>(7, produce_req("orders", 1, make_batch({"d", "e"}, 2000), -1));
    ASSERT_EQ(only(p2).error_code, ErrorCode::NONE);
    EXPECT_EQ(raw(only(p2).base_offset), 3);

    auto f = w.call<FetchResponse>(11, fetch_req("orders", 1, 0));
    ASSERT_EQ(only(f).error_code, ErrorCode::NONE);
    EXPECT_EQ(raw(only(f).high_watermark), 5);
    EXPECT_EQ(values_of(only(f).records), (std::vector<std::string>{"a", "b", "c", "d", "e"}));
    // From the middle of a batch: the whole batch comes back (as in Kafka).
    auto mid = w.call<FetchResponse>(11, fetch_req("orders", 1, 4));
    EXPECT_EQ(values_of(only(mid).records), (std::vector<std::string>{"d", "e"}));
    auto past = w.call<FetchResponse>(11, fetch_req("orders", 1, 6));
    EXPECT_EQ(only(past).error_code, ErrorCode::OFFSET_OUT_OF_RANGE);
    auto other = w.call<FetchResponse>(11, fetch_req("orders", 0, 0));
    EXPECT_TRUE(values_of(only(other).records).empty());

    EXPECT_EQ(list_offset(w, "orders", 1, -2), 0);
    EXPECT_EQ(list_offset(w, "orders", 1, -1), 5);
    EXPECT_EQ(list_offset(w, "orders", 1, 1001), 1);  // record-level, inside the first batch
    EXPECT_EQ(list_offset(w, "orders", 1, 2000), 3);
    EXPECT_EQ(list_offset(w, "orders", 1, 5000), -1);
    auto v0 = w.call<ListOffsetsResponse>(0, list_req("orders", 1, -1));
    ASSERT_EQ(v0.topics.at(0).partitions.at(0).old_style_offsets.size(), 1u);
    EXPECT_EQ(raw(v0.topics.at(0).partitions.at(0).old_style_offsets[0]), 5);
  }));
}

TEST(BrokerSim, ProduceErrors) {
  Rig rig;
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    Wire w(rt, rig.address());
    ASSERT_EQ(w.call<CreateTopicsResponse>(4, create_req("t", 1)).topics.at(0).error_code, ErrorCode::NONE);
    EXPECT_EQ(only(w.call<ProduceResponse>(7, produce_req("nope", 0, make_batch({"x"})))).error_code,
              ErrorCode::UNKNOWN_TOPIC_OR_PARTITION);
    EXPECT_EQ(only(w.call<ProduceResponse>(7, produce_req("t", 5, make_batch({"x"})))).error_code,
              ErrorCode::UNKNOWN_TOPIC_OR_PARTITION);
    Bytes corrupt = make_batch({"x"});
    corrupt.back() ^= 0x55;
    EXPECT_EQ(only(w.call<ProduceResponse>(7, produce_req("t", 0, corrupt))).error_code,
              ErrorCode::CORRUPT_MESSAGE);
    EXPECT_EQ(only(w.call<ProduceResponse>(7, produce_req("t", 0, make_batch({"x"}), 2))).error_code,
              ErrorCode::INVALID_REQUIRED_ACKS);
    EXPECT_EQ(only(w.call<ProduceResponse>(2, produce_req("t", 0, make_batch({"x"})))).error_code,
              ErrorCode::UNSUPPORTED_FOR_MESSAGE_FORMAT);
    // Nothing of the failed requests reached the log.
    EXPECT_EQ(list_offset(w, "t", 0, -1), 0);
  }));
}

TEST(BrokerSim, AcksZeroSendsNoResponse) {
  Rig rig;
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    Wire w(rt, rig.address());
    ASSERT_EQ(w.call<CreateTopicsResponse>(4, create_req("t", 1)).topics.at(0).error_code, ErrorCode::NONE);
    w.send(7, produce_req("t", 0, make_batch({"a"}), 0));
    w.send(7, produce_req("t", 0, make_batch({"b"}), 0));
    // The next answer on the connection is the Metadata one.
    const auto corr = w.send(1, MetadataRequest{});
    auto r = w.recv(ApiKey::metadata, 1);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->header.correlation_id, corr);
    EXPECT_EQ(list_offset(w, "t", 0, -1), 2);
  }));
}

TEST(BrokerSim, LongPollFetchWaitsForDataOrMaxWait) {
  Rig rig;
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    Wire w(rt, rig.address());
    ASSERT_EQ(w.call<CreateTopicsResponse>(4, create_req("t", 1)).topics.at(0).error_code, ErrorCode::NONE);
    // Nothing to read: the answer comes after max.wait.ms, empty.
    Instant start = rt.now();
    auto empty = w.call<FetchResponse>(11, fetch_req("t", 0, 0, 800, 1));
    EXPECT_GE(rt.now() - start, milliseconds(800));
    EXPECT_TRUE(values_of(only(empty).records).empty());
    // A produce 300 ms into a 5 s poll ends the poll then, with the data.
    auto producer = rt.spawn("producer", [&] {
      rt.sleep_for(milliseconds(300));
      Wire p(rt, rig.address());
      EXPECT_EQ(only(p.call<ProduceResponse>(7, produce_req("t", 0, make_batch({"late"})))).error_code,
                ErrorCode::NONE);
    });
    start = rt.now();
    auto got = w.call<FetchResponse>(11, fetch_req("t", 0, 0, 5000, 1));
    const auto waited = rt.now() - start;
    EXPECT_GE(waited, milliseconds(300));
    EXPECT_LT(waited, milliseconds(1000));
    EXPECT_EQ(values_of(only(got).records), std::vector<std::string>{"late"});
    producer.join();
  }));
}

TEST(BrokerSim, IdempotentProducerDeduplicatesAndChecksSequence) {
  Rig rig;
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    Wire w(rt, rig.address());
    ASSERT_EQ(w.call<CreateTopicsResponse>(4, create_req("t", 1)).topics.at(0).error_code, ErrorCode::NONE);
    auto init = w.call<InitProducerIdResponse>(1, InitProducerIdRequest{});
    ASSERT_EQ(init.error_code, ErrorCode::NONE);
    auto init2 = w.call<InitProducerIdResponse>(1, InitProducerIdRequest{});
    EXPECT_NE(raw(init.producer_id), raw(init2.producer_id));
    storage::BatchOptions o;
    o.producer_id = raw(init.producer_id);
    o.producer_epoch = 0;
    o.base_sequence = 0;
    const Bytes first = make_batch({"a", "b"}, 1000, o);
    o.base_sequence = 2;
    const Bytes second = make_batch({"c"}, 1000, o);
    EXPECT_EQ(raw(only(w.call<ProduceResponse>(7, produce_req("t", 0, first))).base_offset), 0);
    EXPECT_EQ(raw(only(w.call<ProduceResponse>(7, produce_req("t", 0, second))).base_offset), 2);
    // Retries of either batch get their original offsets and add nothing.
    auto dup1 = w.call<ProduceResponse>(7, produce_req("t", 0, first));
    EXPECT_EQ(only(dup1).error_code, ErrorCode::NONE);
    EXPECT_EQ(raw(only(dup1).base_offset), 0);
    EXPECT_EQ(raw(only(w.call<ProduceResponse>(7, produce_req("t", 0, second))).base_offset), 2);
    EXPECT_EQ(list_offset(w, "t", 0, -1), 3);
    // A gap in the sequence is refused.
    o.base_sequence = 9;
    EXPECT_EQ(only(w.call<ProduceResponse>(7, produce_req("t", 0, make_batch({"z"}, 1000, o)))).error_code,
              ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER);
    EXPECT_EQ(list_offset(w, "t", 0, -1), 3);
  }));
}

TEST(BrokerSim, CrashRecoversSyncedDataAndProducerState) {
  BrokerConfig cfg;
  cfg.log.flush_interval_messages = 1;  // sync every append
  Rig rig(7, cfg);
  storage::BatchOptions o;
  Bytes batch;
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    Wire w(rt, rig.address());
    ASSERT_EQ(w.call<CreateTopicsResponse>(4, create_req("t", 2)).topics.at(0).error_code, ErrorCode::NONE);
    auto init = w.call<InitProducerIdResponse>(1, InitProducerIdRequest{});
    o.producer_id = raw(init.producer_id);
    o.producer_epoch = 0;
    o.base_sequence = 0;
    batch = make_batch({"x", "y"}, 1000, o);
    ASSERT_EQ(only(w.call<ProduceResponse>(7, produce_req("t", 1, batch))).error_code, ErrorCode::NONE);
  }));
  rig.crash_and_restart_broker();
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    rt.sleep_for(milliseconds(100));
    Wire w(rt, rig.address());
    ASSERT_TRUE(w.connected());
    MetadataRequest all;
    all.topics = std::nullopt;
    auto md = w.call<MetadataResponse>(7, all);
    ASSERT_EQ(md.topics.size(), 1u);
    EXPECT_EQ(md.topics[0].partitions.size(), 2u);
    EXPECT_EQ(raw(md.topics[0].partitions[0].leader_epoch), 1);  // a restart is a new epoch
    auto f = w.call<FetchResponse>(11, fetch_req("t", 1, 0));
    EXPECT_EQ(values_of(only(f).records), (std::vector<std::string>{"x", "y"}));
    // The producer's retry after the crash is still recognised.
    auto dup = w.call<ProduceResponse>(7, produce_req("t", 1, batch));
    EXPECT_EQ(only(dup).error_code, ErrorCode::NONE);
    EXPECT_EQ(raw(only(dup).base_offset), 0);
    EXPECT_EQ(list_offset(w, "t", 1, -1), 2);
    // A new producer id is not one handed out before the crash.
    auto init = w.call<InitProducerIdResponse>(1, InitProducerIdRequest{});
    EXPECT_GT(raw(init.producer_id), o.producer_id);
  }));
}

TEST(BrokerSim, OversizedAndGarbageFramesCloseOnlyTheirConnection) {
  BrokerConfig cfg;
  cfg.socket_request_max_bytes = 4096;
  Rig rig(3, cfg);
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    Wire good(rt, rig.address());
    ASSERT_TRUE(good.connected());
    for (const std::vector<std::uint8_t>& bad :
         {std::vector<std::uint8_t>{0, 0, 0x10, 0x01, 1, 2, 3},  // over the limit
          std::vector<std::uint8_t>{0xff, 0xff, 0xff, 0xfe},     // negative size
          std::vector<std::uint8_t>{0, 0, 0, 6, 0x7f, 0x00, 0, 0, 0, 1},  // unknown API key
          std::vector<std::uint8_t>{0, 0, 0, 10, 0, 3, 0, 99, 0, 0, 0, 1, 0xff, 0xff}}) {  // unsupported version
      Wire w(rt, rig.address());
      ASSERT_TRUE(w.connected());
      ASSERT_TRUE(w.conn().write(bad).ok());
      std::uint8_t buf[16];
      auto r = w.conn().read(buf, rt.now() + seconds(5));
      EXPECT_TRUE(!r || *r == 0) << "the broker must close the connection";
    }
    auto md = good.call<MetadataResponse>(1, MetadataRequest{});
    EXPECT_EQ(md.brokers.size(), 1u);
  }));
}

TEST(BrokerSim, DescribeConfigsDeleteTopicsAndAutoCreate) {
  Rig rig;
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    Wire w(rt, rig.address());
    auto c = w.call<CreateTopicsResponse>(4, create_req("t", 1, {{"retention.ms", "1234"}}));
    ASSERT_EQ(c.topics.at(0).error_code, ErrorCode::NONE);
    auto badcfg = w.call<CreateTopicsResponse>(4, create_req("u", 1, {{"no.such.config", "1"}}));
    EXPECT_EQ(badcfg.topics.at(0).error_code, ErrorCode::INVALID_CONFIG);
    DescribeConfigsRequest dc;
    dc.resources.push_back({ConfigResourceType::topic, "t", std::vector<std::string>{"retention.ms", "segment.bytes"}});
    dc.resources.push_back({ConfigResourceType::broker, "1", std::nullopt});
    auto d = w.call<DescribeConfigsResponse>(1, dc);
    ASSERT_EQ(d.results.size(), 2u);
    ASSERT_EQ(d.results[0].configs.size(), 2u);
    EXPECT_EQ(d.results[0].configs[0].name, "retention.ms");
    EXPECT_EQ(d.results[0].configs[0].value, "1234");
    EXPECT_EQ(d.results[0].configs[0].config_source, 1);
    EXPECT_EQ(d.results[0].configs[1].value, std::to_string(1LL << 30));
    EXPECT_EQ(d.results[1].error_code, ErrorCode::NONE);
    EXPECT_FALSE(d.results[1].configs.empty());

    DeleteTopicsRequest del;
    del.topic_names = {"t", "missing"};
    auto dr = w.call<DeleteTopicsResponse>(3, del);
    EXPECT_EQ(dr.responses.at(0).error_code, ErrorCode::NONE);
    EXPECT_EQ(dr.responses.at(1).error_code, ErrorCode::UNKNOWN_TOPIC_OR_PARTITION);
    EXPECT_EQ(only(w.call<ProduceResponse>(7, produce_req("t", 0, make_batch({"x"})))).error_code,
              ErrorCode::UNKNOWN_TOPIC_OR_PARTITION);

    // Metadata for an unknown topic creates it (auto.create.topics.enable).
    MetadataRequest md;
    md.topics = std::vector<std::string>{"fresh"};
    auto m = w.call<MetadataResponse>(4, md);
    ASSERT_EQ(m.topics.size(), 1u);
    EXPECT_EQ(m.topics[0].error_code, ErrorCode::NONE);
    EXPECT_EQ(m.topics[0].partitions.size(), 1u);
    md.allow_auto_topic_creation = false;
    md.topics = std::vector<std::string>{"fresh2"};
    EXPECT_EQ(w.call<MetadataResponse>(4, md).topics.at(0).error_code, ErrorCode::UNKNOWN_TOPIC_OR_PARTITION);
    md.topics = std::vector<std::string>{"bad name!"};
    EXPECT_EQ(w.call<MetadataResponse>(4, md).topics.at(0).error_code, ErrorCode::INVALID_TOPIC_EXCEPTION);
  }));
}

// The clean-shutdown marker tells the controller whether this start may
// have lost acknowledged records (KIP-966): found only after a clean stop,
// and consumed by the start that finds it, so a crash afterwards is unclean.
TEST(BrokerSim, CleanShutdownMarkerIsFoundOnceAfterACleanStopOnly) {
  sim::testing::NodeRig rig(31);
  BrokerConfig config;
  config.log_dir = "kafka-logs";
  auto start = [&](bool* clean) {
    return [&config, clean](Runtime& rt) {
      TopicTable t(rt, config);
      ASSERT_TRUE(t.load().ok());
      *clean = t.started_clean();
    };
  };
  bool clean = true;
  ASSERT_TRUE(rig.run(start(&clean)));
  EXPECT_FALSE(clean) << "a first start has no marker";
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    TopicTable t(rt, config);
    ASSERT_TRUE(t.load().ok());
    ASSERT_TRUE(t.mark_clean_shutdown().ok());
  }));
  rig.crash();  // the marker is durable: a crash after the clean stop keeps it
  ASSERT_TRUE(rig.run(start(&clean)));
  EXPECT_TRUE(clean);
  rig.crash();
  ASSERT_TRUE(rig.run(start(&clean)));
  EXPECT_FALSE(clean) << "the marker was consumed by the previous start";
}

}  // namespace
}  // namespace castle::broker::testing
