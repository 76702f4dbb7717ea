// Contrastive losses (InfoNCE with groups and positive relaxation, SigLIP) on the CPU,
// forward and backward, without a B x B buffer. Formulas in radlearn/contrastive.h.
//
// Shapes: x (image), t (text): [B, D] float32; gradients [B, D] float32.
// Algorithm: the logit matrix is visited in T x T tiles (T = 256, smaller when B is small
// so every thread gets tiles). A tile is recomputed whenever it is needed (raw dot products
// with gemm_nt into a per-thread buffer, scaled by the inverse row norms), never stored.
//   InfoNCE pass 1: per tile, row and column max / sum-exp of e_ij, merged into running
//                   per-row and per-column statistics (online log-sum-exp), and the positive
//                   term sum y_ij e_ij. Rows and columns are merged in the same pass.
//   InfoNCE pass 2: per tile, G_ij = dL/de_ij = (exp(e - LSE_row_i) + exp(e - LSE_col_j)) / 2B
//                   - y_ij / B from the saved LSEs; dL/da += sum G ce; the coefficient tile
//                   K = a G (0 where the relaxation cap is active) then feeds two partial
//                   GEMMs (gemm_nn.h): dU_I += (K diag(1/|t_J|)) T_J and dV_J += (diag(1/|x_I|) K)^T X_I.
//   SigLIP:         one pass: the per-element loss and G are local, so each tile does both.
//   Normalisation:  the kernels work on raw rows and fold the inverse norms into the tiles
//                   (no normalised copies); at the end the gradient buffers, which hold
//                   dL/du and dL/dv, go through l2norm_backward_cpu in place.
// Threads: tiles run in "diagonal rounds": round r processes tiles (I, (I + r) mod nb) for all
// I in parallel. In one round every row block and every column block appears exactly once,
// so the tile that owns row block I also owns its row statistics and gradient rows, and the
// one that owns column block J owns its column statistics and gradient rows: no races, no
// per-thread accumulators, and each sum is formed in the same order for any thread count
// (results are bitwise reproducible). Cost: one pool barrier per round (nb = B / T rounds).
// FLOPs: InfoNCE 8 B^2 D (pass 1: 2 B^2 D, pass 2: 6 B^2 D); SigLIP 6 B^2 D.
// Memory beyond inputs/outputs: 6 B floats of statistics (B more with groups) plus, per thread, 3 T^2 + 6 T floats
// of tiles and the GEMM packing buffers (T x min(D, 256) and D x T floats).
// Numerics: float32 everywhere except the per-tile sums of loss, dL/da, dL/dbias, which are
// accumulated in double across tiles; exp/log1p are vmath's (about 2 ulp).
#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>
#include <vector>

#include "cpu/gemm_nn.h"
#include "cpu/gemm_nt.h"
#include "cpu/vector_math.h"
#include "radlearn/contrastive.h"
#include "radlearn/l2norm.h"
#include "radlearn/thread_pool.h"
#include "radlearn/trace.h"

namespace radlearn {
namespace {

constexpr index_t kMaxTile = 256;
constexpr int kLanes = 16;
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Reductions with kLanes independent partial results: vectorised without reassociation.
inline float lane_max(const float* v, index_t n) {
  float acc[kLanes];
  for (int l = 0; l < kLanes; ++l) acc[l] = kNegInf;
  index_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] = acc[l] > v[j + l] ? acc[l] : v[j + l];
  for (int l = 0; j < n; ++j, ++l) acc[l] = acc[l] > v[j] ? acc[l] : v[j];
  float m = acc[0];
  for (int l = 1; l < kLanes; ++l) m = m > acc[l] ? m : acc[l];
  return m;
}

inline float lane_sum(const float* v, index_t n) {
  float acc[kLanes] = {};
  index_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] += v[j + l];
  for (int l = 0; j < n; ++j, ++l) acc[l] += v[j];
  float s = 0.0f;
  for (int l = 0; l < kLanes; ++l) s += acc[l];
  return s;
}

inline float lane_sum_exp(const float* v, index_t n, float shift) {
  float acc[kLanes] = {};
  index_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] += vmath::exp(v[j + l] - shift);
  for (int l = 0; j < n; ++j, ++l) acc[l] += vmath::exp(v[j] - shift);
  float s = 0.0f;
  for (int l = 0; l < kLanes; ++l) s += acc[l];
  return s;
}

// Online log-sum-exp: merges a block's (max, sum exp(e - max)) into a running pair.
inline void merge_stat(float& run_max, float& run_sum, float block_max, float block_sum) {
  if (block_max > run_max) {
    run_sum = run_sum * std::exp(run_max - block_max) + block_sum;
    run_max = block_max;
  } else {
    run_sum += block_sum * std::exp(block_max - run_max);
  }
}

struct Problem {
  const float* x;
  const float* t;
  index_t batch, dim;
  float a, bias, theta;
  bool relax, siglip;
  const std::int32_t* groups;
  const float* weight;
  std::vector<float> inv_x, inv_t;  // 1 / max(|row|, eps), or 1 without normalisation
  index_t tile, blocks;
  index_t rows_in(index_t block) const { return std::min(tile, batch - block * tile); }
};

// Per-thread scratch: the tile, the coefficient tiles and a few rows.
struct Workspace {
  std::vector<float> s, hu, hvt, col_max, col_sum, scratch;
  void ensure(index_t tile) {
    size_t t2 = static_cast<size_t>(tile * tile);
    if (s.size() < t2) {
      s.resize(t2);
      hu.resize(t2);
      hvt.resize(t2);
      col_max.resize(tile);
      col_sum.resize(tile);
      scratch.resize(4 * tile);
    }
  }
};

Workspace& workspace(index_t tile) {
  thread_local Workspace ws;
  ws.ensure(tile);
  return ws;
}

// tile[r][j] = cos(x_{i0+r}, t_{j0+j}) (or the raw dot product without normalisation).
void cosine_tile(const Problem& p, index_t i0, index_t rows, index_t j0, index_t cols, float* tile) {
  const index_t ld = p.tile;
  gemm::gemm_nt(p.x + i0 * p.dim, p.dim, rows, p.t + j0 * p.dim, p.dim, cols, p.dim, tile, ld, 1.0f, false);
  const float* inv_t = p.inv_t.data() + j0;
  for (index_t r = 0; r < rows; ++r) {
    float* row = tile + r * ld;
    const float inv_x = p.inv_x[i0 + r];
    for (index_t j = 0; j < cols; ++j) row[j] *= inv_x * inv_t[j];
  }
}

// Round-robin over diagonals: in round r, tile (I, (I + r) mod nb) for every I, in parallel.
template <typename Fn>
void for_each_tile(const Problem& p, Fn&& fn) {
  for (index_t round = 0; round < p.blocks; ++round) {
    parallel_for(p.blocks, 1, [&](index_t begin, index_t end) {
      for (index_t bi = begin; bi < end; ++bi) fn(bi, (bi + round) % p.blocks);
    });
  }
}

// mask[j] = 1 where (i, j0 + j) is a positive pair, else 0: a float row, so the loops that use
// it stay branch-free and vectorise.
void positive_mask(const Problem& p, index_t i, index_t j0, index_t cols, float* __restrict mask) {
  if (p.groups) {
    const std::int32_t gi = p.groups[i];
    const std::int32_t* __restrict gj = p.groups + j0;
    for (index_t j = 0; j < cols; ++j) mask[j] = gj[j] == gi ? 1.0f : 0.0f;
    return;
  }
  std::fill(mask, mask + cols, 0.0f);
  if (i >= j0 && i < j0 + cols) mask[i - j0] = 1.0f;
}

// The effective logit row of InfoNCE, written in place: e = a * (capped positive ? theta : cos).
// Returns sum_j y_ij e_ij over this row of the tile.
float infonce_logits_row(const Problem& p, index_t i, index_t j0, index_t cols, float* row, float* scratch) {
  const float a = p.a, theta = p.theta;
  const bool relax = p.relax;
  if (p.groups) {
    const std::int32_t gi = p.groups[i];
    const std::int32_t* gj = p.groups + j0;
    for (index_t j = 0; j < cols; ++j) {
      const bool pos = gj[j] == gi;
      const float c = row[j];
      const float e = a * ((relax && pos && c > theta) ? theta : c);
      row[j] = e;
      scratch[j] = pos ? e : 0.0f;
    }
    return lane_sum(scratch, cols) * p.weight[i];
  }
  const index_t diag = i - j0;
  const bool has_diag = diag >= 0 && diag < cols;
  if (has_diag && relax && row[diag] > theta) row[diag] = theta;
  for (index_t j = 0; j < cols; ++j) row[j] *= a;
  return has_diag ? row[diag] : 0.0f;
}

struct InfoNceStats {
  std::vector<float> row_max, row_sum, col_max, col_sum;  // become row / column LSE after pass 1
  std::vector<double> positive;                           // per row block
};

void infonce_stats_tile(const Problem& p, InfoNceStats& st, index_t bi, index_t bj) {
  const index_t i0 = bi * p.tile, j0 = bj * p.tile;
  const index_t rows = p.rows_in(bi), cols = p.rows_in(bj);
  Workspace& ws = workspace(p.tile);
  float* tile = ws.s.data();
  const index_t ld = p.tile;
  cosine_tile(p, i0, rows, j0, cols, tile);
  double positive = 0.0;
  for (index_t r = 0; r < rows; ++r) {
    float* row = tile + r * ld;
    positive += infonce_logits_row(p, i0 + r, j0, cols, row, ws.scratch.data());
    const float m = lane_max(row, cols);
    merge_stat(st.row_max[i0 + r], st.row_sum[i0 + r], m, lane_sum_exp(row, cols, m));
  }
  st.positive[bi] += positive;
  float* cmax = ws.col_max.data();
  float* csum = ws.col_sum.data();
  std::fill(cmax, cmax + cols, kNegInf);
  std::fill(csum, csum + cols, 0.0f);
  for (index_t r = 0; r < rows; ++r) {
    const float* row = tile + r * ld;
    for (index_t j = 0; j < cols; ++j) cmax[j] = cmax[j] > row[j] ? cmax[j] : row[j];
  }
  for (index_t r = 0; r < rows; ++r) {
    const float* row = tile + r * ld;
    for (index_t j = 0; j < cols; ++j) csum[j] += vmath::exp(row[j] - cmax[j]);
  }
  for (index_t j = 0; j < cols; ++j) merge_stat(st.col_max[j0 + j], st.col_sum[j0 + j], cmax[j], csum[j]);
}

// Feeds a coefficient tile into both gradients: dU_I += hu . T_J, dV_J += hvt . X_I, where
// hvt is the transpose of `hv` (written into ws.hvt here).
void accumulate_gradients(const Problem& p, Workspace& ws, index_t i0, index_t rows, index_t j0, index_t cols,
                          const float* hv, float* grad_x, float* grad_t) {
  const index_t ld = p.tile;
  float* hvt = ws.hvt.data();
  for (index_t r = 0; r < rows; ++r)
    for (index_t j = 0; j < cols; ++j) hvt[j * ld + r] = hv[r * ld + j];
  gemm::gemm_nn(ws.hu.data(), ld, rows, p.t + j0 * p.dim, p.dim, p.dim, cols, grad_x + i0 * p.dim, p.dim, 1.0f, true);
  gemm::gemm_nn(hvt, ld, cols, p.x + i0 * p.dim, p.dim, p.dim, rows, grad_t + j0 * p.dim, p.dim, 1.0f, true);
}

// One row of the InfoNCE backward tile (separate function with restrict pointers so it vectorises):
// G = (exp(e - LSE_row) + exp(e - LSE_col)) / 2B - y / B, gce = G ce, K = a G (0 where capped),
// hu = K / |t_j| (dU coefficients), row = K / |x_i| (dV coefficients, overwriting the cosines).
void infonce_grad_row(index_t cols, float* __restrict row, float* __restrict hu, float* __restrict gce,
                      const float* __restrict mask, const float* __restrict lse_col, const float* __restrict inv_t,
                      float a, float theta, bool relax, float lse_row, float half_inv_b, float target, float inv_x) {
  for (index_t j = 0; j < cols; ++j) {
    const float c = row[j];
    const bool capped = relax & (mask[j] != 0.0f) & (c > theta);
    const float ce = capped ? theta : c;
    const float e = a * ce;
    const float g = half_inv_b * (vmath::exp(e - lse_row) + vmath::exp(e - lse_col[j])) - mask[j] * target;
    gce[j] = g * ce;
    const float k = capped ? 0.0f : g * a;
    hu[j] = k * inv_t[j];
    row[j] = k * inv_x;
  }
}

// One row of the SigLIP tile: per-element loss, G = dL/de, G c, and the coefficient rows.
// Three simple loops rather than one: GCC does not if-convert the fused body, and these vectorise.
void siglip_row(index_t cols, float* __restrict row, float* __restrict hu, float* __restrict loss, float* __restrict g_out,
                float* __restrict gc, const float* __restrict mask, const float* __restrict inv_t, float a, float bias,
                float inv_b, float inv_x) {
  // zx = z (a c + b) with z = +1 on positives, -1 else; q = exp(-|zx|).
  for (index_t j = 0; j < cols; ++j) {
    const float zx = (2.0f * mask[j] - 1.0f) * (a * row[j] + bias);
    loss[j] = zx;
    g_out[j] = vmath::exp(-std::fabs(zx));
  }
  // -log sigmoid(zx) = softplus(-zx) = max(-zx, 0) + log1p(exp(-|zx|)).
  for (index_t j = 0; j < cols; ++j) {
    const float zx = loss[j];
    loss[j] = 0.5f * (std::fabs(zx) - zx) + vmath::log1p(g_out[j]);
  }
  // G = -z sigmoid(-zx) / B, from the same exp.
  for (index_t j = 0; j < cols; ++j) {
    const float c = row[j];
    const float z = 2.0f * mask[j] - 1.0f;
    const float zx = z * (a * c + bias);
    const float q = g_out[j];
    const float g = -inv_b * z * ((zx > 0.0f ? q : 1.0f) / (1.0f + q));
    g_out[j] = g;
    gc[j] = g * c;
    const float k = g * a;
    hu[j] = k * inv_t[j];
    row[j] = k * inv_x;
  }
}

void infonce_grad_tile(const Problem& p, const InfoNceStats& st, std::vector<double>& grad_a, index_t bi, index_t bj,
                       float* grad_x, float* grad_t) {
  const index_t i0 = bi * p.tile, j0 = bj * p.tile;
  const index_t rows = p.rows_in(bi), cols = p.rows_in(bj);
  Workspace& ws = workspace(p.tile);
  float* tile = ws.s.data();
  float* gce = ws.scratch.data();
  const index_t ld = p.tile;
  cosine_tile(p, i0, rows, j0, cols, tile);
  const float a = p.a, theta = p.theta;
  const float half_inv_b = 0.5f / static_cast<float>(p.batch);
  const float inv_b = 1.0f / static_cast<float>(p.batch);
  const bool relax = p.relax;
  const float* lse_col = st.col_max.data() + j0;
  const float* inv_t = p.inv_t.data() + j0;
  double ga = 0.0;
  float* __restrict mask = ws.scratch.data() + ld;
  for (index_t r = 0; r < rows; ++r) {
    const index_t i = i0 + r;
    const float lse_row = st.row_max[i];
    const float inv_x = p.inv_x[i];
    const float target = (p.groups ? p.weight[i] : 1.0f) * inv_b;
    float* __restrict row = tile + r * ld;
    float* __restrict hu = ws.hu.data() + r * ld;
    float* __restrict gce_row = gce;
    positive_mask(p, i, j0, cols, mask);
    infonce_grad_row(cols, row, hu, gce_row, mask, lse_col, inv_t, a, theta, relax, lse_row, half_inv_b, target, inv_x);
    ga += lane_sum(gce, cols);
  }
  grad_a[bi] += ga;
  accumulate_gradients(p, ws, i0, rows, j0, cols, tile, grad_x, grad_t);
}

struct SigLipSums {
  std::vector<double> loss, grad_a, grad_bias;  // per row block
};

void siglip_tile(const Problem& p, SigLipSums& sums, index_t bi, index_t bj, float* grad_x, float* grad_t) {
  const index_t i0 = bi * p.tile, j0 = bj * p.tile;
  const index_t rows = p.rows_in(bi), cols = p.rows_in(bj);
  const index_t ld = p.tile;
  Workspace& ws = workspace(p.tile);
  float* tile = ws.s.data();
  float* loss_row = ws.scratch.data();
  float* g_row = loss_row + ld;
  float* gc_row = g_row + ld;
  cosine_tile(p, i0, rows, j0, cols, tile);
  const float a = p.a, bias = p.bias;
  const float inv_b = 1.0f / static_cast<float>(p.batch);
  const float* inv_t = p.inv_t.data() + j0;
  double loss = 0.0, ga = 0.0, gb = 0.0;
  float* __restrict mask = gc_row + ld;
  for (index_t r = 0; r < rows; ++r) {
    const index_t i = i0 + r;
    const float inv_x = p.inv_x[i];
    float* __restrict row = tile + r * ld;
    float* __restrict hu = ws.hu.data() + r * ld;
    float* __restrict lr = loss_row;
    float* __restrict gr = g_row;
    float* __restrict gcr = gc_row;
    positive_mask(p, i, j0, cols, mask);
    siglip_row(cols, row, hu, lr, gr, gcr, mask, inv_t, a, bias, inv_b, inv_x);
    loss += lane_sum(loss_row, cols);
    gb += lane_sum(g_row, cols);
    ga += lane_sum(gc_row, cols);
  }
  sums.loss[bi] += loss;
  sums.grad_a[bi] += ga;
  sums.grad_bias[bi] += gb;
  accumulate_gradients(p, ws, i0, rows, j0, cols, tile, grad_x, grad_t);
}

std::vector<float> inverse_norms(const float* v, index_t rows, index_t dim, bool normalize) {
  std::vector<float> inv(static_cast<size_t>(rows), 1.0f);
  if (!normalize) return inv;
  parallel_for(rows, std::max<index_t>(1, 4096 / std::max<index_t>(1, dim)), [&](index_t begin, index_t end) {
    for (index_t r = begin; r < end; ++r) {
      const float* row = v + r * dim;
      float acc[kLanes] = {};
      index_t k = 0;
      for (; k + kLanes <= dim; k += kLanes)
        for (int l = 0; l < kLanes; ++l) acc[l] += row[k + l] * row[k + l];
      for (int l = 0; k < dim; ++k, ++l) acc[l] += row[k] * row[k];
      float sq = 0.0f;
      for (int l = 0; l < kLanes; ++l) sq += acc[l];
      inv[static_cast<size_t>(r)] = 1.0f / std::max(std::sqrt(sq), kL2NormEps);
    }
  });
  return inv;
}

double ordered_sum(const std::vector<double>& v) {
  double s = 0.0;
  for (double x : v) s += x;
  return s;
}

}  // namespace

void contrastive_group_weights(const std::int32_t* groups, index_t batch, float* weight) {
  std::unordered_map<std::int32_t, index_t> counts;
  counts.reserve(static_cast<size_t>(batch));
  for (index_t i = 0; i < batch; ++i) ++counts[groups[i]];
  for (index_t i = 0; i < batch; ++i) weight[i] = 1.0f / static_cast<float>(counts[groups[i]]);
}

ContrastiveResult contrastive_cpu(const float* image, const float* text, const ContrastiveParams& params,
                                  float* grad_image, float* grad_text) {
  ScopedOp op(params.kind == ContrastiveKind::SigLIP ? "siglip_loss" : "infonce_loss", "cpu");
  if (params.batch < 1 || params.dim < 1) throw Error(kErrShape, "contrastive loss: batch and dim must be >= 1");
  if (!(params.logit_scale > 0.0f) || !std::isfinite(params.logit_scale))
    throw Error(kErrInvalidArgument, "contrastive loss: logitScale must be a finite number > 0");
  Problem p;
  p.x = image;
  p.t = text;
  p.batch = params.batch;
  p.dim = params.dim;
  p.a = params.logit_scale;
  p.bias = params.bias;
  p.theta = params.relax_threshold;
  p.relax = params.relax && params.kind == ContrastiveKind::InfoNCE;
  p.siglip = params.kind == ContrastiveKind::SigLIP;
  p.groups = params.groups;
  std::vector<float> own_weight;
  p.weight = params.group_weight;
  if (p.groups && !p.weight) {
    own_weight.resize(static_cast<size_t>(p.batch));
    contrastive_group_weights(p.groups, p.batch, own_weight.data());
    p.weight = own_weight.data();
  }
  // Smaller tiles when the batch is small (at least 8 tile rows, so threads share each round).
  // The tile depends on B only, never on the thread count: results are the same for any pool.
  p.tile = kMaxTile;
  while (p.tile > 16 && (p.batch + p.tile - 1) / p.tile < 8) p.tile /= 2;
  p.blocks = (p.batch + p.tile - 1) / p.tile;
  p.inv_x = inverse_norms(image, p.batch, p.dim, params.normalize);
  p.inv_t = inverse_norms(text, p.batch, p.dim, params.normalize);

  const size_t bd = static_cast<size_t>(p.batch * p.dim);
  std::fill(grad_image, grad_image + bd, 0.0f);
  std::fill(grad_text, grad_text + bd, 0.0f);
  ContrastiveResult result;
  if (p.siglip) {
    SigLipSums sums{std::vector<double>(p.blocks), std::vector<double>(p.blocks), std::vector<double>(p.blocks)};
    for_each_tile(p, [&](index_t bi, index_t bj) { siglip_tile(p, sums, bi, bj, grad_image, grad_text); });
    result.loss = ordered_sum(sums.loss) / static_cast<double>(p.batch);
    result.grad_logit_scale = ordered_sum(sums.grad_a);
    result.grad_bias = ordered_sum(sums.grad_bias);
  } else {
    const size_t b = static_cast<size_t>(p.batch);
    InfoNceStats st{std::vector<float>(b, kNegInf), std::vector<float>(b, 0.0f), std::vector<float>(b, kNegInf),
                    std::vector<float>(b, 0.0f), std::vector<double>(p.blocks)};
    for_each_tile(p, [&](index_t bi, index_t bj) { infonce_stats_tile(p, st, bi, bj); });
    double lse_sum = 0.0;
    for (size_t i = 0; i < b; ++i) {
      // The loss takes the LSEs in double (it is a difference of large terms when a is large);
      // pass 2 uses them rounded to float.
      const double lse_row = static_cast<double>(st.row_max[i]) + std::log(static_cast<double>(st.row_sum[i]));
      const double lse_col = static_cast<double>(st.col_max[i]) + std::log(static_cast<double>(st.col_sum[i]));
      lse_sum += lse_row + lse_col;
      st.row_max[i] = static_cast<float>(lse_row);
      st.col_max[i] = static_cast<float>(lse_col);
    }
    const double bb = static_cast<double>(p.batch);
    result.loss = lse_sum / (2.0 * bb) - ordered_sum(st.positive) / bb;
    std::vector<double> grad_a(p.blocks);
    for_each_tile(p, [&](index_t bi, index_t bj) { infonce_grad_tile(p, st, grad_a, bi, bj, grad_image, grad_text); });
    result.grad_logit_scale = ordered_sum(grad_a);
  }
  if (params.normalize) {
    // The buffers hold dL/du and dL/dv; chain through u = x / |x| in place (row-local, alias-safe).
    l2norm_backward_cpu(image, grad_image, grad_image, p.batch, p.dim, kL2NormEps);
    l2norm_backward_cpu(text, grad_text, grad_text, p.batch, p.dim, kL2NormEps);
  }
  return result;
}

}  // namespace radlearn
