// CPU tile GEMMs with a non-transposed right operand, built on the micro-kernel of
// gemm_nt.h (same packed panels, same register blocking, same fixed summation order):
//   gemm_nn:  C[i, j] (=|+=) alpha * sum_k A[i, k] * B[k, j]    A: [rows_a, depth], B: [depth, cols]
//   gemm_tn:  C[i, j] (=|+=) alpha * sum_k A[k, i] * B[k, j]    A: [depth, rows_a], B: [depth, cols]
// Row-major with leading dimensions lda / ldb / ldc.
//
// Why these are cheap to add: gemm_nt's panel for B^T holds panel[k][j] = B^T[p + j][k],
// which for a non-transposed B is B[k][p + j], i.e. a straight copy of kNR contiguous
// floats per k (pack_b_rows below). For A^T (gemm_tn) A's columns are packed into MR-wide
// k-major panels (a contiguous copy of each stored row's slice) and a micro-kernel variant
// reads the MR values of each k from there. Single-threaded: callers
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

// C tile (=|+=) alpha * A . B, packing B into a thread-local buffer depth block by depth block.
inline void gemm_nn(const float* a, index_t lda, index_t rows_a, const float* b, index_t ldb, index_t cols,
                    index_t depth, float* c, index_t ldc, float alpha, bool accumulate) {
  if (rows_a == 0 || cols == 0) return;
  if (depth == 0) {
    if (!accumulate)
      for (index_t i = 0; i < rows_a; ++i) std::fill(c + i * ldc, c + i * ldc + cols, 0.0f);
    return;
  }
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

// Micro-kernel for a transposed left operand: A element (r, k) is a[k * lda + r], so for
// each k the MR values are contiguous in one row of the stored matrix (no transposition
// pass needed). Same register blocking and summation order as gemm_nt's micro-kernel.
#if defined(__GNUC__)
template <int MR>
inline void micro_kernel_tn(const float* a, index_t lda, const float* panel, index_t depth, float acc[][kNR]) {
  PanelVector sum[MR];
  for (int r = 0; r < MR; ++r) sum[r] = PanelVector{};
  for (index_t k = 0; k < depth; ++k) {
    PanelVector bk = *reinterpret_cast<const PanelVector*>(panel + k * kNR);
    const float* ak = a + k * lda;
    for (int r = 0; r < MR; ++r) sum[r] += ak[r] * bk;
  }
  for (int r = 0; r < MR; ++r)
    for (int j = 0; j < kNR; ++j) acc[r][j] = sum[r][j];
}
#else
template <int MR>
inline void micro_kernel_tn(const float* a, index_t lda, const float* panel, index_t depth, float acc[][kNR]) {
  for (int r = 0; r < MR; ++r)
    for (int j = 0; j < kNR; ++j) acc[r][j] = 0.0f;
  for (index_t k = 0; k < depth; ++k) {
    const float* bk = panel + k * kNR;
    for (int r = 0; r < MR; ++r) {
      float av = a[k * lda + r];
      for (int j = 0; j < kNR; ++j) acc[r][j] += av * bk[j];
    }
  }
}
#endif

template <int MR>
inline void block_rows_tn(const float* a, index_t lda, const float* packed, index_t cols, index_t depth, float* c,
                          index_t ldc, int rows, float alpha, bool accumulate) {
  alignas(64) float acc[MR][kNR];
  for (index_t p = 0; p < cols; p += kNR) {
    micro_kernel_tn<MR>(a, lda, packed + p * depth, depth, acc);
    store<MR>(acc, c + p, ldc, rows, std::min<index_t>(kNR, cols - p), alpha, accumulate);
  }
}

// Packs A^T for gemm_tn: A is [depth, rows_a] (lda); panel p (columns p0 .. p0 + w of A,
// w = min(kMR, rows_a - p0)) is stored k-major at packed + p0 * depth as [depth][w]. Each
// stored row of A is read contiguously; the micro-kernel then reads w contiguous floats per k
// (without packing, a power-of-two lda puts every k in the same L1 set).
inline void pack_a_columns(const float* a, index_t lda, index_t rows_a, index_t depth, float* packed) {
  // k outer: each stored row slice is read once, front to back, and scattered to the panels.
  for (index_t k = 0; k < depth; ++k) {
    const float* src = a + k * lda;
    for (index_t p0 = 0; p0 < rows_a; p0 += kMR) {
      index_t w = std::min<index_t>(kMR, rows_a - p0);
      float* dst = packed + p0 * depth + k * w;
      for (index_t r = 0; r < w; ++r) dst[r] = src[p0 + r];
    }
  }
}

// C tile = alpha * A^T . B with A packed by pack_a_columns and B by pack_b_rows.
inline void gemm_tn_packed(const float* packed_a, index_t rows_a, const float* packed_b, index_t cols, index_t depth,
                           float* c, index_t ldc, float alpha, bool accumulate) {
  index_t i = 0;
  for (; i + kMR <= rows_a; i += kMR)
    block_rows_tn<kMR>(packed_a + i * depth, kMR, packed_b, cols, depth, c + i * ldc, ldc, kMR, alpha, accumulate);
  int rest = static_cast<int>(rows_a - i);
  const float* a = packed_a + i * depth;
  float* ci = c + i * ldc;
  switch (rest) {
    case 0: break;
    case 1: block_rows_tn<1>(a, 1, packed_b, cols, depth, ci, ldc, 1, alpha, accumulate); break;
    case 2: block_rows_tn<2>(a, 2, packed_b, cols, depth, ci, ldc, 2, alpha, accumulate); break;
    case 3: block_rows_tn<3>(a, 3, packed_b, cols, depth, ci, ldc, 3, alpha, accumulate); break;
    case 4: block_rows_tn<4>(a, 4, packed_b, cols, depth, ci, ldc, 4, alpha, accumulate); break;
    case 5: block_rows_tn<5>(a, 5, packed_b, cols, depth, ci, ldc, 5, alpha, accumulate); break;
    case 6: block_rows_tn<6>(a, 6, packed_b, cols, depth, ci, ldc, 6, alpha, accumulate); break;
    default: block_rows_tn<7>(a, 7, packed_b, cols, depth, ci, ldc, 7, alpha, accumulate); break;
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
    pack_a_columns(a + k0 * lda, lda, rows_a, kc, a_buffer.data());
    pack_b_rows(b + k0 * ldb, ldb, cols, kc, b_buffer.data());
    gemm_tn_packed(a_buffer.data(), rows_a, b_buffer.data(), cols, kc, c, ldc, alpha, accumulate || k0 > 0);
  }
}

}  // namespace gemm
}  // namespace radlearn
