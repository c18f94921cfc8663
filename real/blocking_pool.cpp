#include "real/blocking_pool.h"

#include "system/runtime/assert.h"

namespace castle::real {

BlockingPool::BlockingPool(std::size_t thread_count) {
  CASTLE_ASSERT(thread_count > 0 && thread_count <= threads_max, "blocking pool size out of range");
  threads_.reserve(thread_count);
  for (std::size_t i = 0; i < thread_count; ++i) threads_.emplace_back([this] { worker_main(); });
}

BlockingPool::~BlockingPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
  CASTLE_ASSERT(jobs_.empty(), "blocking jobs left behind");
}

void BlockingPool::submit(Callback job) {
  CASTLE_ASSERT(static_cast<bool>(job), "an empty blocking job");
  {
    std::lock_guard lock(mutex_);
    CASTLE_ASSERT(!stopping_, "submit to a stopping blocking pool");
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
}

void BlockingPool::worker_main() {
  for (;;) {
    Callback job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      // Drain before stopping: a queued sync may hold the last reference
      // to a file and its completion must still be delivered or dropped.
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

}  // namespace castle::real
