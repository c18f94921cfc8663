#pragma once
// Hands out producer ids for InitProducerId, never the same one twice, even
// across crashes: ids come in blocks, and the end of the current block is
// made durable before any id of it is handed out (Kafka does the same
// through the controller).

#include <cstdint>
#include <string>

#include "system/runtime/runtime.h"
#include "system/runtime/sync.h"

namespace castle::broker {

class ProducerIdAllocator {
 public:
  static constexpr std::int64_t block_size = 1000;

  ProducerIdAllocator(Runtime& rt, std::string path) : rt_(rt), path_(std::move(path)) {}
  // Reads where the last run's block ended.
  Result<void> load();
  Result<std::int64_t> next();

 private:
  Runtime& rt_;
  std::string path_;
  std::int64_t next_ = 0;
  std::int64_t block_end_ = 0;  // exclusive; durable on disk
  Mutex lock_;
};

}  // namespace castle::broker
