// Placeholder: being implemented.
#include "sim/disk.h"
#include "sim/node.h"
#include "sim/world.h"
namespace castle::sim {
struct SimDisk::Impl {};
SimDisk::SimDisk(World& world, SimNode& node, Rng rng) : world_(world), node_(node), rng_(rng), impl_(std::make_unique<Impl>()) {}
SimDisk::~SimDisk() = default;
Result<std::unique_ptr<File>> SimDisk::open(const std::string&, OpenMode) { return std::errc::not_supported; }
Result<void> SimDisk::rename(const std::string&, const std::string&) { return std::errc::not_supported; }
Result<void> SimDisk::remove(const std::string&) { return std::errc::not_supported; }
Result<void> SimDisk::make_dirs(const std::string&) { return std::errc::not_supported; }
Result<std::vector<std::string>> SimDisk::list(const std::string&) { return std::errc::not_supported; }
bool SimDisk::exists(const std::string&) { return false; }
Result<void> SimDisk::sync_dir(const std::string&) { return std::errc::not_supported; }
void SimDisk::crash() {}
bool SimDisk::flip_random_bit() { return false; }
bool SimDisk::flip_bit(const std::string&, std::uint64_t, int) { return false; }
std::uint64_t SimDisk::used_bytes() const { return 0; }
}  // namespace castle::sim
