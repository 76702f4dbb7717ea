// Row-wise L2 normalisation forward and backward on the GPU (formulas in radlearn/l2norm.h).
// x, y, g, dx: [rows, dim] float32. One warp per row: lanes stride over the row, partial
// sums are combined with warp shuffles (float32 accumulation), then the row is rescaled.
// Memory traffic: forward reads x twice and writes y; backward reads x and g twice.
#include "cuda_check.cuh"
#include "radlearn/l2norm.h"
#include "radlearn/trace.h"

namespace radlearn {
namespace {

constexpr int kWarpsPerBlock = 8;

__device__ inline float warp_sum(float v) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

__global__ void l2norm_forward_kernel(const float* __restrict__ x, float* __restrict__ y, index_t rows, index_t dim,
                                      float eps) {
  index_t row = static_cast<index_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32;
  int lane = threadIdx.x % 32;
  if (row >= rows) return;
  const float* xr = x + row * dim;
  float sum = 0.0f;
  for (index_t k = lane; k < dim; k += 32) sum = fmaf(xr[k], xr[k], sum);
  float inv = 1.0f / fmaxf(sqrtf(warp_sum(sum)), eps);
  float* yr = y + row * dim;
  for (index_t k = lane; k < dim; k += 32) yr[k] = xr[k] * inv;
}

__global__ void l2norm_backward_kernel(const float* __restrict__ x, const float* __restrict__ g, float* __restrict__ dx,
                                       index_t rows, index_t dim, float eps) {
  index_t row = static_cast<index_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32;
  int lane = threadIdx.x % 32;
  if (row >= rows) return;
  const float* xr = x + row * dim;
  const float* gr = g + row * dim;
  float* dr = dx + row * dim;
  float sq = 0.0f, xg = 0.0f;
  for (index_t k = lane; k < dim; k += 32) {
    sq = fmaf(xr[k], xr[k], sq);
    xg = fmaf(xr[k], gr[k], xg);
  }
  float norm = sqrtf(warp_sum(sq));
  xg = warp_sum(xg);
  if (norm < eps) {
    for (index_t k = lane; k < dim; k += 32) dr[k] = gr[k] / eps;
    return;
  }
  float inv = 1.0f / norm;
  float proj = xg * inv * inv;
  for (index_t k = lane; k < dim; k += 32) dr[k] = (gr[k] - xr[k] * proj) * inv;
}

unsigned blocks_for(index_t rows) { return static_cast<unsigned>((rows + kWarpsPerBlock - 1) / kWarpsPerBlock); }

}  // namespace

void l2norm_forward_cuda(const float* x, float* y, index_t rows, index_t dim, float eps) {
  ScopedOp op("l2norm_forward", "cuda");
  if (rows == 0) return;
  l2norm_forward_kernel<<<blocks_for(rows), kWarpsPerBlock * 32>>>(x, y, rows, dim, eps);
  check_launch_status("l2norm_forward_kernel");
  RL_CUDA(cudaDeviceSynchronize());
}

void l2norm_backward_cuda(const float* x, const float* g, float* dx, index_t rows, index_t dim, float eps) {
  ScopedOp op("l2norm_backward", "cuda");
  if (rows == 0) return;
  l2norm_backward_kernel<<<blocks_for(rows), kWarpsPerBlock * 32>>>(x, g, dx, rows, dim, eps);
  check_launch_status("l2norm_backward_kernel");
  RL_CUDA(cudaDeviceSynchronize());
}

}  // namespace radlearn
