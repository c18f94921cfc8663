#include "system/storage/log.h"

namespace castle::storage {

struct Log::Impl {
  std::vector<EpochEntry> epochs;
};

Log::Log(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Log::~Log() = default;

Result<std::unique_ptr<Log>> Log::open(Runtime& rt, std::string dir, LogConfig config) {
  (void)rt; (void)dir; (void)config;
  return std::errc::not_supported;
}
Result<AppendResult> Log::append_as_leader(std::span<const std::uint8_t>, std::int32_t) {
  return std::errc::not_supported;
}
Result<AppendResult> Log::append_as_follower(std::span<const std::uint8_t>) {
  return std::errc::not_supported;
}
Result<ReadResult> Log::read(std::int64_t, std::size_t, std::optional<std::int64_t>) {
  return std::errc::not_supported;
}
Result<std::optional<std::int64_t>> Log::offset_for_timestamp(std::int64_t) {
  return std::errc::not_supported;
}
Result<void> Log::truncate_to(std::int64_t) { return std::errc::not_supported; }
Result<void> Log::delete_records_before(std::int64_t) { return std::errc::not_supported; }
Result<void> Log::roll() { return std::errc::not_supported; }
Result<void> Log::flush() { return std::errc::not_supported; }
Result<int> Log::enforce_retention() { return std::errc::not_supported; }
std::int64_t Log::log_start_offset() const { return 0; }
std::int64_t Log::log_end_offset() const { return 0; }
std::int64_t Log::recovery_point() const { return 0; }
std::int64_t Log::high_watermark() const { return 0; }
Result<void> Log::set_high_watermark(std::int64_t) { return std::errc::not_supported; }
Result<void> Log::assign_epoch(std::int32_t, std::int64_t) { return std::errc::not_supported; }
const std::vector<EpochEntry>& Log::epochs() const { return impl_->epochs; }
std::optional<std::pair<std::int32_t, std::int64_t>> Log::end_offset_for_epoch(std::int32_t) const {
  return std::nullopt;
}
std::size_t Log::segment_count() const { return 0; }
std::int64_t Log::size_bytes() const { return 0; }

}  // namespace castle::storage
