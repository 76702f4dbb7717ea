// One CPU thread pool shared by every kernel. parallel_for splits [0, n) into chunks of at
// least `grain` items; the calling thread works too and the call returns when all chunks
// are done. Jobs from different threads are serialised (one kernel owns the pool at a
// time); a parallel_for issued from inside a pool worker runs inline, so nesting is safe.
#pragma once

#include <cstdint>
#include <functional>

namespace radlearn {

using RangeFn = std::function<void(std::int64_t begin, std::int64_t end)>;

// The largest pool allowed: kThreadsPerCore x the hardware threads, at least kMinThreadCap.
// More threads than that only add contention to CPU-bound kernels, and an unbounded count
// can exhaust the machine's process table.
inline constexpr int kThreadsPerCore = 4;
inline constexpr int kMinThreadCap = 8;
int max_pool_threads();

// Threads the pool uses (including the caller). Reads RADLEARN_THREADS on first use,
// else the number of hardware threads.
int pool_threads();
// Resizes the pool; n <= 0 restores the default. Throws ERR_INVALID_ARGUMENT above
// max_pool_threads() or when the system refuses to start the threads.
void set_pool_threads(int n);
void parallel_for(std::int64_t n, std::int64_t grain, const RangeFn& fn);

}  // namespace radlearn
