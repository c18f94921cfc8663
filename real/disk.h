#pragma once
// POSIX files under a data root, behind castle::Disk.
//
// Reads, writes, appends, size and truncate run inline on the loop thread:
// they touch only the page cache and return quickly. datasync() and
// sync_dir() can take tens of milliseconds on a busy disk, so they run on
// the loop's blocking workers while the calling fiber is suspended and the
// loop keeps serving the network.

#include <memory>
#include <string>

#include "system/runtime/disk.h"

namespace castle::real {

class Loop;

class RealDisk final : public Disk {
 public:
  // root must name an existing directory; every path is relative to it.
  RealDisk(Loop& loop, std::string root);

  const std::string& root() const { return root_; }

  Result<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) override;
  Result<void> rename(const std::string& from, const std::string& to) override;
  Result<void> remove(const std::string& path) override;
  Result<void> make_dirs(const std::string& path) override;
  Result<std::vector<std::string>> list(const std::string& dir) override;
  bool exists(const std::string& path) override;
  Result<void> sync_dir(const std::string& dir) override;

 private:
  // The OS path of a relative path; "" is the root. Absolute paths and ".."
  // components are refused, so a node never reaches outside its root.
  Result<std::string> os_path(const std::string& path) const;

  Loop& loop_;
  std::string root_;
};

}  // namespace castle::real
