// Kafka client benchmark: librdkafka against `castle broker`, against a
// real three-broker castle cluster and, in the same run, against
// librdkafka's built-in mock cluster (test.mock.num.brokers=1) as the
// peer, all over loopback.
//
// For each message size (100 B, 1 KiB) and acks level (1, all), on a fresh
// topic of each target:
// - produce throughput: --count messages (a quarter of that at 1 KiB),
//   keyless, linger.ms=5, from the first produce call to the end of flush();
// - produce latency: one message at a time with linger.ms=0, each waited
//   for before the next; p50 and p99 of produce-call-to-delivery-report;
// - consume throughput: every message between the low and high watermark,
//   one consumer with every partition assigned (no group), from the first
//   message received to the last.
// The mock cluster keeps only a few MB per partition (older message sets
// are dropped), so against it the retained messages are read in several
// passes until as many were read as were produced; the table prints how
// many messages each side read.
//
// On the cluster every topic has replication factor 3 and
// min.insync.replicas=2, and is measured only once every partition has a
// leader and all three replicas in its ISR; so acks=all waits for two
// followers to fetch each batch, as Kafka does. The table compares the
// cluster with the single broker measured in the same run.
//
// With --write-dir, each castle row is preceded by a plain write() loop of
// its payload bytes into a new file there: what the machine lets any
// file-backed log do (see write_ceiling_mb_per_s).
//
// Usage: bench_kafka [--castle HOST:PORT] [--cluster HOST:PORT,...]
//                    [--count N] [--partitions N] [--latency-count N]
//                    [--write-dir DIR]
// Without --castle and --cluster only the mock cluster runs.
// bench/run_kafka.sh starts a castle broker and a three-broker cluster on
// free ports and runs this against them.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

constexpr double mb = 1e6;
constexpr int admin_timeout_ms = 10000;
// How long a cluster may take to register every broker, and a new topic to
// get a leader and a full ISR in every partition.
constexpr int cluster_ready_timeout_ms = 60000;
constexpr int cluster_poll_ms = 200;
constexpr int metadata_timeout_ms = 2000;
// The cluster's topics: every follower is a replica, and acks=all needs two
// of the three in sync (the setting issue #6 names).
constexpr int cluster_replication_factor = 3;
constexpr const char* cluster_min_insync = "2";
constexpr int flush_timeout_ms = 120000;
// A consume that sees nothing for this long has lost messages.
constexpr int consume_idle_timeout_ms = 10000;
constexpr std::size_t consume_batch_max = 10000;
constexpr int consume_poll_ms = 5;
// Message sizes and the acks levels of the table's rows.
constexpr std::size_t message_sizes[] = {100, 1024};
constexpr const char* acks_levels[] = {"1", "all"};
constexpr std::int64_t castle_target_msgs_per_s = 800000;

struct Options {
  std::string castle;   // empty: no single castle broker
  std::string cluster;  // comma-separated bootstrap list; empty: no cluster
  std::int64_t count = 1000000;
  int partitions = 4;
  int latency_count = 2000;
  // Where to measure the write ceiling; empty: not measured.
  std::string write_dir;
};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "bench_kafka: %s\n", what.c_str());
  std::exit(1);
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Owning handles.
struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using Kafka = std::unique_ptr<rd_kafka_t, KafkaDeleter>;

using Settings = std::vector<std::pair<std::string, std::string>>;

rd_kafka_conf_t* make_conf(const Settings& settings) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char errstr[512];
  for (const auto& [k, v] : settings) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK)
      die(k + "=" + v + ": " + errstr);
  }
  return conf;
}

Kafka make_client(rd_kafka_type_t type, rd_kafka_conf_t* conf) {
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf, errstr, sizeof errstr);
  if (rk == nullptr) die(std::string("rd_kafka_new: ") + errstr);
  return Kafka(rk);
}

// A broker to measure: where to connect and how to make a topic there.
struct Target {
  std::string name;
  std::string bootstrap;
  std::function<void(const std::string& topic, int partitions)> create_topic;
};

void create_topic_by_admin(const std::string& bootstrap, const std::string& topic,
                           int partitions, int replication_factor = 1,
                           const Settings& configs = {}) {
  Kafka rk = make_client(RD_KAFKA_PRODUCER, make_conf({{"bootstrap.servers", bootstrap}}));
  char errstr[512];
  rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(topic.c_str(), partitions, replication_factor,
                                                  errstr, sizeof errstr);
  if (nt == nullptr) die(std::string("NewTopic: ") + errstr);
  for (const auto& [k, v] : configs) {
    if (rd_kafka_NewTopic_set_config(nt, k.c_str(), v.c_str()) != RD_KAFKA_RESP_ERR_NO_ERROR)
      die("NewTopic " + topic + ": " + k + "=" + v);
  }
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk.get());
  rd_kafka_CreateTopics(rk.get(), &nt, 1, nullptr, q);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, admin_timeout_ms);
  if (ev == nullptr) die("CreateTopics " + topic + ": no answer");
  if (rd_kafka_event_error(ev)) die("CreateTopics: " + std::string(rd_kafka_event_error_string(ev)));
  std::size_t n = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
  for (std::size_t i = 0; i < n; ++i) {
    if (rd_kafka_topic_result_error(results[i]) != RD_KAFKA_RESP_ERR_NO_ERROR)
      die("CreateTopics " + topic + ": " + rd_kafka_err2str(rd_kafka_topic_result_error(results[i])));
  }
  rd_kafka_event_destroy(ev);
  rd_kafka_queue_destroy(q);
  rd_kafka_NewTopic_destroy(nt);
}

struct MetadataDeleter {
  void operator()(const rd_kafka_metadata_t* md) const { rd_kafka_metadata_destroy(md); }
};
using Metadata = std::unique_ptr<const rd_kafka_metadata_t, MetadataDeleter>;

// Metadata from a fresh client each time: one that was first answered
// without every broker or a controller keeps waiting on what it learnt.
// Null if no answer came in time.
Metadata fresh_metadata(const std::string& bootstrap, const std::string& topic,
                        std::int32_t* controller) {
  Kafka rk = make_client(RD_KAFKA_PRODUCER, make_conf({{"bootstrap.servers", bootstrap}}));
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_topic_t* rkt =
      topic.empty() ? nullptr : rd_kafka_topic_new(rk.get(), topic.c_str(), nullptr);
  const rd_kafka_resp_err_t err = rd_kafka_metadata(rk.get(), 0, rkt, &md, metadata_timeout_ms);
  if (rkt != nullptr) rd_kafka_topic_destroy(rkt);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return nullptr;
  if (controller != nullptr) *controller = rd_kafka_controllerid(rk.get(), 0);
  return Metadata(md);
}

// Until every broker of the cluster has registered and a controller is
// known: until then CreateTopics has nowhere to go, and a replication
// factor of 3 cannot be placed.
void wait_for_brokers(const std::string& bootstrap, int brokers) {
  const auto t0 = Clock::now();
  std::string last = "no metadata answer";
  while (seconds_since(t0) * 1000 < cluster_ready_timeout_ms) {
    std::int32_t controller = -1;
    if (Metadata md = fresh_metadata(bootstrap, "", &controller)) {
      if (md->broker_cnt == brokers && controller >= 0) return;
      last = std::to_string(md->broker_cnt) + " brokers, controller " + std::to_string(controller);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(cluster_poll_ms));
  }
  die("cluster " + bootstrap + ": not " + std::to_string(brokers) +
      " brokers and a controller after " + std::to_string(cluster_ready_timeout_ms / 1000) +
      " s (last seen: " + last + ")");
}

// Until every partition of `topic` has a leader and `replicas` replicas in
// its ISR: a producer that starts earlier measures the election, and
// acks=all with a short ISR waits for fewer followers than it will later.
void wait_for_full_isr(const std::string& bootstrap, const std::string& topic, int partitions,
                       int replicas) {
  const auto t0 = Clock::now();
  std::string last = "no metadata answer";
  while (seconds_since(t0) * 1000 < cluster_ready_timeout_ms) {
    if (Metadata md = fresh_metadata(bootstrap, topic, nullptr)) {
      if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
          md->topics[0].partition_cnt == partitions) {
        const rd_kafka_metadata_topic_t& t = md->topics[0];
        int ready = 0;
        for (int p = 0; p < t.partition_cnt; ++p)
          if (t.partitions[p].leader >= 0 && t.partitions[p].isr_cnt == replicas) ++ready;
        if (ready == partitions) return;
        last = std::to_string(ready) + " of " + std::to_string(partitions) + " partitions ready";
      } else if (md->topic_cnt == 1) {
        last = rd_kafka_err2str(md->topics[0].err);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(cluster_poll_ms));
  }
  die("cluster " + topic + ": not every partition has a leader and " + std::to_string(replicas) +
      " in-sync replicas after " + std::to_string(cluster_ready_timeout_ms / 1000) +
      " s (last seen: " + last + ")");
}

// ---------------------------------------------------------------------------
// Produce throughput.
// ---------------------------------------------------------------------------

struct Deliveries {
  std::int64_t ok = 0;
  std::int64_t failed = 0;
  rd_kafka_resp_err_t first_error = RD_KAFKA_RESP_ERR_NO_ERROR;
};

extern "C" void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* d = static_cast<Deliveries*>(opaque);
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++d->ok;
    return;
  }
  if (d->failed++ == 0) d->first_error = m->err;
}

Kafka make_producer(const Target& t, const char* acks, const char* linger_ms, Deliveries* d) {
  rd_kafka_conf_t* conf = make_conf({{"bootstrap.servers", t.bootstrap},
                                     {"acks", acks},
                                     {"linger.ms", linger_ms},
                                     {"queue.buffering.max.messages", "1000000"},
                                     {"enable.idempotence", "false"}});
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_conf_set_opaque(conf, d);
  return make_client(RD_KAFKA_PRODUCER, conf);
}

void produce_one(rd_kafka_t* rk, const std::string& topic, const std::vector<char>& payload) {
  for (;;) {
    const rd_kafka_resp_err_t err = rd_kafka_producev(
        rk, RD_KAFKA_V_TOPIC(topic.c_str()),
        RD_KAFKA_V_VALUE(const_cast<char*>(payload.data()), payload.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) die(std::string("produce: ") + rd_kafka_err2str(err));
    rd_kafka_poll(rk, 1);  // the local queue is full: serve delivery reports
  }
}

double produce_throughput(const Target& t, const std::string& topic, const char* acks,
                          std::size_t size, std::int64_t count) {
  Deliveries d;
  Kafka rk = make_producer(t, acks, "5", &d);
  std::vector<char> payload(size, 'x');
  const auto t0 = Clock::now();
  for (std::int64_t i = 0; i < count; ++i) {
    std::memcpy(payload.data(), &i, sizeof i);  // distinct values, fixed size
    produce_one(rk.get(), topic, payload);
  }
  if (rd_kafka_flush(rk.get(), flush_timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR)
    die(t.name + ": flush timed out");
  const double secs = seconds_since(t0);
  if (d.failed != 0 || d.ok != count)
    die(t.name + " " + topic + ": " + std::to_string(d.failed) + " deliveries failed, first: " +
        rd_kafka_err2str(d.first_error));
  return secs;
}

// ---------------------------------------------------------------------------
// Produce latency: one message in flight at a time.
// ---------------------------------------------------------------------------

struct Percentiles {
  double p50_us = 0;
  double p99_us = 0;
};

Percentiles produce_latency(const Target& t, const std::string& topic, const char* acks,
                            std::size_t size, int count) {
  Deliveries d;
  Kafka rk = make_producer(t, acks, "0", &d);
  std::vector<char> payload(size, 'l');
  std::vector<double> us;
  us.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    const std::int64_t before = d.ok + d.failed;
    const auto t0 = Clock::now();
    produce_one(rk.get(), topic, payload);
    while (d.ok + d.failed == before) rd_kafka_poll(rk.get(), 1000);
    us.push_back(seconds_since(t0) * 1e6);
  }
  if (d.failed != 0) die(t.name + ": latency produce failed: " + rd_kafka_err2str(d.first_error));
  std::sort(us.begin(), us.end());
  auto at = [&](double q) { return us[static_cast<std::size_t>(q * (us.size() - 1))]; };
  return {at(0.50), at(0.99)};
}

// ---------------------------------------------------------------------------
// Consume throughput.
// ---------------------------------------------------------------------------

struct Consumed {
  std::int64_t messages = 0;
  std::int64_t bytes = 0;
  double seconds = 0;
};

struct ConsumeClock {
  std::optional<Clock::time_point> first;  // the first message of the first pass
  Clock::time_point last;                  // the latest message so far
};

// One pass over every partition from its low watermark: `expected`
// messages through one queue.
void consume_pass(const Target& t, rd_kafka_topic_t* rkt, rd_kafka_queue_t* q,
                  const std::vector<std::int64_t>& lows, std::int64_t expected, Consumed* c,
                  ConsumeClock* clock) {
  for (std::size_t p = 0; p < lows.size(); ++p) {
    if (rd_kafka_consume_start_queue(rkt, static_cast<std::int32_t>(p), lows[p], q) != 0)
      die(t.name + ": consume_start failed");
  }
  std::vector<rd_kafka_message_t*> batch(consume_batch_max);
  auto progress = Clock::now();
  for (std::int64_t got = 0; got < expected;) {
    // A batch call waits for a full batch or its timeout, so the timeout is
    // short and the clock stops at the last message, not at the last wait.
    const ssize_t n = rd_kafka_consume_batch_queue(q, consume_poll_ms, batch.data(), batch.size());
    if (n <= 0) {
      if (seconds_since(progress) * 1000 > consume_idle_timeout_ms)
        die(t.name + ": consume stalled at " + std::to_string(got) + " of " +
            std::to_string(expected));
      continue;
    }
    progress = clock->last = Clock::now();
    if (!clock->first) clock->first = clock->last;
    for (ssize_t i = 0; i < n; ++i) {
      const rd_kafka_message_t* m = batch[static_cast<std::size_t>(i)];
      if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        ++got;
        ++c->messages;
        c->bytes += static_cast<std::int64_t>(m->len);
      }
      rd_kafka_message_destroy(batch[static_cast<std::size_t>(i)]);
    }
  }
  for (std::size_t p = 0; p < lows.size(); ++p) rd_kafka_consume_stop(rkt, static_cast<std::int32_t>(p));
}

// The legacy per-partition consumer: assigns without a consumer group, as
// the interop tests do. Reads the topic from its low watermarks, in passes,
// until at least `messages_min` were read: the mock cluster keeps only the
// newest few MB per partition, so it is read several times over to time as
// many messages as castle serves in one pass.
Consumed consume_all(const Target& t, const std::string& topic, int partitions,
                     std::int64_t messages_min) {
  Kafka rk = make_client(RD_KAFKA_CONSUMER, make_conf({{"bootstrap.servers", t.bootstrap},
                                                       {"queued.min.messages", "1000000"}}));
  // On a cluster an acks=1 produce is acknowledged before the followers
  // have it, and the high watermark (all a consumer may read) catches up a
  // fetch later: wait until it covers every message produced.
  std::int64_t expected = 0;
  std::vector<std::int64_t> lows(static_cast<std::size_t>(partitions));
  for (const auto t0 = Clock::now();;
       std::this_thread::sleep_for(std::chrono::milliseconds(consume_poll_ms))) {
    std::int64_t highs = 0;
    expected = 0;
    for (int p = 0; p < partitions; ++p) {
      std::int64_t low = 0, high = 0;
      const auto err = rd_kafka_query_watermark_offsets(rk.get(), topic.c_str(), p, &low, &high,
                                                        admin_timeout_ms);
      if (err) die(t.name + ": watermarks: " + rd_kafka_err2str(err));
      lows[static_cast<std::size_t>(p)] = low;
      expected += high - low;
      highs += high;
    }
    if (highs >= messages_min) break;
    if (seconds_since(t0) * 1000 > consume_idle_timeout_ms)
      die(t.name + " " + topic + ": high watermarks stay at " + std::to_string(highs) + " of " +
          std::to_string(messages_min) + " messages produced");
  }
  if (expected == 0) die(t.name + ": nothing to consume in " + topic);
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk.get(), topic.c_str(), nullptr);
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk.get());
  Consumed c;
  ConsumeClock clock;
  while (c.messages < messages_min) consume_pass(t, rkt, q, lows, expected, &c, &clock);
  c.seconds = std::chrono::duration<double>(clock.last - *clock.first).count();
  rd_kafka_queue_destroy(q);
  rd_kafka_topic_destroy(rkt);
  return c;
}

// ---------------------------------------------------------------------------
// The write ceiling: a broker that keeps its log in files must put every
// produced byte into page-cache pages it has not touched before. On a VM
// whose balloon reports free pages to the host (as this project's machines
// do), the first touch of such a page costs a host fault, and a plain
// write() loop into a new file runs at a few hundred MB/s however fast the
// broker is; the mock cluster keeps a few MB per partition on its heap and
// never pays it. So before each castle row the same payload bytes are
// written, 1 MiB per write(), into a new file in --write-dir, measured in
// the same run. The files stay until the run ends: deleting one would hand
// warm pages to the row after it.
// ---------------------------------------------------------------------------

constexpr std::size_t write_chunk = 1 << 20;

double write_ceiling_mb_per_s(const std::string& dir, std::int64_t bytes) {
  static int file_number = 0;
  const std::string path = dir + "/write-ceiling-" + std::to_string(file_number++);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
  if (fd < 0) die("cannot create " + path + ": " + std::strerror(errno));
  const std::vector<char> chunk(write_chunk, 'x');
  const auto t0 = Clock::now();
  for (std::int64_t done = 0; done < bytes;) {
    const auto n = static_cast<std::size_t>(
        std::min<std::int64_t>(static_cast<std::int64_t>(write_chunk), bytes - done));
    const ssize_t w = ::write(fd, chunk.data(), n);
    if (w <= 0) die("write " + path + ": " + std::strerror(errno));
    done += w;
  }
  const double secs = seconds_since(t0);
  ::close(fd);
  return static_cast<double>(bytes) / secs / mb;
}

// ---------------------------------------------------------------------------
// The table.
// ---------------------------------------------------------------------------

struct Row {
  double produce_msgs_per_s = 0;
  double produce_mb_per_s = 0;
  double consume_msgs_per_s = 0;
  double consume_mb_per_s = 0;
  std::int64_t consumed = 0;
  Percentiles latency;
};

Row measure(const Target& t, const Options& o, std::size_t size, const char* acks) {
  const std::int64_t count = size >= 1024 ? o.count / 4 : o.count;
  const std::string topic = "bench-" + std::to_string(size) + "-acks" + acks;
  t.create_topic(topic, o.partitions);
  Row r;
  const double secs = produce_throughput(t, topic, acks, size, count);
  r.produce_msgs_per_s = static_cast<double>(count) / secs;
  r.produce_mb_per_s = static_cast<double>(count) * static_cast<double>(size) / secs / mb;
  const Consumed c = consume_all(t, topic, o.partitions, count);
  r.consumed = c.messages;
  r.consume_msgs_per_s = static_cast<double>(c.messages) / c.seconds;
  r.consume_mb_per_s = static_cast<double>(c.bytes) / c.seconds / mb;
  const std::string latency_topic = topic + "-latency";
  t.create_topic(latency_topic, 1);
  r.latency = produce_latency(t, latency_topic, acks, size, o.latency_count);
  return r;
}

void print_row(const char* label, std::size_t size, const char* acks, const Row& r) {
  std::printf("%-7s %5zu %4s %12.0f %8.1f %12.0f %8.1f %10lld %9.0f %9.0f\n", label, size, acks,
              r.produce_msgs_per_s, r.produce_mb_per_s, r.consume_msgs_per_s, r.consume_mb_per_s,
              static_cast<long long>(r.consumed), r.latency.p50_us, r.latency.p99_us);
}

// One row over another, column by column.
void print_ratio(const char* label, std::size_t size, const char* acks, const Row& c,
                 const Row& m) {
  std::printf("%-7s %5zu %4s %12.2f %8.2f %12.2f %8.2f %10s %9.2f %9.2f\n", label, size, acks,
              c.produce_msgs_per_s / m.produce_msgs_per_s, c.produce_mb_per_s / m.produce_mb_per_s,
              c.consume_msgs_per_s / m.consume_msgs_per_s, c.consume_mb_per_s / m.consume_mb_per_s,
              "", c.latency.p50_us / m.latency.p50_us, c.latency.p99_us / m.latency.p99_us);
}

// The 1-minute load average: a busy machine makes every row slower, and
// the ratios only hold if both sides ran under the same load.
std::string load_average() {
  std::FILE* f = std::fopen("/proc/loadavg", "r");
  if (f == nullptr) return "?";
  char buf[64] = {};
  const bool ok = std::fgets(buf, sizeof buf, f) != nullptr;
  std::fclose(f);
  if (!ok) return "?";
  std::string s(buf);
  return s.substr(0, s.find(' '));
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) die("usage: bench_kafka [--castle HOST:PORT] [--cluster HOST:PORT,...] "
                           "[--count N] [--partitions N] [--latency-count N] [--write-dir DIR]");
    const std::string v = argv[++i];
    if (a == "--castle") o.castle = v;
    else if (a == "--cluster") o.cluster = v;
    else if (a == "--count") o.count = std::atoll(v.c_str());
    else if (a == "--partitions") o.partitions = std::atoi(v.c_str());
    else if (a == "--latency-count") o.latency_count = std::atoi(v.c_str());
    else if (a == "--write-dir") o.write_dir = v;
    else die("unknown flag " + a);
  }
  if (o.count < 4 || o.partitions < 1 || o.latency_count < 1) die("counts must be positive");
  return o;
}

// Verdicts on the targets, from the rows measured.
void print_targets(const std::vector<std::pair<Row, Row>>& rows) {
  if (rows.empty()) return;
  const Row& small_acks1 = rows.front().first;  // 100 B, acks=1
  std::printf("\ntarget castle produce 100 B acks=1 >= %lld msg/s: %s (%.0f)\n",
              static_cast<long long>(castle_target_msgs_per_s),
              small_acks1.produce_msgs_per_s >= castle_target_msgs_per_s ? "met" : "NOT met",
              small_acks1.produce_msgs_per_s);
  bool beats_mock = true, consume_keeps_up = true;
  for (const auto& [c, m] : rows) {
    beats_mock = beats_mock && c.produce_msgs_per_s >= m.produce_msgs_per_s;
    consume_keeps_up = consume_keeps_up && c.consume_msgs_per_s >= c.produce_msgs_per_s;
  }
  std::printf("target castle produce >= mock in every row: %s\n", beats_mock ? "met" : "NOT met");
  std::printf("target castle consume >= castle produce in every row: %s\n",
              consume_keeps_up ? "met" : "NOT met");
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse_options(argc, argv);
  // The mock cluster lives in this handle's background threads; clients
  // reach it over loopback like any broker.
  Kafka mock_owner = make_client(RD_KAFKA_PRODUCER, make_conf({{"test.mock.num.brokers", "1"}, {"log_level", "4"}}));
  rd_kafka_mock_cluster_t* mc = rd_kafka_handle_mock_cluster(mock_owner.get());
  if (mc == nullptr) die("no mock cluster");
  const Target mock{"mock", rd_kafka_mock_cluster_bootstraps(mc),
                    [mc](const std::string& topic, int partitions) {
                      if (rd_kafka_mock_topic_create(mc, topic.c_str(), partitions, 1))
                        die("mock topic " + topic);
                    }};
  const std::string castle_bootstrap = o.castle;
  const Target castle{"castle", castle_bootstrap,
                      [castle_bootstrap](const std::string& topic, int partitions) {
                        create_topic_by_admin(castle_bootstrap, topic, partitions);
                      }};
  // The cluster: the brokers are the bootstrap list's entries.
  const std::string cluster_bootstrap = o.cluster;
  const int cluster_brokers =
      static_cast<int>(std::count(cluster_bootstrap.begin(), cluster_bootstrap.end(), ',')) + 1;
  const Target cluster{"cluster", cluster_bootstrap,
                       [cluster_bootstrap](const std::string& topic, int partitions) {
                         create_topic_by_admin(cluster_bootstrap, topic, partitions,
                                               cluster_replication_factor,
                                               {{"min.insync.replicas", cluster_min_insync}});
                         wait_for_full_isr(cluster_bootstrap, topic, partitions,
                                           cluster_replication_factor);
                       }};
  if (!o.cluster.empty()) wait_for_brokers(cluster_bootstrap, cluster_brokers);
  std::printf("librdkafka %s, %d partitions, %lld messages at 100 B, %lld at 1 KiB, "
              "latency over %d sequential produces; load average (1 min) %s\n",
              rd_kafka_version_str(), o.partitions, static_cast<long long>(o.count),
              static_cast<long long>(o.count / 4), o.latency_count, load_average().c_str());
  std::printf("rows: mock = librdkafka's mock cluster");
  if (!o.castle.empty()) std::printf(", castle = one castle broker, c/mock = castle over mock");
  if (!o.castle.empty() && !o.write_dir.empty())
    std::printf(",\n      write = write() of the castle row's payload bytes into a new file, "
                "c/write = castle's produce MB/s over it");
  if (!o.cluster.empty())
    std::printf(",\n      cluster = %d castle brokers, replication factor %d, "
                "min.insync.replicas %s, cl/c = cluster over castle",
                cluster_brokers, cluster_replication_factor, cluster_min_insync);
  std::printf("\n\n");
  std::printf("%-7s %5s %4s %12s %8s %12s %8s %10s %9s %9s\n", "target", "bytes", "acks",
              "produce/s", "MB/s", "consume/s", "MB/s", "consumed", "p50 us", "p99 us");
  std::vector<std::pair<Row, Row>> rows;
  for (std::size_t size : message_sizes) {
    for (const char* acks : acks_levels) {
      const Row m = measure(mock, o, size, acks);
      print_row("mock", size, acks, m);
      std::optional<Row> c;
      if (!o.castle.empty()) {
        std::optional<double> w;
        if (!o.write_dir.empty()) {
          const std::int64_t count = size >= 1024 ? o.count / 4 : o.count;
          w = write_ceiling_mb_per_s(o.write_dir, count * static_cast<std::int64_t>(size));
          std::printf("%-7s %5zu %4s %12s %8.1f\n", "write", size, "", "", *w);
        }
        c = measure(castle, o, size, acks);
        print_row("castle", size, acks, *c);
        print_ratio("c/mock", size, acks, *c, m);
        if (w) std::printf("%-7s %5zu %4s %12s %8.2f\n", "c/write", size, acks, "", c->produce_mb_per_s / *w);
        rows.emplace_back(*c, m);
      }
      if (!o.cluster.empty()) {
        const Row k = measure(cluster, o, size, acks);
        print_row("cluster", size, acks, k);
        if (c) print_ratio("cl/c", size, acks, k, *c);
      }
      std::fflush(stdout);
    }
  }
  print_targets(rows);
  std::printf("load average (1 min) at the end: %s\n", load_average().c_str());
  return 0;
}
