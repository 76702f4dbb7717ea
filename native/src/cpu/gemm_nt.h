// CPU tile GEMM shared by every kernel that needs dot products between two sets of rows
// (similarity, contrastive losses, linear heads):
//   C[i, j] (=|+=) alpha * sum_k A[i, k] * B[j, k]      i < rows_a, j < rows_b, k < depth
// A and B are row-major with leading dimensions lda/ldb, C with ldc.
//
// Method: B is packed, NR rows at a time, into k-major panels (panel[k][NR]) so the
// micro-kernel can broadcast one A value and multiply it against NR consecutive packed B
// values: an MR x NR block of C lives in registers (MR = 8, NR = 16: eight 512-bit or
// sixteen 256-bit accumulators) and the k-loop is pure FMA work the compiler vectorises
// over NR. Every C element is one sequential float32 sum over k, so results do not depend
// on threads or position (depth is summed in blocks of kDepthBlock, in order). The caller parallelises over tiles; this routine is
// single-threaded and uses a caller-owned packing buffer of pack_floats(rows_b, depth).
#pragma once

#include <algorithm>
#include <vector>

#include "radlearn/common.h"

namespace radlearn {
namespace gemm {

#if defined(__AVX512F__)
inline constexpr int kMR = 8;
#else
inline constexpr int kMR = 6;
#endif
inline constexpr int kNR = 16;

inline index_t pack_floats(index_t rows_b, index_t depth) { return ((rows_b + kNR - 1) / kNR) * kNR * depth; }

// Packs rows [0, rows_b) of B into panels of kNR rows, zero-padding the last panel.
inline void pack_b(const float* b, index_t ldb, index_t rows_b, index_t depth, float* packed) {
  for (index_t p = 0; p < rows_b; p += kNR) {
    index_t width = std::min<index_t>(kNR, rows_b - p);
    float* panel = packed + p * depth;
    for (index_t k = 0; k < depth; ++k) {
      float* dst = panel + k * kNR;
      index_t j = 0;
      for (; j < width; ++j) dst[j] = b[(p + j) * ldb + k];
      for (; j < kNR; ++j) dst[j] = 0.0f;
    }
  }
}

#if defined(__GNUC__)
// GCC/Clang vector extension: one kNR-wide vector per row of the register block, so the
// accumulators stay in registers (a plain array here gets vectorised the wrong way round).
typedef float PanelVector __attribute__((vector_size(kNR * sizeof(float)), aligned(4)));

template <int MR>
inline void micro_kernel(const float* a, index_t lda, const float* panel, index_t depth, float acc[][kNR]) {
  PanelVector sum[MR];
  for (int r = 0; r < MR; ++r) sum[r] = PanelVector{};
  for (index_t k = 0; k < depth; ++k) {
    PanelVector bk = *reinterpret_cast<const PanelVector*>(panel + k * kNR);
    for (int r = 0; r < MR; ++r) sum[r] += a[r * lda + k] * bk;
  }
  for (int r = 0; r < MR; ++r)
    for (int j = 0; j < kNR; ++j) acc[r][j] = sum[r][j];
}
#else
template <int MR>
inline void micro_kernel(const float* a, index_t lda, const float* panel, index_t depth, float acc[][kNR]) {
  for (int r = 0; r < MR; ++r)
    for (int j = 0; j < kNR; ++j) acc[r][j] = 0.0f;
  for (index_t k = 0; k < depth; ++k) {
    const float* bk = panel + k * kNR;
    for (int r = 0; r < MR; ++r) {
      float av = a[r * lda + k];
      for (int j = 0; j < kNR; ++j) acc[r][j] += av * bk[j];
    }
  }
}
#endif

template <int MR>
inline void store(float acc[][kNR], float* c, index_t ldc, int rows, index_t cols, float alpha, bool accumulate) {
  for (int r = 0; r < rows; ++r) {
    float* cr = c + r * ldc;
    if (accumulate)
      for (index_t j = 0; j < cols; ++j) cr[j] += alpha * acc[r][j];
    else
      for (index_t j = 0; j < cols; ++j) cr[j] = alpha * acc[r][j];
  }
}

// Rows of A left over after the full MR blocks go through a smaller kernel of the same form.
template <int MR>
inline void block_rows(const float* a, index_t lda, const float* packed, index_t rows_b, index_t depth, float* c,
                       index_t ldc, int rows, float alpha, bool accumulate) {
  alignas(64) float acc[MR][kNR];
  for (index_t p = 0; p < rows_b; p += kNR) {
    micro_kernel<MR>(a, lda, packed + p * depth, depth, acc);
    store<MR>(acc, c + p, ldc, rows, std::min<index_t>(kNR, rows_b - p), alpha, accumulate);
  }
}

// C tile = alpha * A . B^T with B already packed by pack_b.
inline void gemm_nt_packed(const float* a, index_t lda, index_t rows_a, const float* packed, index_t rows_b,
                           index_t depth, float* c, index_t ldc, float alpha, bool accumulate) {
  index_t i = 0;
  for (; i + kMR <= rows_a; i += kMR)
    block_rows<kMR>(a + i * lda, lda, packed, rows_b, depth, c + i * ldc, ldc, kMR, alpha, accumulate);
  int rest = static_cast<int>(rows_a - i);
  if (rest == 0) return;
  // One instantiation per leftover count keeps the accumulators in registers.
  switch (rest) {
    case 1: block_rows<1>(a + i * lda, lda, packed, rows_b, depth, c + i * ldc, ldc, 1, alpha, accumulate); break;
    case 2: block_rows<2>(a + i * lda, lda, packed, rows_b, depth, c + i * ldc, ldc, 2, alpha, accumulate); break;
    case 3: block_rows<3>(a + i * lda, lda, packed, rows_b, depth, c + i * ldc, ldc, 3, alpha, accumulate); break;
    case 4: block_rows<4>(a + i * lda, lda, packed, rows_b, depth, c + i * ldc, ldc, 4, alpha, accumulate); break;
    case 5: block_rows<5>(a + i * lda, lda, packed, rows_b, depth, c + i * ldc, ldc, 5, alpha, accumulate); break;
    default: block_rows<kMR>(a + i * lda, lda, packed, rows_b, depth, c + i * ldc, ldc, rest, alpha, accumulate); break;
  }
}

// Depth is processed in blocks of kDepthBlock so a packed B tile stays in L2 for any depth.
inline constexpr index_t kDepthBlock = 256;

// Packs B into a thread-local buffer, depth block by depth block, and multiplies.
inline void gemm_nt(const float* a, index_t lda, index_t rows_a, const float* b, index_t ldb, index_t rows_b,
                    index_t depth, float* c, index_t ldc, float alpha, bool accumulate) {
  thread_local std::vector<float> buffer;
  index_t block = std::min(depth, kDepthBlock);
  index_t need = pack_floats(rows_b, block);
  if (static_cast<index_t>(buffer.size()) < need) buffer.resize(static_cast<size_t>(need));
  for (index_t k0 = 0; k0 < depth; k0 += kDepthBlock) {
    index_t kc = std::min(kDepthBlock, depth - k0);
    pack_b(b + k0, ldb, rows_b, kc, buffer.data());
    gemm_nt_packed(a + k0, lda, rows_a, buffer.data(), rows_b, kc, c, ldc, alpha, accumulate || k0 > 0);
  }
}

}  // namespace gemm
}  // namespace radlearn
