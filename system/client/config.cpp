#include "system/client/config.h"

namespace castle::client {
namespace {

Result<void> validate_client(const ClientConfig& c) {
  if (c.bootstrap_servers.empty()) return std::errc::invalid_argument;
  if (c.request_timeout_ms <= 0 || c.max_in_flight_requests_per_connection <= 0)
    return std::errc::invalid_argument;
  return {};
}

}  // namespace

Result<void> validate(const ProducerConfig& c) {
  if (auto r = validate_client(c.client); !r) return r;
  if (c.acks != 0 && c.acks != 1 && c.acks != -1) return std::errc::invalid_argument;
  if (c.batch_size <= 0 || c.linger_ms < 0 || c.delivery_timeout_ms <= 0)
    return std::errc::invalid_argument;
  if (c.enable_idempotence) {
    // Kafka's rules: the broker can deduplicate only what it acknowledged
    // to every replica, and keeps the last five batches per producer.
    if (c.acks != -1 || c.retries <= 0) return std::errc::invalid_argument;
    if (c.client.max_in_flight_requests_per_connection > 5) return std::errc::invalid_argument;
  }
  return {};
}

Result<void> validate(const ConsumerConfig& c) {
  if (auto r = validate_client(c.client); !r) return r;
  if (c.fetch_max_wait_ms < 0 || c.fetch_min_bytes < 0 || c.fetch_max_bytes <= 0 ||
      c.max_partition_fetch_bytes <= 0 || c.max_poll_records <= 0)
    return std::errc::invalid_argument;
  return {};
}

}  // namespace castle::client
