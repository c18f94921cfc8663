// Placeholder: being implemented.
#include "sim/network.h"
#include "sim/node.h"
#include "sim/world.h"
namespace castle::sim {
struct SimNetwork::Impl {};
SimNetwork::SimNetwork(World& world) : world_(world), impl_(std::make_unique<Impl>()) {}
SimNetwork::~SimNetwork() = default;
void SimNetwork::on_crash(int) {}
Result<std::unique_ptr<Listener>> SimNodeNet::listen(const Address&) { return std::errc::not_supported; }
Result<std::unique_ptr<Connection>> SimNodeNet::connect(const Address&, Duration) { return std::errc::not_supported; }
}  // namespace castle::sim
