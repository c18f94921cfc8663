#include "system/runtime/disk.h"

namespace castle {

std::string parent_dir(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

std::string join_path(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  return a + "/" + b;
}

Result<std::vector<std::uint8_t>> read_whole_file(Disk& disk, const std::string& path) {
  auto f = disk.open(path, OpenMode::read_only);
  if (!f) return f.error();
  auto size = (*f)->size();
  if (!size) return size.error();
  std::vector<std::uint8_t> data(*size);
  auto n = (*f)->pread(0, data);
  if (!n) return n.error();
  data.resize(*n);
  return data;
}

Result<void> write_file_atomic(Disk& disk, const std::string& path,
                               std::span<const std::uint8_t> data) {
  const std::string tmp = path + ".tmp";
  auto f = disk.open(tmp, OpenMode::create_truncate);
  if (!f) return f.error();
  if (auto r = (*f)->pwrite(0, data); !r) return r;
  if (auto r = (*f)->datasync(); !r) return r;
  (*f)->close();
  if (auto r = disk.rename(tmp, path); !r) return r;
  return disk.sync_dir(parent_dir(path));
}

}  // namespace castle
