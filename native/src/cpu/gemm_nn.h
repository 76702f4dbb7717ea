// CPU tile GEMM for the non-transposed product (the backward passes of the contrastive
// losses: gradient rows += coefficient tile . embedding rows):
//   C[i, j] (=|+=) alpha * sum_k A[i, k] * B[k, j]      i < rows_a, j < cols_b, k < depth
// A: [rows_a, depth] (lda), B: [depth, cols_b] row-major (ldb), C: [rows_a, cols_b] (ldc).
//
// Method: the same register-blocked micro-kernel as gemm_nt.h. That kernel wants B as
// k-major panels of kNR columns (panel[k][kNR]); for a row-major B those are just kNR-wide
// column strips copied row by row, so this file only adds the packing and reuses
// gemm_nt_packed. Depth is blocked like gemm_nt (kDepthBlock) so a packed strip set stays
// in L2; each C element is one float32 sum over k in order (reproducible).
#pragma once

#include <algorithm>
#include <vector>

#include "cpu/gemm_nt.h"

namespace radlearn {
namespace gemm {

// Packs columns [0, cols_b) of the row-major [depth, cols_b] matrix B into panels of kNR
// columns (zero-padding the last), the layout gemm_nt_packed reads.
inline void pack_b_rows(const float* b, index_t ldb, index_t cols_b, index_t depth, float* packed) {
  for (index_t p = 0; p < cols_b; p += kNR) {
    index_t width = std::min<index_t>(kNR, cols_b - p);
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

// C tile (=|+=) alpha * A . B, packing B into a thread-local buffer depth block by depth block.
inline void gemm_nn(const float* a, index_t lda, index_t rows_a, const float* b, index_t ldb, index_t cols_b,
                    index_t depth, float* c, index_t ldc, float alpha, bool accumulate) {
  if (rows_a == 0 || cols_b == 0) return;
  if (depth == 0) {
    if (!accumulate)
      for (index_t i = 0; i < rows_a; ++i) std::fill(c + i * ldc, c + i * ldc + cols_b, 0.0f);
    return;
  }
  thread_local std::vector<float> buffer;
  index_t block = std::min(depth, kDepthBlock);
  index_t need = pack_floats(cols_b, block);
  if (static_cast<index_t>(buffer.size()) < need) buffer.resize(static_cast<size_t>(need));
  for (index_t k0 = 0; k0 < depth; k0 += kDepthBlock) {
    index_t kc = std::min(kDepthBlock, depth - k0);
    pack_b_rows(b + k0 * ldb, ldb, cols_b, kc, buffer.data());
    gemm_nt_packed(a + k0, lda, rows_a, buffer.data(), cols_b, kc, c, ldc, alpha, accumulate || k0 > 0);
  }
}

}  // namespace gemm
}  // namespace radlearn
