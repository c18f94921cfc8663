#pragma once
// A few worker threads for system calls that may block for long (fdatasync,
// fsync of a directory). The event loop must never make these calls itself:
// one slow sync would stall every connection of the process. Workers run a
// job and hand its completion back to the loop thread through Loop::post().

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "system/runtime/callback.h"

namespace castle::real {

class BlockingPool {
 public:
  static constexpr std::size_t threads_max = 16;

  explicit BlockingPool(std::size_t thread_count);
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;
  // Finishes the jobs already queued, then joins the workers.
  ~BlockingPool();

  // Queues a job; callable from any thread.
  void submit(Callback job);

 private:
  void worker_main();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Callback> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace castle::real
