#pragma once
// A tiny big-endian writer and a bounds-checked reader for Raft's message
// bodies. The reader never reads past its span: a short or garbled body
// makes ok() false and every later read returns zero, so decoders check
// once at the end instead of after every field.

#include <cstdint>
#include <span>
#include <vector>

#include "system/util/endian.h"

namespace castle::raft {

using Bytes = std::vector<std::uint8_t>;

class Writer {
 public:
  void i8(std::int8_t v) { put(static_cast<std::uint8_t>(v), 1); }
  void i16(std::int16_t v) { put(static_cast<std::uint16_t>(v), 2); }
  void i32(std::int32_t v) { put(static_cast<std::uint32_t>(v), 4); }
  void i64(std::int64_t v) { put(static_cast<std::uint64_t>(v), 8); }
  // A length-prefixed (i32) byte string.
  void bytes(std::span<const std::uint8_t> b) {
    i32(static_cast<std::int32_t>(b.size()));
    out_.insert(out_.end(), b.begin(), b.end());
  }
  Bytes take() { return std::move(out_); }

 private:
  void put(std::uint64_t v, int n) {
    const std::size_t at = out_.size();
    out_.resize(at + static_cast<std::size_t>(n));
    store_be(out_.data() + at, v, n);
  }
  Bytes out_;
};

class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> in) : in_(in) {}
  std::int8_t i8() { return static_cast<std::int8_t>(get(1)); }
  std::int16_t i16() { return static_cast<std::int16_t>(get(2)); }
  std::int32_t i32() { return static_cast<std::int32_t>(get(4)); }
  std::int64_t i64() { return static_cast<std::int64_t>(get(8)); }
  Bytes bytes() {
    const std::int32_t n = i32();
    if (!ok_ || n < 0 || static_cast<std::size_t>(n) > in_.size() - at_) {
      ok_ = false;
      return {};
    }
    Bytes b(in_.begin() + static_cast<std::ptrdiff_t>(at_),
            in_.begin() + static_cast<std::ptrdiff_t>(at_ + static_cast<std::size_t>(n)));
    at_ += static_cast<std::size_t>(n);
    return b;
  }
  // True if every read so far was in bounds and nothing is left over.
  bool done() const { return ok_ && at_ == in_.size(); }

 private:
  std::uint64_t get(int n) {
    const auto need = static_cast<std::size_t>(n);
    if (!ok_ || in_.size() - at_ < need) {
      ok_ = false;
      return 0;
    }
    const std::uint64_t v = load_be(in_.data() + at_, n);
    at_ += need;
    return v;
  }
  std::span<const std::uint8_t> in_;
  std::size_t at_ = 0;
  bool ok_ = true;
};

}  // namespace castle::raft
