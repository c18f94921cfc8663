#pragma once
// CASTLE_PROTOCOL_ASSERT: the codec's always-on assertion for programmer
// errors (encoding a version the codec does not implement, a null where the
// version allows none). The codec is std-only and so cannot use the
// runtime's CASTLE_ASSERT, whose failure handler lives in castle_runtime;
// this one behaves the same way: print, then abort. Malformed input is never
// asserted on: it is a DecodeError value.

namespace castle::protocol::detail {
[[noreturn]] void assert_fail(const char* expr, const char* message,
                              const char* file, int line);
}  // namespace castle::protocol::detail

#define CASTLE_PROTOCOL_ASSERT(cond, message)                                          \
  do {                                                                                 \
    if (!(cond)) [[unlikely]]                                                          \
      ::castle::protocol::detail::assert_fail(#cond, (message), __FILE__, __LINE__);   \
  } while (0)
