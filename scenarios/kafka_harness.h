#pragma once
// The Kafka system's run state, shared by its runner (system_kafka.cpp:
// brokers, cluster, liveness and verdict) and its workload
// (kafka_workload.cpp: the clients' sends, polls and assigns). Internal to
// scenarios/.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "checkers/history.h"
#include "scenarios/run.h"
#include "scenarios/scenario.h"
#include "sim/world.h"
#include "system/client/consumer.h"
#include "system/client/producer.h"

namespace castle::scenarios {

inline constexpr std::uint16_t kafka_port = 9092;
inline constexpr std::uint16_t controller_port = 9093;
inline constexpr const char* kafka_topic = "t";
// The final reader's process id; clients are 0.., an open-loop client's
// in-flight sends take ids of their own (kafka_workload.cpp).
inline constexpr std::int64_t reader_process = 100000;

inline std::string key_of(std::int32_t partition) {
  return std::string(kafka_topic) + "-" + std::to_string(partition);
}

struct KafkaHarness {
  KafkaHarness(sim::World& w, const Scenario& sc, RunResult& r) : world(w), s(sc), result(r) {}
  sim::World& world;
  const Scenario& s;
  RunResult& result;
  std::int64_t next_value = 0;
  sim::SimTime faults_end_ns = 0;
  bool workload_on = true;
  int clients_running = 0;
  std::vector<bool> healed_ok;
  // By client: the partitions of sends that failed after the faults ended
  // (what a client with none acknowledged was trying to reach), with the
  // time of the last such failure.
  std::vector<std::map<std::int32_t, sim::SimTime>> healed_failed;
  // By partition: the last acknowledgement after the faults ended.
  std::map<std::int32_t, sim::SimTime> healed_acked;
  bool read_done = false;
  // Partitions the final read has read to their ends (not read again when
  // another partition keeps it from completing).
  std::set<std::int32_t> read_complete;
  // Per partition, the offset after the highest acknowledged one.
  std::map<std::int32_t, std::int64_t> acked_end;
  sim::SimTime read_started_ns = -1;

  void record(history::Op op) {
    op.time_ns = world.now();
    result.history.add(std::move(op));
  }
  client::ClientConfig client_config() const {
    client::ClientConfig c;
    for (const auto& name : server_names(s)) c.bootstrap_servers.push_back(Address{name, kafka_port});
    c.request_timeout_ms = s.timeout_ms;
    c.socket_connection_setup_timeout_ms = s.timeout_ms;
    c.bugs = s.bugs;
    return c;
  }
  std::vector<client::TopicPartition> all_partitions() const {
    std::vector<client::TopicPartition> v;
    for (int p = 0; p < s.kafka.partitions; ++p) v.push_back({kafka_topic, p});
    return v;
  }
};

// Client `client` (a node of its own): a producer and a consumer driven by
// the scenario's workload until hx.workload_on goes false.
void client_main(KafkaHarness& hx, int client, Runtime& rt);
// One poll / one (re)assignment, recorded in the history as `process`.
void do_poll(KafkaHarness& hx, std::int64_t process, client::Consumer& consumer);
void do_assign(KafkaHarness& hx, Runtime& rt, std::int64_t process, client::Consumer& consumer,
               bool everything);
// Assigns exactly these partitions, as one more assign in the history.
void record_assign(KafkaHarness& hx, std::int64_t process, client::Consumer& consumer,
                   const std::vector<client::TopicPartition>& tps);

}  // namespace castle::scenarios
