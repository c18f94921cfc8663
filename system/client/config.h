#pragma once
// Client configuration, with the names and (mostly) the defaults of Kafka's
// Java client. Durations are in milliseconds, as Kafka's are.
//
// Defaults that differ from Kafka 3.x: enable.idempotence is false (Kafka 3
// turns it on unless acks or max.in.flight forbid it; here it is asked for
// explicitly), and linger.ms is 0 as before Kafka 4.

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "system/runtime/net.h"
#include "system/runtime/result.h"

namespace castle::client {

// What every client (producer, consumer, admin) shares.
struct ClientConfig {
  std::vector<Address> bootstrap_servers;               // bootstrap.servers
  std::string client_id = "castle";                     // client.id
  std::int64_t request_timeout_ms = 30000;              // request.timeout.ms
  std::int64_t socket_connection_setup_timeout_ms = 10000;  // socket.connection.setup.timeout.ms
  std::int64_t reconnect_backoff_ms = 50;               // reconnect.backoff.ms
  std::int64_t retry_backoff_ms = 100;                  // retry.backoff.ms
  std::int64_t metadata_max_age_ms = 300000;            // metadata.max.age.ms
  std::int32_t max_in_flight_requests_per_connection = 5;  // max.in.flight.requests.per.connection
  bool allow_auto_create_topics = true;                 // allow.auto.create.topics
  // Planted bugs (client::planted_bugs()) a test run selects to prove the
  // checkers catch them; empty in real use.
  std::set<std::string> bugs;
  // Empty outside planted-bug runs: no string is built for the lookup then.
  bool bug(const char* name) const { return !bugs.empty() && bugs.count(name) != 0; }
};

// Every planted bug of the client (name, what it breaks), for `castle bugs`.
const std::vector<std::pair<std::string, std::string>>& planted_bugs();

struct ProducerConfig {
  ClientConfig client;
  std::int16_t acks = -1;                        // acks: 0, 1 or -1 (all)
  std::int64_t linger_ms = 0;                    // linger.ms
  std::int32_t batch_size = 16384;               // batch.size (bytes per partition batch)
  std::int64_t delivery_timeout_ms = 120000;     // delivery.timeout.ms
  std::int32_t retries = 2147483647;             // retries
  bool enable_idempotence = false;               // enable.idempotence
  std::int64_t max_block_ms = 60000;             // max.block.ms (waiting for metadata in send)
  std::int32_t max_request_size = 1048576;       // max.request.size
  std::int64_t buffer_memory = 33554432;         // buffer.memory (bytes queued, bound on send)
};

// How a consumer finds a position it lacks or that fell out of range.
enum class OffsetReset { earliest, latest, none };

struct ConsumerConfig {
  ClientConfig client;
  std::int32_t fetch_max_wait_ms = 500;                // fetch.max.wait.ms
  std::int32_t fetch_min_bytes = 1;                    // fetch.min.bytes
  std::int32_t fetch_max_bytes = 52428800;             // fetch.max.bytes
  std::int32_t max_partition_fetch_bytes = 1048576;    // max.partition.fetch.bytes
  OffsetReset auto_offset_reset = OffsetReset::latest; // auto.offset.reset
  std::int32_t max_poll_records = 500;                 // max.poll.records
};

// Checks the rules Kafka enforces at construction: idempotence needs
// acks=all, retries > 0 and at most 5 requests in flight.
Result<void> validate(const ProducerConfig& c);
Result<void> validate(const ConsumerConfig& c);

}  // namespace castle::client
