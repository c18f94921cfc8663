#pragma once
// A simulated file's bytes: fixed-size chunks shared copy-on-write.
//
// Why not one vector: a log segment grows by appends of a few hundred
// bytes, and a vector's doublings copy and zero-fill the whole file again
// and again into memory never touched before. And a file has two images (the
// current contents and the contents as of its last datasync) that are equal
// right after a sync; sharing their chunks makes a sync cost a copy of
// chunk pointers, and the next write copies only the chunk it lands in.
//
// Bytes past size() inside the last chunk are always zero, so a growth only
// has to add zeroed chunks.

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "system/runtime/assert.h"

namespace castle::sim {

class ChunkedBytes {
 public:
  static constexpr std::uint64_t chunk_bytes = 16 * 1024;

  std::uint64_t size() const { return size_; }

  // Grows with zeros or shrinks.
  void resize(std::uint64_t n) {
    if (n < size_ && n % chunk_bytes != 0) zero_range(n, std::min(size_, chunk_end(n)));
    chunks_.resize(static_cast<std::size_t>((n + chunk_bytes - 1) / chunk_bytes));
    size_ = n;
  }

  // Copies out [offset, offset + out.size()), which must lie within size().
  void read(std::uint64_t offset, std::span<std::uint8_t> out) const {
    CASTLE_ASSERT(offset + out.size() <= size_, "a read past the end of a file's bytes");
    for (std::size_t done = 0; done < out.size();) {
      const std::uint64_t at = offset + done;
      const std::size_t n = piece(at, out.size() - done);
      const Chunk* c = chunks_[index(at)].get();
      if (c == nullptr) {
        std::fill_n(out.begin() + static_cast<std::ptrdiff_t>(done), n, std::uint8_t{0});
      } else {
        std::copy_n(c->begin() + static_cast<std::ptrdiff_t>(at % chunk_bytes), n,
                    out.begin() + static_cast<std::ptrdiff_t>(done));
      }
      done += n;
    }
  }

  // Overwrites [offset, offset + in.size()), which must lie within size().
  void write(std::uint64_t offset, std::span<const std::uint8_t> in) {
    CASTLE_ASSERT(offset + in.size() <= size_, "a write past the end of a file's bytes");
    for (std::size_t done = 0; done < in.size();) {
      const std::uint64_t at = offset + done;
      const std::size_t n = piece(at, in.size() - done);
      std::copy_n(in.begin() + static_cast<std::ptrdiff_t>(done), n,
                  writable(index(at)).begin() + static_cast<std::ptrdiff_t>(at % chunk_bytes));
      done += n;
    }
  }

  // Copies [begin, end) from another image of the same file; both must hold it.
  void copy_from(const ChunkedBytes& src, std::uint64_t begin, std::uint64_t end) {
    CASTLE_ASSERT(end <= size_ && end <= src.size_, "a copy past the end of a file's bytes");
    std::array<std::uint8_t, 4096> buf;
    for (std::uint64_t at = begin; at < end;) {
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), end - at));
      src.read(at, std::span(buf.data(), n));
      write(at, std::span<const std::uint8_t>(buf.data(), n));
      at += n;
    }
  }

  std::uint8_t at(std::uint64_t offset) const {
    std::uint8_t b = 0;
    read(offset, std::span(&b, 1));
    return b;
  }
  void xor_byte(std::uint64_t offset, std::uint8_t mask) {
    CASTLE_ASSERT(offset < size_, "a byte past the end of a file's bytes");
    writable(index(offset))[offset % chunk_bytes] ^= mask;
  }

 private:
  using Chunk = std::array<std::uint8_t, chunk_bytes>;

  static std::size_t index(std::uint64_t offset) {
    return static_cast<std::size_t>(offset / chunk_bytes);
  }
  static std::uint64_t chunk_end(std::uint64_t offset) {
    return (offset / chunk_bytes + 1) * chunk_bytes;
  }
  // How much of `want` bytes from `at` lie in at's chunk.
  static std::size_t piece(std::uint64_t at, std::size_t want) {
    return static_cast<std::size_t>(std::min<std::uint64_t>(want, chunk_end(at) - at));
  }

  // The chunk, unshared and allocated (zeroed when new).
  Chunk& writable(std::size_t i) {
    std::shared_ptr<Chunk>& c = chunks_[i];
    if (c == nullptr) {
      c = std::make_shared<Chunk>();  // value-initialized: zeros
    } else if (c.use_count() > 1) {
      c = std::make_shared<Chunk>(*c);
    }
    return *c;
  }

  // Zeroes [begin, end) within one chunk (the tail a shrink leaves).
  void zero_range(std::uint64_t begin, std::uint64_t end) {
    if (begin >= end || chunks_[index(begin)] == nullptr) return;
    Chunk& c = writable(index(begin));
    std::fill(c.begin() + static_cast<std::ptrdiff_t>(begin % chunk_bytes),
              c.begin() + static_cast<std::ptrdiff_t>(begin % chunk_bytes + (end - begin)),
              std::uint8_t{0});
  }

  std::vector<std::shared_ptr<Chunk>> chunks_;  // null: all zeros
  std::uint64_t size_ = 0;
};

}  // namespace castle::sim
