// S = scale * A . B^T on the GPU.
// A: [n, d], B: [m, d], S: [n, m], float32 in and out, float32 accumulation (FFMA).
// The product runs on the shared tiled GEMM of gemm.cuh (64x64 tiles per 256-thread block,
// 4x4 per thread, k in steps of 16 through 8.5 KiB of shared memory) with alpha = scale.
// Any n, m, d works (bounds-checked loads, guarded stores); no scratch memory.
#include "cuda_check.cuh"
#include "gemm.cuh"
#include "radlearn/similarity.h"
#include "radlearn/trace.h"

namespace radlearn {

void similarity_cuda(const float* a, const float* b, float* s, index_t n, index_t m, index_t d, float scale) {
  ScopedOp op("similarity", "cuda");
  if (n == 0 || m == 0) return;
  gemm_cuda::launch_gemm<true, true>("similarity gemm_kernel", a, d, b, d, nullptr, s, m, n, m, d, false, scale);
  RL_CUDA(cudaDeviceSynchronize());
}

}  // namespace radlearn
