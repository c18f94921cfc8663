// InitProducerId (API key 22), versions 0-1, for idempotent producers: a
// new producer id, never handed out before (see producer_ids.h), epoch 0.
// Transactions are not supported: a transactional id is refused with
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED, which clients treat as fatal
// rather than retrying forever.

#include "system/broker/broker_core.h"

namespace castle::broker {

using protocol::ErrorCode;
using protocol::InitProducerIdRequest;
using protocol::InitProducerIdResponse;

namespace {
// Node ids of a cluster stay below this (a bound, not a Kafka setting).
constexpr std::int64_t cluster_producer_id_stride = 1024;
}  // namespace

std::optional<protocol::Response> handle(RequestContext& ctx, InitProducerIdRequest& req) {
  InitProducerIdResponse resp;
  if (req.transactional_id) {
    resp.error_code = ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
    return resp;
  }
  auto id = ctx.broker.producer_ids.next();
  if (!id) {
    resp.error_code = ErrorCode::COORDINATOR_NOT_AVAILABLE;  // retriable
    return resp;
  }
  // In a cluster every broker hands out ids: each takes the ids that are
  // its node id modulo cluster_producer_id_stride, so none collide.
  const std::int64_t pid = ctx.broker.cluster ? *id * cluster_producer_id_stride + ctx.broker.config.node_id % cluster_producer_id_stride : *id;
  resp.producer_id = protocol::ProducerId{pid};
  resp.producer_epoch = protocol::ProducerEpoch{0};
  return resp;
}

}  // namespace castle::broker
