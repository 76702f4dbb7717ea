// Linear layer and GELU on the GPU (contracts in radlearn/linear.h).
//
// One tiled GEMM kernel (gemm.cuh) serves the three products:
//   forward  Y  = X . W^T     <true, true>
//   backward dX = dY . W      <true, false>
//            dW = dY^T . X    <false, false>
// The bias gradient is a column sum: 32 columns x 8 row-lanes per block, lanes combined
// in a fixed order (deterministic). GELU kernels are grid-stride elementwise loops.
#include "cuda_check.cuh"
#include "gemm.cuh"
#include "radlearn/linear.h"
#include "radlearn/trace.h"

namespace radlearn {
namespace {

using gemm_cuda::launch_gemm;


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
