#pragma once
// One Kafka broker node: it hosts partition logs under log.dirs, listens for
// Kafka clients and serves the protocol over the runtime's connections. The
// same code runs as `castle broker` and inside the simulator.
//
// Connections: one reader fiber per connection reads size-prefixed frames
// (a frame over socket.request.max.bytes, or a negative size, closes the
// connection, as Kafka does) into a bounded queue of queued.max.requests;
// one handler fiber answers them strictly in order, because clients
// pipeline (kafka-python sends ApiVersions v0 and Metadata v0 back to back).
// A request whose header cannot be read closes the connection; one whose
// body cannot be decoded is answered with an error when the API allows it.
//
// Durability is the partition log's: the broker syncs only as the flush
// policy (log.flush.interval.*) says, and on clean shutdown.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "system/broker/broker_config.h"
#include "system/runtime/runtime.h"

namespace castle::broker {

struct BrokerStats {
  std::uint64_t connections_accepted = 0;
  std::uint64_t requests = 0;
  std::uint64_t bad_frames = 0;        // undecodable or over-limit frames
  std::uint64_t produced_batches = 0;
  std::uint64_t duplicate_batches = 0;  // idempotent retries answered from the cache
  std::uint64_t fetches = 0;
};

// The planted bugs the broker knows (name, what it breaks), for proving
// that the simulator's checkers catch them. Off unless named in
// BrokerConfig::bugs; `castle bugs` lists them.
const std::vector<std::pair<std::string, std::string>>& planted_bugs();

// The planted bugs of the cluster's modules (Raft, controller,
// replication), switched on by the same BrokerConfig::bugs. Kept apart from
// planted_bugs() because each of those has a library scenario.
const std::vector<std::pair<std::string, std::string>>& cluster_planted_bugs();

class Broker {
 public:
  Broker(Runtime& rt, BrokerConfig config);
  ~Broker();
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  // Recovers every partition log under log.dirs, then listens and spawns the
  // acceptor. Returns once listening (or with the error that prevented it).
  Result<void> start();
  // The address actually bound (port 0 in the config picks one).
  Address local_address() const;
  // Stops accepting, closes every connection, flushes every log and writes
  // its checkpoints. The broker can't be restarted; open a new one.
  Result<void> shutdown();

  const BrokerStats& stats() const;
  const BrokerConfig& config() const;

  struct Impl;

 private:
  // Shared with every fiber of the broker, so a fiber unwinding after the
  // Broker object (a crash kills fibers in id order) still finds it.
  std::shared_ptr<Impl> impl_;
};

}  // namespace castle::broker
