// The partition log under the simulated disk's faults, each set up so that
// the expected outcome is certain: a flipped bit before the recovery point
// makes open fail and after it cuts the tail there, and no read returns the
// damaged batch; EIO on write, read or sync comes back to the caller as an
// error; ENOSPC fails an append whole and loses nothing acknowledged before
// it; a torn last write is cut at reopen and the log carries on from there.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "system/storage/checkpoint.h"
#include "tests/storage/log_sim_rig.h"

namespace castle::storage {
namespace {

using testing::LogRig;

const std::string faults_dir = "topic-0";
const std::string segment0 = faults_dir + "/00000000000000000000.log";

LogConfig small_config() {
  LogConfig c;
  c.segment_bytes = 64 * 1024;
  c.segment_index_bytes = 4096;
  c.index_interval_bytes = 256;
  return c;
}

// Appends `count` batches of 3 records x 200 bytes; returns them as stored.
std::vector<Bytes> append_batches(Log& log, Rng& rng, int count) {
  std::vector<Bytes> stored;
  for (int i = 0; i < count; ++i) {
    const Bytes b = testing::make_batch(rng, 3, 200, 1000 + i);
    const std::int64_t base = log.log_end_offset();
    auto r = log.append_as_leader(b, 1);
    EXPECT_TRUE(r.ok()) << r.error().message();
    if (!r.ok()) break;
    stored.push_back(testing::as_stored(b, base, 1));
  }
  return stored;
}

// Byte position of batch i in a segment holding `batches` from position 0.
std::uint64_t position_of(const std::vector<Bytes>& batches, std::size_t i) {
  std::uint64_t at = 0;
  for (std::size_t k = 0; k < i; ++k) at += batches[k].size();
  return at;
}

// Makes the segment's current contents durable behind the log's back, so
// that a crash keeps every byte while the recovery point stays put.
void sync_segment_behind_the_log(Runtime& rt) {
  auto f = rt.disk().open(segment0, OpenMode::read_write);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->datasync().ok());
}

// True if no batch in a read result fails its CRC or lies at `bad_base`.
bool read_is_clean(const Result<ReadResult>& r, std::int64_t bad_base) {
  if (!r.ok()) return true;
  auto parts = split_batches(r.value().bytes);
  if (!parts.ok()) return false;
  for (auto p : *parts)
    if (BatchView(p).base_offset() == bad_base) return false;
  return true;
}

// Proves that a bit flipped in a flushed batch (before the recovery point)
// is never returned by a read of the open log and makes reopening fail
// instead of silently dropping data.
TEST(LogFaults, BitFlipBeforeTheRecoveryPointIsAnError) {
  LogRig rig(11);
  std::vector<Bytes> batches;
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    ASSERT_TRUE(rig.open(rt, faults_dir, small_config()).ok());
    Rng rng(1);
    batches = append_batches(*rig.log(), rng, 10);
    ASSERT_TRUE(rig.log()->flush().ok());
  }));
  ASSERT_EQ(batches.size(), 10u);
  const std::int64_t bad_base = BatchView(batches[4]).base_offset();
  ASSERT_TRUE(rig.disk().flip_bit(segment0, position_of(batches, 4) + 100, 3));
  ASSERT_TRUE(rig.run([&](Runtime&) {
    EXPECT_TRUE(read_is_clean(rig.log()->read(bad_base, 1 << 20), bad_base));
    EXPECT_TRUE(read_is_clean(rig.log()->read(0, 1 << 20), bad_base));
    auto before = rig.log()->read(0, 1);
    ASSERT_TRUE(before.ok()) << "batches before the damage stay readable";
  }));
  rig.crash();
  Result<void> reopened;
  ASSERT_TRUE(rig.run([&](Runtime& rt) { reopened = rig.open(rt, faults_dir, small_config()); }));
  EXPECT_FALSE(reopened.ok()) << "corruption below the recovery point must fail the open";
}

// Proves that a truncation does not trust a damaged batch on its way: a bit
// flipped in a batch's last offset delta (covered by its CRC) made it claim
// the offsets after it, and a truncation to one of those cut every good
// batch after it silently (disk-fault swarm with buggify, seed 6690: a
// leader undoing a failed append lost 18 committed records). The
// truncation now reports the damage and cuts nothing.
TEST(LogFaults, ATruncationPastADamagedBatchReportsTheDamageAndCutsNothing) {
  LogRig rig(14);
  std::vector<Bytes> batches;
  LogConfig sparse = small_config();
  sparse.index_interval_bytes = 1 << 20;  // one index entry: a truncation scans from the start
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    ASSERT_TRUE(rig.open(rt, faults_dir, sparse).ok());
    Rng rng(3);
    batches = append_batches(*rig.log(), rng, 10);
    ASSERT_TRUE(rig.log()->flush().ok());
  }));
  const std::int64_t end = rig.log()->log_end_offset();
  const std::int64_t target = BatchView(batches[8]).base_offset();
  // Byte 26 of a batch is the low byte of its last offset delta.
  ASSERT_TRUE(rig.disk().flip_bit(segment0, position_of(batches, 3) + 26, 6));
  ASSERT_TRUE(rig.run([&](Runtime&) {
    auto cut = rig.log()->truncate_to(target);
    ASSERT_FALSE(cut.ok()) << "cut at the damaged batch as if it held the offset";
    EXPECT_EQ(cut.error(), std::errc::illegal_byte_sequence);
    EXPECT_EQ(rig.log()->log_end_offset(), end);
  }));
}

// Proves that a bit flipped in a durable batch after the recovery point is
// cut at reopen: the log ends at the damaged batch's base offset, keeping
// every batch before it.
TEST(LogFaults, BitFlipAfterTheRecoveryPointCutsTheTail) {
  LogRig rig(12);
  std::vector<Bytes> batches;
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    ASSERT_TRUE(rig.open(rt, faults_dir, small_config()).ok());
    Rng rng(2);
    batches = append_batches(*rig.log(), rng, 4);
    ASSERT_TRUE(rig.log()->flush().ok());
    auto more = append_batches(*rig.log(), rng, 6);
    batches.insert(batches.end(), more.begin(), more.end());
    sync_segment_behind_the_log(rt);
  }));
  ASSERT_EQ(batches.size(), 10u);
  ASSERT_TRUE(rig.disk().flip_bit(segment0, position_of(batches, 7) + 80, 5));
  rig.crash();
  testing::Scan scan;
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    auto r = rig.open(rt, faults_dir, small_config());
    ASSERT_TRUE(r.ok()) << r.error().message();
    scan = testing::full_scan(*rig.log(), 1 << 20);
  }));
  ASSERT_EQ(scan.error, "");
  EXPECT_EQ(scan.end, BatchView(batches[7]).base_offset());
  EXPECT_EQ(scan.batches, std::vector<Bytes>(batches.begin(), batches.begin() + 7));
}

// Proves that a torn last write (the segment ends part-way through a batch)
// is cut at reopen, and that appends continue at the cut.
TEST(LogFaults, TornLastWriteIsCutAtReopen) {
  LogRig rig(13);
  std::vector<Bytes> batches;
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    ASSERT_TRUE(rig.open(rt, faults_dir, small_config()).ok());
    Rng rng(3);
    batches = append_batches(*rig.log(), rng, 5);
    ASSERT_TRUE(rig.log()->flush().ok());
    const Bytes big = testing::make_batch(rng, 20, 400, 2000);  // ~8 KiB: several sectors
    ASSERT_TRUE(rig.log()->append_as_leader(big, 1).ok());
  }));
  rig.crash();
  testing::Scan scan;
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    // The crash may have kept the whole batch; tear it for certain.
    auto f = rt.disk().open(segment0, OpenMode::read_write);
    ASSERT_TRUE(f.ok());
    const std::uint64_t flushed = position_of(batches, batches.size());
    ASSERT_TRUE((*f)->truncate(flushed + 5000).ok());
    ASSERT_TRUE((*f)->datasync().ok());
    (*f)->close();
    auto r = rig.open(rt, faults_dir, small_config());
    ASSERT_TRUE(r.ok()) << r.error().message();
    scan = testing::full_scan(*rig.log(), 1 << 20);
    Rng rng(4);
    auto after = append_batches(*rig.log(), rng, 1);
    ASSERT_EQ(after.size(), 1u);
    EXPECT_EQ(BatchView(after[0]).base_offset(), scan.end);
  }));
  ASSERT_EQ(scan.error, "");
  EXPECT_EQ(scan.end, BatchView(batches.back()).next_offset());
  EXPECT_EQ(scan.batches, batches);
}

// Proves that EIO on write fails the append without moving the log end, EIO
// on read fails the read, and EIO on sync fails the flush.
TEST(LogFaults, EioSurfacesAsAnError) {
  LogRig rig(14);
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    ASSERT_TRUE(rig.open(rt, faults_dir, small_config()).ok());
    Rng rng(5);
    ASSERT_EQ(append_batches(*rig.log(), rng, 3).size(), 3u);
    sim::DiskConfig c = rig.disk().config();
    c.write_eio_rate = 1.0;
    rig.disk().set_config(c);
    const std::int64_t end = rig.log()->log_end_offset();
    EXPECT_FALSE(rig.log()->append_as_leader(testing::make_batch(rng, 2, 50, 1), 1).ok());
    EXPECT_EQ(rig.log()->log_end_offset(), end) << "a failed append assigns no offsets";
    c.write_eio_rate = 0;
    c.read_eio_rate = 1.0;
    rig.disk().set_config(c);
    EXPECT_FALSE(rig.log()->read(0, 1 << 20).ok());
    c.read_eio_rate = 0;
    c.sync_eio_rate = 1.0;
    rig.disk().set_config(c);
    EXPECT_FALSE(rig.log()->flush().ok());
  }));
}

// Proves that after a sync failed as Linux's do (the unsynced writes given
// up, reads still returning them), no later flush succeeds on that Log, so
// nothing is promised durable on top of a write the disk dropped; and that
// reopening with open_cutting_unsynced drops the unsynced tail, after which
// the log flushes again and, across a crash, opens with exactly the flushed
// batches (a log that trusted the tail would meet a hole below its recovery
// point on some seeds).
// A truncation whose sync fails is still made, in memory and in the file:
// the log agrees with its file (a retry has nothing left to cut, reads end
// at the cut), and it knows a sync failed, so it promises nothing durable
// until reopened. Before, the segment kept its old size over a shorter
// file and every later truncation or read of the tail failed for good.
TEST(LogFaults, ACutWhoseSyncFailsIsMadeAndMarksTheLogSyncFailed) {
  LogRig rig(31);
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    ASSERT_TRUE(rig.open(rt, faults_dir, small_config()).ok());
    Rng rng(31);
    const auto stored = append_batches(*rig.log(), rng, 6);
    ASSERT_TRUE(rig.log()->flush().ok());
    sim::DiskConfig c = rig.disk().config();
    c.sync_eio_rate = 1.0;
    c.sync_eio_loses_writes = true;
    rig.disk().set_config(c);
    EXPECT_FALSE(rig.log()->truncate_to(9).ok());
    EXPECT_TRUE(rig.log()->sync_failed());
    EXPECT_EQ(rig.log()->log_end_offset(), 9);
    EXPECT_LE(rig.log()->high_watermark(), 9);
    c.sync_eio_rate = 0;
    rig.disk().set_config(c);
    EXPECT_TRUE(rig.log()->truncate_to(9).ok()) << "nothing left to cut";
    auto r = rig.log()->read(0, 1 << 20);
    ASSERT_TRUE(r.ok()) << r.error().message();
    auto parts = split_batches(r->bytes);
    ASSERT_TRUE(parts.ok());
    ASSERT_EQ(parts->size(), 3u);
    for (std::size_t i = 0; i < 3; ++i)
      EXPECT_TRUE(std::equal((*parts)[i].begin(), (*parts)[i].end(), stored[i].begin(), stored[i].end()));
    EXPECT_EQ(rig.log()->flush().error(), std::errc::io_error);
  }));
}

// undo_append takes a failed append back when the log can be trusted, and
// refuses once a sync failed: the caller must take the log offline then.
TEST(LogFaults, UndoAppendCutsBackUnlessASyncFailed) {
  LogRig rig(37);
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    ASSERT_TRUE(rig.open(rt, faults_dir, small_config()).ok());
    Rng rng(37);
    (void)append_batches(*rig.log(), rng, 2);
    const std::int64_t end_before = rig.log()->log_end_offset();
    EXPECT_TRUE(rig.log()->undo_append(end_before).ok()) << "nothing to take back";
    (void)append_batches(*rig.log(), rng, 2);
    ASSERT_GT(rig.log()->log_end_offset(), end_before);
    EXPECT_TRUE(rig.log()->undo_append(end_before).ok());
    EXPECT_EQ(rig.log()->log_end_offset(), end_before);
    sim::DiskConfig c = rig.disk().config();
    c.sync_eio_rate = 1.0;
    rig.disk().set_config(c);
    (void)append_batches(*rig.log(), rng, 1);
    EXPECT_FALSE(rig.log()->flush().ok());
    ASSERT_TRUE(rig.log()->sync_failed());
    EXPECT_EQ(rig.log()->undo_append(end_before).error(), std::errc::io_error);
  }));
}

// With a sync per message, an append whose records were synced but whose
// recovery-point checkpoint could not be written (the disk full to the
// byte) fails, and the records do not count as committable: a failed sync
// later would reopen the log cut at that checkpoint, and the broker undoes
// the failed append (cluster-swarm seed 13987: the high watermark counted
// such a batch before its append was undone). The next flush writes it.
TEST(LogFaults, AnAppendWhoseCheckpointFailsIsNotCommittable) {
  LogConfig config = small_config();
  config.flush_interval_messages = 1;
  const std::string checkpoint = faults_dir + "/recovery-point-offset-checkpoint";
  auto recovery_point_on_disk = [&](Runtime& rt) { return read_offset_checkpoint(rt.disk(), checkpoint).value(); };
  // The same appends twice: once to measure what the second one adds to
  // the disk (its checkpoint replaces one of the same length), once with
  // no byte more than that to spare.
  std::uint64_t growth = 0;
  for (const bool full : {false, true}) {
    LogRig rig(41);
    ASSERT_TRUE(rig.run([&](Runtime& rt) {
      ASSERT_TRUE(rig.open(rt, faults_dir, config).ok());
      Rng rng(41);
      (void)append_batches(*rig.log(), rng, 1);
      ASSERT_EQ(recovery_point_on_disk(rt), std::optional<std::int64_t>(3));
      const std::uint64_t before = rig.disk().used_bytes();
      sim::DiskConfig c = rig.disk().config();
      if (full) c.capacity_bytes = before + growth;
      rig.disk().set_config(c);
      auto r = rig.log()->append_as_leader(testing::make_batch(rng, 3, 200, 1), 1);
      if (!full) {
        ASSERT_TRUE(r.ok()) << r.error().message();
        EXPECT_EQ(rig.log()->committable_end(), 6);
        growth = rig.disk().used_bytes() - before;
        return;
      }
      EXPECT_EQ(r.error(), std::errc::no_space_on_device);
      EXPECT_EQ(rig.log()->log_end_offset(), 6) << "the batch was written";
      EXPECT_EQ(recovery_point_on_disk(rt), std::optional<std::int64_t>(3)) << "the disk had no room for it";
      EXPECT_EQ(rig.log()->committable_end(), 3);
      c.capacity_bytes = std::uint64_t{1} << 40;
      rig.disk().set_config(c);
      ASSERT_TRUE(rig.log()->flush().ok());
      EXPECT_EQ(recovery_point_on_disk(rt), std::optional<std::int64_t>(6));
      EXPECT_EQ(rig.log()->committable_end(), 6);
    }));
  }
}

// With a sync per message, an append whose records and recovery point
// were made durable succeeds though the high watermark checkpoint failed to
// write: failing it had the broker undo an append the high watermark had
// counted already (cluster-swarm seed 29632). The next flush writes it.
TEST(LogFaults, AHighWatermarkCheckpointThatFailsDoesNotFailTheAppend) {
  LogRig rig(47);
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    LogConfig config = small_config();
    config.flush_interval_messages = 1;
    ASSERT_TRUE(rig.open(rt, faults_dir, config).ok());
    Rng rng(47);
    (void)append_batches(*rig.log(), rng, 1);
    ASSERT_TRUE(rig.log()->set_high_watermark(3).ok());
    const std::string checkpoint = faults_dir + "/replication-offset-checkpoint";
    sim::DiskConfig c = rig.disk().config();
    c.sync_eio_rate = 1.0;
    c.eio_only_in_path = "replication-offset-checkpoint";
    rig.disk().set_config(c);
    auto r = rig.log()->append_as_leader(testing::make_batch(rng, 3, 200, 1), 1);
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(rig.log()->committable_end(), 6);
    EXPECT_NE(read_offset_checkpoint(rt.disk(), checkpoint).value(), std::optional<std::int64_t>(3))
        << "its write failed";
    c.sync_eio_rate = 0;
    rig.disk().set_config(c);
    ASSERT_TRUE(rig.log()->flush().ok());
    EXPECT_EQ(read_offset_checkpoint(rt.disk(), checkpoint).value(), std::optional<std::int64_t>(3));
  }));
}

// A truncation whose directory sync fails is still made in memory, and the
// high watermark comes down with the log end: a follower that went on with
// its high watermark above an emptied log later led it, and no consumer
// could read to that end (cluster-swarm seed 12081). The error is returned;
// the next flush syncs the directory.
TEST(LogFaults, ATruncationWhoseDirectorySyncFailsKeepsTheHighWatermarkAtTheEnd) {
  for (const bool fully : {true, false}) {
    SCOPED_TRACE(fully ? "truncate_fully_and_start_at" : "truncate_to across segments");
    LogRig rig(48);
    ASSERT_TRUE(rig.run([&](Runtime& rt) {
      ASSERT_TRUE(rig.open(rt, faults_dir, small_config()).ok());
      Rng rng(48);
      (void)append_batches(*rig.log(), rng, 300);  // several segments
      ASSERT_GT(rig.log()->segment_count(), 2u);
      ASSERT_TRUE(rig.log()->set_high_watermark(rig.log()->log_end_offset()).ok());
      ASSERT_TRUE(rig.log()->flush().ok());
      sim::DiskConfig c = rig.disk().config();
      c.sync_eio_rate = 1.0;
      c.eio_only_in_path = faults_dir;
      rig.disk().set_config(c);
      const std::int64_t to = fully ? 1000 : 3;
      auto r = fully ? rig.log()->truncate_fully_and_start_at(to) : rig.log()->truncate_to(to);
      EXPECT_FALSE(r.ok());
      EXPECT_EQ(rig.log()->log_end_offset(), to);
      EXPECT_LE(rig.log()->high_watermark(), rig.log()->log_end_offset());
      c.sync_eio_rate = 0;
      rig.disk().set_config(c);
      ASSERT_TRUE(rig.log()->flush().ok());
      EXPECT_EQ(rig.log()->log_end_offset(), to);
    }));
  }
}

// With a sync per message, a tail whose sync failed is not the log's to
// count toward a high watermark (a reopen cuts it); without, the log end is.
TEST(LogFaults, OnlyTheDurableEndIsCommittableWhenEveryWriteIsSynced) {
  for (const std::int64_t every : {std::int64_t{1}, INT64_MAX}) {
    LogRig rig(43);
    ASSERT_TRUE(rig.run([&](Runtime& rt) {
      LogConfig config = small_config();
      config.flush_interval_messages = every;
      ASSERT_TRUE(rig.open(rt, faults_dir, config).ok());
      Rng rng(43);
      (void)append_batches(*rig.log(), rng, 2);
      ASSERT_TRUE(rig.log()->flush().ok());
      sim::DiskConfig c = rig.disk().config();
      c.sync_eio_rate = 1.0;
      rig.disk().set_config(c);
      (void)rig.log()->append_as_leader(testing::make_batch(rng, 3, 200, 1), 1);
      if (every != 1) {
        EXPECT_FALSE(rig.log()->flush().ok());
      }
      ASSERT_EQ(rig.log()->log_end_offset(), 9);
      EXPECT_EQ(rig.log()->committable_end(), every == 1 ? 6 : 9) << "every " << every;
    }));
  }
}

// Why a broker reopens a log with its unsynced tail written again after a
// reopen that failed on the disk (TopicTable::recover_partition;
// cluster-swarm seed 20841): the failed open's sync may have given up the
// unsynced writes, and a plain open after it syncs "successfully" without
// them and moves the recovery point past them, so a crash leaves the log
// damaged below its recovery point on some seeds. Writing the tail again
// first (open_rewriting_unsynced) makes it durable and keeps it all;
// cutting it (open_cutting_unsynced) is safe too but loses it.
TEST(LogFaults, AfterAnOpenWhoseSyncFailedARewritingOpenMakesTheTailDurable) {
  enum class Mode { plain, cutting, rewriting };
  int damaged_after_plain_open = 0;
  for (const Mode mode : {Mode::plain, Mode::cutting, Mode::rewriting}) {
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
      LogRig rig(seed);
      ASSERT_TRUE(rig.run([&](Runtime& rt) {
        ASSERT_TRUE(rig.open(rt, faults_dir, small_config()).ok());
        Rng rng(seed);
        (void)append_batches(*rig.log(), rng, 6);
        rig.close();
        sim::DiskConfig c = rig.disk().config();
        c.sync_eio_rate = 1.0;
        c.sync_eio_loses_writes = true;
        rig.disk().set_config(c);
        EXPECT_FALSE(Log::open(rt, faults_dir, small_config()).ok());
        c.sync_eio_rate = 0;
        rig.disk().set_config(c);
        auto again = mode == Mode::cutting     ? Log::open_cutting_unsynced(rt, faults_dir, small_config())
                     : mode == Mode::rewriting ? Log::open_rewriting_unsynced(rt, faults_dir, small_config())
                                               : Log::open(rt, faults_dir, small_config());
        ASSERT_TRUE(again.ok()) << again.error().message();
      }));
      rig.crash();
      ASSERT_TRUE(rig.run([&](Runtime& rt) {
        auto r = rig.open(rt, faults_dir, small_config());
        if (mode == Mode::plain) {
          if (!r.ok() && r.error() == std::errc::illegal_byte_sequence) ++damaged_after_plain_open;
          return;
        }
        ASSERT_TRUE(r.ok()) << "seed " << seed << ": " << r.error().message();
        if (mode == Mode::rewriting) {
          EXPECT_EQ(rig.log()->log_end_offset(), 18) << "seed " << seed;
        }
      }));
    }
  }
  EXPECT_GT(damaged_after_plain_open, 0) << "the hazard the other opens avoid";
}

TEST(LogFaults, AFailedSyncIsNeverPromisedDurableLater) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    LogRig rig(seed);
    std::vector<Bytes> durable;
    ASSERT_TRUE(rig.run([&](Runtime& rt) {
      ASSERT_TRUE(rig.open(rt, faults_dir, small_config()).ok());
      Rng rng(seed);
      durable = append_batches(*rig.log(), rng, 3);
      ASSERT_TRUE(rig.log()->flush().ok());
      sim::DiskConfig c = rig.disk().config();
      c.sync_eio_rate = 1.0;
      c.sync_eio_loses_writes = true;
      rig.disk().set_config(c);
      ASSERT_EQ(append_batches(*rig.log(), rng, 20).size(), 20u);
      EXPECT_FALSE(rig.log()->flush().ok());
      EXPECT_TRUE(rig.log()->sync_failed());
      c.sync_eio_rate = 0;
      rig.disk().set_config(c);
      EXPECT_EQ(rig.log()->flush().error(), std::errc::io_error) << "seed " << seed;
      rig.close();
      auto reopened = Log::open_cutting_unsynced(rt, faults_dir, small_config());
      ASSERT_TRUE(reopened.ok()) << reopened.error().message();
      Log& log = **reopened;
      EXPECT_EQ(log.log_end_offset(), 9) << "seed " << seed;
      EXPECT_FALSE(log.sync_failed());
      auto more = append_batches(log, rng, 2);
      durable.insert(durable.end(), more.begin(), more.end());
      EXPECT_TRUE(log.flush().ok());
    }));
    rig.crash();
    ASSERT_TRUE(rig.run([&](Runtime& rt) {
      ASSERT_TRUE(rig.open(rt, faults_dir, small_config()).ok()) << "seed " << seed;
      EXPECT_EQ(rig.log()->log_end_offset(), 15) << "seed " << seed;
      auto r = rig.log()->read(0, 1 << 20);
      ASSERT_TRUE(r.ok());
      auto parts = split_batches(r->bytes);
      ASSERT_TRUE(parts.ok());
      ASSERT_EQ(parts->size(), durable.size()) << "seed " << seed;
      for (std::size_t i = 0; i < durable.size(); ++i)
        EXPECT_TRUE(std::equal((*parts)[i].begin(), (*parts)[i].end(), durable[i].begin(), durable[i].end()))
            << "seed " << seed << " batch " << i;
    }));
  }
}

// Proves that ENOSPC fails an append whole and cleanly: the log end stays,
// what was acknowledged before stays readable, and once space is back the
// log appends at the same offset and keeps everything across a crash after
// a flush.
TEST(LogFaults, EnospcFailsTheAppendAndLosesNothing) {
  LogRig rig(15);
  std::vector<Bytes> acked;
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    ASSERT_TRUE(rig.open(rt, faults_dir, small_config()).ok());
    Rng rng(6);
    acked = append_batches(*rig.log(), rng, 5);
    sim::DiskConfig c = rig.disk().config();
    c.capacity_bytes = rig.disk().used_bytes() + 3000;
    rig.disk().set_config(c);
    bool failed = false;
    for (int i = 0; i < 20 && !failed; ++i) {  // each ~700 bytes: fails within five
      const Bytes b = testing::make_batch(rng, 3, 200, 5000 + i);
      const std::int64_t end = rig.log()->log_end_offset();
      auto r = rig.log()->append_as_leader(b, 1);
      if (r.ok()) {
        acked.push_back(testing::as_stored(b, end, 1));
        continue;
      }
      failed = true;
      EXPECT_EQ(r.error(), std::errc::no_space_on_device) << r.error().message();
      EXPECT_EQ(rig.log()->log_end_offset(), end);
    }
    ASSERT_TRUE(failed) << "the capacity never ran out";
    auto scan = testing::full_scan(*rig.log(), 1 << 20);
    EXPECT_EQ(scan.error, "");
    EXPECT_EQ(scan.batches, acked);
    c.capacity_bytes = std::uint64_t{1} << 40;
    rig.disk().set_config(c);
    auto more = append_batches(*rig.log(), rng, 1);
    ASSERT_EQ(more.size(), 1u);
    EXPECT_EQ(BatchView(more[0]).base_offset(), BatchView(acked.back()).next_offset());
    acked.push_back(more[0]);
    ASSERT_TRUE(rig.log()->flush().ok());
  }));
  rig.crash();
  testing::Scan scan;
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    ASSERT_TRUE(rig.open(rt, faults_dir, small_config()).ok());
    scan = testing::full_scan(*rig.log(), 1 << 20);
  }));
  EXPECT_EQ(scan.error, "");
  EXPECT_EQ(scan.batches, acked);
}

// Proves that a bit flipped in a batch's partition leader epoch, which lies
// outside the CRC, is caught on read: the epoch cache says which epoch
// covers the offset, and a read never returns the batch.
TEST(LogFaults, BitFlipInTheLeaderEpochIsCaughtOnRead) {
  LogRig rig(16);
  std::vector<Bytes> batches;
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    ASSERT_TRUE(rig.open(rt, faults_dir, small_config()).ok());
    Rng rng(7);
    batches = append_batches(*rig.log(), rng, 5);
    ASSERT_TRUE(rig.log()->flush().ok());
  }));
  ASSERT_EQ(batches.size(), 5u);
  const std::int64_t bad_base = BatchView(batches[3]).base_offset();
  ASSERT_TRUE(rig.disk().flip_bit(segment0, position_of(batches, 3) + 14, 2));  // epoch: bytes 12..15
  ASSERT_TRUE(rig.run([&](Runtime&) {
    auto bad = rig.log()->read(bad_base, 1 << 20);
    EXPECT_FALSE(bad.ok()) << "a batch whose epoch the cache contradicts is never served";
    EXPECT_TRUE(read_is_clean(rig.log()->read(0, 1 << 20), bad_base));
    EXPECT_TRUE(rig.log()->read(0, 1).ok()) << "batches before the damage stay readable";
  }));
}

// Proves that an epoch whose cache entry could not be saved (the disk is
// full) is not kept in memory either: the append fails, and a restart could
// otherwise hand out an epoch that batches already carry.
TEST(LogFaults, AnEpochThatCouldNotBeSavedIsNotKept) {
  LogRig rig(17);
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    ASSERT_TRUE(rig.open(rt, faults_dir, small_config()).ok());
    Rng rng(8);
    ASSERT_EQ(append_batches(*rig.log(), rng, 2).size(), 2u);
    sim::DiskConfig c = rig.disk().config();
    c.capacity_bytes = rig.disk().used_bytes();
    rig.disk().set_config(c);
    auto r = rig.log()->append_as_leader(testing::make_batch(rng, 1, 10, 9000), 2);
    EXPECT_FALSE(r.ok());
    ASSERT_FALSE(rig.log()->epochs().empty());
    EXPECT_EQ(rig.log()->epochs().back().epoch, 1);
  }));
}

// Proves that an epoch entry at the log end that holds no records (a
// leadership that wrote nothing) gives way to the epoch of the batch a
// follower then writes there, so the cache says what the log holds.
TEST(LogFaults, AnEmptyEpochAtTheLogEndGivesWayToTheBatchWrittenThere) {
  LogRig rig(18);
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    ASSERT_TRUE(rig.open(rt, faults_dir, small_config()).ok());
    Rng rng(9);
    ASSERT_EQ(append_batches(*rig.log(), rng, 2).size(), 2u);
    const std::int64_t end = rig.log()->log_end_offset();
    ASSERT_TRUE(rig.log()->assign_epoch(5, end).ok());
    EXPECT_FALSE(rig.log()->assign_epoch(6, end - 1).ok()) << "an epoch may not start below the log end";
    const Bytes b = testing::as_stored(testing::make_batch(rng, 1, 10, 9000), end, 3);
    ASSERT_TRUE(rig.log()->append_as_follower(b).ok());
    ASSERT_FALSE(rig.log()->epochs().empty());
    EXPECT_EQ(rig.log()->epochs().back().epoch, 3);
    EXPECT_EQ(rig.log()->epochs().back().start_offset, end);
    EXPECT_TRUE(rig.log()->read(end, 1 << 20).ok());
  }));
}

}  // namespace
}  // namespace castle::storage
