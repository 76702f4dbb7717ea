// S = scale * A . B^T on the CPU.
// A: [n, d], B: [m, d], S: [n, m], float32, float32 accumulation.
//
// Blocking: the pool splits S into tiles of kTileRows x kTileCols. Inside a tile a 4x2
// register block computes 8 dot products at once; each dot product keeps kLanes partial
// sums (one per SIMD lane) so the k-loop vectorises without reassociating a single sum
// (no -ffast-math needed). A B-tile of kTileCols rows stays in L1/L2 while the A rows of
// the tile stream past it. Edges fall back to a 1x1 block with the same lane structure, so
// every element is computed with the same summation order whatever its position.
#include <algorithm>

#include "radlearn/similarity.h"
#include "radlearn/thread_pool.h"
#include "radlearn/trace.h"

namespace radlearn {
namespace {

constexpr int kLanes = 8;
constexpr index_t kTileRows = 32;
constexpr index_t kTileCols = 64;

// Reduces kLanes partial sums in a fixed order.
inline float reduce_lanes(const float* acc) {
  float s0 = (acc[0] + acc[4]) + (acc[1] + acc[5]);
  float s1 = (acc[2] + acc[6]) + (acc[3] + acc[7]);
  return s0 + s1;
}

inline float dot_1x1(const float* a, const float* b, index_t d) {
  float acc[kLanes] = {0, 0, 0, 0, 0, 0, 0, 0};
  index_t k = 0;
  for (; k + kLanes <= d; k += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] += a[k + l] * b[k + l];
  for (int l = 0; k < d; ++k, ++l) acc[l] += a[k] * b[k];
  return reduce_lanes(acc);
}

// Eight dot products: rows a0..a3 against rows b0, b1.
inline void dot_4x2(const float* a, index_t lda, const float* b, index_t ldb, index_t d, float out[4][2]) {
  float acc[4][2][kLanes] = {};
  const float* a0 = a;
  const float* a1 = a + lda;
  const float* a2 = a + 2 * lda;
  const float* a3 = a + 3 * lda;
  const float* b0 = b;
  const float* b1 = b + ldb;
  index_t k = 0;
  for (; k + kLanes <= d; k += kLanes) {
    for (int l = 0; l < kLanes; ++l) {
      float vb0 = b0[k + l], vb1 = b1[k + l];
      acc[0][0][l] += a0[k + l] * vb0;
      acc[0][1][l] += a0[k + l] * vb1;
      acc[1][0][l] += a1[k + l] * vb0;
      acc[1][1][l] += a1[k + l] * vb1;
      acc[2][0][l] += a2[k + l] * vb0;
      acc[2][1][l] += a2[k + l] * vb1;
      acc[3][0][l] += a3[k + l] * vb0;
      acc[3][1][l] += a3[k + l] * vb1;
    }
  }
  for (int l = 0; k < d; ++k, ++l) {
    const float* rows[4] = {a0, a1, a2, a3};
    for (int r = 0; r < 4; ++r) {
      acc[r][0][l] += rows[r][k] * b0[k];
      acc[r][1][l] += rows[r][k] * b1[k];
    }
  }
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 2; ++c) out[r][c] = reduce_lanes(acc[r][c]);
}

void similarity_tile(const float* a, const float* b, float* s, index_t m, index_t d, float scale, index_t i0,
                     index_t i1, index_t j0, index_t j1) {
  index_t i = i0;
  for (; i + 4 <= i1; i += 4) {
    index_t j = j0;
    for (; j + 2 <= j1; j += 2) {
      float out[4][2];
      dot_4x2(a + i * d, d, b + j * d, d, d, out);
      for (int r = 0; r < 4; ++r) {
        s[(i + r) * m + j] = scale * out[r][0];
        s[(i + r) * m + j + 1] = scale * out[r][1];
      }
    }
    for (; j < j1; ++j)
      for (int r = 0; r < 4; ++r) s[(i + r) * m + j] = scale * dot_1x1(a + (i + r) * d, b + j * d, d);
  }
  for (; i < i1; ++i)
    for (index_t j = j0; j < j1; ++j) s[i * m + j] = scale * dot_1x1(a + i * d, b + j * d, d);
}

}  // namespace

void similarity_cpu(const float* a, const float* b, float* s, index_t n, index_t m, index_t d, float scale) {
  ScopedOp op("similarity", "cpu");
  if (n == 0 || m == 0) return;
  if (d == 0) {
    std::fill(s, s + n * m, 0.0f);
    return;
  }
  index_t row_tiles = (n + kTileRows - 1) / kTileRows;
  index_t col_tiles = (m + kTileCols - 1) / kTileCols;
  // Grain: enough tiles per chunk to amortise scheduling (~64k multiply-adds minimum).
  index_t tile_work = kTileRows * kTileCols * d;
  index_t grain = std::max<index_t>(1, (1 << 16) / std::max<index_t>(1, tile_work));
  parallel_for(row_tiles * col_tiles, grain, [&](index_t begin, index_t end) {
    for (index_t t = begin; t < end; ++t) {
      index_t ti = t / col_tiles;
      index_t tj = t % col_tiles;
      index_t i0 = ti * kTileRows, j0 = tj * kTileCols;
      similarity_tile(a, b, s, m, d, scale, i0, std::min(n, i0 + kTileRows), j0, std::min(m, j0 + kTileCols));
    }
  });
}

}  // namespace radlearn
