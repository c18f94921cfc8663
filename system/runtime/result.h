#pragma once
// Operating errors are values: a Result<T> holds either a T or a
// std::error_code. Programmer errors assert instead.

#include <system_error>
#include <utility>
#include <variant>

#include "system/runtime/assert.h"

namespace castle {

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(std::error_code ec) : v_(ec) {       // NOLINT: implicit by design
    CASTLE_ASSERT(ec, "a Result error must be a real error");
  }
  Result(std::errc e) : Result(std::make_error_code(e)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    CASTLE_ASSERT(ok(), "value() on an error Result");
    return std::get<0>(v_);
  }
  const T& value() const& {
    CASTLE_ASSERT(ok(), "value() on an error Result");
    return std::get<0>(v_);
  }
  T&& value() && {
    CASTLE_ASSERT(ok(), "value() on an error Result");
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  T& operator*() { return value(); }

  std::error_code error() const {
    return ok() ? std::error_code{} : std::get<1>(v_);
  }

 private:
  std::variant<T, std::error_code> v_;
};

// Result<void>: success or an error code.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(std::error_code ec) : ec_(ec) {}  // NOLINT: implicit by design
  Result(std::errc e) : ec_(std::make_error_code(e)) {}  // NOLINT
  bool ok() const { return !ec_; }
  explicit operator bool() const { return ok(); }
  std::error_code error() const { return ec_; }

 private:
  std::error_code ec_;
};

inline Result<void> ok_result() { return {}; }

}  // namespace castle
