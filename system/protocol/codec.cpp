#include "system/protocol/codec.h"

#include <cstdio>
#include <cstdlib>
#include <limits>

namespace castle::protocol {

namespace detail {
[[noreturn]] void assert_fail(const char* expr, const char* message,
                              const char* file, int line) {
  std::fprintf(stderr, "castle: protocol assertion failed: %s (%s) at %s:%d\n",
               message, expr, file, line);
  std::fflush(stderr);
  std::abort();
}
}  // namespace detail

const char* to_string(DecodeErrc errc) {
  switch (errc) {
    case DecodeErrc::truncated: return "truncated";
    case DecodeErrc::invalid_length: return "invalid_length";
    case DecodeErrc::length_exceeds_input: return "length_exceeds_input";
    case DecodeErrc::null_not_allowed: return "null_not_allowed";
    case DecodeErrc::invalid_varint: return "invalid_varint";
    case DecodeErrc::trailing_bytes: return "trailing_bytes";
    case DecodeErrc::unsupported_version: return "unsupported_version";
    case DecodeErrc::unknown_api_key: return "unknown_api_key";
  }
  return "unknown";
}

// ---- Reader ----

void Reader::fail(DecodeErrc errc) {
  if (error_) return;
  error_ = DecodeError{errc, position_};
}

bool Reader::take(std::size_t n, const std::uint8_t** out) {
  if (error_) return false;
  if (n > remaining()) {
    fail(DecodeErrc::truncated);
    return false;
  }
  *out = input_.data() + position_;
  position_ += n;
  return true;
}

std::uint64_t Reader::read_big_endian(std::size_t n) {
  CASTLE_PROTOCOL_ASSERT(n <= 8, "an integer is at most 8 bytes");
  const std::uint8_t* p = nullptr;
  if (!take(n, &p)) return 0;
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

bool Reader::read_bool() { return read_int8() != 0; }
std::int8_t Reader::read_int8() { return static_cast<std::int8_t>(read_big_endian(1)); }
std::int16_t Reader::read_int16() { return static_cast<std::int16_t>(read_big_endian(2)); }
std::int32_t Reader::read_int32() { return static_cast<std::int32_t>(read_big_endian(4)); }
std::int64_t Reader::read_int64() { return static_cast<std::int64_t>(read_big_endian(8)); }

// Little-endian base-128 groups; bytes_max bounds the encoding so that a run
// of continuation bits is an error, not an endless loop or a shift overflow.
std::uint64_t Reader::read_unsigned_varlong(std::size_t bytes_max) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < bytes_max; ++i) {
    const std::uint8_t* p = nullptr;
    if (!take(1, &p)) return 0;
    v |= static_cast<std::uint64_t>(*p & 0x7f) << (7 * i);
    if ((*p & 0x80) == 0) return v;
  }
  fail(DecodeErrc::invalid_varint);
  return 0;
}

std::uint32_t Reader::read_unsigned_varint() {
  const std::uint64_t v = read_unsigned_varlong(5);
  if (v > std::numeric_limits<std::uint32_t>::max()) {
    fail(DecodeErrc::invalid_varint);
    return 0;
  }
  return static_cast<std::uint32_t>(v);
}

std::int32_t Reader::read_varint() {
  const std::uint32_t u = read_unsigned_varint();
  return static_cast<std::int32_t>((u >> 1) ^ (~(u & 1) + 1));
}

std::int64_t Reader::read_varlong() {
  const std::uint64_t u = read_unsigned_varlong(10);
  return static_cast<std::int64_t>((u >> 1) ^ (~(u & 1) + 1));
}

std::optional<std::size_t> Reader::checked_length(std::int64_t length) {
  if (length < -1) {
    fail(DecodeErrc::invalid_length);
    return std::size_t{0};
  }
  if (length == -1) return std::nullopt;
  if (static_cast<std::uint64_t>(length) > remaining()) {
    fail(DecodeErrc::length_exceeds_input);
    return std::size_t{0};
  }
  return static_cast<std::size_t>(length);
}

std::optional<std::string> Reader::read_nullable_string() {
  const std::int16_t length = read_int16();
  if (!ok()) return std::string{};
  const std::optional<std::size_t> n = checked_length(length);
  if (!n) return std::nullopt;
  const std::uint8_t* p = nullptr;
  if (!take(*n, &p)) return std::string{};
  return std::string(reinterpret_cast<const char*>(p), *n);
}

std::string Reader::read_string() {
  std::optional<std::string> s = read_nullable_string();
  if (!s) {
    fail(DecodeErrc::null_not_allowed);
    return {};
  }
  return std::move(*s);
}

std::optional<Bytes> Reader::read_nullable_bytes() {
  const std::int32_t length = read_int32();
  if (!ok()) return Bytes{};
  const std::optional<std::size_t> n = checked_length(length);
  if (!n) return std::nullopt;
  const std::uint8_t* p = nullptr;
  if (!take(*n, &p)) return Bytes{};
  return Bytes(p, p + *n);
}

Bytes Reader::read_bytes() {
  std::optional<Bytes> b = read_nullable_bytes();
  if (!b) {
    fail(DecodeErrc::null_not_allowed);
    return {};
  }
  return std::move(*b);
}

std::optional<std::string> Reader::read_compact_nullable_string() {
  const std::uint32_t length_plus_one = read_unsigned_varint();
  if (!ok()) return std::string{};
  const std::optional<std::size_t> n =
      checked_length(static_cast<std::int64_t>(length_plus_one) - 1);
  if (!n) return std::nullopt;
  const std::uint8_t* p = nullptr;
  if (!take(*n, &p)) return std::string{};
  return std::string(reinterpret_cast<const char*>(p), *n);
}

std::string Reader::read_compact_string() {
  std::optional<std::string> s = read_compact_nullable_string();
  if (!s) {
    fail(DecodeErrc::null_not_allowed);
    return {};
  }
  return std::move(*s);
}

std::optional<std::size_t> Reader::read_array_length() {
  const std::int32_t length = read_int32();
  if (!ok()) return std::size_t{0};
  return checked_length(length);
}

std::size_t Reader::read_array_count() {
  const std::optional<std::size_t> n = read_array_length();
  if (!n) {
    fail(DecodeErrc::null_not_allowed);
    return 0;
  }
  return *n;
}

std::optional<std::size_t> Reader::read_compact_array_length() {
  const std::uint32_t length_plus_one = read_unsigned_varint();
  if (!ok()) return std::size_t{0};
  return checked_length(static_cast<std::int64_t>(length_plus_one) - 1);
}

void Reader::skip_tagged_fields() {
  const std::uint32_t count = read_unsigned_varint();
  if (ok() && count > remaining()) fail(DecodeErrc::length_exceeds_input);
  for (std::uint32_t i = 0; i < count && ok(); ++i) {
    (void)read_unsigned_varint();  // the tag: none is understood here
    const std::uint32_t size = read_unsigned_varint();
    const std::uint8_t* p = nullptr;
    if (ok() && size > remaining()) fail(DecodeErrc::length_exceeds_input);
    (void)take(size, &p);
  }
}

void Reader::expect_end() {
  if (ok() && remaining() != 0) fail(DecodeErrc::trailing_bytes);
}

// ---- Writer ----

void Writer::write_int8(std::int8_t v) { out_.push_back(static_cast<std::uint8_t>(v)); }

void Writer::write_int16(std::int16_t v) {
  const auto u = static_cast<std::uint16_t>(v);
  out_.push_back(static_cast<std::uint8_t>(u >> 8));
  out_.push_back(static_cast<std::uint8_t>(u));
}

void Writer::write_int32(std::int32_t v) {
  const auto u = static_cast<std::uint32_t>(v);
  for (int shift = 24; shift >= 0; shift -= 8) out_.push_back(static_cast<std::uint8_t>(u >> shift));
}

void Writer::write_int64(std::int64_t v) {
  const auto u = static_cast<std::uint64_t>(v);
  for (int shift = 56; shift >= 0; shift -= 8) out_.push_back(static_cast<std::uint8_t>(u >> shift));
}

void Writer::write_unsigned_varlong(std::uint64_t v) {
  while (v >= 0x80) {
    out_.push_back(static_cast<std::uint8_t>(v | 0x80));
    v >>= 7;
  }
  out_.push_back(static_cast<std::uint8_t>(v));
}

void Writer::write_unsigned_varint(std::uint32_t v) { write_unsigned_varlong(v); }

void Writer::write_varint(std::int32_t v) {
  const auto u = static_cast<std::uint32_t>(v);
  write_unsigned_varint((u << 1) ^ static_cast<std::uint32_t>(v >> 31));
}

void Writer::write_varlong(std::int64_t v) {
  const auto u = static_cast<std::uint64_t>(v);
  write_unsigned_varlong((u << 1) ^ static_cast<std::uint64_t>(v >> 63));
}

void Writer::write_string(std::string_view s) {
  CASTLE_PROTOCOL_ASSERT(s.size() <= std::numeric_limits<std::int16_t>::max(),
                         "a string is at most 32767 bytes");
  write_int16(static_cast<std::int16_t>(s.size()));
  out_.insert(out_.end(), s.begin(), s.end());
}

void Writer::write_nullable_string(const std::optional<std::string>& s) {
  if (!s) return write_int16(-1);
  write_string(*s);
}

void Writer::write_bytes(std::span<const std::uint8_t> b) {
  CASTLE_PROTOCOL_ASSERT(b.size() <= std::numeric_limits<std::int32_t>::max(),
                         "bytes are at most 2^31-1 long");
  write_int32(static_cast<std::int32_t>(b.size()));
  out_.insert(out_.end(), b.begin(), b.end());
}

void Writer::write_nullable_bytes(const std::optional<Bytes>& b) {
  if (!b) return write_int32(-1);
  write_bytes(*b);
}

void Writer::write_compact_string(std::string_view s) {
  CASTLE_PROTOCOL_ASSERT(s.size() < std::numeric_limits<std::uint32_t>::max(),
                         "a compact string length fits an unsigned varint");
  write_unsigned_varint(static_cast<std::uint32_t>(s.size() + 1));
  out_.insert(out_.end(), s.begin(), s.end());
}

void Writer::write_compact_nullable_string(const std::optional<std::string>& s) {
  if (!s) return write_unsigned_varint(0);
  write_compact_string(*s);
}

void Writer::write_array_length(std::size_t count) {
  CASTLE_PROTOCOL_ASSERT(count <= std::numeric_limits<std::int32_t>::max(),
                         "an array has at most 2^31-1 elements");
  write_int32(static_cast<std::int32_t>(count));
}

void Writer::write_compact_array_length(std::size_t count) {
  CASTLE_PROTOCOL_ASSERT(count < std::numeric_limits<std::uint32_t>::max(),
                         "a compact array length fits an unsigned varint");
  write_unsigned_varint(static_cast<std::uint32_t>(count + 1));
}

void Writer::patch_int32(std::size_t at, std::int32_t v) {
  CASTLE_PROTOCOL_ASSERT(at + 4 <= out_.size(), "patch inside what was written");
  const auto u = static_cast<std::uint32_t>(v);
  for (std::size_t i = 0; i < 4; ++i) out_[at + i] = static_cast<std::uint8_t>(u >> (24 - 8 * i));
}

}  // namespace castle::protocol
