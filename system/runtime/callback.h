#pragma once
// A move-only `void()` callable with inline storage. Event queues hold many
// of these; keeping small captures out of the heap is what lets the
// simulator run millions of events per second.

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

#include "system/runtime/assert.h"

namespace castle {

class Callback {
 public:
  static constexpr std::size_t inline_bytes_max = 48;

  Callback() = default;

  template <class F, class D = std::decay_t<F>,
            class = std::enable_if_t<!std::is_same_v<D, Callback>>>
  Callback(F&& f) {  // NOLINT: implicit by design, like std::function
    if constexpr (sizeof(D) <= inline_bytes_max &&
                  alignof(D) <= alignof(std::max_align_t) &&
                  std::is_nothrow_move_constructible_v<D>) {
      ::new (static_cast<void*>(storage_)) D(std::forward<F>(f));
      ops_ = &inline_ops<D>;
    } else {
      *reinterpret_cast<D**>(storage_) = new D(std::forward<F>(f));
      ops_ = &heap_ops<D>;
    }
  }

  Callback(Callback&& other) noexcept { take(other); }
  Callback& operator=(Callback&& other) noexcept {
    if (this != &other) {
      reset();
      take(other);
    }
    return *this;
  }
  Callback(const Callback&) = delete;
  Callback& operator=(const Callback&) = delete;
  ~Callback() { reset(); }

  explicit operator bool() const { return ops_ != nullptr; }

  void operator()() {
    CASTLE_ASSERT(ops_ != nullptr, "calling an empty Callback");
    ops_->call(storage_);
  }

  void reset() {
    if (ops_) {
      ops_->destroy(storage_);
      ops_ = nullptr;
    }
  }

 private:
  struct Ops {
    void (*call)(void*);
    void (*move)(void* dst, void* src);  // move-construct dst, destroy src
    void (*destroy)(void*);
  };

  template <class D>
  static constexpr Ops inline_ops{
      [](void* p) { (*static_cast<D*>(p))(); },
      [](void* dst, void* src) {
        ::new (dst) D(std::move(*static_cast<D*>(src)));
        static_cast<D*>(src)->~D();
      },
      [](void* p) { static_cast<D*>(p)->~D(); }};

  template <class D>
  static constexpr Ops heap_ops{
      [](void* p) { (**static_cast<D**>(p))(); },
      [](void* dst, void* src) { *static_cast<D**>(dst) = *static_cast<D**>(src); },
      [](void* p) { delete *static_cast<D**>(p); }};

  void take(Callback& other) {
    ops_ = other.ops_;
    if (ops_) {
      ops_->move(storage_, other.storage_);
      other.ops_ = nullptr;
    }
  }

  alignas(std::max_align_t) unsigned char storage_[inline_bytes_max];
  const Ops* ops_ = nullptr;
};

}  // namespace castle
