// libFuzzer target for the request decoder: any bytes given to
// decode_request must give a value or an error, never a crash, a sanitizer
// report or an exception. When a frame does decode, it must encode again and
// decode to the same request (the codec reads nothing it cannot write).
//
// Build (clang only; Debian's clang-14 and libclang-rt-14-dev):
//   CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DCASTLE_FUZZ=ON -DCASTLE_BENCH=OFF
//   ninja -C build-fuzz request_fuzzer
//   ./build-fuzz/fuzz/request_fuzzer -max_total_time=60
// or simply tests/run_fuzzer.sh [seconds].
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "system/protocol/messages.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace castle::protocol;
  const auto first = decode_request(std::span<const std::uint8_t>(data, size));
  if (!first.ok()) return 0;
  const Bytes frame = encode_request_frame(first->header, first->body);
  const auto second = decode_request(std::span<const std::uint8_t>(frame).subspan(4));
  if (!second.ok() || !(second->header == first->header) || !(second->body == first->body)) {
    std::abort();  // a decoded request that does not survive re-encoding
  }
  return 0;
}
