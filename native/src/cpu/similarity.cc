// S = scale * A . B^T on the CPU.
// A: [n, d], B: [m, d], S: [n, m], float32, float32 accumulation (each element is summed
// in the same order whatever the thread count, so results are reproducible).
//
// The pool splits S into tiles of kTileRows x kTileCols; each tile packs its B rows once
// and runs the register-blocked micro-kernel of cpu/gemm_nt.h over its A rows. Tiles are
// sized so a packed B tile (kTileCols x d floats) stays in L2 for typical d <= 1024.
#include <algorithm>

#include "cpu/gemm_nt.h"
#include "radlearn/similarity.h"
#include "radlearn/thread_pool.h"
#include "radlearn/trace.h"

namespace radlearn {
namespace {

constexpr index_t kTileRows = 96;
constexpr index_t kTileCols = 128;

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
  // Column tiles vary fastest inside a chunk, so consecutive tiles share A rows in cache.
  parallel_for(row_tiles * col_tiles, 1, [&](index_t begin, index_t end) {
    for (index_t t = begin; t < end; ++t) {
      index_t i0 = (t / col_tiles) * kTileRows;
      index_t j0 = (t % col_tiles) * kTileCols;
      index_t rows = std::min(kTileRows, n - i0);
      index_t cols = std::min(kTileCols, m - j0);
      gemm::gemm_nt(a + i0 * d, d, rows, b + j0 * d, d, cols, d, s + i0 * m + j0, m, scale, false);
    }
  });
}

}  // namespace radlearn
