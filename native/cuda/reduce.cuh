// Deterministic reductions shared by the loss and optimizer kernels: a block-wide sum
// (warp shuffles, then one warp over the per-warp sums; fixed order for a fixed launch
// shape), a block-wide maximum, and per-thread device scratch for partial sums.
#pragma once

#include <cuda_runtime.h>

#include "cuda_check.cuh"

namespace radlearn {

// Fixed grid for grid-stride reductions: the same partition (and so the same bits) for a
// given length on every run.
constexpr int kReduceThreads = 256;
constexpr int kReduceBlocks = 512;

template <typename T>
__device__ inline T warp_reduce_sum(T v) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

// Sum over the block (blockDim.x a multiple of 32, at most 1024); the result is valid in
// thread 0. `scratch` holds 32 values of shared memory.
template <typename T>
__device__ inline T block_reduce_sum(T v, T* scratch) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  v = warp_reduce_sum(v);
  __syncthreads();  // scratch may still be read by a previous call
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  const int warps = blockDim.x / 32;
  v = threadIdx.x < warps ? scratch[threadIdx.x] : T(0);
  if (warp == 0) v = warp_reduce_sum(v);
  return v;
}

template <typename T>
__device__ inline T warp_reduce_max(T v) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) {
    T other = __shfl_xor_sync(0xffffffffu, v, offset);
    v = other > v ? other : v;
  }
  return v;
}

// Maximum over the block (same contract as block_reduce_sum); values must not be NaN.
template <typename T>
__device__ inline T block_reduce_max(T v, T* scratch) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  v = warp_reduce_max(v);
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  const int warps = blockDim.x / 32;
  v = threadIdx.x < warps ? scratch[threadIdx.x] : T(0);
  if (warp == 0) v = warp_reduce_max(v);
  return v;
}

// Per-host-thread device scratch for partial sums and small results, grown on demand and
// reused across calls (a cudaMalloc per optimizer step would cost more than a small step).
// Each libuv worker thread has its own, so concurrent async ops never share one; all work
// runs on the legacy default stream, which orders it.
inline void* thread_scratch(size_t bytes) {
  struct Scratch {
    void* ptr = nullptr;
    size_t size = 0;
    ~Scratch() {
      if (ptr) cudaFree(ptr);
    }
  };
  thread_local Scratch scratch;
  if (scratch.size < bytes) {
    if (scratch.ptr) {
      RL_CUDA(cudaDeviceSynchronize());  // the old buffer may still be in use by queued kernels
      cudaFree(scratch.ptr);
      scratch.ptr = nullptr;
      scratch.size = 0;
    }
    size_t rounded = (bytes + 4095) / 4096 * 4096;
    RL_CUDA(cudaMalloc(&scratch.ptr, rounded));
    scratch.size = rounded;
  }
  return scratch.ptr;
}

inline unsigned reduce_blocks_for(long long work_items, int items_per_block) {
  long long blocks = (work_items + items_per_block - 1) / items_per_block;
  if (blocks < 1) blocks = 1;
  return static_cast<unsigned>(blocks < kReduceBlocks ? blocks : kReduceBlocks);
}

}  // namespace radlearn
