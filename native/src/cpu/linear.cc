// Linear layer and GELU on the CPU (contracts in radlearn/linear.h).
//
// Each product is split into output tiles of kTileRows x kTileCols that the pool runs in
// parallel; a tile packs its slice of the right operand once and runs the register-blocked
// micro-kernel of cpu/gemm_nt.h (gemm_nt for Y = X.W^T, gemm_nn for dX = dY.W, gemm_tn for
// dW = dY^T.X). Every output element is a single in-order float32 sum, so results do not
// depend on the thread count. The bias gradient is a float64 column sum, parallel over
// column blocks with rows summed in order.
#include <algorithm>
#include <cmath>

#include "cpu/gemm_nn.h"
#include "cpu/gemm_nt.h"
#include "radlearn/linear.h"
#include "radlearn/thread_pool.h"
#include "radlearn/trace.h"

namespace radlearn {
namespace {

constexpr index_t kTileRows = 96;
constexpr index_t kTileCols = 128;

// Runs body(i0, rows, j0, cols) over the tiles of a rows x cols output, in parallel.
template <typename Body>
void for_tiles(index_t rows, index_t cols, const Body& body) {
  if (rows == 0 || cols == 0) return;
  index_t row_tiles = (rows + kTileRows - 1) / kTileRows;
  index_t col_tiles = (cols + kTileCols - 1) / kTileCols;
  parallel_for(row_tiles * col_tiles, 1, [&](index_t begin, index_t end) {
    for (index_t t = begin; t < end; ++t) {
      index_t i0 = (t / col_tiles) * kTileRows;
      index_t j0 = (t % col_tiles) * kTileCols;
      body(i0, std::min(kTileRows, rows - i0), j0, std::min(kTileCols, cols - j0));
    }
  });
}

constexpr float kInvSqrt2 = 0.70710678118654752440f;
constexpr float kInvSqrt2Pi = 0.39894228040143267794f;

}  // namespace

void linear_forward_cpu(const float* x, const float* w, const float* b, float* y, index_t rows, index_t in,
                        index_t out) {
  ScopedOp op("linear_forward", "cpu");
  for_tiles(rows, out, [&](index_t i0, index_t nr, index_t j0, index_t nc) {
    float* tile = y + i0 * out + j0;
    for (index_t r = 0; r < nr; ++r)
      for (index_t c = 0; c < nc; ++c) tile[r * out + c] = b ? b[j0 + c] : 0.0f;
    if (in > 0) gemm::gemm_nt(x + i0 * in, in, nr, w + j0 * in, in, nc, in, tile, out, 1.0f, true);
  });
}

void linear_backward_cpu(const float* x, const float* w, const float* dy, float* dx, float* dw, float* db,
                         index_t rows, index_t in, index_t out, bool accumulate) {
  ScopedOp op("linear_backward", "cpu");
  if (dx) {
    // dX [rows, in] = dY [rows, out] . W [out, in]; depth = out.
    for_tiles(rows, in, [&](index_t i0, index_t nr, index_t j0, index_t nc) {
      float* tile = dx + i0 * in + j0;
      if (out == 0) {
        for (index_t r = 0; r < nr; ++r) std::fill(tile + r * in, tile + r * in + nc, 0.0f);
        return;
      }
      gemm::gemm_nn(dy + i0 * out, out, nr, w + j0, in, nc, out, tile, in, 1.0f, false);
    });
  }
  if (dw) {
    // dW [out, in] = dY^T [out, rows] . X [rows, in]; depth = rows.
    for_tiles(out, in, [&](index_t i0, index_t nr, index_t j0, index_t nc) {
      float* tile = dw + i0 * in + j0;
      if (rows == 0) {
        if (!accumulate)
          for (index_t r = 0; r < nr; ++r) std::fill(tile + r * in, tile + r * in + nc, 0.0f);
        return;
      }
      gemm::gemm_tn(dy + i0, out, nr, x + j0, in, nc, rows, tile, in, 1.0f, accumulate);
    });
  }
  if (db) {
    constexpr index_t kColBlock = 64;
    index_t blocks = (out + kColBlock - 1) / kColBlock;
    parallel_for(blocks, 1, [&](index_t begin, index_t end) {
      double sums[kColBlock];
      for (index_t blk = begin; blk < end; ++blk) {
        index_t c0 = blk * kColBlock;
        index_t nc = std::min(kColBlock, out - c0);
        std::fill(sums, sums + nc, 0.0);
        for (index_t r = 0; r < rows; ++r) {
          const float* row = dy + r * out + c0;
          for (index_t c = 0; c < nc; ++c) sums[c] += row[c];
        }
        for (index_t c = 0; c < nc; ++c) db[c0 + c] = static_cast<float>((accumulate ? db[c0 + c] : 0.0) + sums[c]);
      }
    });
  }
}

void gelu_forward_cpu(const float* x, float* y, index_t length) {
  ScopedOp op("gelu_forward", "cpu");
  parallel_for(length, 4096, [&](index_t begin, index_t end) {
    for (index_t i = begin; i < end; ++i) {
      float v = x[i];
      y[i] = 0.5f * v * (1.0f + std::erf(v * kInvSqrt2));
    }
  });
}

void gelu_backward_cpu(const float* x, const float* dy, float* dx, index_t length) {
  ScopedOp op("gelu_backward", "cpu");
  parallel_for(length, 4096, [&](index_t begin, index_t end) {
    for (index_t i = begin; i < end; ++i) {
      float v = x[i];
      float cdf = 0.5f * (1.0f + std::erf(v * kInvSqrt2));
      float pdf = kInvSqrt2Pi * std::exp(-0.5f * v * v);
      dx[i] = dy[i] * (cdf + v * pdf);
    }
  });
}

}  // namespace radlearn
