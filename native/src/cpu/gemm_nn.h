// CPU tile GEMMs with a non-transposed right operand, built on the micro-kernel of
// gemm_nt.h (same packed panels, same register blocking, same fixed summation order):
//   gemm_nn:  C[i, j] (=|+=) alpha * sum_k A[i, k] * B[k, j]    A: [rows_a, depth], B: [depth, cols]
//   gemm_tn:  C[i, j] (=|+=) alpha * sum_k A[k, i] * B[k, j]    A: [depth, rows_a], B: [depth, cols]
// Row-major with leading dimensions lda / ldb / ldc.
//
// Why these are cheap to add: gemm_nt's panel for B^T holds panel[k][j] = B^T[p + j][k],
// which for a non-transposed B is B[k][p + j], i.e. a straight copy of kNR contiguous
// floats per k (pack_b_rows below). For A^T (gemm_tn) the A tile is first transposed into
// a small row-major buffer [rows_a][kc] (O(rows_a * kc) copies against O(rows_a * cols * kc)
// FLOPs) so the micro-kernel reads it exactly as in gemm_nt. Single-threaded: callers
// parallelise over output tiles. Each C element is one float32 sum over k in order (depth
// in blocks of kDepthBlock), so results do not depend on tiling or threads.
#pragma once

#include <algorithm>
#include <vector>

#include "cpu/gemm_nt.h"

namespace radlearn {
namespace gemm {

// Packs columns [0, cols) of B (rows k < depth) into kNR-wide k-major panels, zero-padded.
inline void pack_b_rows(const float* b, index_t ldb, index_t cols, index_t depth, float* packed) {
  for (index_t p = 0; p < cols; p += kNR) {
    index_t width = std::min<index_t>(kNR, cols - p);
    float* panel = packed + p * depth;
    for (index_t k = 0; k < depth; ++k) {
      const float* src = b + k * ldb + p;
      float* dst = panel + k * kNR;
      index_t j = 0;
      for (; j < width; ++j) dst[j] = src[j];
      for (; j < kNR; ++j) dst[j] = 0.0f;
    }
  }
}

inline void gemm_nn(const float* a, index_t lda, index_t rows_a, const float* b, index_t ldb, index_t cols,
                    index_t depth, float* c, index_t ldc, float alpha, bool accumulate) {
  thread_local std::vector<float> buffer;
  index_t block = std::min(depth, kDepthBlock);
  index_t need = pack_floats(cols, block);
  if (static_cast<index_t>(buffer.size()) < need) buffer.resize(static_cast<size_t>(need));
  for (index_t k0 = 0; k0 < depth; k0 += kDepthBlock) {
    index_t kc = std::min(kDepthBlock, depth - k0);
    pack_b_rows(b + k0 * ldb, ldb, cols, kc, buffer.data());
    gemm_nt_packed(a + k0, lda, rows_a, buffer.data(), cols, kc, c, ldc, alpha, accumulate || k0 > 0);
  }
}

inline void gemm_tn(const float* a, index_t lda, index_t rows_a, const float* b, index_t ldb, index_t cols,
                    index_t depth, float* c, index_t ldc, float alpha, bool accumulate) {
  thread_local std::vector<float> b_buffer;
  thread_local std::vector<float> a_buffer;
  index_t block = std::min(depth, kDepthBlock);
  index_t need_b = pack_floats(cols, block);
  index_t need_a = rows_a * block;
  if (static_cast<index_t>(b_buffer.size()) < need_b) b_buffer.resize(static_cast<size_t>(need_b));
  if (static_cast<index_t>(a_buffer.size()) < need_a) a_buffer.resize(static_cast<size_t>(need_a));
  for (index_t k0 = 0; k0 < depth; k0 += kDepthBlock) {
    index_t kc = std::min(kDepthBlock, depth - k0);
    // A^T tile: a_buffer[i][k] = A[k0 + k][i]; read A row by row (contiguous), write strided.
    for (index_t k = 0; k < kc; ++k) {
      const float* src = a + (k0 + k) * lda;
      for (index_t i = 0; i < rows_a; ++i) a_buffer[static_cast<size_t>(i * kc + k)] = src[i];
    }
    pack_b_rows(b + k0 * ldb, ldb, cols, kc, b_buffer.data());
    gemm_nt_packed(a_buffer.data(), kc, rows_a, b_buffer.data(), cols, kc, c, ldc, alpha, accumulate || k0 > 0);
  }
}

}  // namespace gemm
}  // namespace radlearn
