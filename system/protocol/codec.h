#pragma once
// The Kafka wire primitives: a bounds-checked Reader and an appending Writer.
//
// The Reader is "sticky": the first malformed or out-of-range read records a
// DecodeError, and every later read returns a default value without touching
// the input. Message decoders therefore read field after field without a check
// per field and look at the error once at the end; no read ever goes out of
// range, whatever the bytes. Array and byte lengths are checked against the
// bytes that remain before anything is allocated, so a garbage length cannot
// make the decoder allocate gigabytes.
//
// This folder is a pure codec: std only, no runtime, no I/O.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "system/protocol/protocol_assert.h"
#include "system/protocol/types.h"

namespace castle::protocol {

using Bytes = std::vector<std::uint8_t>;

enum class DecodeErrc : std::uint8_t {
  truncated,             // a read past the end of the input
  invalid_length,        // a negative length that is not -1 (null)
  length_exceeds_input,  // a length larger than the bytes that remain
  null_not_allowed,      // -1 (null) for a field not nullable in this version
  invalid_varint,        // a varint longer than its type allows
  trailing_bytes,        // bytes left over after the last field
  unsupported_version,   // a version the codec does not implement
  unknown_api_key,       // an API key the codec does not implement
};

const char* to_string(DecodeErrc errc);

struct DecodeError {
  DecodeErrc errc = DecodeErrc::truncated;
  std::size_t offset = 0;  // where in the input the decoder gave up
  bool operator==(const DecodeError&) const = default;
};

// An expected-like result of a decode: a value or an error (a DecodeError
// unless the caller needs more, as decode_request does).
template <class T, class E = DecodeError>
class [[nodiscard]] Decoded {
 public:
  Decoded(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Decoded(E error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit by design
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & {
    CASTLE_PROTOCOL_ASSERT(ok(), "value() on a failed decode");
    return std::get<0>(v_);
  }
  const T& value() const& {
    CASTLE_PROTOCOL_ASSERT(ok(), "value() on a failed decode");
    return std::get<0>(v_);
  }
  T&& value() && {
    CASTLE_PROTOCOL_ASSERT(ok(), "value() on a failed decode");
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const E& error() const {
    CASTLE_PROTOCOL_ASSERT(!ok(), "error() on a successful decode");
    return std::get<1>(v_);
  }

 private:
  std::variant<T, E> v_;
};

class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> input) : input_(input) {}

  bool ok() const { return !error_.has_value(); }
  const std::optional<DecodeError>& error() const { return error_; }
  std::size_t position() const { return position_; }
  std::size_t remaining() const { return input_.size() - position_; }
  // Records an error found by a message decoder (the first one wins).
  void fail(DecodeErrc errc);

  bool read_bool();
  std::int8_t read_int8();
  std::int16_t read_int16();
  std::int32_t read_int32();
  std::int64_t read_int64();
  std::uint32_t read_unsigned_varint();
  std::int32_t read_varint();   // zigzag
  std::int64_t read_varlong();  // zigzag

  std::string read_string();
  std::optional<std::string> read_nullable_string();
  Bytes read_bytes();
  std::optional<Bytes> read_nullable_bytes();
  // Flexible-version forms: unsigned varint length + 1, 0 = null.
  std::string read_compact_string();
  std::optional<std::string> read_compact_nullable_string();

  // The length prefix of an array: nullopt for null (-1). The count is
  // bounded by the bytes that remain (every element takes at least one byte
  // in the messages this codec reads), so callers may reserve it.
  std::optional<std::size_t> read_array_length();
  // A non-nullable array length: null is an error.
  std::size_t read_array_count();
  std::optional<std::size_t> read_compact_array_length();

  // Flexible versions end each structure with tagged fields; the codec
  // understands none of them and skips them all.
  void skip_tagged_fields();
  void expect_end();  // trailing bytes are an error

 private:
  bool take(std::size_t n, const std::uint8_t** out);
  std::uint64_t read_big_endian(std::size_t n);
  std::uint64_t read_unsigned_varlong(std::size_t bytes_max);
  std::optional<std::size_t> checked_length(std::int64_t length);

  std::span<const std::uint8_t> input_;
  std::size_t position_ = 0;
  std::optional<DecodeError> error_;
};

class Writer {
 public:
  const Bytes& bytes() const { return out_; }
  Bytes take() { return std::move(out_); }
  std::size_t size() const { return out_.size(); }
  // Room for n more bytes: a large response is built without regrowing.
  void reserve(std::size_t n) { out_.reserve(out_.size() + n); }

  void write_bool(bool v) { write_int8(v ? 1 : 0); }
  void write_int8(std::int8_t v);
  void write_int16(std::int16_t v);
  void write_int32(std::int32_t v);
  void write_int64(std::int64_t v);
  void write_unsigned_varint(std::uint32_t v);
  void write_varint(std::int32_t v);
  void write_varlong(std::int64_t v);

  void write_string(std::string_view s);
  void write_nullable_string(const std::optional<std::string>& s);
  void write_bytes(std::span<const std::uint8_t> b);
  void write_nullable_bytes(const std::optional<Bytes>& b);
  void write_compact_string(std::string_view s);
  void write_compact_nullable_string(const std::optional<std::string>& s);

  void write_array_length(std::size_t count);
  void write_null_array() { write_int32(-1); }
  void write_compact_array_length(std::size_t count);
  void write_empty_tagged_fields() { write_unsigned_varint(0); }

  // Overwrites 4 bytes written earlier (a frame length known only at the end).
  void patch_int32(std::size_t at, std::int32_t v);

 private:
  void write_unsigned_varlong(std::uint64_t v);
  Bytes out_;
};

// Decodes a whole message body: the specialisation for each message type is
// declared in that message's header. Fails on trailing bytes.
template <class T>
Decoded<T> decode(Reader& r, std::int16_t version);

// Reads the end of a message and turns the Reader's state into a result.
template <class T>
Decoded<T> finish(Reader& r, T value) {
  r.expect_end();
  if (!r.ok()) return *r.error();
  return value;
}

// Whether a decoder implements the version; records the error if not.
inline bool accept_version(Reader& r, VersionRange range, std::int16_t version) {
  if (range.contains(version)) return true;
  r.fail(DecodeErrc::unsupported_version);
  return false;
}

// Encoding a version the codec does not implement is a programmer error.
#define CASTLE_PROTOCOL_ASSERT_VERSION(type, version) \
  CASTLE_PROTOCOL_ASSERT(type::versions.contains(version), #type " version not implemented")

// An array of T, each element read by read_one(r).
template <class F>
auto read_array(Reader& r, F read_one) {
  using T = decltype(read_one(r));
  std::vector<T> out;
  const std::size_t n = r.read_array_count();
  out.reserve(n);
  for (std::size_t i = 0; i < n && r.ok(); ++i) out.push_back(read_one(r));
  return out;
}

template <class F>
auto read_nullable_array(Reader& r, F read_one) {
  using T = decltype(read_one(r));
  std::optional<std::vector<T>> out;
  const std::optional<std::size_t> n = r.read_array_length();
  if (!n) return out;
  out.emplace();
  out->reserve(*n);
  for (std::size_t i = 0; i < *n && r.ok(); ++i) out->push_back(read_one(r));
  return out;
}

template <class T, class F>
void write_array(Writer& w, const std::vector<T>& items, F write_one) {
  w.write_array_length(items.size());
  for (const T& item : items) write_one(w, item);
}

template <class T, class F>
void write_nullable_array(Writer& w, const std::optional<std::vector<T>>& items,
                          F write_one) {
  if (!items) return w.write_null_array();
  write_array(w, *items, write_one);
}

// Arrays of int32 values or of int32-based strong types (broker ids,
// partition ids), which the messages carry as []int32.
template <class E>
std::vector<E> read_int32_array(Reader& r) {
  static_assert(sizeof(E) == 4);
  return read_array(r, [](Reader& r) { return E{r.read_int32()}; });
}

template <class E>
void write_int32_array(Writer& w, const std::vector<E>& items) {
  static_assert(sizeof(E) == 4);
  write_array(w, items, [](Writer& w, E e) { w.write_int32(static_cast<std::int32_t>(e)); });
}

}  // namespace castle::protocol
