// Fused AdamW and parameter EMA on the CPU (formulas in radlearn/optim.h).
//
// Two passes over the flat buffer: the gradient norm (float64 partial sums over fixed
// blocks of kNormBlock elements, summed in block order: the same bits for any thread
// count), then one fused update that reads g, p, m, v (and the mask) once and writes p, m,
// v once. The per-step scalars (bias corrections, step size, decay factor) are computed
// once in float64, as PyTorch computes them in Python floats, then used in float32.
#include <algorithm>
#include <cmath>
#include <vector>

#include "radlearn/optim.h"
#include "radlearn/thread_pool.h"
#include "radlearn/trace.h"

namespace radlearn {
namespace {

constexpr index_t kNormBlock = 16384;
constexpr index_t kUpdateGrain = 32768;

struct UpdateScalars {
  float clip, b1, one_b1, b2, one_b2, step_size, inv_bias2_sqrt, eps, decay;
};

// The fused update over one contiguous range. Branch-free and with restrict pointers so the
// compiler vectorises it (AVX-512: 16 parameters per iteration); the clip coefficient is
// always applied (multiplying by exactly 1 changes nothing) and the mask selects the decay
// factor instead of branching.
template <bool kMasked>
void update_range(float* __restrict params, const float* __restrict grads, float* __restrict m,
                  float* __restrict v, const std::uint8_t* __restrict mask, index_t n, const UpdateScalars u) {
  for (index_t i = 0; i < n; ++i) {
    float g = grads[i] * u.clip;
    float p = params[i] * (kMasked ? (mask[i] ? u.decay : 1.0f) : u.decay);
    float mi = u.b1 * m[i] + u.one_b1 * g;
    float vi = u.b2 * v[i] + u.one_b2 * g * g;
    m[i] = mi;
    v[i] = vi;
    params[i] = p - u.step_size * mi / (std::sqrt(vi) * u.inv_bias2_sqrt + u.eps);
  }
}

}  // namespace

double grad_norm_cpu(const float* grads, index_t length) {
  ScopedOp op("grad_norm", "cpu");
  if (length == 0) return 0.0;
  index_t blocks = (length + kNormBlock - 1) / kNormBlock;
  std::vector<double> partial(static_cast<size_t>(blocks));
  parallel_for(blocks, 4, [&](index_t begin, index_t end) {
    for (index_t blk = begin; blk < end; ++blk) {
      index_t i0 = blk * kNormBlock, i1 = std::min(length, i0 + kNormBlock);
      // Eight float64 lanes keep the loop vectorised (the pass is bandwidth-bound, so the
      // wider adds cost nothing) and the norm exact to float64 rounding.
      double lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      index_t i = i0;
      for (; i + 8 <= i1; i += 8)
        for (int l = 0; l < 8; ++l) lanes[l] += static_cast<double>(grads[i + l]) * grads[i + l];
      double sum = 0.0;
      for (int l = 0; l < 8; ++l) sum += lanes[l];
      for (; i < i1; ++i) sum += static_cast<double>(grads[i]) * grads[i];
      partial[static_cast<size_t>(blk)] = sum;
    }
  });
  double total = 0.0;
  for (double p : partial) total += p;
  return std::sqrt(total);
}

double adamw_step_cpu(float* params, const float* grads, float* m, float* v, const std::uint8_t* decay_mask,
                      index_t length, const AdamWConfig& config) {
  ScopedOp op("adamw_step", "cpu");
  double norm = grad_norm_cpu(grads, length);
  if (!std::isfinite(norm)) return norm;
  double clip = 1.0;
  if (config.max_grad_norm > 0) clip = std::min(1.0, config.max_grad_norm / (norm + 1e-6));
  const double t = static_cast<double>(config.step);
  const double bias1 = 1.0 - std::pow(config.beta1, t);
  const double bias2 = 1.0 - std::pow(config.beta2, t);
  const float step_size = static_cast<float>(config.lr / bias1);
  const float inv_bias2_sqrt = static_cast<float>(1.0 / std::sqrt(bias2));
  const float decay = static_cast<float>(1.0 - config.lr * config.weight_decay);
  const float b1 = static_cast<float>(config.beta1), b2 = static_cast<float>(config.beta2);
  const float one_b1 = static_cast<float>(1.0 - config.beta1), one_b2 = static_cast<float>(1.0 - config.beta2);
  const float eps = static_cast<float>(config.eps), c = static_cast<float>(clip);
  const UpdateScalars u{c, b1, one_b1, b2, one_b2, step_size, inv_bias2_sqrt, eps, decay};
  parallel_for(length, kUpdateGrain, [&](index_t begin, index_t end) {
    if (decay_mask)
      update_range<true>(params + begin, grads + begin, m + begin, v + begin, decay_mask + begin, end - begin, u);
    else
      update_range<false>(params + begin, grads + begin, m + begin, v + begin, nullptr, end - begin, u);
  });
  return norm;
}

void ema_update_cpu(float* ema, const float* params, index_t length, float momentum) {
  ScopedOp op("ema_update", "cpu");
  const float keep = momentum, take = 1.0f - momentum;
  parallel_for(length, kUpdateGrain, [&](index_t begin, index_t end) {
    for (index_t i = begin; i < end; ++i) ema[i] = keep * ema[i] + take * params[i];
  });
}

}  // namespace radlearn
