// Fused AdamW over one flat float32 parameter buffer, and an EMA of parameters.
//
// adamw_step, for every parameter i, with t = step (1-based) and g the (clipped) gradient,
// matching torch.optim.AdamW (amsgrad=False, maximize=False, foreach/fused semantics):
//   1. gradient clipping (torch.nn.utils.clip_grad_norm_ semantics, only when max_norm > 0):
//        norm = sqrt(sum_i g_i^2)                       (over the whole buffer)
//        c    = min(1, max_norm / (norm + 1e-6));   g_i <- c * g_i
//   2. decoupled weight decay (only where decay_mask[i] != 0, or everywhere when no mask):
//        p_i <- p_i * (1 - lr * weight_decay)
//   3. moments:  m_i <- beta1 * m_i + (1 - beta1) * g_i
//                v_i <- beta2 * v_i + (1 - beta2) * g_i^2
//   4. update:   p_i <- p_i - (lr / (1 - beta1^t)) * m_i / (sqrt(v_i) / sqrt(1 - beta2^t) + eps)
// The gradient buffer is read, never written (the clipped gradient exists only in registers).
// Returns the PRE-clip global norm. When that norm is not finite (a NaN or Inf gradient),
// nothing is written: params, m and v are left as they were and the non-finite norm is
// returned so the caller can stop or skip.
// The same pre-pass that sums g^2 also finds the largest |p|, |m| and |v|. A step whose state
// already holds NaN or Inf, or a negative v (ERR_INVALID_ARGUMENT), or whose result could overflow float32 by
// the bound in adamw_verdict (ERR_NONFINITE_RESULT), is refused before anything is written, so
// a step is either applied whole or not at all.
// Memory traffic per parameter: the pre-pass reads g, p, m, v; the update reads g, p, m, v
// and writes p, m, v: 4 * (4 + 7) = 44 bytes, 1 byte more with a mask.
// The norm is a float64 sum over fixed 16K-element blocks on the CPU (independent of the
// thread count) and a fixed-grid float64 tree on the GPU.
//
// ema_update:  ema_i <- momentum * ema_i + (1 - momentum) * p_i   (momentum in [0, 1])
#pragma once

#include <cfloat>
#include <cstdint>

#include "radlearn/common.h"

#ifdef __CUDACC__
#define RL_HOST_DEVICE __host__ __device__
#else
#define RL_HOST_DEVICE
#endif

namespace radlearn {

// What the pre-pass of a step finds: the gradient norm and the largest magnitudes in the
// state (+infinity when a buffer holds NaN or Inf, or v a negative value: second moments are
// sums of squares).
struct AdamWScan {
  double grad_norm = 0;
  float max_params = 0, max_m = 0, max_v = 0;
};

enum class AdamWVerdict : int { NonFiniteGradient = 0, Apply = 1, InvalidState = 2, WouldOverflow = 3 };

// Whether a step can be applied whole. With G = clip * norm >= every |clipped g_i|, each new
// value is bounded by m' <= b1 max|m| + (1 - b1) G, v' <= b2 max|v| + (1 - b2) G^2 and
// |p'| <= |decay| max|p| + step_size m' / eps (the denominator is at least eps); when a bound
// exceeds FLT_MAX the step could write Inf, so it is refused. The bounds are loose by design:
// only states already near float32's range trip them. step_size, decay and eps are the float32
// values the update uses.
RL_HOST_DEVICE inline AdamWVerdict adamw_verdict(const AdamWScan& scan, double clip, double beta1, double beta2,
                                                 float step_size, float decay, float eps) {
  if (!(scan.grad_norm <= DBL_MAX)) return AdamWVerdict::NonFiniteGradient;
  if (!(scan.max_params <= FLT_MAX) || !(scan.max_m <= FLT_MAX) || !(scan.max_v <= FLT_MAX))
    return AdamWVerdict::InvalidState;
  const double g = clip * scan.grad_norm;
  const double m = beta1 * scan.max_m + (1.0 - beta1) * g;
  const double v = beta2 * scan.max_v + (1.0 - beta2) * g * g;
  const double numerator = static_cast<double>(step_size) * m;
  const double abs_decay = decay < 0 ? -static_cast<double>(decay) : static_cast<double>(decay);
  const double p = abs_decay * scan.max_params + numerator / static_cast<double>(eps);
  const double limit = FLT_MAX;
  return m <= limit && v <= limit && numerator <= limit && p <= limit ? AdamWVerdict::Apply : AdamWVerdict::WouldOverflow;
}

// Throws the typed error for a refused step (InvalidState or WouldOverflow), naming what
// was found; host code of both backends calls it.
[[noreturn]] void throw_adamw_refusal(AdamWVerdict verdict, const AdamWScan& scan);

// Hyperparameters arrive as float64 (JavaScript numbers, Python floats in PyTorch) and the
// derived scalars (1 - beta, bias corrections, step size, decay factor) are computed in
// float64 before the one rounding to float32, as PyTorch does: rounding beta2 = 0.999 to
// float32 first would make 1 - beta2 off by 1.3e-5 relative.
struct AdamWConfig {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.01;
  std::int64_t step = 1;      // 1-based step number, for bias correction
  double max_grad_norm = 0;   // <= 0: no clipping
};

// decay_mask may be null (decay everything). Returns the pre-clip gradient norm.
double adamw_step_cpu(float* params, const float* grads, float* m, float* v, const std::uint8_t* decay_mask,
                      index_t length, const AdamWConfig& config);
double grad_norm_cpu(const float* grads, index_t length);
void ema_update_cpu(float* ema, const float* params, index_t length, float momentum);

#ifdef RADLEARN_WITH_CUDA
double adamw_step_cuda(float* params, const float* grads, float* m, float* v, const std::uint8_t* decay_mask,
                       index_t length, const AdamWConfig& config);
double grad_norm_cuda(const float* grads, index_t length);
void ema_update_cuda(float* ema, const float* params, index_t length, float momentum);
#endif

}  // namespace radlearn
