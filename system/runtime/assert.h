#pragma once
// CASTLE_ASSERT is always on, in every build type: a broken invariant in a
// simulated run must stop the run at the point of failure, never continue.

namespace castle::detail {
[[noreturn]] void assert_fail(const char* expr, const char* message,
                              const char* file, int line);
}  // namespace castle::detail

#define CASTLE_ASSERT(cond, message)                                        \
  do {                                                                      \
    if (!(cond)) [[unlikely]]                                               \
      ::castle::detail::assert_fail(#cond, (message), __FILE__, __LINE__);  \
  } while (0)

// Marks a state the code believes unreachable.
#define CASTLE_UNREACHABLE(message) \
  ::castle::detail::assert_fail("unreachable", (message), __FILE__, __LINE__)
