#include "system/controller/types.h"

#include <algorithm>

namespace castle::controller {

std::string to_string(const Uuid& id) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(id.bytes.size() * 2);
  for (std::uint8_t b : id.bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0x0f]);
  }
  return out;
}

bool contains(const BrokerIds& ids, BrokerId id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

}  // namespace castle::controller
