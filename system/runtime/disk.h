#pragma once
// POSIX-like files. Data written is durable only after datasync(); a new,
// renamed or removed name is durable only after its directory is synced with
// Disk::sync_dir(). Paths are relative to the node's data root and use '/'.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "system/runtime/result.h"

namespace castle {

enum class OpenMode {
  read_only,       // must exist
  read_write,      // must exist
  create,          // read-write, created if missing
  create_new,      // read-write, fails with file_exists if present
  create_truncate  // read-write, created or emptied
};

class File {
 public:
  virtual ~File() = default;
  // Reads up to buf.size() bytes at offset; fewer only at end of file.
  virtual Result<std::size_t> pread(std::uint64_t offset, std::span<std::uint8_t> buf) = 0;
  virtual Result<void> pwrite(std::uint64_t offset, std::span<const std::uint8_t> data) = 0;
  // Writes at the end of the file; returns the offset written at.
  virtual Result<std::uint64_t> append(std::span<const std::uint8_t> data) = 0;
  virtual Result<std::uint64_t> size() = 0;
  virtual Result<void> truncate(std::uint64_t length) = 0;
  // Makes the file's contents and length durable.
  virtual Result<void> datasync() = 0;
  virtual void close() = 0;
};

class Disk {
 public:
  virtual ~Disk() = default;
  virtual Result<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) = 0;
  virtual Result<void> rename(const std::string& from, const std::string& to) = 0;
  virtual Result<void> remove(const std::string& path) = 0;
  // Creates a directory and any missing parents; existing ones are fine.
  virtual Result<void> make_dirs(const std::string& path) = 0;
  // Names (not paths) in a directory, sorted, so iteration is deterministic.
  virtual Result<std::vector<std::string>> list(const std::string& dir) = 0;
  virtual bool exists(const std::string& path) = 0;
  // Makes the entries of a directory (creations, renames, removals) durable.
  virtual Result<void> sync_dir(const std::string& dir) = 0;
};

// The directory part of a path ("" for a bare name).
std::string parent_dir(const std::string& path);
// a + "/" + b, treating "" as the root.
std::string join_path(const std::string& a, const std::string& b);

// Reads the whole file at path.
Result<std::vector<std::uint8_t>> read_whole_file(Disk& disk, const std::string& path);
// Writes a file atomically: temp file, datasync, rename, directory sync.
Result<void> write_file_atomic(Disk& disk, const std::string& path,
                               std::span<const std::uint8_t> data);

}  // namespace castle
