#include "real/disk.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "real/loop.h"
#include "real/os_error.h"
#include "system/runtime/assert.h"

namespace castle::real {

namespace {

constexpr mode_t file_mode = 0644;

// A file descriptor shared by a File and the sync jobs in flight for it, so
// that a File closed (or a fiber killed) mid-sync never lets the worker sync
// a reused descriptor number.
class SharedFd {
 public:
  explicit SharedFd(int fd) : fd_(fd) { CASTLE_ASSERT(fd >= 0, "SharedFd of a bad descriptor"); }
  SharedFd(const SharedFd&) = delete;
  SharedFd& operator=(const SharedFd&) = delete;
  ~SharedFd() { ::close(fd_); }
  int get() const { return fd_; }

 private:
  int fd_;
};

class RealFile final : public File {
 public:
  RealFile(Loop& loop, int fd) : loop_(loop), fd_(std::make_shared<SharedFd>(fd)) {}

  Result<std::size_t> pread(std::uint64_t offset, std::span<std::uint8_t> buf) override;
  Result<void> pwrite(std::uint64_t offset, std::span<const std::uint8_t> data) override;
  Result<std::uint64_t> append(std::span<const std::uint8_t> data) override;
  Result<std::uint64_t> size() override;
  Result<void> truncate(std::uint64_t length) override;
  Result<void> datasync() override;
  void close() override { fd_.reset(); }

 private:
  Loop& loop_;
  std::shared_ptr<SharedFd> fd_;  // null once closed
};

Result<std::size_t> RealFile::pread(std::uint64_t offset, std::span<std::uint8_t> buf) {
  if (!fd_) return std::errc::bad_file_descriptor;
  std::size_t got = 0;
  // Short reads happen (signals, huge requests); only end of file ends early.
  while (got < buf.size()) {
    const ssize_t n = ::pread(fd_->get(), buf.data() + got, buf.size() - got,
                              static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return last_errno_code();
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  CASTLE_ASSERT(got <= buf.size(), "pread overran the buffer");
  return got;
}

Result<void> RealFile::pwrite(std::uint64_t offset, std::span<const std::uint8_t> data) {
  if (!fd_) return std::errc::bad_file_descriptor;
  std::size_t put = 0;
  while (put < data.size()) {
    const ssize_t n = ::pwrite(fd_->get(), data.data() + put, data.size() - put,
                               static_cast<off_t>(offset + put));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return last_errno_code();
    CASTLE_ASSERT(n > 0, "pwrite wrote nothing");
    put += static_cast<std::size_t>(n);
  }
  return {};
}

Result<std::uint64_t> RealFile::append(std::span<const std::uint8_t> data) {
  // The loop is the only writer of its files, so size-then-write is atomic
  // enough; O_APPEND would not report the offset written at.
  auto end = size();
  if (!end) return end.error();
  if (auto r = pwrite(*end, data); !r) return r.error();
  return *end;
}

Result<std::uint64_t> RealFile::size() {
  if (!fd_) return std::errc::bad_file_descriptor;
  struct stat st {};
  if (::fstat(fd_->get(), &st) != 0) return last_errno_code();
  CASTLE_ASSERT(st.st_size >= 0, "a negative file size");
  return static_cast<std::uint64_t>(st.st_size);
}

Result<void> RealFile::truncate(std::uint64_t length) {
  if (!fd_) return std::errc::bad_file_descriptor;
  if (::ftruncate(fd_->get(), static_cast<off_t>(length)) != 0) return last_errno_code();
  return {};
}

Result<void> RealFile::datasync() {
  if (!fd_) return std::errc::bad_file_descriptor;
  const int err = loop_.run_blocking([fd = fd_] { return ::fdatasync(fd->get()) == 0 ? 0 : errno; });
  if (err != 0) return errno_code(err);
  return {};
}

int open_flags(OpenMode mode) {
  switch (mode) {
    case OpenMode::read_only: return O_RDONLY;
    case OpenMode::read_write: return O_RDWR;
    case OpenMode::create: return O_RDWR | O_CREAT;
    case OpenMode::create_new: return O_RDWR | O_CREAT | O_EXCL;
    case OpenMode::create_truncate: return O_RDWR | O_CREAT | O_TRUNC;
  }
  CASTLE_UNREACHABLE("an unknown open mode");
}

// fsync of a directory: makes its entries (creations, renames, removals)
// durable. Runs on a blocking worker.
int fsync_dir(const std::string& os_path) {
  const int fd = ::open(os_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  const int err = ::fsync(fd) == 0 ? 0 : errno;
  ::close(fd);
  return err;
}

}  // namespace

RealDisk::RealDisk(Loop& loop, std::string root) : loop_(loop), root_(std::move(root)) {
  CASTLE_ASSERT(!root_.empty(), "a disk needs a root directory");
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

Result<std::string> RealDisk::os_path(const std::string& path) const {
  if (path.empty()) return root_;
  if (path.front() == '/') return std::errc::invalid_argument;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t slash = std::min(path.find('/', start), path.size());
    if (path.compare(start, slash - start, "..") == 0) return std::errc::invalid_argument;
    start = slash + 1;
  }
  return root_ + "/" + path;
}

Result<std::unique_ptr<File>> RealDisk::open(const std::string& path, OpenMode mode) {
  auto p = os_path(path);
  if (!p) return p.error();
  const int fd = ::open(p->c_str(), open_flags(mode) | O_CLOEXEC, file_mode);
  if (fd < 0) return last_errno_code();
  return std::unique_ptr<File>(std::make_unique<RealFile>(loop_, fd));
}

Result<void> RealDisk::rename(const std::string& from, const std::string& to) {
  auto a = os_path(from);
  if (!a) return a.error();
  auto b = os_path(to);
  if (!b) return b.error();
  if (::rename(a->c_str(), b->c_str()) != 0) return last_errno_code();
  return {};
}

Result<void> RealDisk::remove(const std::string& path) {
  auto p = os_path(path);
  if (!p) return p.error();
  // std::remove unlinks a file or removes an empty directory.
  if (std::remove(p->c_str()) != 0) return last_errno_code();
  return {};
}

Result<void> RealDisk::make_dirs(const std::string& path) {
  auto p = os_path(path);
  if (!p) return p.error();
  std::error_code ec;
  std::filesystem::create_directories(*p, ec);
  if (ec) return ec;
  return {};
}

Result<std::vector<std::string>> RealDisk::list(const std::string& dir) {
  auto p = os_path(dir);
  if (!p) return p.error();
  std::error_code ec;
  std::vector<std::string> names;
  for (std::filesystem::directory_iterator it(*p, ec), end; !ec && it != end; it.increment(ec)) {
    names.push_back(it->path().filename().string());
  }
  if (ec) return ec;
  std::sort(names.begin(), names.end());
  return names;
}

bool RealDisk::exists(const std::string& path) {
  auto p = os_path(path);
  if (!p) return false;
  struct stat st {};
  return ::stat(p->c_str(), &st) == 0;
}

Result<void> RealDisk::sync_dir(const std::string& dir) {
  auto p = os_path(dir);
  if (!p) return p.error();
  const int err = loop_.run_blocking([os = *p] { return fsync_dir(os); });
  if (err != 0) return errno_code(err);
  return {};
}

}  // namespace castle::real
