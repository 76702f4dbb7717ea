// The shared CPU pool (see radlearn/thread_pool.h). Workers sleep on a condition variable
// until a job is posted; chunks are claimed with an atomic counter so uneven chunks balance
// themselves. The first exception a chunk throws is rethrown on the calling thread.
#include "radlearn/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "radlearn/common.h"

namespace radlearn {
namespace {

thread_local bool t_inside_pool = false;

int hardware_threads() {
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

// RADLEARN_THREADS when it is a valid count (the TS layer refuses bad values with a typed
// error before any kernel runs; here they are only never allowed to start huge pools).
int default_threads() {
  if (const char* env = std::getenv("RADLEARN_THREADS")) {
    char* end = nullptr;
    long n = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && n > 0 && n <= max_pool_threads()) return static_cast<int>(n);
  }
  return hardware_threads();
}

class Pool {
 public:
  explicit Pool(int threads) : threads_(std::max(1, threads)) {
    try {
      for (int i = 1; i < threads_; ++i) workers_.emplace_back([this] { worker_loop(); });
    } catch (const std::system_error& e) {
      stop();  // the threads already started must be joined before the pool is abandoned
      throw Error(kErrInvalidArgument, "could not start " + std::to_string(threads_) + " threads: " + e.what());
    }
  }

  ~Pool() { stop(); }

  int threads() const { return threads_; }

  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& worker : workers_) worker.join();
    workers_.clear();
  }

  void run(std::int64_t n, std::int64_t grain, const RangeFn& fn) {
    if (n <= 0) return;
    grain = std::max<std::int64_t>(1, grain);
    std::int64_t chunks = (n + grain - 1) / grain;
    if (threads_ == 1 || chunks == 1 || t_inside_pool) {
      fn(0, n);
      return;
    }
    // Aim for a few chunks per thread so faster threads pick up slack.
    std::int64_t chunk = std::max(grain, (n + threads_ * 4 - 1) / (threads_ * 4));
    std::lock_guard<std::mutex> job_lock(job_mutex_);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      fn_ = &fn;
      n_ = n;
      chunk_ = chunk;
      next_.store(0);
      pending_workers_ = static_cast<int>(workers_.size());
      error_ = nullptr;
      ++generation_;
    }
    wake_.notify_all();
    t_inside_pool = true;
    work();
    t_inside_pool = false;
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return pending_workers_ == 0; });
    fn_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void work() {
    for (;;) {
      std::int64_t begin = next_.fetch_add(chunk_);
      if (begin >= n_) return;
      std::int64_t end = std::min(n_, begin + chunk_);
      try {
        (*fn_)(begin, end);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!error_) error_ = std::current_exception();
        next_.store(n_);  // stop handing out chunks
      }
    }
  }

  void worker_loop() {
    t_inside_pool = true;
    std::uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
        if (stopping_) return;
        seen = generation_;
      }
      work();
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (--pending_workers_ == 0) done_.notify_one();
      }
    }
  }

  const int threads_;
  std::vector<std::thread> workers_;
  std::mutex job_mutex_;  // one job at a time
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  bool stopping_ = false;
  std::uint64_t generation_ = 0;
  const RangeFn* fn_ = nullptr;
  std::int64_t n_ = 0;
  std::int64_t chunk_ = 1;
  std::atomic<std::int64_t> next_{0};
  int pending_workers_ = 0;
  std::exception_ptr error_;
};

std::mutex g_pool_mutex;
std::shared_ptr<Pool> g_pool;

std::shared_ptr<Pool> pool() {
  std::lock_guard<std::mutex> lock(g_pool_mutex);
  if (!g_pool) g_pool = std::make_shared<Pool>(default_threads());
  return g_pool;
}

}  // namespace

int pool_threads() { return pool()->threads(); }

int max_pool_threads() { return std::max(kMinThreadCap, kThreadsPerCore * hardware_threads()); }

void set_pool_threads(int n) {
  if (n > max_pool_threads())
    throw Error(kErrInvalidArgument, "threads must be at most " + std::to_string(max_pool_threads()) + " (" +
                                         std::to_string(kThreadsPerCore) + " x the " + std::to_string(hardware_threads()) +
                                         " hardware threads here), got " + std::to_string(n));
  auto replacement = std::make_shared<Pool>(n > 0 ? n : default_threads());
  std::lock_guard<std::mutex> lock(g_pool_mutex);
  g_pool = std::move(replacement);  // a job still running keeps the old pool alive
}

void parallel_for(std::int64_t n, std::int64_t grain, const RangeFn& fn) { pool()->run(n, grain, fn); }

}  // namespace radlearn
