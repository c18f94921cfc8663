#include "system/client/errors.h"

#include <string>

namespace castle::client {
namespace {

class KafkaCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "kafka"; }
  std::string message(int code) const override {
    return protocol::to_string(static_cast<ErrorCode>(code));
  }
};

class ClientCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "castle-client"; }
  std::string message(int code) const override {
    switch (static_cast<ClientError>(code)) {
      case ClientError::ok: return "ok";
      case ClientError::bad_response: return "bad response";
      case ClientError::no_common_version: return "no common API version";
      case ClientError::delivery_timeout: return "delivery timeout";
      case ClientError::metadata_unavailable: return "metadata unavailable";
      case ClientError::record_too_large: return "record too large for the fetch limits";
      case ClientError::no_offset: return "no offset and auto.offset.reset=none";
      case ClientError::closed: return "closed";
      case ClientError::not_assigned: return "partition not assigned";
    }
    return "unknown client error";
  }
};

}  // namespace

const std::error_category& kafka_category() {
  static const KafkaCategory category;
  return category;
}

std::error_code kafka_error(ErrorCode code) {
  return {static_cast<int>(code), kafka_category()};
}

std::optional<ErrorCode> as_kafka_error(std::error_code ec) {
  if (ec.category() != kafka_category()) return std::nullopt;
  return static_cast<ErrorCode>(ec.value());
}

const std::error_category& client_category() {
  static const ClientCategory category;
  return category;
}

std::error_code client_error(ClientError e) { return {static_cast<int>(e), client_category()}; }

bool is_retriable(ErrorCode code) {
  switch (code) {
    case ErrorCode::CORRUPT_MESSAGE:
    case ErrorCode::UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode::LEADER_NOT_AVAILABLE:
    case ErrorCode::NOT_LEADER_OR_FOLLOWER:
    case ErrorCode::REQUEST_TIMED_OUT:
    case ErrorCode::NETWORK_EXCEPTION:
    case ErrorCode::NOT_ENOUGH_REPLICAS:
    case ErrorCode::NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case ErrorCode::KAFKA_STORAGE_ERROR:
    case ErrorCode::FENCED_LEADER_EPOCH:
    case ErrorCode::UNKNOWN_LEADER_EPOCH:
    case ErrorCode::OFFSET_NOT_AVAILABLE:
    case ErrorCode::COORDINATOR_LOAD_IN_PROGRESS:
    case ErrorCode::COORDINATOR_NOT_AVAILABLE:
    case ErrorCode::NOT_COORDINATOR:
      return true;
    default:
      return false;
  }
}

bool needs_metadata_refresh(ErrorCode code) {
  switch (code) {
    case ErrorCode::UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode::LEADER_NOT_AVAILABLE:
    case ErrorCode::NOT_LEADER_OR_FOLLOWER:
    case ErrorCode::FENCED_LEADER_EPOCH:
    case ErrorCode::UNKNOWN_LEADER_EPOCH:
    case ErrorCode::KAFKA_STORAGE_ERROR:
      return true;
    default:
      return false;
  }
}

bool is_network_error(std::error_code ec) {
  if (ec.category() != std::generic_category() && ec.category() != std::system_category())
    return false;
  switch (static_cast<std::errc>(ec.value())) {
    case std::errc::connection_refused:
    case std::errc::connection_reset:
    case std::errc::connection_aborted:
    case std::errc::broken_pipe:
    case std::errc::timed_out:
    case std::errc::operation_canceled:
    case std::errc::not_connected:
    case std::errc::host_unreachable:
    case std::errc::network_unreachable:
    case std::errc::address_not_available:
      return true;
    default:
      return false;
  }
}

}  // namespace castle::client
