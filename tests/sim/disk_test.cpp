// The simulated disk: POSIX-like behaviour, the crash model (keep, drop or
// tear unsynced sectors; revert unsynced directory entries), injected faults
// and determinism. Every test drives the disk from fibers of a simulated node.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sim/disk.h"
#include "sim/node.h"
#include "sim/world.h"
#include "tests/sim/node_rig.h"

namespace castle::sim {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes filled(std::size_t n, std::uint8_t v) { return Bytes(n, v); }

Bytes text(const std::string& s) { return Bytes(s.begin(), s.end()); }

// Distinct bytes at every offset, so that a misplaced byte shows.
Bytes pattern(std::size_t n, std::uint8_t salt) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 31 + salt);
  return b;
}

using Rig = testing::NodeRig;

std::unique_ptr<File> open_ok(Runtime& rt, const std::string& path, OpenMode mode) {
  auto f = rt.disk().open(path, mode);
  EXPECT_TRUE(f.ok()) << path << ": " << f.error().message();
  return f.ok() ? std::move(*f) : nullptr;
}

Bytes read_all(Runtime& rt, const std::string& path) {
  auto data = read_whole_file(rt.disk(), path);
  EXPECT_TRUE(data.ok()) << path << ": " << data.error().message();
  return data.ok() ? *data : Bytes{};
}

// Creates path with data, making both the data and the name durable.
void write_durable(Runtime& rt, const std::string& path, const Bytes& data) {
  auto f = open_ok(rt, path, OpenMode::create_truncate);
  ASSERT_TRUE(f->pwrite(0, data).ok());
  ASSERT_TRUE(f->datasync().ok());
  ASSERT_TRUE(rt.disk().sync_dir(parent_dir(path)).ok());
}

// Proves the basic file contract: writes are read back, appends land at the
// end, reads stop at end of file.
TEST(Disk, WriteThenReadBack) {
  Rig rig(1);
  ASSERT_TRUE(rig.run([](Runtime& rt) {
    auto f = open_ok(rt, "f", OpenMode::create);
    ASSERT_TRUE(f->pwrite(0, text("hello")).ok());
    auto at = f->append(text(" world"));
    ASSERT_TRUE(at.ok());
    EXPECT_EQ(*at, 5u);
    EXPECT_EQ(*f->size(), 11u);
    EXPECT_EQ(read_all(rt, "f"), text("hello world"));
    Bytes buf(100);
    EXPECT_EQ(*f->pread(6, buf), 5u);
    EXPECT_EQ(*f->pread(11, buf), 0u);
    ASSERT_TRUE(f->pwrite(20, text("x")).ok());  // a write past the end leaves a zero hole
    Bytes all = read_all(rt, "f");
    ASSERT_EQ(all.size(), 21u);
    EXPECT_EQ(all[15], 0);
  }));
  EXPECT_EQ(rig.disk().used_bytes(), 21u);
}

// Proves that each operation costs simulated time within its configured range.
TEST(Disk, OperationsTakeSimulatedTime) {
  Rig rig(2);
  const DiskConfig c = rig.disk().config();
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    auto f = open_ok(rt, "f", OpenMode::create);
    Instant t0 = rt.now();
    ASSERT_TRUE(f->pwrite(0, text("x")).ok());
    const Duration write_took = rt.now() - t0;
    EXPECT_GE(write_took, c.op_latency_min);
    EXPECT_LE(write_took, c.op_latency_max + microseconds(1));
    t0 = rt.now();
    ASSERT_TRUE(f->datasync().ok());
    const Duration sync_took = rt.now() - t0;
    EXPECT_GE(sync_took, c.sync_latency_min);
    EXPECT_LE(sync_took, c.sync_latency_max + microseconds(1));
  }));
}

// Proves that the disk's namespace behaves like POSIX: missing parents,
// non-empty directories, sorted listings, modes and their errors.
TEST(Disk, NamespaceRulesAndErrors) {
  Rig rig(3);
  ASSERT_TRUE(rig.run([](Runtime& rt) {
    Disk& d = rt.disk();
    EXPECT_EQ(d.open("missing/f", OpenMode::create).error(), std::errc::no_such_file_or_directory);
    EXPECT_EQ(d.open("f", OpenMode::read_only).error(), std::errc::no_such_file_or_directory);
    ASSERT_TRUE(d.make_dirs("a/b/c").ok());
    ASSERT_TRUE(d.make_dirs("a/b").ok());  // existing directories are fine
    EXPECT_TRUE(d.exists("a/b/c"));
    EXPECT_EQ(d.open("a/b", OpenMode::read_write).error(), std::errc::is_a_directory);
    for (const char* name : {"a/zeta", "a/alpha", "a/b2", "a/Beta"})
      ASSERT_TRUE(d.open(name, OpenMode::create).ok());
    EXPECT_EQ(d.open("a/alpha", OpenMode::create_new).error(), std::errc::file_exists);
    auto names = d.list("a");
    ASSERT_TRUE(names.ok());
    EXPECT_EQ(*names, (std::vector<std::string>{"Beta", "alpha", "b", "b2", "zeta"}));
    EXPECT_EQ(d.list("nope").error(), std::errc::no_such_file_or_directory);
    EXPECT_EQ(d.list("a/alpha").error(), std::errc::not_a_directory);
    EXPECT_EQ(d.remove("a/b").error(), std::errc::directory_not_empty);
    ASSERT_TRUE(d.remove("a/b/c").ok());
    ASSERT_TRUE(d.remove("a/b").ok());
    EXPECT_FALSE(d.exists("a/b"));
    EXPECT_EQ(d.remove("a/b").error(), std::errc::no_such_file_or_directory);
    EXPECT_EQ(d.open("a//x", OpenMode::create).error(), std::errc::invalid_argument);
    auto ro = open_ok(rt, "a/alpha", OpenMode::read_only);
    EXPECT_EQ(ro->pwrite(0, text("x")).error(), std::errc::bad_file_descriptor);
  }));
}

// Proves that rename replaces an existing target at once, and that a
// directory moves with its whole subtree.
TEST(Disk, RenameReplacesTargetAndMovesDirectories) {
  Rig rig(4);
  ASSERT_TRUE(rig.run([](Runtime& rt) {
    Disk& d = rt.disk();
    write_durable(rt, "f", text("old"));
    ASSERT_TRUE(write_file_atomic(d, "f", text("new")).ok());
    EXPECT_EQ(read_all(rt, "f"), text("new"));
    EXPECT_FALSE(d.exists("f.tmp"));
    ASSERT_TRUE(d.make_dirs("p/q").ok());
    ASSERT_TRUE(d.sync_dir("p").ok());  // q's name in p; p's own name is synced below
    write_durable(rt, "p/q/f", text("deep"));
    ASSERT_TRUE(d.rename("p", "r").ok());
    EXPECT_EQ(d.rename("r", "r/q/inside").error(), std::errc::invalid_argument);
    EXPECT_EQ(read_all(rt, "r/q/f"), text("deep"));
    ASSERT_TRUE(d.sync_dir("").ok());
  }));
  rig.crash();
  ASSERT_TRUE(rig.run([](Runtime& rt) {
    EXPECT_EQ(read_all(rt, "f"), text("new"));
    EXPECT_EQ(read_all(rt, "r/q/f"), text("deep"));
    EXPECT_FALSE(rt.disk().exists("p"));
  }));
}

// Proves that data synced with datasync, under names synced with sync_dir,
// survives a crash whatever the seed, while unsynced data next to it is at
// the crash's mercy.
TEST(Disk, SyncedDataSurvivesCrash) {
  const Bytes durable = pattern(10'000, 7);
  for (std::uint64_t seed = 1; seed <= 100; ++seed) {
    Rig rig(seed);
    ASSERT_TRUE(rig.run([&](Runtime& rt) {
      ASSERT_TRUE(rt.disk().make_dirs("d").ok());
      ASSERT_TRUE(rt.disk().sync_dir("").ok());
      write_durable(rt, "d/f", durable);
      auto f = open_ok(rt, "d/f", OpenMode::read_write);
      ASSERT_TRUE(f->append(pattern(9'000, 9)).ok());
    }));
    rig.crash();
    ASSERT_TRUE(rig.run([&](Runtime& rt) {
      const Bytes got = read_all(rt, "d/f");
      ASSERT_GE(got.size(), durable.size()) << "seed " << seed;
      EXPECT_TRUE(std::equal(durable.begin(), durable.end(), got.begin())) << "seed " << seed;
    }));
  }
}

// Proves that an unsynced overwrite of one sector is, depending on the seed,
// kept whole, dropped (the synced contents come back) or torn (a prefix of
// 512-byte pieces is new, the rest old), and never anything else.
TEST(Disk, UnsyncedSectorIsKeptDroppedOrTorn) {
  int kept = 0, dropped = 0, torn = 0;
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    Rig rig(seed);
    ASSERT_TRUE(rig.run([](Runtime& rt) {
      write_durable(rt, "f", filled(4096, 'A'));
      auto f = open_ok(rt, "f", OpenMode::read_write);
      ASSERT_TRUE(f->pwrite(0, filled(4096, 'B')).ok());
    }));
    rig.crash();
    Bytes got;
    ASSERT_TRUE(rig.run([&](Runtime& rt) { got = read_all(rt, "f"); }));
    ASSERT_EQ(got.size(), 4096u) << "seed " << seed;
    const auto prefix = static_cast<std::size_t>(
        std::find(got.begin(), got.end(), 'A') - got.begin());
    ASSERT_TRUE(std::all_of(got.begin(), got.begin() + prefix, [](auto c) { return c == 'B'; }));
    ASSERT_TRUE(std::all_of(got.begin() + prefix, got.end(), [](auto c) { return c == 'A'; }))
        << "seed " << seed;
    ASSERT_EQ(prefix % 512, 0u) << "seed " << seed;
    if (prefix == 4096) ++kept;
    else if (prefix == 0) ++dropped;
    else ++torn;
    EXPECT_EQ(rig.disk().stats().sectors_torn, prefix % 4096 != 0 ? 1u : 0u);
  }
  EXPECT_GT(kept, 0);
  EXPECT_GT(dropped, 0);
  EXPECT_GT(torn, 0);
}

// Proves that unsynced appends past the synced length come back as zeros
// when dropped, and that the length after a crash ends at the last sector
// that survived (so a dropped sector before a kept one is a hole of zeros).
TEST(Disk, DroppedAppendsReadAsZerosUpToLastKeptSector) {
  int holes = 0, empty = 0;
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    Rig rig(seed);
    ASSERT_TRUE(rig.run([](Runtime& rt) {
      write_durable(rt, "f", Bytes{});
      auto f = open_ok(rt, "f", OpenMode::read_write);
      ASSERT_TRUE(f->append(filled(8192, 'C')).ok());
    }));
    rig.crash();
    Bytes got;
    ASSERT_TRUE(rig.run([&](Runtime& rt) { got = read_all(rt, "f"); }));
    ASSERT_LE(got.size(), 8192u);
    ASSERT_EQ(got.size() % 512, 0u) << "seed " << seed;
    ASSERT_TRUE(std::all_of(got.begin(), got.end(), [](auto c) { return c == 'C' || c == 0; }));
    if (got.empty()) ++empty;
    if (got.size() > 4096 && got[0] == 0) ++holes;
  }
  EXPECT_GT(holes, 0);
  EXPECT_GT(empty, 0);
}

// Proves that an unsynced truncation may or may not survive a crash, and that
// either way the synced bytes below the new length are intact.
TEST(Disk, UnsyncedTruncationMayRevert) {
  const Bytes durable = pattern(8192, 3);
  int reverted = 0, persisted = 0;
  for (std::uint64_t seed = 1; seed <= 60; ++seed) {
    Rig rig(seed);
    ASSERT_TRUE(rig.run([&](Runtime& rt) {
      write_durable(rt, "f", durable);
      auto f = open_ok(rt, "f", OpenMode::read_write);
      ASSERT_TRUE(f->truncate(100).ok());
      EXPECT_EQ(*f->size(), 100u);
    }));
    rig.crash();
    Bytes got;
    ASSERT_TRUE(rig.run([&](Runtime& rt) { got = read_all(rt, "f"); }));
    if (got.size() == durable.size()) {
      ++reverted;
      EXPECT_EQ(got, durable);
    } else {
      ++persisted;
      ASSERT_EQ(got.size(), 100u);
      EXPECT_TRUE(std::equal(got.begin(), got.end(), durable.begin()));
    }
  }
  EXPECT_GT(reverted, 0);
  EXPECT_GT(persisted, 0);
}

// Proves that a new file's name is lost in a crash unless its directory was
// synced, even when its data was synced; and that a synced name survives.
TEST(Disk, NewFileNeedsDirectorySync) {
  for (bool sync_dir : {false, true}) {
    Rig rig(5);
    ASSERT_TRUE(rig.run([&](Runtime& rt) {
      ASSERT_TRUE(rt.disk().make_dirs("d").ok());
      ASSERT_TRUE(rt.disk().sync_dir("").ok());
      auto f = open_ok(rt, "d/f", OpenMode::create_new);
      ASSERT_TRUE(f->pwrite(0, text("data")).ok());
      ASSERT_TRUE(f->datasync().ok());
      if (sync_dir) {
        ASSERT_TRUE(rt.disk().sync_dir("d").ok());
      }
    }));
    rig.crash();
    ASSERT_TRUE(rig.run([&](Runtime& rt) {
      EXPECT_EQ(rt.disk().exists("d/f"), sync_dir);
      if (sync_dir) {
        EXPECT_EQ(read_all(rt, "d/f"), text("data"));
      }
      EXPECT_TRUE(rt.disk().list("d")->size() == (sync_dir ? 1u : 0u));
    }));
  }
}

// Proves that a crash reverts renames and removals whose directory was not
// synced, and that entries under a directory whose own name was never made
// durable vanish with it.
TEST(Disk, UnsyncedDirectoryChangesRevert) {
  Rig rig(6);
  ASSERT_TRUE(rig.run([](Runtime& rt) {
    Disk& d = rt.disk();
    write_durable(rt, "a", text("A"));
    write_durable(rt, "gone", text("G"));
    ASSERT_TRUE(d.rename("a", "b").ok());
    ASSERT_TRUE(d.remove("gone").ok());
    ASSERT_TRUE(d.make_dirs("x/y").ok());
    ASSERT_TRUE(d.sync_dir("x").ok());  // x's entry y is durable, x's own name is not
    write_durable(rt, "x/y/f", text("F"));
  }));
  rig.crash();
  ASSERT_TRUE(rig.run([](Runtime& rt) {
    Disk& d = rt.disk();
    EXPECT_TRUE(d.exists("a"));
    EXPECT_FALSE(d.exists("b"));
    EXPECT_EQ(read_all(rt, "a"), text("A"));
    EXPECT_EQ(read_all(rt, "gone"), text("G"));
    EXPECT_FALSE(d.exists("x"));
    EXPECT_EQ(*d.list(""), (std::vector<std::string>{"a", "gone"}));
  }));
}

// Proves that injected EIO on read, write and sync surfaces as io_error and
// changes nothing: the failed write leaves the old bytes, and a failed sync
// leaves the data as exposed to a crash as if it was never called.
TEST(Disk, InjectedEioChangesNothing) {
  int lost_after_failed_sync = 0;
  for (std::uint64_t seed = 1; seed <= 30; ++seed) {
    Rig rig(seed);
    SimDisk& disk = rig.disk();
    ASSERT_TRUE(rig.run([&](Runtime& rt) {
      write_durable(rt, "f", filled(4096, 'A'));
      auto f = open_ok(rt, "f", OpenMode::read_write);
      DiskConfig c = disk.config();
      c.write_eio_rate = 1.0;
      disk.set_config(c);
      EXPECT_EQ(f->pwrite(0, filled(4096, 'X')).error(), std::errc::io_error);
      EXPECT_EQ(f->truncate(0).error(), std::errc::io_error);
      c.write_eio_rate = 0;
      c.read_eio_rate = 1.0;
      disk.set_config(c);
      Bytes buf(10);
      EXPECT_EQ(f->pread(0, buf).error(), std::errc::io_error);
      c.read_eio_rate = 0;
      c.sync_eio_rate = 1.0;
      disk.set_config(c);
      EXPECT_EQ(read_all(rt, "f"), filled(4096, 'A'));
      ASSERT_TRUE(f->pwrite(0, filled(4096, 'B')).ok());
      EXPECT_EQ(f->datasync().error(), std::errc::io_error);
      EXPECT_EQ(rt.disk().sync_dir("").error(), std::errc::io_error);
    }));
    EXPECT_EQ(disk.stats().eio_injected, 5u);
    rig.crash();
    disk.set_config(DiskConfig{});
    ASSERT_TRUE(rig.run([&](Runtime& rt) {
      if (read_all(rt, "f") != filled(4096, 'B')) ++lost_after_failed_sync;
    }));
  }
  EXPECT_GT(lost_after_failed_sync, 0);
}

// Proves Linux's behaviour since 4.13 (sync_eio_loses_writes): after a
// failed datasync the unsynced write still reads back, a later datasync
// succeeds, yet a crash may find the given-up write lost or torn; and that
// with the option off, the later datasync makes it durable on every seed.
// eio_only_in_path confines injected EIO to the paths that contain it.
TEST(Disk, EioOnlyInPathSparesEveryOtherPath) {
  Rig rig(3);
  SimDisk& disk = rig.disk();
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    ASSERT_TRUE(rt.disk().make_dirs("d").ok());
    auto hit = open_ok(rt, "d/hit-me", OpenMode::create_truncate);
    auto spared = open_ok(rt, "d/other", OpenMode::create_truncate);
    DiskConfig c = disk.config();
    c.read_eio_rate = c.write_eio_rate = c.sync_eio_rate = 1.0;
    c.eio_only_in_path = "hit-me";
    disk.set_config(c);
    EXPECT_EQ(hit->pwrite(0, filled(10, 'A')).error(), std::errc::io_error);
    EXPECT_EQ(hit->datasync().error(), std::errc::io_error);
    EXPECT_TRUE(spared->pwrite(0, filled(10, 'B')).ok());
    EXPECT_TRUE(spared->datasync().ok());
    EXPECT_TRUE(rt.disk().sync_dir("d").ok());
    c.eio_only_in_path = "d";
    disk.set_config(c);
    EXPECT_EQ(rt.disk().sync_dir("d").error(), std::errc::io_error);
  }));
}

TEST(Disk, FailedSyncMayGiveUpTheWrite) {
  for (const bool loses : {true, false}) {
    int lost = 0;
    for (std::uint64_t seed = 1; seed <= 40; ++seed) {
      Rig rig(seed);
      SimDisk& disk = rig.disk();
      ASSERT_TRUE(rig.run([&](Runtime& rt) {
        write_durable(rt, "f", filled(8192, 'A'));
        auto f = open_ok(rt, "f", OpenMode::read_write);
        DiskConfig c = disk.config();
        c.sync_eio_rate = 1.0;
        c.sync_eio_loses_writes = loses;
        disk.set_config(c);
        ASSERT_TRUE(f->pwrite(0, filled(8192, 'B')).ok());
        EXPECT_EQ(f->datasync().error(), std::errc::io_error);
        EXPECT_EQ(read_all(rt, "f"), filled(8192, 'B'));
        c.sync_eio_rate = 0;
        disk.set_config(c);
        ASSERT_TRUE(f->pwrite(8192, filled(100, 'C')).ok());  // a later write is synced
        EXPECT_TRUE(f->datasync().ok());
      }));
      rig.crash();
      ASSERT_TRUE(rig.run([&](Runtime& rt) {
        Bytes got = read_all(rt, "f");
        ASSERT_EQ(got.size(), 8292u);
        EXPECT_EQ(Bytes(got.begin() + 8192, got.end()), filled(100, 'C'));
        if (Bytes(got.begin(), got.begin() + 8192) != filled(8192, 'B')) ++lost;
      }));
    }
    if (loses) {
      EXPECT_GT(lost, 0);
    } else {
      EXPECT_EQ(lost, 0);
    }
  }
}

// Proves that a write that would exceed the capacity fails whole with
// no_space_on_device and leaves what was written before, and that removing a
// file gives its space back.
TEST(Disk, EnospcFailsWholeWriteAndKeepsEarlierData) {
  Rig rig(7);
  SimDisk& disk = rig.disk();
  DiskConfig c;
  c.capacity_bytes = 10'000;
  disk.set_config(c);
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    auto f = open_ok(rt, "f", OpenMode::create);
    ASSERT_TRUE(f->append(pattern(6000, 1)).ok());
    EXPECT_EQ(f->append(pattern(6000, 2)).error(), std::errc::no_space_on_device);
    EXPECT_EQ(f->pwrite(5000, pattern(6000, 2)).error(), std::errc::no_space_on_device);
    EXPECT_EQ(f->truncate(20'000).error(), std::errc::no_space_on_device);
    EXPECT_EQ(read_all(rt, "f"), pattern(6000, 1));
    EXPECT_TRUE(f->pwrite(0, pattern(6000, 3)).ok());  // no growth: fits
    EXPECT_EQ(disk.used_bytes(), 6000u);
    f->close();
    ASSERT_TRUE(rt.disk().remove("f").ok());
    EXPECT_EQ(disk.used_bytes(), 0u);
    auto g = open_ok(rt, "g", OpenMode::create);
    EXPECT_TRUE(g->append(pattern(9000, 4)).ok());
  }));
  EXPECT_EQ(disk.stats().enospc, 3u);
}

// Returns how many bits differ between a and b (which must be as long).
int bits_differing(const Bytes& a, const Bytes& b) {
  EXPECT_EQ(a.size(), b.size());
  int n = 0;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    n += __builtin_popcount(static_cast<unsigned>(a[i] ^ b[i]));
  return n;
}

// Proves that bit flips corrupt stored data silently: a read sees exactly
// one bit changed, and the change is in the durable copy too (it survives
// a crash).
TEST(Disk, BitFlipIsVisibleOnRead) {
  Rig rig(8);
  const Bytes data = pattern(3000, 5);
  EXPECT_FALSE(rig.disk().flip_random_bit());  // nothing stored yet
  ASSERT_TRUE(rig.run([&](Runtime& rt) { write_durable(rt, "f", data); }));
  ASSERT_TRUE(rig.disk().flip_bit("f", 100, 3));
  EXPECT_FALSE(rig.disk().flip_bit("f", 3000, 0));  // past the end
  Bytes got;
  ASSERT_TRUE(rig.run([&](Runtime& rt) { got = read_all(rt, "f"); }));
  EXPECT_EQ(got[100], data[100] ^ 0x08);
  EXPECT_EQ(bits_differing(got, data), 1);
  ASSERT_TRUE(rig.disk().flip_random_bit());
  rig.crash();
  ASSERT_TRUE(rig.run([&](Runtime& rt) { got = read_all(rt, "f"); }));
  const int flipped = bits_differing(got, data);
  EXPECT_TRUE(flipped == 2 || flipped == 0);  // 0: the random flip undid the first
  EXPECT_EQ(rig.disk().stats().bit_flips, 2u);
}

// Proves that a slow sync takes the configured slow latency in simulated time.
TEST(Disk, SlowSyncTakesLonger) {
  for (double rate : {0.0, 1.0}) {
    Rig rig(9);
    DiskConfig c;
    c.slow_sync_rate = rate;
    rig.disk().set_config(c);
    Duration took{};
    ASSERT_TRUE(rig.run([&](Runtime& rt) {
      auto f = open_ok(rt, "f", OpenMode::create);
      ASSERT_TRUE(f->append(text("x")).ok());
      const Instant t0 = rt.now();
      ASSERT_TRUE(f->datasync().ok());
      took = rt.now() - t0;
    }));
    if (rate > 0) {
      EXPECT_GE(took, c.slow_sync_latency);
    } else {
      EXPECT_LE(took, c.sync_latency_max + microseconds(1));
    }
  }
}

// Proves that handles of a crashed incarnation fail with bad_file_descriptor
// instead of touching the new state, and stay safe to use and close after
// the disk itself is gone.
TEST(Disk, OldHandlesFailAfterCrash) {
  std::unique_ptr<File> old;
  {
    Rig rig(10);
    ASSERT_TRUE(rig.run([&](Runtime& rt) {
      write_durable(rt, "f", text("durable"));
      old = open_ok(rt, "f", OpenMode::read_write);
    }));
    rig.crash();
    ASSERT_TRUE(rig.run([&](Runtime& rt) {
      Bytes buf(4);
      EXPECT_EQ(old->pread(0, buf).error(), std::errc::bad_file_descriptor);
      EXPECT_EQ(old->pwrite(0, text("evil")).error(), std::errc::bad_file_descriptor);
      EXPECT_EQ(old->datasync().error(), std::errc::bad_file_descriptor);
      EXPECT_EQ(read_all(rt, "f"), text("durable"));
      auto fresh = open_ok(rt, "f", OpenMode::read_write);
      EXPECT_TRUE(fresh->append(text("!")).ok());
    }));
    EXPECT_EQ(rig.disk().used_bytes(), 8u);
  }
  Bytes buf(4);
  EXPECT_EQ(old->pread(0, buf).error(), std::errc::bad_file_descriptor);
  old->close();
  old.reset();
}

// Proves that an operation in flight when the node crashes never happens:
// the fiber dies during the operation's latency, before its effect.
TEST(Disk, CrashDuringOperationLosesIt) {
  Rig rig(11);
  ASSERT_TRUE(rig.run([](Runtime& rt) { write_durable(rt, "f", Bytes{}); }));
  const std::uint64_t writes_before = rig.disk().stats().writes;
  DiskConfig slow;
  slow.op_latency_min = slow.op_latency_max = seconds(1);
  rig.disk().set_config(slow);
  EXPECT_FALSE(rig.run(
      [](Runtime& rt) {
        auto f = open_ok(rt, "f", OpenMode::read_write);
        ASSERT_TRUE(f->append(text("never")).ok());
      },
      milliseconds(1500)));
  EXPECT_EQ(rig.disk().stats().writes, writes_before);
  rig.crash();
  rig.disk().set_config(DiskConfig{});
  ASSERT_TRUE(rig.run([](Runtime& rt) { EXPECT_TRUE(read_all(rt, "f").empty()); }));
}

// A seeded workload of appends, overwrites, syncs and a crash; returns what
// every file holds afterwards and the world's trace hash.
std::pair<std::vector<Bytes>, std::uint64_t> run_workload(std::uint64_t seed) {
  Rig rig(seed);
  EXPECT_TRUE(rig.run([](Runtime& rt) {
    Disk& d = rt.disk();
    EXPECT_TRUE(d.make_dirs("log").ok());
    EXPECT_TRUE(d.sync_dir("").ok());
    for (int i = 0; i < 40; ++i) {
      const std::string path = "log/" + std::to_string(rt.rng().below(4));
      auto f = open_ok(rt, path, OpenMode::create);
      const auto n = static_cast<std::size_t>(rt.rng().between(1, 9000));
      EXPECT_TRUE(f->append(pattern(n, static_cast<std::uint8_t>(i))).ok());
      if (rt.rng().chance(0.3)) {
        EXPECT_TRUE(f->datasync().ok());
      }
      if (rt.rng().chance(0.2)) {
        EXPECT_TRUE(d.sync_dir("log").ok());
      }
    }
  }));
  rig.crash();
  std::vector<Bytes> contents;
  EXPECT_TRUE(rig.run([&](Runtime& rt) {
    auto names = rt.disk().list("log");
    ASSERT_TRUE(names.ok());
    for (const std::string& name : *names)
      contents.push_back(read_all(rt, "log/" + name));
  }));
  return {contents, rig.world().trace_hash()};
}

// Proves determinism: the same seed gives the same files after a crash and
// the same trace hash; another seed gives another trace.
TEST(Disk, SameSeedSameOutcome) {
  const auto a = run_workload(42);
  const auto b = run_workload(42);
  EXPECT_EQ(a.first, b.first);
  EXPECT_EQ(a.second, b.second);
  EXPECT_NE(run_workload(43).second, a.second);
}

}  // namespace
}  // namespace castle::sim

namespace castle::sim {
namespace {

// Proves that a sync makes exactly the current contents durable, whatever
// mix of writes, extensions and truncations preceded it: random operations
// against a byte-vector model, a sync at random points, then a crash; the
// file must equal the model as of the last sync (nothing after it was
// synced, so the crash may only roll back to that image or keep more of
// the unsynced tail; here every step is followed by a sync before the crash).
TEST(Disk, SyncPersistsExactlyTheCurrentContents) {
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    Rig rig(seed);
    Bytes model;
    Rng r(seed);
    ASSERT_TRUE(rig.run([&](Runtime& rt) {
      auto f = open_ok(rt, "f", OpenMode::create);
      ASSERT_TRUE(rt.disk().sync_dir("").ok());
      for (int i = 0; i < 60; ++i) {
        const auto op = r.below(4);
        if (op < 2) {
          const std::uint64_t off = r.below(model.size() + 9000);
          Bytes data = pattern(1 + r.below(6000), static_cast<std::uint8_t>(i));
          ASSERT_TRUE(f->pwrite(off, data).ok());
          if (model.size() < off + data.size()) model.resize(off + data.size(), 0);
          std::copy(data.begin(), data.end(), model.begin() + static_cast<std::ptrdiff_t>(off));
        } else if (op == 2) {
          const std::uint64_t len = r.below(model.size() + 5000);
          ASSERT_TRUE(f->truncate(len).ok());
          model.resize(len, 0);
        } else {
          ASSERT_TRUE(f->datasync().ok());
        }
      }
      ASSERT_TRUE(f->datasync().ok());
    }));
    rig.crash();
    Bytes after;
    ASSERT_TRUE(rig.run([&](Runtime& rt) { after = read_all(rt, "f"); }));
    ASSERT_EQ(after, model) << "seed " << seed;
  }
}

}  // namespace
}  // namespace castle::sim
