#pragma once
// Errors of the client, as std::error_code values so that they travel in a
// Result<T> beside the runtime's network errors (connection_reset,
// timed_out, ...). A Kafka error code from a response becomes a code of
// kafka_category(); the client's own failures use client_category().

#include <optional>
#include <system_error>

#include "system/protocol/error_code.h"

namespace castle::client {

using protocol::ErrorCode;

const std::error_category& kafka_category();
std::error_code kafka_error(ErrorCode code);
// The Kafka code an error carries, if it is one.
std::optional<ErrorCode> as_kafka_error(std::error_code ec);

// Failures that are the client's own, not the broker's.
enum class ClientError {
  ok = 0,
  bad_response = 1,         // a response frame that does not decode or match its request
  no_common_version = 2,    // the broker supports no version of an API the client needs
  delivery_timeout = 3,     // delivery.timeout.ms passed before the send succeeded
  metadata_unavailable = 4, // no broker answered Metadata, or the topic has no leader
  record_too_large = 5,     // a fetched batch is larger than the fetch limits allow
  no_offset = 6,            // auto.offset.reset=none and the position is unknown or out of range
  closed = 7,               // the producer, consumer or admin was closed
  not_assigned = 8,         // the partition is not assigned to this consumer
};
const std::error_category& client_category();
std::error_code client_error(ClientError e);

// Errors after which a produce or fetch is worth retrying (Kafka's
// RetriableException subclasses among the codes the client meets).
bool is_retriable(ErrorCode code);
// Errors that mean the client's idea of the cluster is stale.
bool needs_metadata_refresh(ErrorCode code);
// A network failure (reset, refused, timed out, closed) rather than a
// broker's answer: retriable, and a reason to refresh metadata.
bool is_network_error(std::error_code ec);

}  // namespace castle::client
