#pragma once
// The simulated disk of one node.
//
// Fault model (disk): every file has durable contents (as of its last
// datasync) and current contents (what reads see). A crash keeps, drops or
// tears each unsynced 4 KiB sector independently (seeded): a dropped sector
// reads back as it was at the last sync, or as zeros past the synced length;
// a torn sector keeps a prefix of 512-byte pieces. Directory entries
// (create, rename, remove, mkdir) are durable only after sync_dir() of their
// parent; a crash reverts every directory to its durable entries. Faults:
// EIO on read, write or sync (per-op rates); silent bit flips in stored data;
// ENOSPC when the capacity is exceeded (the write fails whole, nothing
// already written is lost); slow syncs. Every operation takes simulated time.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "system/runtime/disk.h"
#include "system/runtime/random.h"
#include "system/runtime/time.h"

namespace castle::sim {

class SimNode;
class World;

struct DiskConfig {
  Duration op_latency_min = std::chrono::microseconds(5);
  Duration op_latency_max = std::chrono::microseconds(50);
  Duration sync_latency_min = std::chrono::microseconds(200);
  Duration sync_latency_max = std::chrono::milliseconds(2);
  std::uint64_t capacity_bytes = std::uint64_t{1} << 40;
  double read_eio_rate = 0;
  double write_eio_rate = 0;
  double sync_eio_rate = 0;
  // What a failed datasync does to the writes it did not sync. false: they
  // stay dirty, and a later datasync that succeeds makes them durable (the
  // retry a program may hope for). true: Linux's behaviour since 4.13
  // ("fsyncgate"): the kernel gives up on them at once, so each unsynced
  // sector's durable copy is kept, lost or torn as at a crash, reads still
  // see the new bytes, and a later datasync succeeds without writing them
  // again. Only a program that stops trusting the file after the error
  // (Kafka takes the log directory offline; etcd exits) keeps its promises.
  bool sync_eio_loses_writes = false;
  double slow_sync_rate = 0;
  // When set, the EIO rates above apply only to files and directories
  // whose path (as opened) contains it: a test fails one checkpoint, say,
  // and nothing else.
  std::string eio_only_in_path;
  Duration slow_sync_latency = std::chrono::milliseconds(500);
};

struct DiskStats {
  std::uint64_t reads = 0;
  std::uint64_t writes = 0;
  std::uint64_t syncs = 0;
  std::uint64_t eio_injected = 0;
  std::uint64_t enospc = 0;
  std::uint64_t bit_flips = 0;
  std::uint64_t sectors_dropped = 0;
  std::uint64_t sectors_torn = 0;
};

class SimDisk final : public Disk {
 public:
  SimDisk(World& world, SimNode& node, Rng rng);
  ~SimDisk() override;

  // Disk.
  Result<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) override;
  Result<void> rename(const std::string& from, const std::string& to) override;
  Result<void> remove(const std::string& path) override;
  Result<void> make_dirs(const std::string& path) override;
  Result<std::vector<std::string>> list(const std::string& dir) override;
  bool exists(const std::string& path) override;
  Result<void> sync_dir(const std::string& dir) override;

  // Controls (the simulator's side only).
  void set_config(const DiskConfig& c) { config_ = c; }
  const DiskConfig& config() const { return config_; }
  const DiskStats& stats() const { return stats_; }
  // Applies the crash model; open handles of the old incarnation fail.
  void crash();
  // Flips one random bit of stored data (both durable and current). False
  // if the disk holds no data.
  bool flip_random_bit();
  // Flips a bit of one file at a byte offset (for targeted tests).
  bool flip_bit(const std::string& path, std::uint64_t offset, int bit);
  std::uint64_t used_bytes() const;

  struct Impl;

 private:
  World& world_;
  SimNode& node_;
  Rng rng_;
  DiskConfig config_;
  DiskStats stats_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace castle::sim
