#pragma once
// A simulated world with one broker node and one client node, and a raw
// Kafka wire client (the codec over a runtime connection) for tests that
// must see exactly what the broker answers.

#include <gtest/gtest.h>

#include <exception>
#include <memory>

#include "sim/node.h"
#include "tests/sim/node_rig.h"
#include "sim/world.h"
#include "system/broker/broker.h"
#include "system/protocol/messages.h"
#include "system/runtime/sync.h"
#include "system/storage/batch_builder.h"
#include "system/util/endian.h"

namespace castle::broker::testing {

using namespace castle::protocol;

inline constexpr std::uint16_t broker_port = 9092;

// Requests and responses over one connection, with the codec.
class Wire {
 public:
  // Retries for a while: the broker may still be recovering its logs.
  Wire(Runtime& rt, const Address& a) : rt_(rt) {
    for (int attempt = 0; attempt < 50 && !conn_; ++attempt) {
      auto c = rt.net().connect(a, seconds(5));
      if (c) {
        conn_ = std::move(*c);
      } else {
        rt.sleep_for(milliseconds(100));
      }
    }
  }
  bool connected() const { return conn_ != nullptr; }
  Connection& conn() { return *conn_; }

  // Sends a request; returns its correlation id.
  std::int32_t send(std::int16_t version, const Request& body) {
    RequestHeader h;
    h.api_key = std::visit([](const auto& r) { return std::decay_t<decltype(r)>::api_key; }, body);
    h.api_version = version;
    h.correlation_id = next_correlation_++;
    h.client_id = "broker-test";
    const Bytes frame = encode_request_frame(h, body);
    EXPECT_TRUE(conn_->write(frame).ok());
    return h.correlation_id;
  }
  // Reads one response frame; nullopt if the connection ended.
  std::optional<ParsedResponse> recv(ApiKey key, std::int16_t version,
                                     Duration timeout = seconds(30)) {
    std::uint8_t prefix[4];
    auto got = read_exact(*conn_, prefix, rt_.now() + timeout);
    if (!got.status || got.end_of_stream) return std::nullopt;
    Bytes body(load_be(prefix, 4));
    if (!read_exact(*conn_, body).status) return std::nullopt;
    auto r = decode_response(key, version, body);
    EXPECT_TRUE(r.ok());
    if (!r) return std::nullopt;
    return std::move(r).value();
  }
  template <class Resp, class Req>
  Resp call(std::int16_t version, Req req) {
    const auto corr = send(version, Request{std::move(req)});
    auto r = recv(Resp::api_key, version);
    if (!r) {
      ADD_FAILURE() << "no response";
      return Resp{};
    }
    EXPECT_EQ(r->header.correlation_id, corr);
    return std::get<Resp>(r->body);
  }

 private:
  Runtime& rt_;
  std::unique_ptr<Connection> conn_;
  std::int32_t next_correlation_ = 1;
};

struct Rig {
  explicit Rig(std::uint64_t seed = 1, BrokerConfig cfg = {})
      : world(seed), broker_node(world.add_node("broker")), client_node(world.add_node("client")) {
    cfg.listen = Address{"broker", broker_port};
    cfg.advertised = cfg.listen;
    cfg.log_dir = "kafka-logs";
    config = cfg;
    broker_node.set_main([this](Runtime& rt) {
      Broker b(rt, config);
      auto r = b.start();
      if (!r) {
        start_error = r.error();
        return;
      }
      broker = &b;
      Event forever;
      forever.wait(rt);
    });
    broker_node.start();
  }

  // Runs body on the client node until it ends (or limit of simulated time).
  bool run(std::function<void(Runtime&)> body, Duration limit = seconds(600)) {
    return sim::testing::run_step(world, client_node, std::move(body), limit);
  }

  void crash_and_restart_broker() {
    broker = nullptr;
    broker_node.crash();
    broker_node.restart();
  }

  Address address() const { return config.listen; }

  sim::World world;
  sim::SimNode& broker_node;
  sim::SimNode& client_node;
  BrokerConfig config;
  Broker* broker = nullptr;
  std::error_code start_error;
};

// One uncompressed batch of records with the given values (keys "k<i>").
inline Bytes make_batch(const std::vector<std::string>& values, std::int64_t ts = 1000,
                        storage::BatchOptions opts = {}) {
  std::vector<storage::Record> recs;
  for (std::size_t i = 0; i < values.size(); ++i) {
    storage::Record r;
    const std::string key = "k" + std::to_string(i);
    r.key = Bytes(key.begin(), key.end());
    r.value = Bytes(values[i].begin(), values[i].end());
    r.timestamp_ms = ts + static_cast<std::int64_t>(i);
    recs.push_back(std::move(r));
  }
  return storage::build_batch(recs, opts);
}

inline std::vector<std::string> values_of(const std::optional<Bytes>& records) {
  std::vector<std::string> out;
  if (!records) return out;
  auto batches = storage::split_batches(*records);
  if (!batches) return out;
  for (auto b : *batches) {
    auto recs = storage::decode_batch(b);
    if (!recs) continue;
    for (auto& r : *recs) out.emplace_back(r.record.value->begin(), r.record.value->end());
  }
  return out;
}

}  // namespace castle::broker::testing
