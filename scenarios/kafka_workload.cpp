// The Kafka system's workload: each client node runs a producer and a
// consumer from system/client and records every operation in the Jepsen
// Kafka history shape (send, poll, assign).
//
// Two shapes:
// - closed loop (kafka.rate_per_s 0): one fiber draws each operation
//   (assign, poll or send by the scenario's fractions), waits for its
//   outcome, and sleeps interval_ms;
// - open loop (kafka.rate_per_s N): a fiber sends N records a second
//   without waiting for their acknowledgements, as a real producer under
//   load does, while the main fiber polls continuously. Each send in flight
//   is a history process of its own (Jepsen's convention: a process has one
//   operation at a time), taken from the client's pool and given back when
//   the send completes. Only the first kafka.consumers clients poll.
#include <algorithm>
#include <deque>
#include <map>

#include "scenarios/kafka_harness.h"
#include "system/runtime/sync.h"

namespace castle::scenarios {

namespace {

client::Bytes make_value(std::int64_t v, int bytes) {
  std::string s = std::to_string(v) + ":";
  if (static_cast<int>(s.size()) < bytes) s.append(static_cast<std::size_t>(bytes) - s.size(), 'x');
  return client::to_bytes(s);
}

// The value a record carries, or -1 if it is not one this workload wrote.
std::int64_t parse_value(const std::optional<client::Bytes>& b) {
  if (!b) return -1;
  std::int64_t v = 0;
  std::size_t i = 0;
  for (; i < b->size() && (*b)[i] >= '0' && (*b)[i] <= '9'; ++i) v = v * 10 + ((*b)[i] - '0');
  return i > 0 && i < b->size() && (*b)[i] == ':' ? v : -1;
}

std::int32_t pick_partition(KafkaHarness& hx, Runtime& rt) {
  return static_cast<std::int32_t>(rt.rng().below(static_cast<std::uint64_t>(hx.s.kafka.partitions)));
}

// Records a send's invocation and hands the record to the producer.
Future<client::DeliveryReport> invoke_send(KafkaHarness& hx, std::int64_t process, std::int32_t partition,
                                           client::Producer& producer, history::Op* invoke) {
  const std::int64_t value = hx.next_value++;
  invoke->process = process;
  invoke->f = "send";
  invoke->sends.push_back({key_of(partition), value, std::nullopt});
  hx.record(*invoke);
  ++hx.result.stats.sends;
  client::ProducerRecord rec;
  rec.topic = kafka_topic;
  rec.partition = partition;
  rec.value = make_value(value, hx.s.payload_bytes);
  return producer.send(std::move(rec));
}

// Records a send's completion: ok with its offset, or info (a producer
// error after retries, a timeout or a lost connection does not say whether
// the broker stored the batch: outcome unknown).
void complete_send(KafkaHarness& hx, int client, history::Op done, std::int32_t partition,
                   FutureStatus waited, Future<client::DeliveryReport>& fut) {
  if (waited == FutureStatus::ready && fut.value().ok()) {
    done.type = history::OpType::ok;
    if (fut.value().offset >= 0) {  // none with acks=0
      done.sends[0].offset = fut.value().offset;
      auto& end = hx.acked_end[partition];
      end = std::max(end, fut.value().offset + 1);
    }
    ++hx.result.stats.acked;
    if (hx.world.now() >= hx.faults_end_ns) {
      hx.healed_ok[static_cast<std::size_t>(client)] = true;
      hx.healed_acked[partition] = hx.world.now();
    }
  } else {
    done.type = history::OpType::info;
    done.error = waited == FutureStatus::ready ? fut.value().error.message() : "no delivery report";
    ++hx.result.stats.unknown;
    if (hx.world.now() >= hx.faults_end_ns) hx.healed_failed[static_cast<std::size_t>(client)][partition] = hx.world.now();
  }
  hx.record(std::move(done));
}

// How long a workload waits for a delivery report: past the producer's
// delivery timeout (4 x timeout_ms), so that the producer decides.
Instant report_deadline(KafkaHarness& hx, Runtime& rt) {
  return rt.now() + milliseconds(4 * hx.s.timeout_ms + 1000);
}

void do_send(KafkaHarness& hx, Runtime& rt, int client, client::Producer& producer) {
  const std::int32_t partition = pick_partition(hx, rt);
  history::Op invoke;
  auto fut = invoke_send(hx, client, partition, producer, &invoke);
  const auto waited = fut.wait(rt, report_deadline(hx, rt));
  complete_send(hx, client, std::move(invoke), partition, waited, fut);
}

// An open-loop client's sends in flight. Those of one partition complete in
// the order they were sent (one producer acknowledges a partition's batches
// in order), so each partition with sends pending has a fiber that waits on
// the oldest and records it; the fiber ends when none are left.
class OpenLoopSends {
 public:
  OpenLoopSends(KafkaHarness& hx, Runtime& rt, int client, client::Producer& producer)
      : hx_(hx), rt_(rt), client_(client), producer_(producer),
        process_base_(open_loop_process_base * (client + 1)) {}

  void send_one() {
    const std::int32_t partition = pick_partition(hx_, rt_);
    InFlight f;
    f.fut = invoke_send(hx_, take_process(), partition, producer_, &f.invoke);
    auto& q = pending_[partition];
    q.push_back(std::move(f));
    if (q.size() == 1) start_completer(partition);
  }
  // Waits until every send in flight is recorded complete.
  void drain() {
    while (completers_ > 0) idle_.wait(rt_);
  }

 private:
  // Above every client and the reader: process ids of in-flight sends.
  static constexpr std::int64_t open_loop_process_base = 1'000'000;
  struct InFlight {
    history::Op invoke;
    Future<client::DeliveryReport> fut;
  };

  std::int64_t take_process() {
    if (free_.empty()) return process_base_ + next_slot_++;
    const std::int64_t p = free_.back();
    free_.pop_back();
    return p;
  }
  void start_completer(std::int32_t partition) {
    ++completers_;
    rt_.spawn("send-reports", [this, partition] {
      auto& q = pending_[partition];
      while (!q.empty()) {
        InFlight& f = q.front();
        const auto waited = f.fut.wait(rt_, report_deadline(hx_, rt_));
        free_.push_back(f.invoke.process);
        complete_send(hx_, client_, std::move(f.invoke), partition, waited, f.fut);
        q.pop_front();
      }
      if (--completers_ == 0) idle_.notify_all();
    });
  }

  KafkaHarness& hx_;
  Runtime& rt_;
  int client_;
  client::Producer& producer_;
  std::int64_t process_base_;
  std::int64_t next_slot_ = 0;
  std::vector<std::int64_t> free_;
  std::map<std::int32_t, std::deque<InFlight>> pending_;
  int completers_ = 0;
  WaitList idle_;
};

// Sends at kafka.rate_per_s on a fixed schedule: a send that is late (the
// producer blocked on buffer.memory) does not shift the ones after it.
void open_loop_sender(KafkaHarness& hx, Runtime& rt, OpenLoopSends& sends) {
  const Duration period = nanoseconds(1'000'000'000 / hx.s.kafka.rate_per_s);
  Instant next = rt.now();
  while (hx.workload_on) {
    sends.send_one();
    next += period;
    if (next > rt.now()) rt.sleep_until(next);
  }
}

void run_closed_loop(KafkaHarness& hx, Runtime& rt, int client, client::Producer& producer,
                     client::Consumer& consumer) {
  while (hx.workload_on) {
    const double r = rt.rng().unit();
    if (r < hx.s.kafka.assign_fraction) {
      do_assign(hx, rt, client, consumer, false);
    } else if (r < hx.s.kafka.assign_fraction + hx.s.kafka.poll_fraction) {
      do_poll(hx, client, consumer);
    } else {
      do_send(hx, rt, client, producer);
    }
    rt.sleep_for(milliseconds(hx.s.interval_ms));
  }
}

void run_open_loop(KafkaHarness& hx, Runtime& rt, int client, client::Producer& producer,
                   client::Consumer& consumer) {
  OpenLoopSends sends(hx, rt, client, producer);
  Task sender = rt.spawn("open-loop-sender", [&] { open_loop_sender(hx, rt, sends); });
  const bool polls = hx.s.kafka.consumers < 0 || client < hx.s.kafka.consumers;
  while (hx.workload_on && polls) {
    if (rt.rng().unit() < hx.s.kafka.assign_fraction) {
      do_assign(hx, rt, client, consumer, false);
    } else {
      do_poll(hx, client, consumer);
    }
    rt.sleep_for(milliseconds(hx.s.interval_ms));
  }
  sender.join();
  sends.drain();
}

}  // namespace

void do_poll(KafkaHarness& hx, std::int64_t process, client::Consumer& consumer) {
  history::Op invoke;
  invoke.process = process;
  invoke.f = "poll";
  hx.record(invoke);
  auto got = consumer.poll(milliseconds(std::min<std::int64_t>(hx.s.timeout_ms, 200)));
  history::Op done = invoke;
  if (!got) {
    done.type = history::OpType::info;
    done.error = got.error().message();
  } else {
    done.type = history::OpType::ok;
    // A poll returns each partition's records together: find the key's
    // list once per run of records, not once per record.
    std::vector<std::pair<std::int64_t, std::int64_t>>* read = nullptr;
    std::int32_t partition = -1;
    for (const auto& r : *got) {
      if (read == nullptr || r.partition != partition) {
        partition = r.partition;
        read = &done.polls[key_of(partition)];
      }
      read->emplace_back(r.offset, parse_value(r.value));
    }
  }
  hx.record(std::move(done));
}

void do_assign(KafkaHarness& hx, Runtime& rt, std::int64_t process, client::Consumer& consumer,
               bool everything) {
  std::vector<client::TopicPartition> tps;
  for (const auto& tp : hx.all_partitions())
    if (everything || rt.rng().chance(0.5)) tps.push_back(tp);
  if (tps.empty()) tps.push_back(hx.all_partitions()[rt.rng().below(hx.all_partitions().size())]);
  record_assign(hx, process, consumer, tps);
}

void record_assign(KafkaHarness& hx, std::int64_t process, client::Consumer& consumer,
                   const std::vector<client::TopicPartition>& tps) {
  history::Op invoke;
  invoke.process = process;
  invoke.f = "assign";
  for (const auto& tp : tps) invoke.keys.push_back(tp.to_string());
  hx.record(invoke);
  consumer.assign(tps);
  history::Op done = invoke;
  done.type = history::OpType::ok;
  hx.record(std::move(done));
}

void client_main(KafkaHarness& hx, int client, Runtime& rt) {
  ++hx.clients_running;
  client::ProducerConfig pc;
  pc.client = hx.client_config();
  pc.acks = static_cast<std::int16_t>(hx.s.kafka.acks);
  pc.enable_idempotence = hx.s.kafka.idempotence;
  pc.linger_ms = hx.s.kafka.linger_ms;
  pc.delivery_timeout_ms = 4 * hx.s.timeout_ms;
  client::ConsumerConfig cc;
  cc.client = hx.client_config();
  cc.auto_offset_reset = client::OffsetReset::earliest;
  cc.fetch_max_wait_ms = 100;
  auto producer = client::Producer::create(rt, pc);
  auto consumer = client::Consumer::create(rt, cc);
  CASTLE_ASSERT(producer && consumer, "the workload's client configuration is valid");
  do_assign(hx, rt, client, **consumer, true);
  if (hx.s.kafka.rate_per_s > 0) {
    run_open_loop(hx, rt, client, **producer, **consumer);
  } else {
    run_closed_loop(hx, rt, client, **producer, **consumer);
  }
  (*producer)->close(milliseconds(0));
  (*consumer)->close();
  --hx.clients_running;
}

}  // namespace castle::scenarios
