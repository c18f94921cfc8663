#include "system/runtime/assert.h"

#include <cstdio>
#include <cstdlib>

namespace castle::detail {

[[noreturn]] void assert_fail(const char* expr, const char* message,
                              const char* file, int line) {
  std::fprintf(stderr, "castle: assertion failed: %s (%s) at %s:%d\n", message,
               expr, file, line);
  std::fflush(stderr);
  std::abort();
}

}  // namespace castle::detail
