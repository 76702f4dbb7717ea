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
// Memory traffic per parameter: read g twice (norm pass + update), read/write p, m, v:
//   4 * (2 + 2 + 2 + 2) = 32 bytes (28 without the norm pass), 1 byte more with a mask.
// The norm is a float64 sum over fixed 16K-element blocks on the CPU (independent of the
// thread count) and a fixed-grid float64 tree on the GPU.
//
// ema_update:  ema_i <- momentum * ema_i + (1 - momentum) * p_i   (momentum in [0, 1])
#pragma once

#include <cstdint>

#include "radlearn/common.h"

namespace radlearn {

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
