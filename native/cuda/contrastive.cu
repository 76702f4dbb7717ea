// Contrastive losses (InfoNCE with groups / relaxation, SigLIP) on the GPU, forward and
// backward, with no B x B buffer. Formulas in radlearn/contrastive.h.
//
// Inputs x (image), t (text): [B, D] float32, bfloat16 or float16; gradients [B, D] float32.
// One "stripe" kernel does all the tiled work: a block owns 64 rows of one side (A) and walks
// over every 64-column tile of the other side (C), recomputing the 64 x 64 logit tile on chip:
//   raw dot products  float32: FFMA, 4 x 4 outputs per thread (like similarity.cu);
//                     bf16/fp16: tensor cores (wmma 16x16x16, float32 accumulation);
//   the tile is kept in shared memory and scaled by the inverse row norms (cosines).
//   STATS mode: online (running max, sum exp) statistics of the block's rows -> LSE per row.
//   GRAD mode:  G = dL/de from the saved LSEs (InfoNCE) or directly (SigLIP), K = a G (0 where the
//               relaxation cap is active), then dA_I += K . diag(1/|c|) . C_J in 64-wide slices of D,
//               added into the block's own rows of the gradient (exclusive: no atomics).
//               float: P = K / |c_j| in shared memory, FFMA against raw rows.
//               half:  P = K B rounded to the input type (O(a): float16 neither overflows nor
//                      underflows), wmma against rows normalised while staged, result / B.
// The logit matrix seen from the text side is the transpose, and every formula is symmetric
// under the swap (positive(i, j), y_ij, G_ij), so the same kernel run with (x, t) and with
// (t, x) gives row and column LSEs, then dL/du and dL/dv. Loss scalars are accumulated only
// in the (x, t) runs, as per-block doubles reduced in a fixed order (deterministic).
// Launch sequence (InfoNCE): norms(x), norms(t), STATS(x,t), STATS(t,x), GRAD(x,t), GRAD(t,x),
// normalisation backward (in place), one reduction. SigLIP skips the STATS runs.
// FLOPs: InfoNCE 12 B^2 D (each tile is recomputed in 4 runs), SigLIP 8 B^2 D.
// Extra device memory: 4 B floats + 6 ceil(B/64) doubles: O(B), nothing B x B.
// Shared memory: 46 KiB (half path) / 41 KiB (float path) static, 256 threads per block.
// Numerics: float32 accumulation; expf/log1pf (not the fast intrinsics) so the float path
// matches the CPU to ~1e-6; LSEs in double when summed into the loss.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <mma.h>

#include <cmath>
#include <type_traits>
#include <vector>

#include "cuda_check.cuh"
#include "radlearn/contrastive.h"
#include "radlearn/device.h"
#include "radlearn/l2norm.h"
#include "radlearn/trace.h"

namespace radlearn {
namespace {

constexpr int kTile = 64;
constexpr int kThreads = 256;
constexpr int kLd = 68;      // float tile row stride (multiple of 4 for wmma, staggers banks)
constexpr int kDepthF = 16;  // float path: k per staging step
constexpr int kDepthH = 32;  // half path: k per staging step
constexpr int kLdH = 40;     // half staging row stride (multiple of 8 for wmma)
constexpr int kLdP = 72;     // half P / C-slice row stride
constexpr int kTileBytes = kTile * kLd * 4;                                      // 17408
constexpr int kSmemFloat = kTileBytes + 2 * kDepthF * kTile * 4 + kTile * kTile * 4;  // 41984
constexpr int kSmemHalf = kTileBytes + 2 * kTile * kLdH * 2 + 2 * kTile * kLdP * 2;   // 46080
constexpr int kSmemBytes = kSmemHalf > kSmemFloat ? kSmemHalf : kSmemFloat;

enum Mode { kStats = 0, kGrad = 1 };

template <typename In> __device__ inline float to_float(In v);
template <> __device__ inline float to_float<float>(float v) { return v; }
template <> __device__ inline float to_float<__half>(__half v) { return __half2float(v); }
template <> __device__ inline float to_float<__nv_bfloat16>(__nv_bfloat16 v) { return __bfloat162float(v); }

template <typename In> __device__ inline In from_float(float v);
template <> __device__ inline __half from_float<__half>(float v) { return __float2half_rn(v); }
template <> __device__ inline __nv_bfloat16 from_float<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }

struct LossArgs {
  index_t batch, dim;
  float a, bias, theta;
  bool relax, siglip;
  const std::int32_t* groups;  // device, or null
  const float* weight;         // device 1/|group|, or null
};

template <typename In>
struct SideArgs {
  const In* rows;  // side A: the block's rows
  const In* cols;  // side C: the tiles walked over
  const float* inv_rows;
  const float* inv_cols;
  const float* lse_rows;  // GRAD (InfoNCE)
  const float* lse_cols;  // GRAD (InfoNCE)
  float* lse_out;         // STATS
  float* grad;            // GRAD: dL/d(rows side), [B, D]
  // Per-block partial sums written by thread 0 (null: not wanted in this run).
  double* part0;  // STATS: sum LSE;         GRAD: sum G ce   (dL/da)
  double* part1;  // STATS: sum y e (pos.);  GRAD: SigLIP loss
  double* part2;  //                         GRAD: sum G       (dL/dbias)
};

// Merges (m2, s2) into (m1, s1): log-sum-exp pairs, -inf meaning "empty".
__device__ inline void merge_stat(float& m1, float& s1, float m2, float s2) {
  float m = fmaxf(m1, m2);
  if (m == -INFINITY) return;
  s1 = s1 * expf(m1 - m) + s2 * expf(m2 - m);
  m1 = m;
}

// S[r][c] = rows[row0 + r] . cols[col0 + c] (raw dot products, zero outside the batch).
template <typename In>
__device__ void dot_tile(const In* __restrict__ rows, const In* __restrict__ cols, index_t row0, index_t col0,
                         index_t batch, index_t dim, unsigned char* smem) {
  float* S = reinterpret_cast<float*>(smem);
  const int tid = threadIdx.x;
  if constexpr (std::is_same<In, float>::value) {
    float(*at)[kTile] = reinterpret_cast<float(*)[kTile]>(smem + kTileBytes);
    float(*bt)[kTile] = reinterpret_cast<float(*)[kTile]>(smem + kTileBytes + kDepthF * kTile * 4);
    const int ty = tid / 16, tx = tid % 16;
    float acc[4][4] = {};
    for (index_t k0 = 0; k0 < dim; k0 += kDepthF) {
#pragma unroll
      for (int t = 0; t < (kTile * kDepthF) / kThreads; ++t) {
        int linear = tid + t * kThreads;
        int r = linear / kDepthF, k = linear % kDepthF;
        index_t gk = k0 + k;
        at[k][r] = (row0 + r < batch && gk < dim) ? rows[(row0 + r) * dim + gk] : 0.0f;
        bt[k][r] = (col0 + r < batch && gk < dim) ? cols[(col0 + r) * dim + gk] : 0.0f;
      }
      __syncthreads();
#pragma unroll
      for (int k = 0; k < kDepthF; ++k) {
        float4 av = *reinterpret_cast<const float4*>(&at[k][ty * 4]);
        float4 bv = *reinterpret_cast<const float4*>(&bt[k][tx * 4]);
        float ar[4] = {av.x, av.y, av.z, av.w};
        float br[4] = {bv.x, bv.y, bv.z, bv.w};
#pragma unroll
        for (int i = 0; i < 4; ++i)
#pragma unroll
          for (int j = 0; j < 4; ++j) acc[i][j] = fmaf(ar[i], br[j], acc[i][j]);
      }
      __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
      for (int j = 0; j < 4; ++j) S[(ty * 4 + i) * kLd + tx * 4 + j] = acc[i][j];
  } else {
    using namespace nvcuda;
    In* ah = reinterpret_cast<In*>(smem + kTileBytes);
    In* bh = reinterpret_cast<In*>(smem + kTileBytes + kTile * kLdH * 2);
    const int warp = tid / 32, wr = warp / 2, wc = warp % 2;
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> c0, c1;
    wmma::fill_fragment(c0, 0.0f);
    wmma::fill_fragment(c1, 0.0f);
    const In zero = from_float<In>(0.0f);
    for (index_t k0 = 0; k0 < dim; k0 += kDepthH) {
#pragma unroll
      for (int t = 0; t < (kTile * kDepthH) / kThreads; ++t) {
        int linear = tid + t * kThreads;
        int r = linear / kDepthH, k = linear % kDepthH;
        index_t gk = k0 + k;
        ah[r * kLdH + k] = (row0 + r < batch && gk < dim) ? rows[(row0 + r) * dim + gk] : zero;
        bh[r * kLdH + k] = (col0 + r < batch && gk < dim) ? cols[(col0 + r) * dim + gk] : zero;
      }
      __syncthreads();
#pragma unroll
      for (int kk = 0; kk < kDepthH; kk += 16) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, In, wmma::row_major> fa;
        wmma::fragment<wmma::matrix_b, 16, 16, 16, In, wmma::col_major> fb0, fb1;
        wmma::load_matrix_sync(fa, ah + wr * 16 * kLdH + kk, kLdH);
        wmma::load_matrix_sync(fb0, bh + (wc * 32) * kLdH + kk, kLdH);
        wmma::load_matrix_sync(fb1, bh + (wc * 32 + 16) * kLdH + kk, kLdH);
        wmma::mma_sync(c0, fa, fb0, c0);
        wmma::mma_sync(c1, fa, fb1, c1);
      }
      __syncthreads();
    }
    wmma::store_matrix_sync(S + wr * 16 * kLd + wc * 32, c0, kLd, wmma::mem_row_major);
    wmma::store_matrix_sync(S + wr * 16 * kLd + wc * 32 + 16, c1, kLd, wmma::mem_row_major);
  }
}

// grad[row0 + r][:] += unscale * sum_c P[r][c] cols[col0 + c][:], P already in shared memory
// (float path: in place of S, raw rows; half path: in the P buffer, rows scaled by inv_cols).
template <typename In>
__device__ void accumulate_rows(const In* __restrict__ cols, const float* __restrict__ inv_cols, index_t row0,
                                index_t col0, index_t batch, index_t dim, float unscale, float* grad,
                                unsigned char* smem) {
  float* S = reinterpret_cast<float*>(smem);
  const int tid = threadIdx.x;
  if constexpr (std::is_same<In, float>::value) {
    float(*bc)[kTile] = reinterpret_cast<float(*)[kTile]>(smem + kTileBytes + 2 * kDepthF * kTile * 4);
    const int ty = tid / 16, tx = tid % 16;
    for (index_t d0 = 0; d0 < dim; d0 += kTile) {
#pragma unroll
      for (int t = 0; t < (kTile * kTile) / kThreads; ++t) {
        int linear = tid + t * kThreads;
        int k = linear / kTile, n = linear % kTile;
        bc[k][n] = (col0 + k < batch && d0 + n < dim) ? cols[(col0 + k) * dim + d0 + n] : 0.0f;
      }
      __syncthreads();
      float acc[4][4] = {};
#pragma unroll 8
      for (int k = 0; k < kTile; ++k) {
        float4 bv = *reinterpret_cast<const float4*>(&bc[k][tx * 4]);
        float br[4] = {bv.x, bv.y, bv.z, bv.w};
#pragma unroll
        for (int i = 0; i < 4; ++i) {
          float p = S[(ty * 4 + i) * kLd + k];
#pragma unroll
          for (int j = 0; j < 4; ++j) acc[i][j] = fmaf(p, br[j], acc[i][j]);
        }
      }
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        index_t gr = row0 + ty * 4 + i;
        if (gr >= batch) continue;
#pragma unroll
        for (int j = 0; j < 4; ++j) {
          index_t gd = d0 + tx * 4 + j;
          if (gd < dim) grad[gr * dim + gd] += unscale * acc[i][j];
        }
      }
      __syncthreads();
    }
  } else {
    using namespace nvcuda;
    In* ph = reinterpret_cast<In*>(smem + kTileBytes + 2 * kTile * kLdH * 2);
    In* ch = ph + kTile * kLdP;
    const int warp = tid / 32, wr = warp / 2, wc = warp % 2;
    const In zero = from_float<In>(0.0f);
    for (index_t d0 = 0; d0 < dim; d0 += kTile) {
#pragma unroll
      for (int t = 0; t < (kTile * kTile) / kThreads; ++t) {
        int linear = tid + t * kThreads;
        int k = linear / kTile, n = linear % kTile;
        // Rows enter normalised (c_j / |c_j|, rounded to the input type): P then stays O(a) (see below).
        ch[k * kLdP + n] = (col0 + k < batch && d0 + n < dim)
                               ? from_float<In>(to_float<In>(cols[(col0 + k) * dim + d0 + n]) * inv_cols[col0 + k])
                               : zero;
      }
      __syncthreads();
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> c0, c1;
      wmma::fill_fragment(c0, 0.0f);
      wmma::fill_fragment(c1, 0.0f);
#pragma unroll
      for (int kk = 0; kk < kTile; kk += 16) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, In, wmma::row_major> fa;
        wmma::fragment<wmma::matrix_b, 16, 16, 16, In, wmma::row_major> fb0, fb1;
        wmma::load_matrix_sync(fa, ph + wr * 16 * kLdP + kk, kLdP);
        wmma::load_matrix_sync(fb0, ch + kk * kLdP + wc * 32, kLdP);
        wmma::load_matrix_sync(fb1, ch + kk * kLdP + wc * 32 + 16, kLdP);
        wmma::mma_sync(c0, fa, fb0, c0);
        wmma::mma_sync(c1, fa, fb1, c1);
      }
      wmma::store_matrix_sync(S + wr * 16 * kLd + wc * 32, c0, kLd, wmma::mem_row_major);
      wmma::store_matrix_sync(S + wr * 16 * kLd + wc * 32 + 16, c1, kLd, wmma::mem_row_major);
      __syncthreads();
#pragma unroll
      for (int t = 0; t < (kTile * kTile) / kThreads; ++t) {
        int linear = tid + t * kThreads;
        int r = linear / kTile, n = linear % kTile;
        index_t gr = row0 + r, gd = d0 + n;
        if (gr < batch && gd < dim) grad[gr * dim + gd] += unscale * S[r * kLd + n];
      }
      __syncthreads();
    }
  }
}

// Fixed-order block sum of one double per thread (deterministic); result valid in thread 0.
__device__ double block_sum(double v, double* red) {
  red[threadIdx.x] = v;
  __syncthreads();
  for (int s = kThreads / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) red[threadIdx.x] += red[threadIdx.x + s];
    __syncthreads();
  }
  double total = red[0];
  __syncthreads();
  return total;
}

template <typename In, int kMode>
__global__ void __launch_bounds__(kThreads) stripe_kernel(LossArgs L, SideArgs<In> A) {
  __shared__ __align__(128) unsigned char smem[kSmemBytes];
  float* S = reinterpret_cast<float*>(smem);
  constexpr bool kHalf = !std::is_same<In, float>::value;
  const int tid = threadIdx.x;
  const int r = tid >> 2, q = tid & 3;  // this thread's row of the tile and column phase
  const index_t batch = L.batch;
  const index_t row0 = static_cast<index_t>(blockIdx.x) * kTile;
  const index_t row = row0 + r;
  const bool row_ok = row < batch;
  const float inv_r = row_ok ? A.inv_rows[row] : 0.0f;
  const std::int32_t g_r = (row_ok && L.groups) ? L.groups[row] : 0;
  const float w_r = (row_ok && L.groups) ? L.weight[row] : 1.0f;
  const float lse_r = (kMode == kGrad && !L.siglip && row_ok) ? A.lse_rows[row] : 0.0f;
  const float inv_b = 1.0f / static_cast<float>(batch);
  const float half_inv_b = 0.5f * inv_b;
  // Half path: P = a G B, O(a) in size, so float16 neither overflows nor underflows (see GRAD).
  const float p_scale = kHalf ? static_cast<float>(batch) : 1.0f;
  In* ph = reinterpret_cast<In*>(smem + kTileBytes + 2 * kTile * kLdH * 2);

  float run_max = -INFINITY, run_sum = 0.0f;
  double acc0 = 0.0, acc1 = 0.0, acc2 = 0.0;

  for (index_t col0 = 0; col0 < batch; col0 += kTile) {
    dot_tile<In>(A.rows, A.cols, row0, col0, batch, L.dim, smem);
    __syncthreads();
    if constexpr (kMode == kStats) {
      float e[16];
      float m = -INFINITY;
      float pos_sum = 0.0f;
#pragma unroll
      for (int jj = 0; jj < 16; ++jj) {
        const int c = q + 4 * jj;
        const index_t col = col0 + c;
        const bool ok = row_ok && col < batch;
        float v = -INFINITY;
        if (ok) {
          const bool pos = L.groups ? L.groups[col] == g_r : col == row;
          const float cosv = S[r * kLd + c] * inv_r * A.inv_cols[col];
          v = L.a * ((L.relax && pos && cosv > L.theta) ? L.theta : cosv);
          if (pos) pos_sum += v;
        }
        e[jj] = v;
        m = fmaxf(m, v);
      }
      float s = 0.0f;
      if (m != -INFINITY) {
#pragma unroll
        for (int jj = 0; jj < 16; ++jj) s += expf(e[jj] - m);  // exp(-inf) = 0 for masked entries
      }
      // Combine the four column phases of this row (lanes r*4 .. r*4+3 of one warp).
#pragma unroll
      for (int off = 1; off < 4; off <<= 1) {
        float m2 = __shfl_xor_sync(0xffffffffu, m, off);
        float s2 = __shfl_xor_sync(0xffffffffu, s, off);
        merge_stat(m, s, m2, s2);
      }
      merge_stat(run_max, run_sum, m, s);
      acc1 += static_cast<double>(pos_sum * w_r);
    } else {
      float ga = 0.0f, loss = 0.0f, gb = 0.0f;
#pragma unroll 4
      for (int jj = 0; jj < 16; ++jj) {
        const int c = q + 4 * jj;
        const index_t col = col0 + c;
        const bool ok = row_ok && col < batch;
        float p = 0.0f;
        if (ok) {
          const bool pos = L.groups ? L.groups[col] == g_r : col == row;
          const float inv_c = A.inv_cols[col];
          const float cosv = S[r * kLd + c] * inv_r * inv_c;
          float g, ce = cosv;
          bool capped = false;
          if (L.siglip) {
            const float z = pos ? 1.0f : -1.0f;
            const float zx = z * (L.a * cosv + L.bias);
            const float qx = expf(-fabsf(zx));
            loss += fmaxf(-zx, 0.0f) + log1pf(qx);
            g = -inv_b * z * ((zx > 0.0f ? qx : 1.0f) / (1.0f + qx));
            gb += g;
          } else {
            capped = L.relax && pos && cosv > L.theta;
            ce = capped ? L.theta : cosv;
            const float ev = L.a * ce;
            g = half_inv_b * (expf(ev - lse_r) + expf(ev - A.lse_cols[col])) - (pos ? w_r * inv_b : 0.0f);
          }
          ga += g * ce;
          // float path: P = K / |c_j| against raw rows (as the CPU). Half path: P = K B against
          // normalised rows, |K B| <= ~2a, so neither float16 overflow nor underflow of what matters.
          p = capped ? 0.0f : (kHalf ? g * L.a * p_scale : g * L.a * inv_c);
        }
        if constexpr (kHalf)
          ph[r * kLdP + c] = from_float<In>(p);
        else
          S[r * kLd + c] = p;  // each thread rewrites only the entries it read
      }
      acc0 += ga;
      acc1 += loss;
      acc2 += gb;
      __syncthreads();
      accumulate_rows<In>(A.cols, A.inv_cols, row0, col0, batch, L.dim, 1.0f / p_scale, A.grad, smem);
      // accumulate_rows ends with a barrier; P, S and the staging buffers are free again.
      continue;
    }
    __syncthreads();  // STATS: S is read before the next tile overwrites it
  }

  double* red = reinterpret_cast<double*>(smem);
  if constexpr (kMode == kStats) {
    double lse = 0.0;
    if (row_ok && q == 0) {
      lse = static_cast<double>(run_max) + log(static_cast<double>(run_sum));
      A.lse_out[row] = static_cast<float>(lse);
    }
    double lse_total = block_sum(lse, red);
    double pos_total = block_sum(acc1, red);  // every column phase holds its own columns' positives
    if (tid == 0 && A.part0) A.part0[blockIdx.x] = lse_total;
    if (tid == 0 && A.part1) A.part1[blockIdx.x] = pos_total;
  } else {
    double t0 = block_sum(acc0, red);
    double t1 = block_sum(acc1, red);
    double t2 = block_sum(acc2, red);
    if (tid == 0 && A.part0) A.part0[blockIdx.x] = t0;
    if (tid == 0 && A.part1) A.part1[blockIdx.x] = t1;
    if (tid == 0 && A.part2) A.part2[blockIdx.x] = t2;
  }
}

// inv[row] = 1 / max(|x_row|, eps), or 1 without normalisation. One warp per row.
template <typename In>
__global__ void inverse_norms_kernel(const In* __restrict__ x, float* __restrict__ inv, index_t rows, index_t dim,
                                     bool normalize) {
  index_t row = static_cast<index_t>(blockIdx.x) * 8 + threadIdx.x / 32;
  int lane = threadIdx.x % 32;
  if (row >= rows) return;
  float sum = 0.0f;
  for (index_t k = lane; k < dim; k += 32) {
    float v = to_float<In>(x[row * dim + k]);
    sum = fmaf(v, v, sum);
  }
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, off);
  if (lane == 0) inv[row] = normalize ? 1.0f / fmaxf(sqrtf(sum), kL2NormEps) : 1.0f;
}

// In place: g <- dL/dx from g = dL/du through u = x / max(|x|, eps) (the l2norm.h formula;
// its own kernel because x may be half precision and the update runs in place).
template <typename In>
__global__ void normalize_backward_kernel(const In* __restrict__ x, float* g, index_t rows, index_t dim) {
  index_t row = static_cast<index_t>(blockIdx.x) * 8 + threadIdx.x / 32;
  int lane = threadIdx.x % 32;
  if (row >= rows) return;
  const In* xr = x + row * dim;
  float* gr = g + row * dim;
  float sq = 0.0f, xg = 0.0f;
  for (index_t k = lane; k < dim; k += 32) {
    float v = to_float<In>(xr[k]);
    sq = fmaf(v, v, sq);
    xg = fmaf(v, gr[k], xg);
  }
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) {
    sq += __shfl_xor_sync(0xffffffffu, sq, off);
    xg += __shfl_xor_sync(0xffffffffu, xg, off);
  }
  float norm = sqrtf(sq);
  if (norm < kL2NormEps) {
    for (index_t k = lane; k < dim; k += 32) gr[k] = gr[k] / kL2NormEps;
    return;
  }
  float inv = 1.0f / norm;
  float proj = xg * inv * inv;
  for (index_t k = lane; k < dim; k += 32) gr[k] = (gr[k] - to_float<In>(xr[k]) * proj) * inv;
}

// out[s] = sum of parts[s * n .. s * n + n) in a fixed order, for each of `sums` arrays. One block.
__global__ void reduce_parts_kernel(const double* __restrict__ parts, index_t n, int sums, double* __restrict__ out) {
  __shared__ double red[kThreads];
  for (int s = 0; s < sums; ++s) {
    double v = 0.0;
    for (index_t i = threadIdx.x; i < n; i += kThreads) v += parts[s * n + i];
    red[threadIdx.x] = v;
    __syncthreads();
    for (int w = kThreads / 2; w > 0; w >>= 1) {
      if (threadIdx.x < w) red[threadIdx.x] += red[threadIdx.x + w];
      __syncthreads();
    }
    if (threadIdx.x == 0) out[s] = red[0];
    __syncthreads();
  }
}

// Device buffers freed on scope exit.
class Buffers {
 public:
  ~Buffers() {
    for (void* p : owned_) device_free(p);
  }
  template <typename T>
  T* get(index_t n) {
    void* p = device_alloc(static_cast<size_t>(n) * sizeof(T));
    owned_.push_back(p);
    return static_cast<T*>(p);
  }

 private:
  std::vector<void*> owned_;
};

unsigned row_blocks(index_t rows, index_t per_block) { return static_cast<unsigned>((rows + per_block - 1) / per_block); }

template <typename In>
ContrastiveResult run(const In* x, const In* t, const ContrastiveParams& p, float* gx, float* gt) {
  const index_t batch = p.batch, dim = p.dim;
  const index_t blocks = (batch + kTile - 1) / kTile;
  if (blocks > 0x7fffffff) throw Error(kErrShape, "contrastive loss: batch is too large for one launch");
  Buffers buf;
  float* inv_x = buf.get<float>(batch);
  float* inv_t = buf.get<float>(batch);
  float* lse_row = buf.get<float>(batch);
  float* lse_col = buf.get<float>(batch);
  // Partial sums, one slot of `blocks` doubles each.
  enum Slot { kLseRows, kPositives, kLseCols, kGradScale, kLoss, kGradBias, kSlots };
  double* parts = buf.get<double>(kSlots * blocks);
  double* sums = buf.get<double>(kSlots);
  auto slot = [&](Slot s) { return parts + s * blocks; };
  RL_CUDA(cudaMemset(parts, 0, static_cast<size_t>(kSlots * blocks) * sizeof(double)));

  inverse_norms_kernel<In><<<row_blocks(batch, 8), 256>>>(x, inv_x, batch, dim, p.normalize);
  check_launch_status("inverse_norms_kernel");
  inverse_norms_kernel<In><<<row_blocks(batch, 8), 256>>>(t, inv_t, batch, dim, p.normalize);
  check_launch_status("inverse_norms_kernel");

  LossArgs L{batch, dim, p.logit_scale, p.bias, p.relax_threshold, p.relax && p.kind == ContrastiveKind::InfoNCE,
             p.kind == ContrastiveKind::SigLIP, p.groups, p.group_weight};
  const unsigned grid = static_cast<unsigned>(blocks);
  if (!L.siglip) {
    SideArgs<In> stats_rows{x, t, inv_x, inv_t, nullptr, nullptr, lse_row, nullptr, slot(kLseRows), slot(kPositives), nullptr};
    stripe_kernel<In, kStats><<<grid, kThreads>>>(L, stats_rows);
    check_launch_status("stripe_kernel<stats, rows>");
    SideArgs<In> stats_cols{t, x, inv_t, inv_x, nullptr, nullptr, lse_col, nullptr, slot(kLseCols), nullptr, nullptr};
    stripe_kernel<In, kStats><<<grid, kThreads>>>(L, stats_cols);
    check_launch_status("stripe_kernel<stats, cols>");
  }
  RL_CUDA(cudaMemset(gx, 0, static_cast<size_t>(batch * dim) * sizeof(float)));
  RL_CUDA(cudaMemset(gt, 0, static_cast<size_t>(batch * dim) * sizeof(float)));
  SideArgs<In> grad_rows{x, t, inv_x, inv_t, lse_row, lse_col, nullptr, gx, slot(kGradScale),
                         L.siglip ? slot(kLoss) : nullptr, L.siglip ? slot(kGradBias) : nullptr};
  stripe_kernel<In, kGrad><<<grid, kThreads>>>(L, grad_rows);
  check_launch_status("stripe_kernel<grad, rows>");
  SideArgs<In> grad_cols{t, x, inv_t, inv_x, lse_col, lse_row, nullptr, gt, nullptr, nullptr, nullptr};
  stripe_kernel<In, kGrad><<<grid, kThreads>>>(L, grad_cols);
  check_launch_status("stripe_kernel<grad, cols>");
  if (p.normalize) {
    normalize_backward_kernel<In><<<row_blocks(batch, 8), 256>>>(x, gx, batch, dim);
    check_launch_status("normalize_backward_kernel");
    normalize_backward_kernel<In><<<row_blocks(batch, 8), 256>>>(t, gt, batch, dim);
    check_launch_status("normalize_backward_kernel");
  }
  reduce_parts_kernel<<<1, kThreads>>>(parts, blocks, kSlots, sums);
  check_launch_status("reduce_parts_kernel");
  double host[kSlots];
  copy_to_host(host, sums, sizeof host);  // synchronises
  ContrastiveResult result;
  const double b = static_cast<double>(batch);
  result.grad_logit_scale = host[kGradScale];
  if (L.siglip) {
    result.loss = host[kLoss] / b;
    result.grad_bias = host[kGradBias];
  } else {
    result.loss = (host[kLseRows] + host[kLseCols]) / (2.0 * b) - host[kPositives] / b;
  }
  return result;
}

}  // namespace

ContrastiveResult contrastive_cuda(const void* image, const void* text, ContrastiveInput input,
                                   const ContrastiveParams& params, float* grad_image, float* grad_text) {
  ScopedOp op(params.kind == ContrastiveKind::SigLIP ? "siglip_loss" : "infonce_loss", "cuda");
  if (params.batch < 1 || params.dim < 1) throw Error(kErrShape, "contrastive loss: batch and dim must be >= 1");
  if (!(params.logit_scale > 0.0f)) throw Error(kErrInvalidArgument, "contrastive loss: logitScale must be > 0");
  switch (input) {
    case ContrastiveInput::Float32:
      return run<float>(static_cast<const float*>(image), static_cast<const float*>(text), params, grad_image, grad_text);
    case ContrastiveInput::BFloat16:
      return run<__nv_bfloat16>(static_cast<const __nv_bfloat16*>(image), static_cast<const __nv_bfloat16*>(text), params,
                                grad_image, grad_text);
    case ContrastiveInput::Float16:
      return run<__half>(static_cast<const __half*>(image), static_cast<const __half*>(text), params, grad_image,
                         grad_text);
  }
  throw Error(kErrInvalidArgument, "contrastive loss: unknown input type");
}

}  // namespace radlearn
