// Row-wise L2 normalisation and its backward on the CPU (formulas in radlearn/l2norm.h).
// x, y, g, dx: [rows, dim] float32. Rows are independent: the pool splits over rows.
// Sums use kLanes partial accumulators so the loops vectorise with a fixed summation order.
#include <algorithm>
#include <cmath>

#include "radlearn/l2norm.h"
#include "radlearn/thread_pool.h"
#include "radlearn/trace.h"

namespace radlearn {
namespace {

constexpr int kLanes = 8;

inline float dot(const float* a, const float* b, index_t n) {
  float acc[kLanes] = {0, 0, 0, 0, 0, 0, 0, 0};
  index_t k = 0;
  for (; k + kLanes <= n; k += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] += a[k + l] * b[k + l];
  for (int l = 0; k < n; ++k, ++l) acc[l] += a[k] * b[k];
  return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

index_t row_grain(index_t dim) { return std::max<index_t>(1, 4096 / std::max<index_t>(1, dim)); }

}  // namespace

void l2norm_forward_cpu(const float* x, float* y, index_t rows, index_t dim, float eps) {
  ScopedOp op("l2norm_forward", "cpu");
  parallel_for(rows, row_grain(dim), [&](index_t begin, index_t end) {
    for (index_t r = begin; r < end; ++r) {
      const float* xr = x + r * dim;
      float* yr = y + r * dim;
      float inv = 1.0f / std::max(std::sqrt(dot(xr, xr, dim)), eps);
      for (index_t k = 0; k < dim; ++k) yr[k] = xr[k] * inv;
    }
  });
}

void l2norm_backward_cpu(const float* x, const float* g, float* dx, index_t rows, index_t dim, float eps) {
  ScopedOp op("l2norm_backward", "cpu");
  parallel_for(rows, row_grain(dim), [&](index_t begin, index_t end) {
    for (index_t r = begin; r < end; ++r) {
      const float* xr = x + r * dim;
      const float* gr = g + r * dim;
      float* dr = dx + r * dim;
      float norm = std::sqrt(dot(xr, xr, dim));
      if (norm < eps) {
        for (index_t k = 0; k < dim; ++k) dr[k] = gr[k] / eps;
        continue;
      }
      float inv = 1.0f / norm;
      // dx = (g - y (y.g)) / norm with y = x / norm, i.e. (g - x (x.g) / norm^2) / norm.
      float proj = dot(xr, gr, dim) * inv * inv;
      for (index_t k = 0; k < dim; ++k) dr[k] = (gr[k] - xr[k] * proj) * inv;
    }
  });
}

}  // namespace radlearn
