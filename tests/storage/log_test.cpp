// The partition log on a simulated node: appends and reads across segments,
// the sparse indexes, rolls, retention, truncation, checkpoints and recovery
// after crashes and corruption. Each test runs its steps as fibers of one
// simulated node, so every disk operation goes through the simulated disk.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/disk.h"
#include "sim/node.h"
#include "sim/world.h"
#include "system/storage/batch.h"
#include "system/storage/batch_builder.h"
#include "system/storage/log.h"
#include "tests/sim/node_rig.h"

namespace castle::storage {
namespace {

const std::string dir = "topic-0";

using Rig = sim::testing::NodeRig;

// A batch of `count` records of value_bytes each, all stamped ts_ms.
Bytes make_batch(int count, std::int64_t ts_ms, std::size_t value_bytes = 20, bool append_time = false) {
  std::vector<Record> records;
  for (int i = 0; i < count; ++i) {
    Record r;
    r.value = Bytes(value_bytes, static_cast<std::uint8_t>('a' + i % 26));
    r.timestamp_ms = ts_ms;
    records.push_back(std::move(r));
  }
  BatchOptions options;
  options.log_append_time = append_time;
  return build_batch(records, options);
}

std::unique_ptr<Log> open_log(Runtime& rt, const LogConfig& config) {
  auto log = Log::open(rt, dir, config);
  EXPECT_TRUE(log.ok()) << log.error().message();
  return log.ok() ? std::move(*log) : nullptr;
}

AppendResult append_ok(Log& log, const Bytes& batch, std::int32_t epoch = 0) {
  auto r = log.append_as_leader(batch, epoch);
  EXPECT_TRUE(r.ok()) << r.error().message();
  return r.ok() ? *r : AppendResult{};
}

// Every batch of the log (from the log start), each checked for its CRC and
// dense offsets.
std::vector<Bytes> read_all(Log& log) {
  std::vector<Bytes> out;
  std::int64_t offset = log.log_start_offset();
  while (offset < log.log_end_offset()) {
    auto r = log.read(offset, 1 << 16);
    EXPECT_TRUE(r.ok()) << "offset " << offset << ": " << r.error().message();
    if (!r.ok()) break;
    auto batches = split_batches(r->bytes);
    EXPECT_TRUE(batches.ok());
    if (!batches.ok() || batches->empty()) break;
    for (auto b : *batches) {
      const BatchView v(b);
      EXPECT_LE(v.base_offset(), offset);
      EXPECT_GT(v.next_offset(), offset);
      offset = v.next_offset();
      out.emplace_back(b.begin(), b.end());
    }
    EXPECT_EQ(r->next_offset, offset);
  }
  return out;
}

// Equal but for the broker-owned fields.
bool same_batch(Bytes a, Bytes b) {
  if (a.size() != b.size() || a.size() < batch_header_bytes) return false;
  set_base_offset(a, 0);
  set_base_offset(b, 0);
  set_leader_epoch(a, 0);
  set_leader_epoch(b, 0);
  return a == b;
}

std::uint64_t file_size(Runtime& rt, const std::string& name) {
  auto f = rt.disk().open(join_path(dir, name), OpenMode::read_only);
  if (!f.ok()) return 0;
  return *(*f)->size();
}

std::int64_t now_ms(Runtime& rt) { return to_ms(rt.wall_now()); }

LogConfig small_segments() {
  LogConfig c;
  c.segment_bytes = 4096;
  c.index_interval_bytes = 256;
  return c;
}

// Appends `count` batches of two 40-byte records and flushes them (so all
// lie below the recovery point), in at least `segments` segments; returns
// one batch's size, where the damage tests aim their bit flips.
std::uint64_t write_flushed_batches(Rig& rig, const LogConfig& config, int count, std::size_t segments = 1) {
  std::uint64_t batch_bytes = 0;
  EXPECT_TRUE(rig.run([&](Runtime& rt) {
    auto log = open_log(rt, config);
    ASSERT_TRUE(log);
    const Bytes b = make_batch(2, now_ms(rt), 40);
    batch_bytes = b.size();
    for (int i = 0; i < count; ++i) append_ok(*log, b);
    ASSERT_TRUE(log->flush().ok());
    ASSERT_GE(log->segment_count(), segments);
  }));
  return batch_bytes;
}

// Proves appends get dense offsets and read back byte-exact (but for base
// offset and epoch) across many segments.
TEST(Log, AppendReadRoundTripAcrossSegments) {
  Rig rig(1);
  ASSERT_TRUE(rig.run([](Runtime& rt) {
    auto log = open_log(rt, small_segments());
    ASSERT_TRUE(log);
    std::vector<Bytes> sent;
    for (int i = 0; i < 200; ++i) {
      sent.push_back(make_batch(1 + i % 5, now_ms(rt)));
      const AppendResult r = append_ok(*log, sent.back(), 3);
      EXPECT_EQ(r.last_offset - r.base_offset, i % 5);
    }
    EXPECT_GT(log->segment_count(), 5u);
    EXPECT_EQ(log->log_end_offset(), 600);
    const auto got = read_all(*log);
    ASSERT_EQ(got.size(), sent.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      EXPECT_TRUE(same_batch(got[i], sent[i])) << i;
      EXPECT_EQ(BatchView(got[i]).leader_epoch(), 3);
    }
  }));
}

// Proves the in-place leader append (the broker's path) rewrites the
// caller's buffer with the assigned offset and epoch and stores exactly
// those bytes, and that the copying variant leaves the caller's bytes alone.
TEST(Log, AppendInPlaceRewritesTheCallersBuffer) {
  Rig rig(2);
  ASSERT_TRUE(rig.run([](Runtime& rt) {
    auto log = open_log(rt, small_segments());
    ASSERT_TRUE(log);
    Bytes first = make_batch(3, now_ms(rt));
    const Bytes untouched = first;
    ASSERT_TRUE(log->append_as_leader(first, 4).ok());
    EXPECT_EQ(first, untouched);
    Bytes second = make_batch(2, now_ms(rt));
    auto r = log->append_as_leader_in_place(second, 5);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(BatchView(second).base_offset(), 3);
    EXPECT_EQ(BatchView(second).leader_epoch(), 5);
    const auto got = read_all(*log);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[1], second);
  }));
}

// Proves a read returns whole batches within max_bytes, but always at least
// one batch even when it is larger than max_bytes; and stops before max_offset.
TEST(Log, ReadLimits) {
  Rig rig(2);
  ASSERT_TRUE(rig.run([](Runtime& rt) {
    auto log = open_log(rt, LogConfig{});
    ASSERT_TRUE(log);
    const Bytes b = make_batch(2, now_ms(rt));
    for (int i = 0; i < 10; ++i) append_ok(*log, b);
    auto one = log->read(0, 1);
    ASSERT_TRUE(one.ok());
    EXPECT_EQ(one->bytes.size(), b.size());
    EXPECT_EQ(one->next_offset, 2);
    auto some = log->read(3, b.size() * 5 / 2);  // offset 3 is inside the second batch
    ASSERT_TRUE(some.ok());
    EXPECT_EQ(some->bytes.size(), 2 * b.size());
    EXPECT_EQ(BatchView(some->bytes).base_offset(), 2);
    EXPECT_EQ(some->next_offset, 6);
    auto capped = log->read(0, 1 << 20, 7);  // high watermark 7: batches up to offset 6
    ASSERT_TRUE(capped.ok());
    EXPECT_EQ(capped->next_offset, 6);
    auto none = log->read(6, 1 << 20, 7);  // the batch 6-7 reaches the high watermark
    ASSERT_TRUE(none.ok());
    EXPECT_TRUE(none->bytes.empty());
    auto at_end = log->read(20, 100);
    ASSERT_TRUE(at_end.ok());
    EXPECT_TRUE(at_end->bytes.empty());
    EXPECT_EQ(log->read(21, 100).error(), std::errc::result_out_of_range);
    EXPECT_EQ(log->read(-1, 100).error(), std::errc::result_out_of_range);
  }));
}

// An epoch assigned at the log end holds no records: truncating at the log
// end removes it (a follower that led an epoch without writing in it must
// not keep asking the leader about it).
TEST(Log, TruncateAtTheEndDropsAnEpochWithoutRecords) {
  Rig rig(2);
  ASSERT_TRUE(rig.run([](Runtime& rt) {
    auto log = open_log(rt, LogConfig{});
    ASSERT_TRUE(log);
    ASSERT_TRUE(log->append_as_leader(make_batch(2, now_ms(rt)), 1).ok());
    ASSERT_TRUE(log->assign_epoch(3, log->log_end_offset()).ok());
    ASSERT_EQ(log->epochs().back().epoch, 3);
    ASSERT_TRUE(log->truncate_to(log->log_end_offset()).ok());
    ASSERT_EQ(log->epochs().size(), 1u);
    EXPECT_EQ(log->epochs().back().epoch, 1);
    EXPECT_EQ(log->log_end_offset(), 2);
  }));
}

// A read into a handed-back buffer (larger, smaller or full of stale bytes)
// returns exactly what a fresh read does.
TEST(Log, ReadIntoAReusedBufferEqualsAFreshRead) {
  Rig rig(2);
  ASSERT_TRUE(rig.run([](Runtime& rt) {
    auto log = open_log(rt, LogConfig{});
    ASSERT_TRUE(log);
    for (int i = 0; i < 10; ++i) append_ok(*log, make_batch(1 + i % 3, now_ms(rt), 40 + 10 * i));
    for (std::size_t stale : {0, 7, 100, 5000}) {
      for (std::int64_t at : {0, 1, 5, 9}) {
        auto fresh = log->read(at, 300);
        auto reused = log->read(at, 300, std::nullopt, Bytes(stale, 0xAB));
        ASSERT_TRUE(fresh.ok() && reused.ok());
        EXPECT_EQ(reused->bytes, fresh->bytes) << "stale " << stale << " at " << at;
        EXPECT_EQ(reused->next_offset, fresh->next_offset);
      }
    }
    auto end = log->read(log->log_end_offset(), 300, std::nullopt, Bytes(64, 1));
    ASSERT_TRUE(end.ok());
    EXPECT_TRUE(end->bytes.empty());
  }));
}

// Proves the offset index is sparse but used: many index entries on disk,
// and a read in the middle of a big segment costs a couple of disk reads.
TEST(Log, OffsetIndexAvoidsScanning) {
  Rig rig(3);
  ASSERT_TRUE(rig.run([&rig](Runtime& rt) {
    LogConfig c;
    c.index_interval_bytes = 1024;
    auto log = open_log(rt, c);
    ASSERT_TRUE(log);
    const Bytes b = make_batch(1, now_ms(rt), 100);
    for (int i = 0; i < 2000; ++i) append_ok(*log, b);
    ASSERT_TRUE(log->flush().ok());
    EXPECT_EQ(log->segment_count(), 1u);
    const auto index_bytes = file_size(rt, "00000000000000000000.index");
    EXPECT_GT(index_bytes, 8u * 100);
    EXPECT_LT(index_bytes, 8u * 2000);
    const auto reads_before = rig.disk().stats().reads;
    auto r = log->read(1234, 1);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(BatchView(r->bytes).base_offset(), 1234);
    EXPECT_LE(rig.disk().stats().reads - reads_before, 3u);
  }));
}

// Proves reads find their batch when it lies far from any index entry (an
// index interval larger than the segment leaves no entries, so a read looks
// past its first window) or is larger than both max_bytes and that window,
// and that a consumer reading on costs one disk read per read.
TEST(Log, ReadsFarFromIndexEntriesAndOfLargeBatches) {
  Rig rig(21);
  ASSERT_TRUE(rig.run([&rig](Runtime& rt) {
    LogConfig c;
    c.index_interval_bytes = 1 << 30;
    auto log = open_log(rt, c);
    ASSERT_TRUE(log);
    std::vector<Bytes> sent;
    for (int i = 0; i < 400; ++i) {
      const bool large = i % 97 == 96;  // a 60 KiB batch now and then
      sent.push_back(make_batch(2, now_ms(rt), large ? 30000 : 100));
      append_ok(*log, sent.back());
    }
    for (std::int64_t offset : {0, 1, 99, 100, 101, 499, 798, 799}) {
      for (std::size_t max_bytes : {std::size_t{1}, std::size_t{5000}, std::size_t{1} << 20}) {
        auto r = log->read(offset, max_bytes);
        ASSERT_TRUE(r.ok()) << offset;
        auto parts = split_batches(r->bytes);
        ASSERT_TRUE(parts.ok());
        ASSERT_FALSE(parts->empty()) << offset;
        const std::size_t first = static_cast<std::size_t>(offset / 2);
        EXPECT_EQ(BatchView((*parts)[0]).base_offset(), offset / 2 * 2);
        for (std::size_t i = 0; i < parts->size(); ++i)
          EXPECT_TRUE(same_batch(Bytes((*parts)[i].begin(), (*parts)[i].end()), sent[first + i]));
        EXPECT_TRUE(parts->size() == 1 || r->bytes.size() <= max_bytes);
      }
    }
    // Reads of about 14 small batches each, all before the first large one.
    auto r = log->read(0, 4000);
    ASSERT_TRUE(r.ok());
    const auto reads_before = rig.disk().stats().reads;
    for (int i = 0; i < 5; ++i) {
      r = log->read(r->next_offset, 4000);
      ASSERT_TRUE(r.ok());
    }
    ASSERT_LT(r->next_offset, 2 * 96);
    EXPECT_EQ(rig.disk().stats().reads - reads_before, 5u);
  }));
}

// Proves a truncation forgets where earlier reads ended: a read at an
// offset that a read ended at before the truncation returns the batch
// appended there since, not bytes from the old position.
TEST(Log, ReadAfterTruncationDoesNotReuseOldPositions) {
  Rig rig(22);
  ASSERT_TRUE(rig.run([](Runtime& rt) {
    auto log = open_log(rt, LogConfig{});
    ASSERT_TRUE(log);
    const Bytes small = make_batch(1, now_ms(rt), 50);
    for (int i = 0; i < 10; ++i) append_ok(*log, small);
    auto r = log->read(0, 4 * small.size());  // ends at offset 4
    ASSERT_TRUE(r.ok());
    const std::int64_t end = r->next_offset;
    ASSERT_EQ(end, 4);
    ASSERT_TRUE(log->truncate_to(2).ok());
    const Bytes big = make_batch(3, now_ms(rt), 200);
    append_ok(*log, big);  // offsets 2..4
    for (int i = 0; i < 10; ++i) append_ok(*log, make_batch(1, now_ms(rt), 10));
    auto again = log->read(end, 1);
    ASSERT_TRUE(again.ok());
    const BatchView v(again->bytes);
    EXPECT_LE(v.base_offset(), end);
    EXPECT_GT(v.next_offset(), end);
    EXPECT_TRUE(same_batch(again->bytes, big));
  }));
}

// Proves lookups by timestamp find the first batch whose max timestamp
// reaches the target, using the time index (few disk reads).
TEST(Log, OffsetForTimestamp) {
  Rig rig(4);
  ASSERT_TRUE(rig.run([&rig](Runtime& rt) {
    LogConfig c;
    c.index_interval_bytes = 512;
    auto log = open_log(rt, c);
    ASSERT_TRUE(log);
    for (int i = 0; i < 1000; ++i) append_ok(*log, make_batch(2, 10'000 + i * 10, 50));
    ASSERT_TRUE(log->flush().ok());
    EXPECT_GT(file_size(rt, "00000000000000000000.timeindex"), 12u * 10);
    const auto reads_before = rig.disk().stats().reads;
    auto at = log->offset_for_timestamp(10'000 + 500 * 10);
    ASSERT_TRUE(at.ok());
    EXPECT_EQ(*at, std::optional<std::int64_t>(1000));
    EXPECT_LE(rig.disk().stats().reads - reads_before, 3u);
    EXPECT_EQ(*log->offset_for_timestamp(10'000 + 500 * 10 - 5), std::optional<std::int64_t>(1000));
    EXPECT_EQ(*log->offset_for_timestamp(0), std::optional<std::int64_t>(0));
    EXPECT_EQ(*log->offset_for_timestamp(99'999'999), std::nullopt);
  }));
}

// Proves rolling: before an append that would pass log.segment.bytes, after
// log.roll.ms of wall time since the segment's first append, and on demand.
TEST(Log, RollBySizeAgeAndDemand) {
  Rig rig(5);
  ASSERT_TRUE(rig.run([](Runtime& rt) {
    LogConfig c;
    c.segment_bytes = 1000;
    c.roll_ms = 60'000;
    auto log = open_log(rt, c);
    ASSERT_TRUE(log);
    const Bytes b = make_batch(1, now_ms(rt), 300);  // ~380 bytes: two fit, a third does not
    append_ok(*log, b);
    append_ok(*log, b);
    EXPECT_EQ(log->segment_count(), 1u);
    append_ok(*log, b);
    EXPECT_EQ(log->segment_count(), 2u);
    rt.sleep_for(seconds(59));
    append_ok(*log, make_batch(1, now_ms(rt), 10));
    EXPECT_EQ(log->segment_count(), 2u);
    rt.sleep_for(seconds(2));
    append_ok(*log, make_batch(1, now_ms(rt), 10));
    EXPECT_EQ(log->segment_count(), 3u);
    ASSERT_TRUE(log->roll().ok());
    EXPECT_EQ(log->segment_count(), 4u);
    ASSERT_TRUE(log->roll().ok());  // an empty active segment is not rolled again
    EXPECT_EQ(log->segment_count(), 4u);
    EXPECT_EQ(read_all(*log).size(), 5u);
  }));
}

// Proves retention by time deletes whole old segments (by their largest
// timestamp) but never the active one nor one reaching the high watermark,
// and advances the log start.
TEST(Log, RetentionByTime) {
  Rig rig(6);
  ASSERT_TRUE(rig.run([](Runtime& rt) {
    LogConfig c;
    c.retention_ms = 3'600'000;
    auto log = open_log(rt, c);
    ASSERT_TRUE(log);
    const std::int64_t old_ts = now_ms(rt) - 2 * 3'600'000;
    append_ok(*log, make_batch(3, old_ts));
    ASSERT_TRUE(log->roll().ok());
    append_ok(*log, make_batch(3, old_ts));
    ASSERT_TRUE(log->roll().ok());
    append_ok(*log, make_batch(3, now_ms(rt)));
    ASSERT_TRUE(log->roll().ok());
    append_ok(*log, make_batch(3, old_ts));  // old, but in the active segment
    ASSERT_TRUE(log->set_high_watermark(3).ok());  // the second segment is uncommitted
    auto n = log->enforce_retention();
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(*n, 1);
    EXPECT_EQ(log->log_start_offset(), 3);
    ASSERT_TRUE(log->set_high_watermark(log->log_end_offset()).ok());
    n = log->enforce_retention();
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(*n, 1);
    EXPECT_EQ(log->segment_count(), 2u);
    EXPECT_EQ(log->log_start_offset(), 6);
    EXPECT_EQ(log->read(0, 100).error(), std::errc::result_out_of_range);
    EXPECT_EQ(read_all(*log).size(), 2u);
  }));
}

// Proves retention by bytes deletes the oldest segments while the rest
// still exceeds log.retention.bytes.
TEST(Log, RetentionByBytes) {
  Rig rig(7);
  ASSERT_TRUE(rig.run([](Runtime& rt) {
    LogConfig c;
    c.segment_bytes = 1000;
    auto log = open_log(rt, c);
    ASSERT_TRUE(log);
    const Bytes b = make_batch(1, now_ms(rt), 400);  // one batch per segment... nearly
    for (int i = 0; i < 10; ++i) append_ok(*log, b);
    ASSERT_TRUE(log->set_high_watermark(10).ok());
    ASSERT_TRUE(log->flush().ok());  // the high watermark is checkpointed by a flush
    const auto segments = log->segment_count();
    const std::int64_t per_segment = log->size_bytes() / static_cast<std::int64_t>(segments);
    auto c2 = c;
    c2.retention_bytes = 3 * per_segment;
    log.reset();
    log = open_log(rt, c2);
    ASSERT_TRUE(log);
    auto n = log->enforce_retention();
    ASSERT_TRUE(n.ok());
    EXPECT_GT(*n, 0);
    EXPECT_LE(log->size_bytes(), 3 * per_segment);
    EXPECT_GT(log->size_bytes() + per_segment, 3 * per_segment);
    EXPECT_EQ(log->log_end_offset(), 10);
  }));
}

// Proves truncate_to inside a segment cuts at the batch holding the offset,
// across segments deletes later ones, and trims the epoch cache; appends
// continue at the new end and everything survives a reopen.
TEST(Log, TruncateToMiddleAndAcrossSegments) {
  Rig rig(8);
  ASSERT_TRUE(rig.run([](Runtime& rt) {
    auto log = open_log(rt, small_segments());
    ASSERT_TRUE(log);
    for (int i = 0; i < 100; ++i) append_ok(*log, make_batch(2, now_ms(rt), 50), i < 50 ? 1 : 2);
    ASSERT_TRUE(log->flush().ok());
    ASSERT_EQ(log->epochs().size(), 2u);
    const auto segments = log->segment_count();
    ASSERT_GT(segments, 3u);
    ASSERT_TRUE(log->truncate_to(151).ok());  // inside batch 150-151
    EXPECT_EQ(log->log_end_offset(), 150);
    ASSERT_TRUE(log->truncate_to(61).ok());  // across segments, inside batch 60-61
    EXPECT_EQ(log->log_end_offset(), 60);
    EXPECT_LT(log->segment_count(), segments);
    ASSERT_EQ(log->epochs().size(), 1u);
    EXPECT_EQ(log->recovery_point(), 60);
    EXPECT_EQ(read_all(*log).size(), 30u);
    EXPECT_EQ(append_ok(*log, make_batch(1, now_ms(rt)), 3).base_offset, 60);
    ASSERT_TRUE(log->flush().ok());
    log.reset();
    log = open_log(rt, small_segments());
    ASSERT_TRUE(log);
    EXPECT_EQ(log->log_end_offset(), 61);
    EXPECT_EQ(read_all(*log).size(), 31u);
    ASSERT_EQ(log->epochs().size(), 2u);
    EXPECT_EQ(log->epochs()[1].epoch, 3);
    EXPECT_EQ(log->epochs()[1].start_offset, 60);
  }));
}

// Records what a LogObserver is told, as text.
struct Recorder : LogObserver {
  std::vector<std::string> calls;
  void on_append(std::int64_t base, std::int64_t last, std::uint32_t crc) override {
    calls.push_back("append " + std::to_string(base) + ".." + std::to_string(last) + " " +
                    std::to_string(crc));
  }
  void on_truncate(std::int64_t offset) override { calls.push_back("truncate " + std::to_string(offset)); }
  void on_high_watermark(std::int64_t hw) override { calls.push_back("hw " + std::to_string(hw)); }
};

// Proves the observer hears every change of the log that replication's
// invariants need: each appended batch (leader and follower paths, with its
// CRC field), each truncation (full ones at 0) and each high watermark move,
// in order, and nothing for reads or a truncation past the end.
TEST(Log, ObserverHearsAppendsTruncationsAndHighWatermarks) {
  Rig rig(9);
  ASSERT_TRUE(rig.run([](Runtime& rt) {
    auto log = open_log(rt, small_segments());
    ASSERT_TRUE(log);
    Recorder r;
    log->set_observer(&r);
    const Bytes first = make_batch(2, now_ms(rt));
    append_ok(*log, first, 1);
    Bytes stored = make_batch(3, now_ms(rt));
    set_base_offset(stored, 2);
    set_leader_epoch(stored, 1);
    ASSERT_TRUE(log->append_as_follower(stored).ok());
    ASSERT_TRUE(log->set_high_watermark(4).ok());
    ASSERT_TRUE(log->read(0, 1 << 16).ok());
    ASSERT_TRUE(log->truncate_to(4).ok());
    ASSERT_TRUE(log->truncate_to(10).ok());  // past the end: nothing cut
    ASSERT_TRUE(log->truncate_fully_and_start_at(7).ok());
    const std::string crc0 = std::to_string(BatchView(first).crc());
    const std::string crc1 = std::to_string(BatchView(stored).crc());
    // A cut inside batch 2..4 drops it (the observer hears the offset asked
    // for: every batch reaching it is gone), and the high watermark follows
    // the log end down; a full truncation restarts both at the new start.
    const std::vector<std::string> want = {"append 0..1 " + crc0, "append 2..4 " + crc1, "hw 4",
                                           "truncate 4", "hw 2", "truncate 0", "hw 7"};
    EXPECT_EQ(r.calls, want);
  }));
}

// Proves delete_records_before advances the log start (checkpointed),
// deletes segments wholly below it and keeps the one it falls into.
TEST(Log, DeleteRecordsBefore) {
  Rig rig(9);
  ASSERT_TRUE(rig.run([](Runtime& rt) {
    auto log = open_log(rt, small_segments());
    ASSERT_TRUE(log);
    for (int i = 0; i < 100; ++i) append_ok(*log, make_batch(2, now_ms(rt), 50));
    const auto segments = log->segment_count();
    ASSERT_TRUE(log->delete_records_before(101).ok());
    EXPECT_EQ(log->log_start_offset(), 101);
    EXPECT_LT(log->segment_count(), segments);
    EXPECT_EQ(log->read(99, 100).error(), std::errc::result_out_of_range);
    auto r = log->read(101, 1);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(BatchView(r->bytes).base_offset(), 100);  // whole batches, as Kafka
    EXPECT_EQ(log->delete_records_before(1000).error(), std::errc::result_out_of_range);
    log.reset();
    log = open_log(rt, small_segments());
    ASSERT_TRUE(log);
    EXPECT_EQ(log->log_start_offset(), 101);
    EXPECT_EQ(log->log_end_offset(), 200);
  }));
}

// Proves the checkpointed state (recovery point, high watermark, log start,
// epoch cache) comes back after a crash once flushed.
TEST(Log, CheckpointsSurviveCrash) {
  Rig rig(10);
  ASSERT_TRUE(rig.run([](Runtime& rt) {
    auto log = open_log(rt, LogConfig{});
    ASSERT_TRUE(log);
    for (int i = 0; i < 10; ++i) append_ok(*log, make_batch(1, now_ms(rt)), i < 5 ? 4 : 7);
    ASSERT_TRUE(log->assign_epoch(9, 10).ok());
    ASSERT_TRUE(log->set_high_watermark(8).ok());
    ASSERT_TRUE(log->delete_records_before(2).ok());
    ASSERT_TRUE(log->flush().ok());
    EXPECT_EQ(log->recovery_point(), 10);
  }));
  rig.crash();
  ASSERT_TRUE(rig.run([](Runtime& rt) {
    auto log = open_log(rt, LogConfig{});
    ASSERT_TRUE(log);
    EXPECT_EQ(log->log_end_offset(), 10);
    EXPECT_EQ(log->recovery_point(), 10);
    EXPECT_EQ(log->high_watermark(), 8);
    EXPECT_EQ(log->log_start_offset(), 2);
    ASSERT_EQ(log->epochs().size(), 3u);
    EXPECT_EQ(log->epochs()[0].start_offset, 2);  // collapsed to the log start
    EXPECT_EQ(log->epochs()[1].epoch, 7);
    EXPECT_EQ(log->epochs()[1].start_offset, 5);
    EXPECT_EQ(log->epochs()[2].epoch, 9);
    EXPECT_EQ(log->end_offset_for_epoch(7), std::make_pair(7, std::int64_t{10}));
    EXPECT_EQ(log->end_offset_for_epoch(8), std::make_pair(7, std::int64_t{10}));
    EXPECT_EQ(log->end_offset_for_epoch(4), std::make_pair(4, std::int64_t{5}));
    EXPECT_EQ(log->end_offset_for_epoch(3), std::nullopt);
  }));
}

// Proves a crash keeps everything flushed and cuts a torn unsynced tail at
// the last valid batch: after reopen the log is a prefix of what was
// appended, at least as long as what was flushed, and every batch is valid.
TEST(Log, CrashCutsTornTailKeepsSyncedData) {
  for (std::uint64_t seed = 100; seed < 120; ++seed) {
    Rig rig(seed);
    auto sent = std::make_shared<std::vector<Bytes>>();
    ASSERT_TRUE(rig.run([sent](Runtime& rt) {
      auto log = open_log(rt, small_segments());
      ASSERT_TRUE(log);
      for (int i = 0; i < 60; ++i) {
        sent->push_back(make_batch(1 + i % 3, now_ms(rt), 100 + i));
        append_ok(*log, sent->back());
        if (i == 29) {
          ASSERT_TRUE(log->flush().ok());
        }
      }
    }));
    rig.crash();
    ASSERT_TRUE(rig.run([sent, seed](Runtime& rt) {
      auto log = open_log(rt, small_segments());
      ASSERT_TRUE(log);
      const auto got = read_all(*log);
      EXPECT_GE(got.size(), 30u) << "seed " << seed;
      ASSERT_LE(got.size(), sent->size());
      for (std::size_t i = 0; i < got.size(); ++i) EXPECT_TRUE(same_batch(got[i], (*sent)[i]));
      EXPECT_EQ(log->recovery_point(), log->log_end_offset());
      // Appends continue at the recovered end.
      const std::int64_t end = log->log_end_offset();
      EXPECT_EQ(append_ok(*log, make_batch(1, now_ms(rt))).base_offset, end);
    }));
  }
}

// Proves a corrupt byte before the recovery point fails the open with
// data_corrupt (illegal_byte_sequence) instead of dropping data.
TEST(Log, CorruptionBeforeRecoveryPointFailsOpen) {
  Rig rig(11);
  const std::uint64_t batch_bytes = write_flushed_batches(rig, LogConfig{}, 5);
  ASSERT_TRUE(rig.disk().flip_bit(dir + "/00000000000000000000.log", batch_bytes + 70, 3));
  ASSERT_TRUE(rig.run([](Runtime& rt) {
    auto log = Log::open(rt, dir, LogConfig{});
    ASSERT_FALSE(log.ok());
    EXPECT_EQ(log.error(), std::errc::illegal_byte_sequence);
  }));
}

// Proves a corrupt batch after the recovery point is cut at open, together
// with everything after it; the batches before it stay.
TEST(Log, CorruptionAfterRecoveryPointCutsTail) {
  Rig rig(12);
  std::uint64_t batch_bytes = 0;
  ASSERT_TRUE(rig.run([&batch_bytes](Runtime& rt) {
    auto log = open_log(rt, LogConfig{});
    ASSERT_TRUE(log);
    const Bytes b = make_batch(2, now_ms(rt), 40);
    batch_bytes = b.size();
    for (int i = 0; i < 5; ++i) append_ok(*log, b);
    ASSERT_TRUE(log->flush().ok());
    for (int i = 0; i < 5; ++i) append_ok(*log, b);  // offsets 10..19, after the recovery point
  }));
  ASSERT_TRUE(rig.disk().flip_bit(dir + "/00000000000000000000.log", 7 * batch_bytes + 70, 3));
  ASSERT_TRUE(rig.run([](Runtime& rt) {
    auto log = open_log(rt, LogConfig{});
    ASSERT_TRUE(log);
    EXPECT_EQ(log->log_end_offset(), 14);
    EXPECT_EQ(read_all(*log).size(), 7u);
  }));
}

// Proves a read never returns a batch failing its CRC: a bit flipped in a
// clean segment (below the recovery point, not rescanned at open) makes the
// read of that batch fail, and a read before it stops short of it.
TEST(Log, ReadDetectsCorruption) {
  Rig rig(13);
  const std::uint64_t batch_bytes = write_flushed_batches(rig, small_segments(), 100, 3);
  ASSERT_TRUE(rig.disk().flip_bit(dir + "/00000000000000000000.log", 2 * batch_bytes + 70, 0));
  ASSERT_TRUE(rig.run([](Runtime& rt) {
    auto log = open_log(rt, small_segments());
    ASSERT_TRUE(log);
    EXPECT_EQ(log->read(4, 1 << 20).error(), std::errc::illegal_byte_sequence);
    EXPECT_EQ(log->read(5, 1).error(), std::errc::illegal_byte_sequence);
    auto before = log->read(0, 1 << 20);
    ASSERT_TRUE(before.ok());
    EXPECT_EQ(before->next_offset, 4);
    EXPECT_TRUE(log->read(6, 1 << 20).ok());
  }));
}

// Proves open_salvaging keeps the intact prefix of a damaged log: a bit
// flipped below the recovery point, which fails a normal open, cuts the log
// at the damaged batch instead; in a log of several segments the damage in
// an old segment (which a normal open does not rescan) cuts it there too,
// later segments going with it, and the cut log appends from its new end.
TEST(Log, OpenSalvagingCutsAtTheFirstDamagedBatch) {
  Rig rig(14);
  const std::uint64_t batch_bytes = write_flushed_batches(rig, small_segments(), 100, 3);
  ASSERT_TRUE(rig.disk().flip_bit(dir + "/00000000000000000000.log", 2 * batch_bytes + 70, 0));
  ASSERT_TRUE(rig.run([](Runtime& rt) {
    auto log = Log::open_salvaging(rt, dir, small_segments());
    ASSERT_TRUE(log);
    EXPECT_EQ((*log)->log_end_offset(), 4);
    EXPECT_EQ((*log)->segment_count(), 1u);
    EXPECT_EQ(read_all(**log).size(), 2u);
    EXPECT_LE((*log)->high_watermark(), 4);
    EXPECT_EQ((*log)->recovery_point(), 4);
    EXPECT_EQ(append_ok(**log, make_batch(1, now_ms(rt))).base_offset, 4);
    ASSERT_TRUE((*log)->flush().ok());
  }));
  // What was cut stays cut: the next normal open finds the salvaged log.
  ASSERT_TRUE(rig.run([](Runtime& rt) {
    auto log = open_log(rt, small_segments());
    ASSERT_TRUE(log);
    EXPECT_EQ(log->log_end_offset(), 5);
  }));
}

// Proves salvaging also cuts at a batch whose leader epoch (bytes 12..15,
// outside the CRC) was flipped: it validates, but the epoch cache
// contradicts it and a read refuses it.
TEST(Log, OpenSalvagingCutsAtAFlippedLeaderEpoch) {
  Rig rig(15);
  const std::uint64_t batch_bytes = write_flushed_batches(rig, LogConfig{}, 5);
  ASSERT_TRUE(rig.disk().flip_bit(dir + "/00000000000000000000.log", 3 * batch_bytes + 14, 2));
  ASSERT_TRUE(rig.run([](Runtime& rt) {
    auto damaged = open_log(rt, LogConfig{});
    ASSERT_TRUE(damaged);
    EXPECT_EQ(damaged->read(6, 1).error(), std::errc::illegal_byte_sequence);
    damaged.reset();
    auto log = Log::open_salvaging(rt, dir, LogConfig{});
    ASSERT_TRUE(log);
    EXPECT_EQ((*log)->log_end_offset(), 6);
    EXPECT_EQ(read_all(**log).size(), 3u);
  }));
}

// Proves a salvage survives a damaged checkpoint, which fails a normal
// open (its checksum): the recovery point and high watermark restart from
// nothing, the epoch cache is rebuilt from the batches' epochs, the log
// start falls back to its first segment's base (records deleted within it
// come back), and the checkpoints are written whole again.
TEST(Log, OpenSalvagingRebuildsDamagedCheckpoints) {
  for (const std::string file : {"recovery-point-offset-checkpoint", "replication-offset-checkpoint",
                                 "log-start-offset-checkpoint", "leader-epoch-checkpoint"}) {
    SCOPED_TRACE(file);
    const std::int64_t start = file == "log-start-offset-checkpoint" ? 0 : 2;
    Rig rig(16);
    ASSERT_TRUE(rig.run([](Runtime& rt) {
      auto log = open_log(rt, LogConfig{});
      ASSERT_TRUE(log);
      for (int i = 0; i < 10; ++i) append_ok(*log, make_batch(1, now_ms(rt)), i < 4 ? 4 : 7);
      ASSERT_TRUE(log->set_high_watermark(8).ok());
      ASSERT_TRUE(log->delete_records_before(2).ok());
      ASSERT_TRUE(log->flush().ok());
    }));
    ASSERT_TRUE(rig.disk().flip_bit(dir + "/" + file, 4, 0));
    ASSERT_TRUE(rig.run([start](Runtime& rt) {
      EXPECT_EQ(Log::open(rt, dir, LogConfig{}).error(), std::errc::illegal_byte_sequence);
      auto log = Log::open_salvaging(rt, dir, LogConfig{});
      ASSERT_TRUE(log);
      EXPECT_EQ((*log)->log_start_offset(), start);
      EXPECT_EQ((*log)->log_end_offset(), 10);
      EXPECT_EQ(read_all(**log).size(), static_cast<std::size_t>(10 - start));
      ASSERT_EQ((*log)->epochs().size(), 2u);
      EXPECT_EQ((*log)->epochs()[0].epoch, 4);
      EXPECT_EQ((*log)->epochs()[0].start_offset, 2);
      EXPECT_EQ((*log)->epochs()[1].epoch, 7);
      EXPECT_EQ((*log)->epochs()[1].start_offset, 4);
    }));
    ASSERT_TRUE(rig.run([](Runtime& rt) { EXPECT_TRUE(open_log(rt, LogConfig{})); }));
  }
}

// Proves recovery stops at a gap: when a segment's unsynced tail is lost
// but a later segment survived, the later segment is deleted rather than
// leave a hole in the offsets.
TEST(Log, RecoveryDeletesSegmentsAfterAGap) {
  Rig rig(19);
  ASSERT_TRUE(rig.run([](Runtime& rt) {
    auto log = open_log(rt, LogConfig{});
    ASSERT_TRUE(log);
    for (int i = 0; i < 5; ++i) append_ok(*log, make_batch(2, now_ms(rt)));
    ASSERT_TRUE(log->flush().ok());
    const std::uint64_t flushed_bytes = file_size(rt, "00000000000000000000.log");
    for (int i = 0; i < 5; ++i) append_ok(*log, make_batch(2, now_ms(rt)));
    ASSERT_TRUE(log->roll().ok());
    for (int i = 0; i < 5; ++i) append_ok(*log, make_batch(2, now_ms(rt)));
    ASSERT_EQ(log->segment_count(), 2u);
    log.reset();
    // The first segment lost its tail; the second one is whole.
    auto f = rt.disk().open(dir + "/00000000000000000000.log", OpenMode::read_write);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->truncate(flushed_bytes + 30).ok());
    log = open_log(rt, LogConfig{});
    ASSERT_TRUE(log);
    EXPECT_EQ(log->segment_count(), 1u);
    EXPECT_EQ(log->log_end_offset(), 10);
    EXPECT_FALSE(rt.disk().exists(dir + "/00000000000000000020.log"));
    EXPECT_EQ(read_all(*log).size(), 5u);
  }));
}

// Proves a truncation below the log start empties the log and restarts it
// at that offset (a follower told to start over).
TEST(Log, TruncateBelowLogStartStartsOver) {
  Rig rig(20);
  ASSERT_TRUE(rig.run([](Runtime& rt) {
    auto log = open_log(rt, small_segments());
    ASSERT_TRUE(log);
    for (int i = 0; i < 50; ++i) append_ok(*log, make_batch(2, now_ms(rt), 50), 1);
    ASSERT_TRUE(log->delete_records_before(40).ok());
    ASSERT_TRUE(log->truncate_to(30).ok());
    EXPECT_EQ(log->log_start_offset(), 30);
    EXPECT_EQ(log->log_end_offset(), 30);
    EXPECT_EQ(log->segment_count(), 1u);
    EXPECT_TRUE(log->epochs().empty());
    EXPECT_EQ(append_ok(*log, make_batch(1, now_ms(rt)), 2).base_offset, 30);
    log.reset();
    log = open_log(rt, small_segments());
    ASSERT_TRUE(log);
    EXPECT_EQ(log->log_start_offset(), 30);
    EXPECT_EQ(log->log_end_offset(), 31);
  }));
}

// Proves index files that are missing or garbage are rebuilt at open, and
// lookups through them work.
TEST(Log, MissingOrBadIndexesAreRebuilt) {
  Rig rig(14);
  ASSERT_TRUE(rig.run([](Runtime& rt) {
    LogConfig c = small_segments();
    auto log = open_log(rt, c);
    ASSERT_TRUE(log);
    for (int i = 0; i < 200; ++i) append_ok(*log, make_batch(1, 1000 + i, 30));
    ASSERT_TRUE(log->flush().ok());
    ASSERT_GT(log->segment_count(), 2u);
    const auto index_bytes = file_size(rt, "00000000000000000000.index");
    ASSERT_GT(index_bytes, 8u);
    log.reset();
    ASSERT_TRUE(rt.disk().remove(dir + "/00000000000000000000.index").ok());
    ASSERT_TRUE(rt.disk().remove(dir + "/00000000000000000000.timeindex").ok());
    auto f = rt.disk().open(dir + "/00000000000000000000.index", OpenMode::create);  // re-created empty
    (void)f;
    auto g = rt.disk().open(dir + "/00000000000000000000.index", OpenMode::read_write);
    ASSERT_TRUE(g.ok());
    const Bytes junk = {0, 0, 0, 9, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0, 2};  // goes backwards
    ASSERT_TRUE((*g)->pwrite(0, junk).ok());
    log = open_log(rt, c);
    ASSERT_TRUE(log);
    EXPECT_EQ(file_size(rt, "00000000000000000000.index"), index_bytes);
    EXPECT_GT(file_size(rt, "00000000000000000000.timeindex"), 0u);
    EXPECT_EQ(read_all(*log).size(), 200u);
    auto r = log->read(17, 1);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(BatchView(r->bytes).base_offset(), 17);
    EXPECT_EQ(*log->offset_for_timestamp(1017), std::optional<std::int64_t>(17));
    // A missing index (no file at all) is rebuilt whole, not taken as empty.
    log.reset();
    ASSERT_TRUE(rt.disk().remove(dir + "/00000000000000000000.index").ok());
    log = open_log(rt, c);
    ASSERT_TRUE(log);
    EXPECT_EQ(file_size(rt, "00000000000000000000.index"), index_bytes);
  }));
}

// Proves malformed input never crashes and appends nothing.
TEST(Log, MalformedBatchesAreRejected) {
  Rig rig(15);
  ASSERT_TRUE(rig.run([](Runtime& rt) {
    auto log = open_log(rt, LogConfig{});
    ASSERT_TRUE(log);
    const Bytes good = make_batch(2, now_ms(rt));
    Bytes bad_crc = good;
    bad_crc.back() ^= 1;
    Bytes two = good;
    two.insert(two.end(), bad_crc.begin(), bad_crc.end());  // one good, one bad: all rejected
    Bytes cut(good.begin(), good.end() - 1);
    Bytes junk(100, 0xFF);
    for (const Bytes* b : {&bad_crc, &two, &cut, &junk}) {
      EXPECT_EQ(log->append_as_leader(*b, 0).error(), std::errc::invalid_argument);
      EXPECT_EQ(log->append_as_follower(*b).error(), std::errc::invalid_argument);
    }
    EXPECT_EQ(log->append_as_leader(Bytes{}, 0).error(), std::errc::invalid_argument);
    EXPECT_EQ(log->log_end_offset(), 0);
    EXPECT_EQ(log->size_bytes(), 0);
    Bytes follower = good;
    set_base_offset(follower, 5);  // does not continue the log end
    EXPECT_EQ(log->append_as_follower(follower).error(), std::errc::invalid_argument);
    set_base_offset(follower, 0);
    ASSERT_TRUE(log->append_as_follower(follower).ok());
    EXPECT_EQ(log->log_end_offset(), 2);
  }));
}

// Proves log.flush.interval.messages flushes (moves the recovery point) once
// that many messages were appended, and not before.
TEST(Log, FlushIntervalMessages) {
  Rig rig(16);
  ASSERT_TRUE(rig.run([](Runtime& rt) {
    LogConfig c;
    c.flush_interval_messages = 10;
    auto log = open_log(rt, c);
    ASSERT_TRUE(log);
    for (int i = 0; i < 4; ++i) append_ok(*log, make_batch(2, now_ms(rt)));
    EXPECT_EQ(log->recovery_point(), 0);
    append_ok(*log, make_batch(2, now_ms(rt)));
    EXPECT_EQ(log->recovery_point(), 10);
  }));
}

// Proves log.flush.interval.ms flushes on the first append after the interval.
TEST(Log, FlushIntervalMs) {
  Rig rig(17);
  ASSERT_TRUE(rig.run([](Runtime& rt) {
    LogConfig c;
    c.flush_interval_ms = 1000;
    auto log = open_log(rt, c);
    ASSERT_TRUE(log);
    append_ok(*log, make_batch(2, now_ms(rt)));
    EXPECT_EQ(log->recovery_point(), 0);
    rt.sleep_for(milliseconds(1500));
    append_ok(*log, make_batch(2, now_ms(rt)));
    EXPECT_EQ(log->recovery_point(), 4);
  }));
}

// Proves log-append-time batches get the broker's time (CRC still valid).
TEST(Log, LogAppendTime) {
  Rig rig(18);
  ASSERT_TRUE(rig.run([](Runtime& rt) {
    auto log = open_log(rt, LogConfig{});
    ASSERT_TRUE(log);
    auto r = log->append_as_leader(make_batch(2, 5, 10, true), 0);
    ASSERT_TRUE(r.ok());
    EXPECT_LE(r->log_append_time_ms, now_ms(rt));
    EXPECT_GT(r->log_append_time_ms, now_ms(rt) - 1000);
    auto got = read_all(*log);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(BatchView(got[0]).max_timestamp(), r->log_append_time_ms);
  }));
}

// Proves config parsing takes Kafka's names and units and that errors name
// the property.
TEST(LogConfigParse, NamesUnitsAndErrors) {
  LogConfig c;
  ConfigError err;
  ASSERT_TRUE(apply_log_properties({{"log.segment.bytes", "1048576"},
                                    {"log.retention.hours", "2"},
                                    {"log.roll.hours", "1"},
                                    {"log.retention.bytes", "-1"},
                                    {"log.flush.interval.messages", "100"}},
                                   &c, &err));
  EXPECT_EQ(c.segment_bytes, 1048576);
  EXPECT_EQ(c.retention_ms, 2 * 3'600'000);
  EXPECT_EQ(c.roll_ms, 3'600'000);
  EXPECT_EQ(c.retention_bytes, -1);
  EXPECT_EQ(c.flush_interval_messages, 100);
  ASSERT_TRUE(apply_log_properties({{"log.retention.hours", "5"}, {"log.retention.ms", "-1"}}, &c, &err));
  EXPECT_EQ(c.retention_ms, -1);  // the finer unit wins
  const LogConfig before = c;
  EXPECT_FALSE(apply_log_properties({{"log.segment.bytes", "12x"}}, &c, &err));
  EXPECT_EQ(err.property, "log.segment.bytes");
  EXPECT_FALSE(apply_log_properties({{"log.roll.ms", "0"}}, &c, &err));
  EXPECT_EQ(err.property, "log.roll.ms");
  EXPECT_FALSE(apply_log_properties({{"log.index.interval.bytes", "-5"}}, &c, &err));
  EXPECT_EQ(err.property, "log.index.interval.bytes");
  EXPECT_FALSE(apply_log_properties({{"log.segment.bytes", "99999999999"}}, &c, &err));
  EXPECT_EQ(err.property, "log.segment.bytes");
  EXPECT_FALSE(apply_log_properties({{"log.flush.interval.ms", ""}}, &c, &err));
  EXPECT_EQ(err.property, "log.flush.interval.ms");
  EXPECT_FALSE(apply_log_properties({{"log.segment.byts", "1"}}, &c, &err));
  EXPECT_EQ(err.property, "log.segment.byts");
  EXPECT_EQ(c.segment_bytes, before.segment_bytes);  // nothing applied on error
  EXPECT_TRUE(is_log_property("log.index.size.max.bytes"));
  EXPECT_FALSE(is_log_property("num.partitions"));
}

}  // namespace
}  // namespace castle::storage
