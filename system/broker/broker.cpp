// Skeleton: replaced by the broker implementation.
#include "system/broker/broker.h"

namespace castle::broker {
struct Broker::Impl {
  Runtime& rt;
  BrokerConfig config;
  BrokerStats stats;
};
Broker::Broker(Runtime& rt, BrokerConfig config)
    : impl_(std::make_unique<Impl>(Impl{rt, std::move(config), {}})) {}
Broker::~Broker() = default;
Result<void> Broker::start() { return std::errc::not_supported; }
Address Broker::local_address() const { return impl_->config.listen; }
Result<void> Broker::shutdown() { return {}; }
const BrokerStats& Broker::stats() const { return impl_->stats; }
const BrokerConfig& Broker::config() const { return impl_->config; }
}  // namespace castle::broker
