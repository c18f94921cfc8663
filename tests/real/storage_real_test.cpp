// The partition log on the real disk (a mkdtemp directory): the same code as
// in simulation appends across several segments, flushes, and after a
// process-level restart (a new RealRuntime over the same directory) reopens
// with every batch intact, readable by offset and by timestamp, and carries
// on appending at the end. Writes never flushed also survive a process
// restart (the OS keeps them), which exercises recovery past the recovery
// point on real files.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "real/real_runtime.h"
#include "system/storage/log.h"
#include "tests/real/real_test_util.h"
#include "tests/storage/log_test_util.h"

namespace castle::real {
namespace {

using storage::Bytes;
using storage::Log;
using storage::LogConfig;
using testing::config_for;
using testing::run_fiber;
using testing::TempDir;

const std::string dir = "topic-0";

LogConfig small_segments() {
  LogConfig c;
  c.segment_bytes = 64 * 1024;
  c.index_interval_bytes = 1024;
  c.segment_index_bytes = 64 * 1024;
  return c;
}

// Appends `count` batches of 10 records x 100 bytes with timestamps from
// ts0; returns them as stored.
std::vector<Bytes> append_batches(Log& log, Rng& rng, int count, std::int64_t ts0) {
  std::vector<Bytes> stored;
  for (int i = 0; i < count; ++i) {
    const Bytes b = storage::testing::make_batch(rng, 10, 100, ts0 + i);
    const std::int64_t base = log.log_end_offset();
    auto r = log.append_as_leader(b, 7);
    EXPECT_TRUE(r.ok()) << r.error().message();
    if (!r.ok()) break;
    stored.push_back(storage::testing::as_stored(b, base, 7));
  }
  return stored;
}

// Opens the log in a fresh runtime over `tmp`, checks it holds exactly
// `want`, then runs `more` on it.
void reopen_and_check(const TempDir& tmp, const std::vector<Bytes>& want,
                      const std::function<void(Log&)>& more = {}) {
  RealRuntime rt(config_for(tmp));
  run_fiber(rt, [&] {
    auto log = Log::open(rt, dir, small_segments());
    ASSERT_TRUE(log.ok()) << log.error().message();
    auto scan = storage::testing::full_scan(**log, 100'000);
    EXPECT_EQ(scan.error, "");
    EXPECT_EQ(storage::testing::density_error(scan), "");
    EXPECT_EQ(scan.batches.size(), want.size());
    EXPECT_TRUE(scan.batches == want) << "the reopened log differs from what was appended";
    if (more) more(**log);
  }, std::chrono::seconds(30));
}

// Proves that flushed batches across several segments survive a process
// restart and that reads by offset and timestamp work on the reopened log.
TEST(StorageReal, FlushedLogSurvivesAProcessRestart) {
  TempDir tmp;
  std::vector<Bytes> appended;
  {
    RealRuntime rt(config_for(tmp));
    run_fiber(rt, [&] {
      auto log = Log::open(rt, dir, small_segments());
      ASSERT_TRUE(log.ok()) << log.error().message();
      Rng rng(1);
      appended = append_batches(**log, rng, 300, 1'000'000);  // ~340 KiB: six segments
      ASSERT_EQ(appended.size(), 300u);
      ASSERT_TRUE((*log)->flush().ok());
      EXPECT_GE((*log)->segment_count(), 5u);
      EXPECT_EQ((*log)->recovery_point(), 3000);
    }, std::chrono::seconds(30));
  }
  reopen_and_check(tmp, appended, [&](Log& log) {
    EXPECT_EQ(log.log_end_offset(), 3000);
    auto r = log.read(1234, 1);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(storage::BatchView(r->bytes).base_offset(), 1230);
    auto by_time = log.offset_for_timestamp(1'000'000 + 200);
    ASSERT_TRUE(by_time.ok());
    EXPECT_EQ(*by_time, std::optional<std::int64_t>(2000));
    Rng rng(2);
    auto more = append_batches(log, rng, 1, 2'000'000);
    ASSERT_EQ(more.size(), 1u);
    EXPECT_EQ(storage::BatchView(more[0]).base_offset(), 3000);
  });
}

// Proves that batches appended after the last flush are recovered after a
// process restart: they are past the recovery point, validated on open, and
// kept because the OS still holds them.
TEST(StorageReal, UnflushedTailIsRecoveredAfterAProcessRestart) {
  TempDir tmp;
  std::vector<Bytes> appended;
  {
    RealRuntime rt(config_for(tmp));
    run_fiber(rt, [&] {
      auto log = Log::open(rt, dir, small_segments());
      ASSERT_TRUE(log.ok()) << log.error().message();
      Rng rng(3);
      appended = append_batches(**log, rng, 50, 0);
      ASSERT_TRUE((*log)->flush().ok());
      auto tail = append_batches(**log, rng, 100, 50);
      appended.insert(appended.end(), tail.begin(), tail.end());
      EXPECT_EQ((*log)->recovery_point(), 500);
    }, std::chrono::seconds(30));
  }
  reopen_and_check(tmp, appended);
}

}  // namespace
}  // namespace castle::real
