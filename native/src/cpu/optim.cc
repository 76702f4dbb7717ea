// Fused AdamW and parameter EMA on the CPU (formulas in radlearn/optim.h).
//
// Two passes over the flat buffer: a pre-pass with the gradient norm (float64 partial sums
// over fixed blocks of kNormBlock elements, summed in block order: the same bits for any
// thread count) and the largest |p|, |m|, |v| (adamw_verdict decides from them whether the
// step may be applied whole), then one fused update that reads g, p, m, v (and the mask)
// once and writes p, m, v once. The per-step scalars (bias corrections, step size, decay factor) are computed
// once in float64, as PyTorch computes them in Python floats, then used in float32.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

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

// The fused update over one contiguous range. The clip coefficient is always applied
// (multiplying by exactly 1 changes nothing) and the mask selects the decay factor. The
// main loop uses explicit SIMD (AVX-512: 16 parameters, AVX2: 8) because with errno-setting
// sqrt (the default, -fmath-errno) GCC will not vectorise it; the scalar loop does the rest
// and non-x86 builds. Both evaluate the same expression in the same order.
inline float update_one(float p, float g, float& m, float& v, float decay, const UpdateScalars& u) {
  g *= u.clip;
  p *= decay;
  float mi = u.b1 * m + u.one_b1 * g;
  float vi = u.b2 * v + u.one_b2 * g * g;
  m = mi;
  v = vi;
  return p - u.step_size * mi / (std::sqrt(vi) * u.inv_bias2_sqrt + u.eps);
}

template <bool kMasked>
void update_range(float* __restrict params, const float* __restrict grads, float* __restrict m,
                  float* __restrict v, const std::uint8_t* __restrict mask, index_t n, const UpdateScalars& u) {
  index_t i = 0;
#if defined(__AVX512F__)
  const __m512 clip = _mm512_set1_ps(u.clip), b1 = _mm512_set1_ps(u.b1), ob1 = _mm512_set1_ps(u.one_b1);
  const __m512 b2 = _mm512_set1_ps(u.b2), ob2 = _mm512_set1_ps(u.one_b2), ss = _mm512_set1_ps(u.step_size);
  const __m512 ib = _mm512_set1_ps(u.inv_bias2_sqrt), eps = _mm512_set1_ps(u.eps), decay = _mm512_set1_ps(u.decay);
  for (; i + 16 <= n; i += 16) {
    __m512 g = _mm512_mul_ps(_mm512_loadu_ps(grads + i), clip);
    __m512 p = _mm512_loadu_ps(params + i);
    if (kMasked) {
      __m512i bytes = _mm512_maskz_cvtepu8_epi32(0xFFFF, _mm_loadu_si128(reinterpret_cast<const __m128i*>(mask + i)));
      p = _mm512_mask_mul_ps(p, _mm512_test_epi32_mask(bytes, bytes), p, decay);
    } else {
      p = _mm512_mul_ps(p, decay);
    }
    __m512 mi = _mm512_add_ps(_mm512_mul_ps(b1, _mm512_loadu_ps(m + i)), _mm512_mul_ps(ob1, g));
    __m512 vi = _mm512_add_ps(_mm512_mul_ps(b2, _mm512_loadu_ps(v + i)), _mm512_mul_ps(_mm512_mul_ps(ob2, g), g));
    _mm512_storeu_ps(m + i, mi);
    _mm512_storeu_ps(v + i, vi);
    // _mm512_mask_sqrt_ps with every lane selected is _mm512_sqrt_ps (the same vsqrtps). GCC 12's
    // _mm512_sqrt_ps reads _mm512_undefined_ps(), which -Wmaybe-uninitialized flags (GCC bug 105593).
    __m512 denom = _mm512_add_ps(_mm512_mul_ps(_mm512_mask_sqrt_ps(vi, 0xFFFF, vi), ib), eps);
    _mm512_storeu_ps(params + i, _mm512_sub_ps(p, _mm512_div_ps(_mm512_mul_ps(ss, mi), denom)));
  }
#elif defined(__AVX2__)
  const __m256 clip = _mm256_set1_ps(u.clip), b1 = _mm256_set1_ps(u.b1), ob1 = _mm256_set1_ps(u.one_b1);
  const __m256 b2 = _mm256_set1_ps(u.b2), ob2 = _mm256_set1_ps(u.one_b2), ss = _mm256_set1_ps(u.step_size);
  const __m256 ib = _mm256_set1_ps(u.inv_bias2_sqrt), eps = _mm256_set1_ps(u.eps), decay = _mm256_set1_ps(u.decay);
  const __m256 one = _mm256_set1_ps(1.0f);
  for (; i + 8 <= n; i += 8) {
    __m256 g = _mm256_mul_ps(_mm256_loadu_ps(grads + i), clip);
    __m256 p = _mm256_loadu_ps(params + i);
    if (kMasked) {
      __m256i bytes = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(mask + i)));
      __m256 zero_lane = _mm256_castsi256_ps(_mm256_cmpeq_epi32(bytes, _mm256_setzero_si256()));
      p = _mm256_mul_ps(p, _mm256_blendv_ps(decay, one, zero_lane));
    } else {
      p = _mm256_mul_ps(p, decay);
    }
    __m256 mi = _mm256_add_ps(_mm256_mul_ps(b1, _mm256_loadu_ps(m + i)), _mm256_mul_ps(ob1, g));
    __m256 vi = _mm256_add_ps(_mm256_mul_ps(b2, _mm256_loadu_ps(v + i)), _mm256_mul_ps(_mm256_mul_ps(ob2, g), g));
    _mm256_storeu_ps(m + i, mi);
    _mm256_storeu_ps(v + i, vi);
    __m256 denom = _mm256_add_ps(_mm256_mul_ps(_mm256_sqrt_ps(vi), ib), eps);
    _mm256_storeu_ps(params + i, _mm256_sub_ps(p, _mm256_div_ps(_mm256_mul_ps(ss, mi), denom)));
  }
#endif
  for (; i < n; ++i) {
    float decay = kMasked ? (mask[i] ? u.decay : 1.0f) : u.decay;
    params[i] = update_one(params[i], grads[i], m[i], v[i], decay, u);
  }
}

// Sum of g^2 over one block, in the fixed order every caller relies on for identical bits.
// Eight float64 lanes keep the loop vectorised (the pass is bandwidth-bound, so the wider adds
// cost nothing) and the norm exact to float64 rounding.
double block_sum_squares(const float* grads, index_t i0, index_t i1) {
  double lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  index_t i = i0;
  for (; i + 8 <= i1; i += 8)
    for (int l = 0; l < 8; ++l) lanes[l] += static_cast<double>(grads[i + l]) * grads[i + l];
  double sum = 0.0;
  for (int l = 0; l < 8; ++l) sum += lanes[l];
  for (; i < i1; ++i) sum += static_cast<double>(grads[i]) * grads[i];
  return sum;
}

// Largest |x| over [i0, i1), or +infinity when any value is NaN or infinite (or, with
// kNonNegative, below zero). Works on the IEEE bits: for non-negative floats the bit patterns
// order like the values, so an integer max vectorises where float compares with NaN checks do
// not; NaN and Inf are exactly the patterns >= 0x7F800000, negatives (but -0) those > 0x80000000.
template <bool kNonNegative>
float block_max_abs(const float* x, index_t i0, index_t i1) {
  std::uint32_t largest = 0, largest_signed = 0;
  for (index_t i = i0; i < i1; ++i) {
    std::uint32_t bits;
    std::memcpy(&bits, x + i, sizeof(bits));
    largest = std::max(largest, bits & 0x7FFFFFFFu);
    if (kNonNegative) largest_signed = std::max(largest_signed, bits);
  }
  if (largest >= 0x7F800000u || (kNonNegative && largest_signed > 0x80000000u)) return INFINITY;
  float value;
  std::memcpy(&value, &largest, sizeof(value));
  return value;
}

struct BlockScan {
  double sum_squares;
  float max_params, max_m, max_v;
};

}  // namespace

double grad_norm_cpu(const float* grads, index_t length) {
  ScopedOp op("grad_norm", "cpu");
  if (length == 0) return 0.0;
  index_t blocks = (length + kNormBlock - 1) / kNormBlock;
  std::vector<double> partial(static_cast<size_t>(blocks));
  parallel_for(blocks, 4, [&](index_t begin, index_t end) {
    for (index_t blk = begin; blk < end; ++blk) {
      index_t i0 = blk * kNormBlock, i1 = std::min(length, i0 + kNormBlock);
      partial[static_cast<size_t>(blk)] = block_sum_squares(grads, i0, i1);
    }
  });
  double total = 0.0;
  for (double p : partial) total += p;
  return std::sqrt(total);
}

namespace {

// The pre-pass of a step: the gradient norm (same bits as grad_norm_cpu) and the state's maxima.
AdamWScan scan_state(const float* params, const float* grads, const float* m, const float* v, index_t length) {
  AdamWScan scan;
  if (length == 0) return scan;
  index_t blocks = (length + kNormBlock - 1) / kNormBlock;
  std::vector<BlockScan> partial(static_cast<size_t>(blocks));
  parallel_for(blocks, 4, [&](index_t begin, index_t end) {
    for (index_t blk = begin; blk < end; ++blk) {
      index_t i0 = blk * kNormBlock, i1 = std::min(length, i0 + kNormBlock);
      partial[static_cast<size_t>(blk)] = {block_sum_squares(grads, i0, i1), block_max_abs<false>(params, i0, i1),
                                           block_max_abs<false>(m, i0, i1), block_max_abs<true>(v, i0, i1)};
    }
  });
  double total = 0.0;
  for (const BlockScan& b : partial) {
    total += b.sum_squares;
    scan.max_params = std::max(scan.max_params, b.max_params);
    scan.max_m = std::max(scan.max_m, b.max_m);
    scan.max_v = std::max(scan.max_v, b.max_v);
  }
  scan.grad_norm = std::sqrt(total);
  return scan;
}

}  // namespace

void throw_adamw_refusal(AdamWVerdict verdict, const AdamWScan& scan) {
  auto text = [](double x) { return number_text(x); };
  if (verdict == AdamWVerdict::InvalidState) {
    std::string which;
    if (!(scan.max_params <= FLT_MAX)) which += "params";
    if (!(scan.max_m <= FLT_MAX)) which += which.empty() ? "m" : ", m";
    if (!(scan.max_v <= FLT_MAX)) which += which.empty() ? "v" : ", v";
    throw Error(kErrInvalidArgument, "adamwStep: " + which +
                                         " already hold NaN or Infinity (or v a negative second moment); nothing was written");
  }
  throw Error("ERR_NONFINITE_RESULT",
              "adamwStep: this step could overflow float32 (largest |params| " + text(scan.max_params) + ", |m| " +
                  text(scan.max_m) + ", |v| " + text(scan.max_v) + ", gradient norm " + text(scan.grad_norm) +
                  "); nothing was written. Lower lr, clip gradients with maxGradNorm, or raise eps");
}

double adamw_step_cpu(float* params, const float* grads, float* m, float* v, const std::uint8_t* decay_mask,
                      index_t length, const AdamWConfig& config) {
  ScopedOp op("adamw_step", "cpu");
  const AdamWScan scan = scan_state(params, grads, m, v, length);
  const double norm = scan.grad_norm;
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
  AdamWVerdict verdict = adamw_verdict(scan, clip, config.beta1, config.beta2, step_size, decay, eps);
  if (verdict == AdamWVerdict::NonFiniteGradient) return norm;
  if (verdict != AdamWVerdict::Apply) throw_adamw_refusal(verdict, scan);
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
