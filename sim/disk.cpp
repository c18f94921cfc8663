// The simulated disk. The fault model is stated in sim/disk.h; this file
// states how it is represented.
//
// Directories form a tree of Dir objects held in one registry by id (so that
// a durable namespace that a crash could make cyclic never leaks through
// shared_ptr cycles). Each Dir has two ordered maps of entries, keyed by
// name: `cur` (what lookups see) and `dur` (as of its last sync_dir). Files
// are Inodes, shared by the entries that name them and by open handles, so a
// handle never dangles. A crash rebuilds the namespace by walking `dur` from
// the root; whatever that walk does not reach is gone.
//
// Every operation sleeps for a drawn latency on the node's clock and then
// applies its effect at once, so a crash during the sleep (which kills the
// fiber) means the operation never happened.

#include "sim/disk.h"

#include <algorithm>
#include <set>
#include <utility>

#include "sim/chunked_bytes.h"
#include "sim/node.h"
#include "sim/world.h"
#include "system/runtime/assert.h"

namespace castle::sim {

// Named rather than anonymous: SimDisk::Impl, which has linkage, holds these.
namespace disk_model {

constexpr std::uint64_t sector_bytes = 4096;
constexpr std::uint64_t piece_bytes = 512;  // the unit a torn sector keeps
constexpr std::uint64_t root_dir_id = 1;
// An unsynced truncation survives a crash with this probability.
constexpr double truncation_persist_probability = 0.5;


struct Inode {
  std::uint64_t id = 0;
  ChunkedBytes data;     // current contents: what reads see
  ChunkedBytes durable;  // contents and length as of the last datasync
  std::set<std::uint64_t> dirty_sectors;  // written since the last datasync
  std::uint64_t length_min_since_sync = 0;  // for unsynced truncations
  // A failed datasync gave up some writes (sync_eio_loses_writes): the
  // current contents hold bytes that no later datasync makes durable, so
  // a datasync copies its dirty sectors instead of sharing every chunk.
  bool writes_given_up = false;
  int links_current = 0;  // names in the current namespace
  int handles_open = 0;   // open handles of the current incarnation
  bool charged() const { return links_current > 0 || handles_open > 0; }
};

// An entry names either a directory (dir_id != 0) or a file.
struct Entry {
  std::uint64_t dir_id = 0;
  std::shared_ptr<Inode> file;
  bool is_dir() const { return dir_id != 0; }
};

struct Dir {
  std::map<std::string, Entry> cur;
  std::map<std::string, Entry> dur;
};

// Splits "a/b/c" into its names; "" is the root (no names). Empty names,
// "." and ".." are rejected: paths are plain and relative.
bool split_path(const std::string& path, std::vector<std::string>* names) {
  names->clear();
  if (path.empty()) return true;
  std::size_t start = 0;
  for (;;) {
    const std::size_t slash = path.find('/', start);
    std::string name = path.substr(start, slash == std::string::npos ? slash : slash - start);
    if (name.empty() || name == "." || name == "..") return false;
    names->push_back(std::move(name));
    if (slash == std::string::npos) return true;
    start = slash + 1;
  }
}

std::uint64_t sector_of(std::uint64_t offset) { return offset / sector_bytes; }

void mark_dirty(Inode& inode, std::uint64_t begin, std::uint64_t end) {
  if (begin >= end) return;
  for (std::uint64_t s = sector_of(begin); s <= sector_of(end - 1); ++s)
    inode.dirty_sectors.insert(s);
}

}  // namespace disk_model

using namespace disk_model;

// Shared with handles: they hold it weakly, so once the disk is destroyed a
// handle sees it expired, and after a crash it sees a newer incarnation.
struct DiskCore {
  SimDisk::Impl* impl = nullptr;
  std::uint64_t incarnation = 1;
};

struct SimDisk::Impl {
  explicit Impl(SimDisk& d) : disk(d), core(std::make_shared<DiskCore>()) {
    core->impl = this;
    dirs.emplace(root_dir_id, std::make_unique<Dir>());
  }

  SimDisk& disk;
  std::shared_ptr<DiskCore> core;
  std::map<std::uint64_t, std::unique_ptr<Dir>> dirs;  // by id; root is 1
  std::uint64_t next_dir_id = root_dir_id + 1;
  std::uint64_t next_inode_id = 1;
  std::uint64_t used_bytes = 0;  // current length of every charged inode
  // Whether a directory lost a name since the last collection: only then
  // may one have become unreachable. Collecting walks every directory, and
  // a broker with hundreds of partition directories syncs one of them for
  // each checkpoint it writes.
  bool dirs_maybe_unreachable = false;

  // Latency and fault draws.
  bool roll(double p) { return p > 0 && disk.rng_.chance(p); }
  // Set while a file operation runs on a path DiskConfig::eio_only_in_path
  // spares.
  bool eio_spared = false;
  double eio(double rate) const { return eio_spared ? 0 : rate; }
  bool spares(const std::string& path) const {
    const std::string& only = disk.config_.eio_only_in_path;
    return !only.empty() && path.find(only) == std::string::npos;
  }
  void delay(Duration lo, Duration hi);
  void delay_op() { delay(disk.config_.op_latency_min, disk.config_.op_latency_max); }
  void delay_sync();

  // Namespace.
  Dir& dir(std::uint64_t id) {
    auto it = dirs.find(id);
    CASTLE_ASSERT(it != dirs.end(), "an entry names a directory that is gone");
    return *it->second;
  }
  Result<Dir*> lookup_dir(const std::vector<std::string>& names, std::size_t count);
  Result<Dir*> parent_of(const std::string& path, std::string* name);
  Result<Entry> lookup(const std::string& path);
  void link(Dir& d, const std::string& name, Entry e);
  void unlink(Dir& d, const std::string& name);
  void charge(Inode& inode, bool was_charged);
  void collect_dirs();
  static bool drops_a_dir(const Dir& d);
  bool over_capacity(std::uint64_t growth) const {
    return used_bytes + growth > disk.config_.capacity_bytes;
  }
  template <class F>
  auto run_dir_op(bool is_sync, F&& op) -> decltype(op());
  bool flip(Inode& inode, std::uint64_t offset, int bit);

  // Operations, applied atomically after the delay.
  Result<std::shared_ptr<Inode>> open(const std::string& path, OpenMode mode);
  Result<void> rename(const std::string& from, const std::string& to);
  Result<void> remove(const std::string& path);
  Result<void> make_dirs(const std::string& path);
  Result<void> sync_dir(const std::string& path);
  Result<std::size_t> read(Inode& inode, std::uint64_t offset, std::span<std::uint8_t> buf);
  Result<void> write(Inode& inode, std::uint64_t offset, std::span<const std::uint8_t> data);
  Result<void> truncate(Inode& inode, std::uint64_t length);
  Result<void> datasync(Inode& inode);
  void set_length(Inode& inode, std::uint64_t length);
  struct SectorFates {
    std::uint64_t kept = 0, dropped = 0, torn = 0;
  };
  SectorFates settle_dirty_sectors(Inode& inode, ChunkedBytes& image);
  void give_up_writes(Inode& inode);

  // Crash model.
  void crash();
  void crash_walk(std::vector<std::shared_ptr<Inode>>* files, std::set<std::uint64_t>* seen_dirs);
  void crash_file(Inode& inode);
  std::map<std::uint64_t, Inode*> stored_inodes();
  void recount_used();
};

// ---------------------------------------------------------------------------
// Latency.

void SimDisk::Impl::delay(Duration lo, Duration hi) {
  CASTLE_ASSERT(lo <= hi, "disk latency range is inverted");
  const Duration d(disk.rng_.between(lo.count(), hi.count()));
  // Called from outside any fiber, the simulator inspects the disk: no time.
  if (!disk.node_.scheduler().in_fiber()) return;
  disk.node_.sleep_for(d);
}

void SimDisk::Impl::delay_sync() {
  const DiskConfig& c = disk.config_;
  if (roll(c.slow_sync_rate)) {
    delay(c.slow_sync_latency, c.slow_sync_latency);
  } else {
    delay(c.sync_latency_min, c.sync_latency_max);
  }
}

// ---------------------------------------------------------------------------
// Namespace.

Result<Dir*> SimDisk::Impl::lookup_dir(const std::vector<std::string>& names, std::size_t count) {
  CASTLE_ASSERT(count <= names.size(), "lookup past the end of a path");
  Dir* d = &dir(root_dir_id);
  for (std::size_t i = 0; i < count; ++i) {
    auto it = d->cur.find(names[i]);
    if (it == d->cur.end()) return std::errc::no_such_file_or_directory;
    if (!it->second.is_dir()) return std::errc::not_a_directory;
    d = &dir(it->second.dir_id);
  }
  return d;
}

// The directory that holds path's last name, which goes to *name.
Result<Dir*> SimDisk::Impl::parent_of(const std::string& path, std::string* name) {
  std::vector<std::string> names;
  if (!split_path(path, &names) || names.empty()) return std::errc::invalid_argument;
  *name = names.back();
  return lookup_dir(names, names.size() - 1);
}

Result<Entry> SimDisk::Impl::lookup(const std::string& path) {
  if (path.empty()) return Entry{root_dir_id, nullptr};
  std::string name;
  auto parent = parent_of(path, &name);
  if (!parent) return parent.error();
  auto it = (*parent)->cur.find(name);
  if (it == (*parent)->cur.end()) return std::errc::no_such_file_or_directory;
  return it->second;
}

void SimDisk::Impl::charge(Inode& inode, bool was_charged) {
  if (was_charged == inode.charged()) return;
  if (inode.charged()) {
    used_bytes += inode.data.size();
  } else {
    CASTLE_ASSERT(used_bytes >= inode.data.size(), "used bytes would go negative");
    used_bytes -= inode.data.size();
  }
}

void SimDisk::Impl::link(Dir& d, const std::string& name, Entry e) {
  CASTLE_ASSERT(!d.cur.contains(name), "link over an existing name");
  if (!e.is_dir()) {
    const bool was = e.file->charged();
    ++e.file->links_current;
    charge(*e.file, was);
  }
  d.cur.emplace(name, std::move(e));
}

void SimDisk::Impl::unlink(Dir& d, const std::string& name) {
  auto it = d.cur.find(name);
  CASTLE_ASSERT(it != d.cur.end(), "unlink of a missing name");
  if (!it->second.is_dir()) {
    Inode& inode = *it->second.file;
    const bool was = inode.charged();
    --inode.links_current;
    CASTLE_ASSERT(inode.links_current >= 0, "negative link count");
    charge(inode, was);
  } else {
    dirs_maybe_unreachable = true;
  }
  d.cur.erase(it);
}

// Drops directories that neither namespace can reach any more.
void SimDisk::Impl::collect_dirs() {
  std::set<std::uint64_t> live{root_dir_id};
  std::vector<std::uint64_t> todo{root_dir_id};
  while (!todo.empty()) {
    Dir& d = dir(todo.back());
    todo.pop_back();
    for (const auto* m : {&d.cur, &d.dur})
      for (const auto& [name, e] : *m)
        if (e.is_dir() && live.insert(e.dir_id).second) todo.push_back(e.dir_id);
  }
  std::erase_if(dirs, [&](const auto& kv) { return !live.contains(kv.first); });
  dirs_maybe_unreachable = false;
}

// Whether syncing d (its durable entries becoming its current ones) drops
// a directory from them.
bool SimDisk::Impl::drops_a_dir(const Dir& d) {
  for (const auto& [name, e] : d.dur) {
    if (!e.is_dir()) continue;
    auto it = d.cur.find(name);
    if (it == d.cur.end() || it->second.dir_id != e.dir_id) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------
// Directory operations.

Result<std::shared_ptr<Inode>> SimDisk::Impl::open(const std::string& path, OpenMode mode) {
  std::string name;
  auto parent = parent_of(path, &name);
  if (!parent) return parent.error();
  Dir& d = **parent;
  auto it = d.cur.find(name);
  if (it != d.cur.end()) {
    if (it->second.is_dir()) return std::errc::is_a_directory;
    if (mode == OpenMode::create_new) return std::errc::file_exists;
    std::shared_ptr<Inode> inode = it->second.file;
    if (mode == OpenMode::create_truncate) set_length(*inode, 0);
    return inode;
  }
  if (mode == OpenMode::read_only || mode == OpenMode::read_write)
    return std::errc::no_such_file_or_directory;
  auto inode = std::make_shared<Inode>();
  inode->id = next_inode_id++;
  link(d, name, Entry{0, inode});
  return inode;
}

Result<void> SimDisk::Impl::rename(const std::string& from, const std::string& to) {
  std::string from_name, to_name;
  auto from_dir = parent_of(from, &from_name);
  if (!from_dir) return from_dir.error();
  auto to_dir = parent_of(to, &to_name);
  if (!to_dir) return to_dir.error();
  auto src = (*from_dir)->cur.find(from_name);
  if (src == (*from_dir)->cur.end()) return std::errc::no_such_file_or_directory;
  if (from == to) return {};
  const Entry moving = src->second;
  // A directory moved below itself would cut its subtree off the root.
  if (moving.is_dir() && to.starts_with(from + "/")) return std::errc::invalid_argument;
  auto dst = (*to_dir)->cur.find(to_name);
  if (dst != (*to_dir)->cur.end()) {
    const Entry& target = dst->second;
    if (moving.is_dir() && !target.is_dir()) return std::errc::not_a_directory;
    if (!moving.is_dir() && target.is_dir()) return std::errc::is_a_directory;
    if (target.is_dir() && !dir(target.dir_id).cur.empty()) return std::errc::directory_not_empty;
    // Replacing the target is one step with the move: never a moment
    // without either name.
    unlink(**to_dir, to_name);
  }
  link(**to_dir, to_name, moving);
  unlink(**from_dir, from_name);
  return {};
}

Result<void> SimDisk::Impl::remove(const std::string& path) {
  std::string name;
  auto parent = parent_of(path, &name);
  if (!parent) return parent.error();
  auto it = (*parent)->cur.find(name);
  if (it == (*parent)->cur.end()) return std::errc::no_such_file_or_directory;
  if (it->second.is_dir() && !dir(it->second.dir_id).cur.empty())
    return std::errc::directory_not_empty;
  unlink(**parent, name);
  return {};
}

Result<void> SimDisk::Impl::make_dirs(const std::string& path) {
  std::vector<std::string> names;
  if (!split_path(path, &names)) return std::errc::invalid_argument;
  Dir* d = &dir(root_dir_id);
  for (const std::string& name : names) {
    auto it = d->cur.find(name);
    if (it == d->cur.end()) {
      const std::uint64_t id = next_dir_id++;
      dirs.emplace(id, std::make_unique<Dir>());
      link(*d, name, Entry{id, nullptr});
      it = d->cur.find(name);
    }
    if (!it->second.is_dir()) return std::errc::not_a_directory;
    d = &dir(it->second.dir_id);
  }
  return {};
}

Result<void> SimDisk::Impl::sync_dir(const std::string& path) {
  auto e = lookup(path);
  if (!e) return e.error();
  if (!e->is_dir()) return std::errc::not_a_directory;
  ++disk.stats_.syncs;
  if (!spares(path) && roll(disk.config_.sync_eio_rate)) {
    ++disk.stats_.eio_injected;
    disk.world_.note("disk.sync_dir.eio", e->dir_id);
    return std::errc::io_error;
  }
  Dir& d = dir(e->dir_id);
  if (drops_a_dir(d)) dirs_maybe_unreachable = true;
  d.dur = d.cur;
  disk.world_.note("disk.sync_dir", e->dir_id, d.dur.size());
  if (dirs_maybe_unreachable) collect_dirs();
  return {};
}

// ---------------------------------------------------------------------------
// File operations.

Result<std::size_t> SimDisk::Impl::read(Inode& inode, std::uint64_t offset,
                                        std::span<std::uint8_t> buf) {
  ++disk.stats_.reads;
  if (roll(eio(disk.config_.read_eio_rate))) {
    ++disk.stats_.eio_injected;
    disk.world_.note("disk.read.eio", inode.id, offset);
    return std::errc::io_error;
  }
  if (offset >= inode.data.size()) return std::size_t{0};
  const std::size_t n = std::min<std::uint64_t>(buf.size(), inode.data.size() - offset);
  inode.data.read(offset, buf.first(n));
  return n;
}

// Changes the current length; a growth zero-fills and is unsynced data like
// any write, a shrink is an unsynced truncation.
void SimDisk::Impl::set_length(Inode& inode, std::uint64_t length) {
  const std::uint64_t old = inode.data.size();
  if (length > old) mark_dirty(inode, old, length);
  inode.length_min_since_sync = std::min(inode.length_min_since_sync, length);
  inode.data.resize(length);
  if (inode.charged()) used_bytes = used_bytes - old + length;
}

Result<void> SimDisk::Impl::write(Inode& inode, std::uint64_t offset,
                                  std::span<const std::uint8_t> data) {
  ++disk.stats_.writes;
  if (roll(eio(disk.config_.write_eio_rate))) {
    ++disk.stats_.eio_injected;
    disk.world_.note("disk.write.eio", inode.id, offset);
    return std::errc::io_error;
  }
  CASTLE_ASSERT(offset <= UINT64_MAX - data.size(), "a write past the end of offsets");
  const std::uint64_t end = offset + data.size();
  const std::uint64_t growth = end > inode.data.size() ? end - inode.data.size() : 0;
  if (over_capacity(growth)) {
    ++disk.stats_.enospc;
    disk.world_.note("disk.write.enospc", inode.id, end);
    return std::errc::no_space_on_device;
  }
  if (growth > 0) set_length(inode, end);
  mark_dirty(inode, offset, end);
  inode.data.write(offset, data);
  return {};
}

Result<void> SimDisk::Impl::truncate(Inode& inode, std::uint64_t length) {
  ++disk.stats_.writes;
  if (roll(eio(disk.config_.write_eio_rate))) {
    ++disk.stats_.eio_injected;
    disk.world_.note("disk.truncate.eio", inode.id, length);
    return std::errc::io_error;
  }
  const std::uint64_t growth = length > inode.data.size() ? length - inode.data.size() : 0;
  if (over_capacity(growth)) {
    ++disk.stats_.enospc;
    return std::errc::no_space_on_device;
  }
  set_length(inode, length);
  return {};
}

Result<void> SimDisk::Impl::datasync(Inode& inode) {
  ++disk.stats_.syncs;
  if (roll(eio(disk.config_.sync_eio_rate))) {
    ++disk.stats_.eio_injected;
    disk.world_.note("disk.datasync.eio", inode.id);
    if (disk.config_.sync_eio_loses_writes) give_up_writes(inode);
    return std::errc::io_error;
  }
  if (inode.writes_given_up) {
    // Only what was written since the failure reaches the medium.
    const std::uint64_t length = inode.data.size();
    inode.durable.resize(length);
    for (const std::uint64_t sector : inode.dirty_sectors) {
      const std::uint64_t begin = sector * sector_bytes;
      if (begin >= length) break;  // the set is ordered
      inode.durable.copy_from(inode.data, begin, std::min(begin + sector_bytes, length));
    }
  } else {
    // The durable image becomes the current one. They share chunks, so
    // this copies chunk pointers only: a log that syncs every few appends
    // must not pay for its whole size each time.
    inode.durable = inode.data;
  }
  inode.dirty_sectors.clear();
  inode.length_min_since_sync = inode.data.size();
  disk.world_.note("disk.datasync", inode.id, inode.durable.size());
  return {};
}

// ---------------------------------------------------------------------------
// Crash model.

// Walks the durable namespace from the root in name order, making it the
// current one. A directory reached a second time (a crash can combine syncs
// of two directories into a loop) keeps only its first name.
void SimDisk::Impl::crash_walk(std::vector<std::shared_ptr<Inode>>* files,
                               std::set<std::uint64_t>* seen_dirs) {
  std::set<std::uint64_t> seen_files;
  std::vector<std::uint64_t> todo{root_dir_id};
  seen_dirs->insert(root_dir_id);
  for (std::size_t i = 0; i < todo.size(); ++i) {
    Dir& d = dir(todo[i]);
    std::erase_if(d.dur, [&](const auto& kv) {
      return kv.second.is_dir() && !seen_dirs->insert(kv.second.dir_id).second;
    });
    for (auto& [name, e] : d.dur) {
      if (e.is_dir()) {
        todo.push_back(e.dir_id);
      } else if (seen_files.insert(e.file->id).second) {
        e.file->links_current = 0;
        e.file->handles_open = 0;
        files->push_back(e.file);
      }
    }
    d.cur = d.dur;
    for (auto& [name, e] : d.cur)
      if (!e.is_dir()) ++e.file->links_current;
  }
}

// Builds what the file holds after the crash from its durable image plus a
// seeded fate for each unsynced sector.
void SimDisk::Impl::crash_file(Inode& inode) {
  ChunkedBytes image = inode.durable;
  if (inode.length_min_since_sync < image.size() && disk.rng_.chance(truncation_persist_probability))
    image.resize(inode.length_min_since_sync);
  const SectorFates fates = settle_dirty_sectors(inode, image);
  disk.stats_.sectors_dropped += fates.dropped;
  disk.stats_.sectors_torn += fates.torn;
  disk.world_.note("disk.crash.file", inode.id, (fates.kept << 42) ^ (fates.torn << 21) ^ fates.dropped);
  inode.data = image;
  inode.durable = std::move(image);
  inode.dirty_sectors.clear();
  inode.length_min_since_sync = inode.data.size();
  inode.writes_given_up = false;
}

// The writes a failed datasync gave up: their sectors reach the medium
// whole, torn or not at all, as at a crash, but the current contents keep
// them and they are no longer dirty.
void SimDisk::Impl::give_up_writes(Inode& inode) {
  ChunkedBytes image = inode.durable;
  const SectorFates fates = settle_dirty_sectors(inode, image);
  disk.stats_.sectors_dropped += fates.dropped;
  disk.stats_.sectors_torn += fates.torn;
  disk.world_.note("disk.datasync.gave_up", inode.id, (fates.kept << 42) ^ (fates.torn << 21) ^ fates.dropped);
  inode.durable = std::move(image);
  inode.dirty_sectors.clear();
  inode.writes_given_up = true;
}

// Draws a fate for each unsynced sector (kept, dropped, or torn at a piece
// boundary) and writes what survives into image.
SimDisk::Impl::SectorFates SimDisk::Impl::settle_dirty_sectors(Inode& inode, ChunkedBytes& image) {
  Rng& rng = disk.rng_;
  const std::uint64_t length_current = inode.data.size();
  std::uint64_t kept = 0, dropped = 0, torn = 0;
  for (const std::uint64_t s : inode.dirty_sectors) {
    const std::uint64_t begin = s * sector_bytes;
    if (begin >= length_current) break;  // the set is ordered
    std::uint64_t end = std::min(begin + sector_bytes, length_current);
    const std::uint64_t pieces = (end - begin + piece_bytes - 1) / piece_bytes;
    const std::uint64_t fate = rng.below(pieces >= 2 ? 3 : 2);  // keep, drop, tear
    if (fate == 1) {
      ++dropped;
      continue;
    }
    if (fate == 2) {
      end = begin + piece_bytes * static_cast<std::uint64_t>(
                                      rng.between(1, static_cast<std::int64_t>(pieces) - 1));
      ++torn;
    } else {
      ++kept;
    }
    CASTLE_ASSERT(end <= length_current, "a crash kept bytes never written");
    if (image.size() < end) image.resize(end);
    image.copy_from(inode.data, begin, end);
  }
  return {kept, dropped, torn};
}

void SimDisk::Impl::crash() {
  ++core->incarnation;
  std::vector<std::shared_ptr<Inode>> files;
  std::set<std::uint64_t> seen_dirs;
  crash_walk(&files, &seen_dirs);
  for (auto& f : files) crash_file(*f);
  std::erase_if(dirs, [&](const auto& kv) { return !seen_dirs.contains(kv.first); });
  dirs_maybe_unreachable = false;  // the walk kept only what the root reaches
  recount_used();
  disk.world_.note("disk.crash", files.size(), used_bytes);
}

// Every inode that either namespace names, by id: the stored data.
std::map<std::uint64_t, Inode*> SimDisk::Impl::stored_inodes() {
  std::map<std::uint64_t, Inode*> out;
  for (auto& [id, d] : dirs)
    for (const auto* m : {&d->cur, &d->dur})
      for (const auto& [name, e] : *m)
        if (!e.is_dir()) out.emplace(e.file->id, e.file.get());
  return out;
}

void SimDisk::Impl::recount_used() {
  used_bytes = 0;
  for (auto& [id, inode] : stored_inodes())
    if (inode->charged()) used_bytes += inode->data.size();
}

// ---------------------------------------------------------------------------
// File handles.

namespace {

class SimFile final : public File {
 public:
  SimFile(const std::shared_ptr<DiskCore>& core, std::shared_ptr<Inode> inode, bool writable,
          std::string path)
      : core_(core), incarnation_(core->incarnation), inode_(std::move(inode)),
        writable_(writable), path_(std::move(path)) {
    ++inode_->handles_open;
  }
  ~SimFile() override { close(); }

  Result<std::size_t> pread(std::uint64_t offset, std::span<std::uint8_t> buf) override {
    return run(false, [&](SimDisk::Impl& d) { return d.read(*inode_, offset, buf); });
  }
  Result<void> pwrite(std::uint64_t offset, std::span<const std::uint8_t> data) override {
    if (!writable_) return std::errc::bad_file_descriptor;
    return run(false, [&](SimDisk::Impl& d) { return d.write(*inode_, offset, data); });
  }
  Result<std::uint64_t> append(std::span<const std::uint8_t> data) override {
    if (!writable_) return std::errc::bad_file_descriptor;
    return run(false, [&](SimDisk::Impl& d) -> Result<std::uint64_t> {
      const std::uint64_t offset = inode_->data.size();
      if (auto r = d.write(*inode_, offset, data); !r) return r.error();
      return offset;
    });
  }
  Result<std::uint64_t> size() override {
    return run(false, [&](SimDisk::Impl&) -> Result<std::uint64_t> {
      return std::uint64_t{inode_->data.size()};
    });
  }
  Result<void> truncate(std::uint64_t length) override {
    if (!writable_) return std::errc::bad_file_descriptor;
    return run(false, [&](SimDisk::Impl& d) { return d.truncate(*inode_, length); });
  }
  Result<void> datasync() override {
    return run(true, [&](SimDisk::Impl& d) { return d.datasync(*inode_); });
  }
  void close() override {
    SimDisk::Impl* d = live();
    closed_ = true;
    if (d == nullptr) return;  // closed already, or counted by a later incarnation
    const bool was = inode_->charged();
    --inode_->handles_open;
    CASTLE_ASSERT(inode_->handles_open >= 0, "negative open handle count");
    d->charge(*inode_, was);
  }

 private:
  // The disk, if this handle is still open in its current incarnation.
  SimDisk::Impl* live() const {
    if (closed_) return nullptr;
    auto core = core_.lock();
    if (!core || core->incarnation != incarnation_) return nullptr;
    return core->impl;
  }

  // Checks the handle, waits the operation's latency, checks again (a crash
  // may have come meanwhile), then applies the operation.
  template <class F>
  auto run(bool is_sync, F&& op) -> decltype(op(std::declval<SimDisk::Impl&>())) {
    SimDisk::Impl* d = live();
    if (d == nullptr) return std::errc::bad_file_descriptor;
    if (is_sync) {
      d->delay_sync();
    } else {
      d->delay_op();
    }
    d = live();
    if (d == nullptr) return std::errc::bad_file_descriptor;
    d->eio_spared = d->spares(path_);
    auto result = op(*d);
    d->eio_spared = false;
    return result;
  }

  std::weak_ptr<DiskCore> core_;
  std::uint64_t incarnation_;
  std::shared_ptr<Inode> inode_;
  bool writable_;
  std::string path_;
  bool closed_ = false;
};

}  // namespace

// Runs a directory operation after its latency. A crash during the wait
// kills the calling fiber of this node; a fiber of another node that called
// in sees the new incarnation and gets an error instead.
template <class F>
auto SimDisk::Impl::run_dir_op(bool is_sync, F&& op) -> decltype(op()) {
  const std::uint64_t incarnation = core->incarnation;
  if (is_sync) {
    delay_sync();
  } else {
    delay_op();
  }
  if (core->incarnation != incarnation) return std::errc::io_error;
  return op();
}

// Corrupts the stored byte in every copy that holds it: the medium is one,
// the durable/current split is only how the model remembers unsynced data.
bool SimDisk::Impl::flip(Inode& inode, std::uint64_t offset, int bit) {
  CASTLE_ASSERT(bit >= 0 && bit < 8, "a bit index within a byte");
  const auto mask = static_cast<std::uint8_t>(1u << bit);
  bool flipped = false;
  if (offset < inode.data.size()) {
    inode.data.xor_byte(offset, mask);
    flipped = true;
  }
  if (offset < inode.durable.size()) {
    inode.durable.xor_byte(offset, mask);
    flipped = true;
  }
  if (!flipped) return false;
  ++disk.stats_.bit_flips;
  disk.world_.note("disk.flip", inode.id, offset * 8 + static_cast<std::uint64_t>(bit));
  return true;
}

// ---------------------------------------------------------------------------
// SimDisk.

SimDisk::SimDisk(World& world, SimNode& node, Rng rng)
    : world_(world), node_(node), rng_(rng), impl_(std::make_unique<Impl>(*this)) {}

SimDisk::~SimDisk() = default;

Result<std::unique_ptr<File>> SimDisk::open(const std::string& path, OpenMode mode) {
  return impl_->run_dir_op(false, [&]() -> Result<std::unique_ptr<File>> {
    auto inode = impl_->open(path, mode);
    if (!inode) return inode.error();
    const bool writable = mode != OpenMode::read_only;
    return std::unique_ptr<File>(std::make_unique<SimFile>(impl_->core, *inode, writable, path));
  });
}

Result<void> SimDisk::rename(const std::string& from, const std::string& to) {
  return impl_->run_dir_op(false, [&] { return impl_->rename(from, to); });
}

Result<void> SimDisk::remove(const std::string& path) {
  return impl_->run_dir_op(false, [&] { return impl_->remove(path); });
}

Result<void> SimDisk::make_dirs(const std::string& path) {
  return impl_->run_dir_op(false, [&] { return impl_->make_dirs(path); });
}

Result<std::vector<std::string>> SimDisk::list(const std::string& dir) {
  return impl_->run_dir_op(false, [&]() -> Result<std::vector<std::string>> {
    auto e = impl_->lookup(dir);
    if (!e) return e.error();
    if (!e->is_dir()) return std::errc::not_a_directory;
    std::vector<std::string> names;
    for (const auto& [name, entry] : impl_->dir(e->dir_id).cur) names.push_back(name);
    return names;
  });
}

bool SimDisk::exists(const std::string& path) {
  auto r = impl_->run_dir_op(false, [&]() -> Result<void> {
    auto e = impl_->lookup(path);
    if (!e) return e.error();
    return {};
  });
  return r.ok();
}

Result<void> SimDisk::sync_dir(const std::string& dir) {
  return impl_->run_dir_op(true, [&] { return impl_->sync_dir(dir); });
}

void SimDisk::crash() { impl_->crash(); }

bool SimDisk::flip_random_bit() {
  const auto inodes = impl_->stored_inodes();
  std::uint64_t total = 0;
  for (const auto& [id, inode] : inodes)
    total += std::max(inode->data.size(), inode->durable.size());
  if (total == 0) return false;
  std::uint64_t at = rng_.below(total);
  const int bit = static_cast<int>(rng_.below(8));
  for (const auto& [id, inode] : inodes) {
    const std::uint64_t extent = std::max(inode->data.size(), inode->durable.size());
    if (at < extent) return impl_->flip(*inode, at, bit);
    at -= extent;
  }
  CASTLE_UNREACHABLE("a bit offset past the stored data");
}

bool SimDisk::flip_bit(const std::string& path, std::uint64_t offset, int bit) {
  auto e = impl_->lookup(path);
  if (!e || e->is_dir()) return false;
  return impl_->flip(*e->file, offset, bit);
}

std::uint64_t SimDisk::used_bytes() const { return impl_->used_bytes; }

}  // namespace castle::sim
