// The float32 tiled GEMM shared by the CUDA kernels that need a plain matrix product
// (linear layers, the similarity matrix):
//   C[i, j] (=|+=) alpha * sum_k A(i, k) * B(k, j) (+ bias[j])
// A(i, k) is a[i * lda + k] when kAContiguousK, else a[k * lda + i]; B(k, j) is b[j * ldb + k]
// when kBContiguousK, else b[k * ldb + j]. So S = A.B^T (similarity, Y = X.W^T) is <true, true>,
// dX = dY.W is <true, false> and dW = dY^T.X is <false, false>.
// A 256-thread block owns a 64x64 tile of C, each thread a 4x4 micro-tile in registers; k
// advances 16 at a time through shared memory, staged k-major (tile[k][row]) so the inner
// loop reads float4 broadcasts. The loader picks its thread->element mapping from which
// index is contiguous in global memory, so every load is coalesced. Rows are padded by 4
// floats (keeps float4 alignment, spreads the transposing stores over banks). Loads are
// bounds-checked (zeros outside), stores are guarded: any shape works.
// Shared memory: 2 * 16 * 68 floats = 8.5 KiB per block. float32 FFMA accumulation.
#pragma once

#include <string>

#include "cuda_check.cuh"

namespace radlearn {
namespace gemm_cuda {

constexpr int kTile = 64;
constexpr int kDepth = 16;
constexpr int kMicro = 4;
constexpr int kPad = 4;
constexpr int kThreads = (kTile / kMicro) * (kTile / kMicro);  // 256

// Loads rows [row0, row0 + 64) x k [k0, k0 + 16) of an operand into tile[k][row].
// kContiguousK: element (row, k) is at ptr[row * ld + k]; otherwise at ptr[k * ld + row].
template <bool kContiguousK>
__device__ inline void load_tile(float (*tile)[kTile + kPad], const float* __restrict__ ptr, index_t ld, index_t rows,
                                 index_t depth, index_t row0, index_t k0, int tid) {
#pragma unroll
  for (int t = 0; t < (kTile * kDepth) / kThreads; ++t) {
    int linear = tid + t * kThreads;
    int r = kContiguousK ? linear / kDepth : linear % kTile;
    int k = kContiguousK ? linear % kDepth : linear / kTile;
    index_t gr = row0 + r, gk = k0 + k;
    float value = 0.0f;
    if (gr < rows && gk < depth) value = kContiguousK ? ptr[gr * ld + gk] : ptr[gk * ld + gr];
    tile[k][r] = value;
  }
}

// C [m, n] (ldc) = alpha * A . B (+ bias[j]) (+ C when accumulate).
template <bool kAContiguousK, bool kBContiguousK>
__global__ void __launch_bounds__(kThreads) gemm_kernel(const float* __restrict__ a, index_t lda,
                                                        const float* __restrict__ b, index_t ldb,
                                                        const float* __restrict__ bias, float* __restrict__ c,
                                                        index_t ldc, index_t m, index_t n, index_t depth,
                                                        float alpha, bool accumulate) {
  __shared__ __align__(16) float a_tile[kDepth][kTile + kPad];
  __shared__ __align__(16) float b_tile[kDepth][kTile + kPad];
  const int tid = threadIdx.x;
  const int ty = tid / (kTile / kMicro);
  const int tx = tid % (kTile / kMicro);
  const index_t row0 = static_cast<index_t>(blockIdx.x) * kTile;
  const index_t col0 = static_cast<index_t>(blockIdx.y) * kTile;
  float acc[kMicro][kMicro] = {};
  for (index_t k0 = 0; k0 < depth; k0 += kDepth) {
    load_tile<kAContiguousK>(a_tile, a, lda, m, depth, row0, k0, tid);
    load_tile<kBContiguousK>(b_tile, b, ldb, n, depth, col0, k0, tid);
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
    if (gi >= m) continue;
#pragma unroll
    for (int j = 0; j < kMicro; ++j) {
      index_t gj = col0 + tx * kMicro + j;
      if (gj >= n) continue;
      float value = alpha * acc[i][j];
      if (bias) value += bias[gj];
      if (accumulate) value += c[gi * ldc + gj];
      c[gi * ldc + gj] = value;
    }
  }
}

template <bool kAContiguousK, bool kBContiguousK>
void launch_gemm(const char* name, const float* a, index_t lda, const float* b, index_t ldb, const float* bias, float* c,
                 index_t ldc, index_t m, index_t n, index_t depth, bool accumulate, float alpha = 1.0f) {
  if (m == 0 || n == 0) return;
  index_t col_tiles = (n + kTile - 1) / kTile;
  index_t row_tiles = (m + kTile - 1) / kTile;
  if (col_tiles > 65535) throw Error(kErrShape, std::string(name) + ": too many output columns for one launch (max 65535 * 64)");
  if (row_tiles > 0x7fffffff) throw Error(kErrShape, std::string(name) + ": too many output rows for one launch");
  dim3 grid(static_cast<unsigned>(row_tiles), static_cast<unsigned>(col_tiles));
  gemm_kernel<kAContiguousK, kBContiguousK><<<grid, kThreads>>>(a, lda, b, ldb, bias, c, ldc, m, n, depth, alpha, accumulate);
  check_launch_status(name);
}

}  // namespace gemm_cuda
}  // namespace radlearn
