// Row-wise L2 normalisation, y_i = x_i / max(||x_i||, eps), and its backward
// dx_i = (g_i - y_i (y_i . g_i)) / ||x_i||   when ||x_i|| >= eps,
// dx_i = g_i / eps                          when ||x_i|| <  eps (the map is linear there).
// This is exactly torch.nn.functional.normalize(x, dim=1, eps): a zero row maps to a zero row.
// x, y, g, dx: [rows, dim] float32 row-major. Accumulation in float32 (dim is at most a few
// thousand in practice; the sum of squares is computed with pairwise-friendly partial sums).
#pragma once

#include "radlearn/common.h"

namespace radlearn {

inline constexpr float kL2NormEps = 1e-12f;

void l2norm_forward_cpu(const float* x, float* y, index_t rows, index_t dim, float eps);
void l2norm_backward_cpu(const float* x, const float* g, float* dx, index_t rows, index_t dim, float eps);

#ifdef RADLEARN_WITH_CUDA
// Device pointers; synchronous with respect to the host (the binding syncs).
void l2norm_forward_cuda(const float* x, float* y, index_t rows, index_t dim, float eps);
void l2norm_backward_cuda(const float* x, const float* g, float* dx, index_t rows, index_t dim, float eps);
#endif

}  // namespace radlearn
