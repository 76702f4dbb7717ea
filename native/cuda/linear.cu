// Linear layer and GELU on the GPU (contracts in radlearn/linear.h).
//
// One tiled GEMM kernel serves the three products, C[i, j] = sum_k A(i, k) * B(k, j):
//   forward  Y  = X . W^T     A = X  [rows, in]  (k contiguous), B(k, j) = W[j, k] (k contiguous)
//   backward dX = dY . W      A = dY [rows, out] (k contiguous), B(k, j) = W[k, j] (j contiguous)
//            dW = dY^T . X    A(i, k) = dY[k, i] (i contiguous), B(k, j) = X[k, j] (j contiguous)
// A 256-thread block owns a 64x64 tile of C, each thread a 4x4 micro-tile in registers; k
// advances 16 at a time through shared memory, staged k-major (tile[k][row]) so the inner
// loop reads float4 broadcasts. The loader picks its thread->element mapping from which
// index is contiguous in global memory, so every load is coalesced. Rows are padded by 4
// floats (keeps float4 alignment, spreads the transposing stores over banks). Loads are
// bounds-checked (zeros outside), stores are guarded: any shape works.
// Shared memory: 2 * 16 * 68 floats = 8.5 KiB per block. float32 FFMA accumulation.
// The bias gradient is a column sum: 32 columns x 8 row-lanes per block, lanes combined
// in a fixed order (deterministic). GELU kernels are grid-stride elementwise loops.
#include "cuda_check.cuh"
#include "radlearn/linear.h"
#include "radlearn/trace.h"

namespace radlearn {
namespace {

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

// C [m, n] (ldc) = A . B (+ bias[j]) (+ C when accumulate).
template <bool kAContiguousK, bool kBContiguousK>
__global__ void __launch_bounds__(kThreads) gemm_kernel(const float* __restrict__ a, index_t lda,
                                                        const float* __restrict__ b, index_t ldb,
                                                        const float* __restrict__ bias, float* __restrict__ c,
                                                        index_t ldc, index_t m, index_t n, index_t depth,
                                                        bool accumulate) {
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
      float value = acc[i][j];
      if (bias) value += bias[gj];
      if (accumulate) value += c[gi * ldc + gj];
      c[gi * ldc + gj] = value;
    }
  }
}

template <bool kAContiguousK, bool kBContiguousK>
void launch_gemm(const char* name, const float* a, index_t lda, const float* b, index_t ldb, const float* bias, float* c,
                 index_t ldc, index_t m, index_t n, index_t depth, bool accumulate) {
  if (m == 0 || n == 0) return;
  index_t col_tiles = (n + kTile - 1) / kTile;
  index_t row_tiles = (m + kTile - 1) / kTile;
  if (col_tiles > 65535) throw Error(kErrShape, std::string(name) + ": too many output columns for one launch (max 65535 * 64)");
  if (row_tiles > 0x7fffffff) throw Error(kErrShape, std::string(name) + ": too many output rows for one launch");
  dim3 grid(static_cast<unsigned>(row_tiles), static_cast<unsigned>(col_tiles));
  gemm_kernel<kAContiguousK, kBContiguousK><<<grid, kThreads>>>(a, lda, b, ldb, bias, c, ldc, m, n, depth, accumulate);
  check_launch_status(name);
}

constexpr int kBiasCols = 32;
constexpr int kBiasLanes = 8;

__global__ void bias_grad_kernel(const float* __restrict__ dy, float* __restrict__ db, index_t rows, index_t cols,
                                 bool accumulate) {
  __shared__ float partial[kBiasLanes][kBiasCols];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const index_t col = static_cast<index_t>(blockIdx.x) * kBiasCols + tx;
  float sum = 0.0f;
  if (col < cols)
    for (index_t r = ty; r < rows; r += kBiasLanes) sum += dy[r * cols + col];
  partial[ty][tx] = sum;
  __syncthreads();
  if (ty == 0 && col < cols) {
    float total = 0.0f;
#pragma unroll
    for (int l = 0; l < kBiasLanes; ++l) total += partial[l][tx];
    db[col] = accumulate ? db[col] + total : total;
  }
}

constexpr float kInvSqrt2 = 0.70710678118654752440f;
constexpr float kInvSqrt2Pi = 0.39894228040143267794f;

__global__ void gelu_forward_kernel(const float* __restrict__ x, float* __restrict__ y, index_t length) {
  for (index_t i = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < length;
       i += static_cast<index_t>(gridDim.x) * blockDim.x) {
    float v = x[i];
    y[i] = 0.5f * v * (1.0f + erff(v * kInvSqrt2));
  }
}

__global__ void gelu_backward_kernel(const float* __restrict__ x, const float* __restrict__ dy, float* __restrict__ dx,
                                     index_t length) {
  for (index_t i = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < length;
       i += static_cast<index_t>(gridDim.x) * blockDim.x) {
    float v = x[i];
    float cdf = 0.5f * (1.0f + erff(v * kInvSqrt2));
    float pdf = kInvSqrt2Pi * expf(-0.5f * v * v);
    dx[i] = dy[i] * (cdf + v * pdf);
  }
}

unsigned elementwise_blocks(index_t length) {
  index_t blocks = (length + 255) / 256;
  return static_cast<unsigned>(blocks < 65536 ? blocks : 65536);
}

}  // namespace

void linear_forward_cuda(const float* x, const float* w, const float* b, float* y, index_t rows, index_t in,
                         index_t out) {
  ScopedOp op("linear_forward", "cuda");
  launch_gemm<true, true>("linear_forward gemm_kernel", x, in, w, in, b, y, out, rows, out, in, false);
  RL_CUDA(cudaDeviceSynchronize());
}

void linear_backward_cuda(const float* x, const float* w, const float* dy, float* dx, float* dw, float* db,
                          index_t rows, index_t in, index_t out, bool accumulate) {
  ScopedOp op("linear_backward", "cuda");
  if (dx) launch_gemm<true, false>("linear_backward dX gemm_kernel", dy, out, w, in, nullptr, dx, in, rows, in, out, false);
  if (dw) launch_gemm<false, false>("linear_backward dW gemm_kernel", dy, out, x, in, nullptr, dw, in, out, in, rows, accumulate);
  if (db && out > 0) {
    index_t blocks = (out + kBiasCols - 1) / kBiasCols;
    if (blocks > 0x7fffffff) throw Error(kErrShape, "linear_backward: too many output features for one launch");
    bias_grad_kernel<<<static_cast<unsigned>(blocks), dim3(kBiasCols, kBiasLanes)>>>(dy, db, rows, out, accumulate);
    check_launch_status("bias_grad_kernel");
  }
  RL_CUDA(cudaDeviceSynchronize());
}

void gelu_forward_cuda(const float* x, float* y, index_t length) {
  ScopedOp op("gelu_forward", "cuda");
  if (length == 0) return;
  gelu_forward_kernel<<<elementwise_blocks(length), 256>>>(x, y, length);
  check_launch_status("gelu_forward_kernel");
  RL_CUDA(cudaDeviceSynchronize());
}

void gelu_backward_cuda(const float* x, const float* dy, float* dx, index_t length) {
  ScopedOp op("gelu_backward", "cuda");
  if (length == 0) return;
  gelu_backward_kernel<<<elementwise_blocks(length), 256>>>(x, dy, dx, length);
  check_launch_status("gelu_backward_kernel");
  RL_CUDA(cudaDeviceSynchronize());
}

}  // namespace radlearn
