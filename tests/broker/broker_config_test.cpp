// The broker's configuration with Kafka's property names: the Java
// properties parser (separators, comments, continuations, escapes, errors
// naming the line), each broker property's parsing and range, the single
// PLAINTEXT listener and single log directory, the names accepted and
// ignored because Kafka's stock server.properties sets them, and
// describe_broker_config's sorted listing.
#include <gtest/gtest.h>

#include <algorithm>

#include "system/broker/broker_config.h"

namespace castle::broker {

namespace {

using Props = std::map<std::string, std::string>;

Props parse_ok(std::string_view text) {
  PropertyError error;
  auto r = parse_properties(text, &error);
  EXPECT_TRUE(r.ok()) << error.message;
  return r.ok() ? *r : Props{};
}

PropertyError parse_error(std::string_view text) {
  PropertyError error;
  auto r = parse_properties(text, &error);
  EXPECT_FALSE(r.ok());
  return error;
}

BrokerConfig apply_ok(const Props& props) {
  BrokerConfig c;
  PropertyError error;
  EXPECT_TRUE(apply_broker_properties(props, &c, &error)) << error.property << ": " << error.message;
  return c;
}

PropertyError apply_error(const Props& props) {
  BrokerConfig c;
  PropertyError error;
  EXPECT_FALSE(apply_broker_properties(props, &c, &error));
  return error;
}

TEST(ParseProperties, SeparatorsCommentsAndBlankLines) {
  const auto p = parse_ok(
      "# a comment\n"
      "! another comment\n"
      "\n"
      "a=1\n"
      "b: 2\n"
      "  c  =  three words  \r\n"
      "d 4\n"
      "e =\n"
      "f=x=y\n");
  EXPECT_EQ(p, (Props{{"a", "1"}, {"b", "2"}, {"c", "three words"}, {"d", "4"}, {"e", ""},
                      {"f", "x=y"}}));
}

TEST(ParseProperties, LastOccurrenceWins) {
  EXPECT_EQ(parse_ok("a=1\na=2\n"), (Props{{"a", "2"}}));
}

TEST(ParseProperties, ContinuationLinesJoin) {
  const auto p = parse_ok("log.dirs=/tmp/\\\n    kafka-logs\nnext=1\nlast=\\");
  EXPECT_EQ(p.at("log.dirs"), "/tmp/kafka-logs");
  EXPECT_EQ(p.at("next"), "1");
  EXPECT_EQ(p.at("last"), "");
  // An even number of backslashes is escaped backslashes, no continuation.
  EXPECT_EQ(parse_ok("a=x\\\\\nb=1\n").at("a"), "x\\");
}

TEST(ParseProperties, Escapes) {
  const auto p = parse_ok("key\\=with\\:seps=v\\tal\\u00e9\\#\n");
  EXPECT_EQ(p.at("key=with:seps"), "v\tal\xc3\xa9#");
}

TEST(ParseProperties, NoFinalNewlineAndEmptyText) {
  EXPECT_EQ(parse_ok("a=1"), (Props{{"a", "1"}}));
  EXPECT_TRUE(parse_ok("").empty());
  EXPECT_TRUE(parse_ok("\n\n# only comments\n").empty());
}

TEST(ParseProperties, LineWithoutSeparatorNamesItsLine) {
  const auto e = parse_error("a=1\n\n# c\nlonelyword\n");
  EXPECT_EQ(e.property, "");
  EXPECT_NE(e.message.find("line 4"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("lonelyword"), std::string::npos) << e.message;
}

TEST(ParseProperties, EmptyNameAndBadEscapeAreErrors) {
  EXPECT_NE(parse_error("=value\n").message.find("line 1"), std::string::npos);
  EXPECT_NE(parse_error("a=1\nb=\\u12\n").message.find("line 2"), std::string::npos);
}

TEST(ApplyBrokerProperties, DefaultsAreKafkas) {
  const BrokerConfig c = apply_ok({});
  EXPECT_EQ(c.num_partitions, 1);
  EXPECT_TRUE(c.auto_create_topics);
  EXPECT_EQ(c.socket_request_max_bytes, 104857600);
  EXPECT_EQ(c.message_max_bytes, 1048588);
  EXPECT_EQ(c.listen, (Address{"127.0.0.1", 9092}));
  EXPECT_EQ(c.advertised, (Address{"127.0.0.1", 9092}));
}

TEST(ApplyBrokerProperties, EveryBrokerProperty) {
  const BrokerConfig c = apply_ok({
      {"node.id", "7"},
      {"listeners", "PLAINTEXT://127.0.0.1:19092"},
      {"advertised.listeners", "PLAINTEXT://broker.example:29092"},
      {"log.dirs", "/var/lib/castle"},
      {"cluster.id", "abc"},
      {"num.partitions", "6"},
      {"default.replication.factor", "1"},
      {"auto.create.topics.enable", "FALSE"},
      {"delete.topic.enable", "false"},
      {"socket.request.max.bytes", "1000"},
      {"queued.max.requests", "16"},
      {"message.max.bytes", "2000"},
      {"min.insync.replicas", "1"},
      {"log.retention.check.interval.ms", "1234"},
      {"connections.max.idle.ms", "5678"},
  });
  EXPECT_EQ(c.node_id, 7);
  EXPECT_EQ(c.listen, (Address{"127.0.0.1", 19092}));
  EXPECT_EQ(c.advertised, (Address{"broker.example", 29092}));
  EXPECT_EQ(c.log_dir, "/var/lib/castle");
  EXPECT_EQ(c.cluster_id, "abc");
  EXPECT_EQ(c.num_partitions, 6);
  EXPECT_EQ(c.default_replication_factor, 1);
  EXPECT_FALSE(c.auto_create_topics);
  EXPECT_FALSE(c.delete_topic_enable);
  EXPECT_EQ(c.socket_request_max_bytes, 1000);
  EXPECT_EQ(c.queued_max_requests, 16);
  EXPECT_EQ(c.message_max_bytes, 2000);
  EXPECT_EQ(c.min_insync_replicas, 1);
  EXPECT_EQ(c.retention_check_interval_ms, 1234);
  EXPECT_EQ(c.connections_max_idle_ms, 5678);
}

TEST(ApplyBrokerProperties, AliasesAndWhichOneWins) {
  EXPECT_EQ(apply_ok({{"broker.id", "3"}}).node_id, 3);
  EXPECT_EQ(apply_ok({{"broker.id", "3"}, {"node.id", "4"}}).node_id, 4);
  EXPECT_EQ(apply_ok({{"log.dir", "a"}}).log_dir, "a");
  EXPECT_EQ(apply_ok({{"log.dir", "a"}, {"log.dirs", "b"}}).log_dir, "b");
}

TEST(ApplyBrokerProperties, ListenerForms) {
  // An empty host binds every interface; the default advertised address
  // is then loopback, which a client can connect to.
  BrokerConfig c = apply_ok({{"listeners", "PLAINTEXT://:9093"}});
  EXPECT_EQ(c.listen, (Address{"0.0.0.0", 9093}));
  EXPECT_EQ(c.advertised, (Address{"127.0.0.1", 9093}));
  c = apply_ok({{"listeners", "PLAINTEXT://0.0.0.0:0"}});
  EXPECT_EQ(c.listen, (Address{"0.0.0.0", 0}));
  EXPECT_EQ(c.advertised, (Address{"127.0.0.1", 0}));
  c = apply_ok({{"listeners", "PLAINTEXT://10.1.2.3:9092"}});
  EXPECT_EQ(c.advertised, (Address{"10.1.2.3", 9092}));
  c = apply_ok({{"listeners", "PLAINTEXT://[::1]:9092"}});
  EXPECT_EQ(c.listen, (Address{"::1", 9092}));
}

TEST(ApplyBrokerProperties, OnePlaintextListenerAndTheControllerOne) {
  auto e = apply_error({{"listeners", "PLAINTEXT://:9092,PLAINTEXT://:9093"}});
  EXPECT_EQ(e.property, "listeners");
  EXPECT_NE(e.message.find("more than one PLAINTEXT"), std::string::npos) << e.message;
  e = apply_error({{"listeners", "PLAINTEXT://:9092,REPLICATION://:9093"}});
  EXPECT_EQ(e.property, "listeners");
  EXPECT_NE(e.message.find("REPLICATION"), std::string::npos) << e.message;
  const BrokerConfig c = apply_ok({{"listeners", "PLAINTEXT://:9092,CONTROLLER://:9093"}});
  EXPECT_EQ(c.listen, (Address{"0.0.0.0", 9092}));
  EXPECT_EQ(c.cluster.controller_listen, (Address{"0.0.0.0", 9093}));
  EXPECT_FALSE(c.cluster.enabled());
  e = apply_error({{"listeners", "SSL://:9093"}});
  EXPECT_EQ(e.property, "listeners");
  EXPECT_NE(e.message.find("SSL"), std::string::npos) << e.message;
  EXPECT_EQ(apply_error({{"listeners", "PLAINTEXT://host"}}).property, "listeners");
  EXPECT_EQ(apply_error({{"listeners", "PLAINTEXT://host:99999"}}).property, "listeners");
  EXPECT_EQ(apply_error({{"advertised.listeners", "SASL_SSL://h:1"}}).property,
            "advertised.listeners");
}

TEST(ApplyBrokerProperties, OneLogDirectory) {
  const auto e = apply_error({{"log.dirs", "/a,/b"}});
  EXPECT_EQ(e.property, "log.dirs");
  EXPECT_NE(e.message.find("one log directory"), std::string::npos) << e.message;
  EXPECT_EQ(apply_error({{"log.dirs", " "}}).property, "log.dirs");
}

TEST(ApplyBrokerProperties, MalformedAndOutOfRangeValuesNameTheProperty) {
  const std::pair<const char*, const char*> bad[] = {
      {"node.id", "x"},
      {"node.id", "-1"},
      {"num.partitions", "0"},
      {"num.partitions", "3000000000"},
      {"default.replication.factor", "40000"},
      {"auto.create.topics.enable", "yes"},
      {"socket.request.max.bytes", "0"},
      {"queued.max.requests", "1.5"},
      {"message.max.bytes", "-5"},
      {"min.insync.replicas", "0"},
      {"log.retention.check.interval.ms", ""},
      {"connections.max.idle.ms", "0"},
      {"cluster.id", ""},
      {"log.segment.bytes", "10"},
      {"log.retention.ms", "soon"},
  };
  for (const auto& [name, value] : bad) {
    const auto e = apply_error({{name, value}});
    EXPECT_EQ(e.property, name) << name << "=" << value << ": " << e.message;
    EXPECT_FALSE(e.message.empty());
  }
}

TEST(ApplyBrokerProperties, StorageNamesReachTheLogConfig) {
  const BrokerConfig c = apply_ok({{"log.segment.bytes", "1048576"},
                                   {"log.retention.hours", "2"},
                                   {"log.flush.interval.messages", "1"}});
  EXPECT_EQ(c.log.segment_bytes, 1048576);
  EXPECT_EQ(c.log.retention_ms, 2 * 3600 * 1000);
  EXPECT_EQ(c.log.flush_interval_messages, 1);
}

TEST(ApplyBrokerProperties, UnknownNameIsAnErrorAndNothingChanges) {
  BrokerConfig c;
  c.num_partitions = 9;
  PropertyError error;
  EXPECT_FALSE(apply_broker_properties({{"num.partitions", "3"}, {"num.partitons", "4"}}, &c,
                                       &error));
  EXPECT_EQ(error.property, "num.partitons");
  EXPECT_EQ(c.num_partitions, 9);
  // A bad value after a good one leaves the config as it was too.
  EXPECT_FALSE(apply_broker_properties({{"num.partitions", "3"}, {"node.id", "x"}}, &c, &error));
  EXPECT_EQ(c.num_partitions, 9);
}

// What Apache Kafka's stock config/server.properties (ZooKeeper mode) sets.
constexpr std::string_view stock_server_properties = R"(
broker.id=0
num.network.threads=3
num.io.threads=8
socket.send.buffer.bytes=102400
socket.receive.buffer.bytes=102400
socket.request.max.bytes=104857600
log.dirs=/tmp/kafka-logs
num.partitions=1
num.recovery.threads.per.data.dir=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
log.retention.hours=168
log.segment.bytes=1073741824
log.retention.check.interval.ms=300000
zookeeper.connect=localhost:2181
zookeeper.connection.timeout.ms=18000
group.initial.rebalance.delay.ms=0
)";

TEST(ApplyBrokerProperties, StockServerPropertiesApplyWithTheRestIgnored) {
  const Props p = parse_ok(stock_server_properties);
  const BrokerConfig c = apply_ok(p);
  EXPECT_EQ(c.node_id, 0);
  EXPECT_EQ(c.log_dir, "/tmp/kafka-logs");
  EXPECT_EQ(c.log.retention_ms, 168LL * 3600 * 1000);
  std::vector<std::string> ignored;
  for (const auto& [name, value] : p)
    if (is_ignored_broker_property(name)) ignored.push_back(name);
  EXPECT_EQ(ignored, (std::vector<std::string>{
                         "group.initial.rebalance.delay.ms", "num.io.threads",
                         "num.network.threads", "num.recovery.threads.per.data.dir",
                         "offsets.topic.replication.factor", "socket.receive.buffer.bytes",
                         "socket.send.buffer.bytes", "transaction.state.log.min.isr",
                         "transaction.state.log.replication.factor", "zookeeper.connect",
                         "zookeeper.connection.timeout.ms"}));
}

TEST(ApplyBrokerProperties, KraftNamesConfigureTheCluster) {
  for (const char* name : {"inter.broker.listener.name", "listener.security.protocol.map",
                           "controller.quorum.request.timeout.ms"})
    EXPECT_TRUE(is_ignored_broker_property(name)) << name;
  for (const char* name : {"process.roles", "controller.quorum.voters", "controller.listener.names"}) {
    EXPECT_FALSE(is_ignored_broker_property(name)) << name;
    EXPECT_TRUE(is_cluster_property(name)) << name;
  }
  const BrokerConfig c = apply_ok({{"process.roles", "broker,controller"},
                                   {"controller.quorum.voters", "2@h2:9093, 1@localhost:9093"},
                                   {"node.id", "1"},
                                   {"listeners", "PLAINTEXT://:9092,CONTROLLER://:9093"},
                                   {"advertised.listeners", "PLAINTEXT://localhost:9092"},
                                   {"unclean.leader.election.enable", "true"},
                                   {"replica.lag.time.max.ms", "5000"}});
  EXPECT_EQ(c.advertised, (Address{"localhost", 9092}));
  ASSERT_TRUE(c.cluster.enabled());
  EXPECT_TRUE(c.cluster.broker_role && c.cluster.controller_role);
  EXPECT_EQ(c.cluster.voters, (std::vector<QuorumVoter>{{1, {"localhost", 9093}}, {2, {"h2", 9093}}}));
  EXPECT_EQ(c.cluster.controller_listen, (Address{"0.0.0.0", 9093}));
  EXPECT_TRUE(c.cluster.unclean_leader_election);
  EXPECT_EQ(c.cluster.replica_lag_time_max_ms, 5000);
  // Roles default from the voter list: a voter is combined, anyone else a broker.
  const BrokerConfig observer = apply_ok({{"controller.quorum.voters", "1@h1:9093"}, {"node.id", "4"}});
  EXPECT_TRUE(observer.cluster.broker_role);
  EXPECT_FALSE(observer.cluster.controller_role);
}

TEST(ApplyBrokerProperties, KraftCombinationsKafkaRejects) {
  auto e = apply_error({{"process.roles", "broker"}});
  EXPECT_EQ(e.property, "process.roles");
  EXPECT_NE(e.message.find("controller.quorum.voters"), std::string::npos) << e.message;
  e = apply_error({{"process.roles", "broker,observer"}, {"controller.quorum.voters", "1@h:1"}});
  EXPECT_NE(e.message.find("observer"), std::string::npos) << e.message;
  e = apply_error({{"process.roles", "controller"}, {"node.id", "3"},
                   {"controller.quorum.voters", "1@h:1"}, {"listeners", "CONTROLLER://:9093"}});
  EXPECT_EQ(e.property, "controller.quorum.voters");
  e = apply_error({{"process.roles", "broker,controller"}, {"node.id", "1"},
                   {"controller.quorum.voters", "1@h:1"}, {"listeners", "PLAINTEXT://:9092"}});
  EXPECT_EQ(e.property, "listeners");
  EXPECT_NE(e.message.find("CONTROLLER://"), std::string::npos) << e.message;
  e = apply_error({{"process.roles", "broker"}, {"node.id", "1"}, {"controller.quorum.voters", "1@h:1"}});
  EXPECT_EQ(e.property, "process.roles");
  e = apply_error({{"controller.quorum.voters", "1@h:1,1@h:2"}});
  EXPECT_NE(e.message.find("twice"), std::string::npos) << e.message;
  for (const char* bad : {"h:1", "x@h:1", "1@h", "", "1@h:1,2"})
    EXPECT_EQ(apply_error({{"controller.quorum.voters", bad}}).property, "controller.quorum.voters") << bad;
  // A controller-only process needs no PLAINTEXT listener; a broker does.
  const BrokerConfig controller = apply_ok({{"process.roles", "controller"}, {"node.id", "1"},
                                            {"controller.quorum.voters", "1@h:9093"},
                                            {"listeners", "CONTROLLER://:9093"}});
  EXPECT_FALSE(controller.cluster.broker_role);
  e = apply_error({{"process.roles", "broker,controller"}, {"node.id", "1"},
                   {"controller.quorum.voters", "1@h:9093"}, {"listeners", "CONTROLLER://:9093"}});
  EXPECT_NE(e.message.find("PLAINTEXT"), std::string::npos) << e.message;
}

TEST(DescribeBrokerConfig, SortedAndReflectsTheConfig) {
  const BrokerConfig c = apply_ok({{"listeners", "PLAINTEXT://:1234"},
                                   {"num.partitions", "5"},
                                   {"log.segment.bytes", "2048"}});
  const auto d = describe_broker_config(c);
  EXPECT_TRUE(std::is_sorted(d.begin(), d.end()));
  const std::map<std::string, std::string> m(d.begin(), d.end());
  EXPECT_EQ(m.size(), d.size()) << "a name listed twice";
  EXPECT_EQ(m.at("listeners"), "PLAINTEXT://0.0.0.0:1234");
  EXPECT_EQ(m.at("advertised.listeners"), "PLAINTEXT://127.0.0.1:1234");
  EXPECT_EQ(m.at("num.partitions"), "5");
  EXPECT_EQ(m.at("log.segment.bytes"), "2048");
  EXPECT_EQ(m.at("auto.create.topics.enable"), "true");
  // Every name listed is one apply_broker_properties accepts, and applying
  // the listing to a fresh config reproduces the same listing.
  BrokerConfig again;
  PropertyError error;
  ASSERT_TRUE(apply_broker_properties(m, &again, &error)) << error.property << error.message;
  EXPECT_EQ(describe_broker_config(again), d);
}

}  // namespace
}  // namespace castle::broker
