// S = scale * A . B^T on the GPU.
// A: [n, d], B: [m, d], S: [n, m], float32 in and out, float32 accumulation (FFMA).
//
// Classic shared-memory tiling: a 256-thread block owns a 64x64 tile of S, each thread a
// 4x4 micro-tile held in registers. The k dimension advances 16 at a time; A and B tiles
// are staged transposed in shared memory (k-major) so the inner loop reads 4 consecutive
// floats per operand as float4 broadcasts. Loads are bounds-checked, so any n, m, d works
// (out-of-range values load as zero and out-of-range outputs are not written).
// Shared memory: 2 * 16 * 64 floats = 8 KiB per block.
#include "cuda_check.cuh"
#include "radlearn/similarity.h"
#include "radlearn/trace.h"

namespace radlearn {
namespace {

constexpr int kTile = 64;
constexpr int kDepth = 16;
constexpr int kMicro = 4;
constexpr int kThreads = (kTile / kMicro) * (kTile / kMicro);  // 256

__global__ void __launch_bounds__(kThreads) similarity_kernel(const float* __restrict__ a, const float* __restrict__ b,
                                                              float* __restrict__ s, index_t n, index_t m, index_t d,
                                                              float scale) {
  __shared__ __align__(16) float a_tile[kDepth][kTile];
  __shared__ __align__(16) float b_tile[kDepth][kTile];

  const int tid = threadIdx.x;
  const int ty = tid / (kTile / kMicro);  // micro-tile row
  const int tx = tid % (kTile / kMicro);  // micro-tile column
  const index_t row0 = static_cast<index_t>(blockIdx.y) * kTile;
  const index_t col0 = static_cast<index_t>(blockIdx.x) * kTile;

  float acc[kMicro][kMicro] = {};

  for (index_t k0 = 0; k0 < d; k0 += kDepth) {
    // 64 rows x 16 k per operand = 1024 values, 4 per thread. Consecutive threads read
    // consecutive k of one row (coalesced in 16-float runs).
#pragma unroll
    for (int t = 0; t < (kTile * kDepth) / kThreads; ++t) {
      int linear = tid + t * kThreads;
      int r = linear / kDepth;
      int k = linear % kDepth;
      index_t gk = k0 + k;
      index_t ga = row0 + r;
      index_t gb = col0 + r;
      a_tile[k][r] = (ga < n && gk < d) ? a[ga * d + gk] : 0.0f;
      b_tile[k][r] = (gb < m && gk < d) ? b[gb * d + gk] : 0.0f;
    }
    __syncthreads();
#pragma unroll
    for (int k = 0; k < kDepth; ++k) {
      float4 av = *reinterpret_cast<const float4*>(&a_tile[k][ty * kMicro]);
      float4 bv = *reinterpret_cast<const float4*>(&b_tile[k][tx * kMicro]);
      float ar[kMicro] = {av.x, av.y, av.z, av.w};
      float br[kMicro] = {bv.x, bv.y, bv.z, bv.w};
#pragma unroll
      for (int i = 0; i < kMicro; ++i)
#pragma unroll
        for (int j = 0; j < kMicro; ++j) acc[i][j] = fmaf(ar[i], br[j], acc[i][j]);
    }
    __syncthreads();
  }

#pragma unroll
  for (int i = 0; i < kMicro; ++i) {
    index_t gi = row0 + ty * kMicro + i;
    if (gi >= n) continue;
#pragma unroll
    for (int j = 0; j < kMicro; ++j) {
      index_t gj = col0 + tx * kMicro + j;
      if (gj < m) s[gi * m + gj] = scale * acc[i][j];
    }
  }
}

}  // namespace

void similarity_cuda(const float* a, const float* b, float* s, index_t n, index_t m, index_t d, float scale) {
  ScopedOp op("similarity", "cuda");
  if (n == 0 || m == 0) return;
  dim3 grid(static_cast<unsigned>((m + kTile - 1) / kTile), static_cast<unsigned>((n + kTile - 1) / kTile));
  if (grid.y > 65535u) throw Error(kErrShape, "similarity: n is too large for one launch (n / 64 must be <= 65535)");
  similarity_kernel<<<grid, kThreads>>>(a, b, s, n, m, d, scale);
  check_launch_status("similarity_kernel");
  RL_CUDA(cudaDeviceSynchronize());
}

}  // namespace radlearn
