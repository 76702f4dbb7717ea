// Per-pixel arithmetic of the augmentation, shared by the CPU and CUDA backends so both run
// the same float32 operations in the same order. Multiply-adds that decide where a pixel
// samples the source are written as explicit fused multiply-adds, and the other products
// and sums use round-to-nearest intrinsics on the device (nvcc would otherwise fuse them
// differently from the host compiler): a one-ulp difference in a source coordinate would
// move a sample by up to 3e-5 pixel at 512 px and break CPU/CUDA agreement.
//
// Pipeline per output pixel (x, y) of a view:
//   (fx, fy) = A (x, y) + b                    inverse affine (crop, flip, rotation, shift)
//   raw      = mean of taps_x * taps_y bilinear samples spread over the pixel's footprint
//   v        = raw * value_scale + value_offset  (window, or the dtype's range), clamp if window
//   v        = gamma(contrast(brightness(v)))   when the view's intensity op fires (pow01)
//   [blur]                                      second pass, see augment.cu / augment.cc
//   v        = v + noise_std * N(0, 1)          Philox keyed by the pixel index
//   v        = v * norm_scale + norm_offset     normalisation
// Edges: symmetric reflection (..., 1, 0 | 0, 1, ..., W-1 | W-1, W-2, ...), for sampling and blur.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "radlearn/augment.h"
#include "radlearn/philox.h"

namespace radlearn {
namespace aug {

RL_HD float fmul(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}

RL_HD float fadd(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}

RL_HD float ffma(float a, float b, float c) {
#if defined(__CUDA_ARCH__)
  return __fmaf_rn(a, b, c);
#else
  return std::fma(a, b, c);
#endif
}

RL_HD float clamp01(float v) { return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v); }

// Symmetric reflection of an integer index into [0, n).
RL_HD int reflect(int i, int n) {
  if (i >= 0 && i < n) return i;
  int period = 2 * n;
  int m = i % period;
  if (m < 0) m += period;
  return m < n ? m : period - 1 - m;
}

RL_HD float load_source(const void* data, AugmentSourceType type, std::int64_t index) {
  switch (type) {
    case AugmentSourceType::Uint8:
      return static_cast<float>(static_cast<const std::uint8_t*>(data)[index]);
    case AugmentSourceType::Uint16:
      return static_cast<float>(static_cast<const std::uint16_t*>(data)[index]);
    default:
      return static_cast<const float*>(data)[index];
  }
}

template <typename T>
RL_HD float load_typed(const T* data, std::int64_t index) {
  return static_cast<float>(data[index]);
}

// Bilinear sample at source index coordinates (pixel centres at integers).
template <typename T>
RL_HD float bilinear(const T* src, int height, int width, float fx, float fy) {
  // Far-away coordinates (large shifts) reflect to the same place; keep the int cast defined.
  fx = fx < -4194304.0f ? -4194304.0f : (fx > 4194304.0f ? 4194304.0f : fx);
  fy = fy < -4194304.0f ? -4194304.0f : (fy > 4194304.0f ? 4194304.0f : fy);
  float x0f = floorf(fx), y0f = floorf(fy);
  float tx = fx - x0f, ty = fy - y0f;  // exact
  int x0 = static_cast<int>(x0f), y0 = static_cast<int>(y0f);
  int x1 = x0 + 1, y1 = y0 + 1;
  if (x0 < 0 || x1 >= width) {
    x0 = reflect(x0, width);
    x1 = reflect(x1, width);
  }
  if (y0 < 0 || y1 >= height) {
    y0 = reflect(y0, height);
    y1 = reflect(y1, height);
  }
  const T* row0 = src + static_cast<std::int64_t>(y0) * width;
  const T* row1 = src + static_cast<std::int64_t>(y1) * width;
  float v00 = load_typed(row0, x0), v01 = load_typed(row0, x1);
  float v10 = load_typed(row1, x0), v11 = load_typed(row1, x1);
  float top = ffma(tx, fadd(v01, -v00), v00);
  float bottom = ffma(tx, fadd(v11, -v10), v10);
  return ffma(ty, fadd(bottom, -top), top);
}

// The raw (source-unit) value of output pixel (x, y): one bilinear tap, or the mean of
// taps_x * taps_y taps spread evenly over the pixel's footprint (a box of the view's
// scale factor, convolved with the bilinear tent).
template <typename T>
RL_HD float sample_view(const AugmentView& v, const T* src, int height, int width, int x, int y) {
  const float* a = v.affine;
  float ox = static_cast<float>(x), oy = static_cast<float>(y);
  if (v.taps_x == 1 && v.taps_y == 1) {
    float fx = ffma(a[0], ox, ffma(a[1], oy, a[2]));
    float fy = ffma(a[3], ox, ffma(a[4], oy, a[5]));
    return bilinear(src, height, width, fx, fy);
  }
  float sum = 0.0f;
  float inv_nx = 1.0f / static_cast<float>(v.taps_x), inv_ny = 1.0f / static_cast<float>(v.taps_y);
  for (int j = 0; j < v.taps_y; ++j) {
    float sy = fadd(oy, fadd(fmul(fadd(static_cast<float>(j), 0.5f), inv_ny), -0.5f));
    for (int i = 0; i < v.taps_x; ++i) {
      float sx = fadd(ox, fadd(fmul(fadd(static_cast<float>(i), 0.5f), inv_nx), -0.5f));
      float fx = ffma(a[0], sx, ffma(a[1], sy, a[2]));
      float fy = ffma(a[3], sx, ffma(a[4], sy, a[5]));
      sum = fadd(sum, bilinear(src, height, width, fx, fy));
    }
  }
  return fmul(sum, fmul(inv_nx, inv_ny));
}

RL_HD float sample_any(const AugmentView& v, const AugmentSource& s, int x, int y) {
  switch (s.type) {
    case AugmentSourceType::Uint8:
      return sample_view(v, static_cast<const std::uint8_t*>(s.data), s.height, s.width, x, y);
    case AugmentSourceType::Uint16:
      return sample_view(v, static_cast<const std::uint16_t*>(s.data), s.height, s.width, x, y);
    default:
      return sample_view(v, static_cast<const float*>(s.data), s.height, s.width, x, y);
  }
}

RL_HD std::uint32_t float_bits(float f) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(f);
#else
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
#endif
}

RL_HD float bits_float(std::uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float f;
  std::memcpy(&f, &u, 4);
  return f;
#endif
}

// log2(x) for normal x > 0: exponent plus the atanh series of the mantissa folded into
// [sqrt(1/2), sqrt(2)), to s^9 (series error < 1e-9). Fixed float32 operations, so the host
// and the device compute the same bits (libm and CUDA's logf differ in the last place).
RL_HD float log2_poly(float x) {
  const std::uint32_t u = float_bits(x);
  float m = bits_float((u & 0x7fffffu) | 0x3f800000u);  // [1, 2)
  float e = static_cast<float>(static_cast<int>(u >> 23) - 127);
  const bool high = m > 1.41421356f;
  m = high ? fmul(m, 0.5f) : m;
  e = high ? fadd(e, 1.0f) : e;
  const float s = fadd(m, -1.0f) / fadd(m, 1.0f);
  const float s2 = fmul(s, s);
  float p = ffma(s2, 0.111111111f, 0.142857143f);
  p = ffma(p, s2, 0.2f);
  p = ffma(p, s2, 0.333333333f);
  p = ffma(p, s2, 1.0f);
  return ffma(fmul(s, p), 2.88539008f, e);  // 2/ln(2) * atanh(s) + exponent
}

// 2^t for t in [-126, 0]: 2^round(t) from the exponent bits times e^((t - n) ln 2) by Taylor
// to degree 7 (error < 1e-8).
RL_HD float exp2_poly(float t) {
  const float n = floorf(fadd(t, 0.5f));
  const float f = fmul(fadd(t, -n), 0.693147181f);  // in [-0.35, 0.35]
  float q = ffma(f, 1.98412698e-4f, 1.38888889e-3f);
  q = ffma(q, f, 8.33333333e-3f);
  q = ffma(q, f, 4.16666667e-2f);
  q = ffma(q, f, 0.166666667f);
  q = ffma(q, f, 0.5f);
  q = ffma(q, f, 1.0f);
  q = ffma(q, f, 1.0f);
  return fmul(q, bits_float(static_cast<std::uint32_t>(static_cast<int>(n) + 127) << 23));
}

// cos(2 pi u) for u in [0, 1): folded to an angle in [0, pi/2], Taylor to x^12 (error < 1e-8).
RL_HD float cos_2pi(float u) {
  float a = fadd(u, -floorf(fadd(u, 0.5f)));  // [-1/2, 1/2], same cosine
  a = a < 0.0f ? -a : a;                      // [0, 1/2]
  const bool flip = a > 0.25f;
  a = flip ? fadd(0.5f, -a) : a;              // cos(2 pi a) = -cos(2 pi (1/2 - a))
  const float x = fmul(a, 6.28318531f);
  const float x2 = fmul(x, x);
  float c = ffma(x2, 2.08767570e-9f, -2.75573192e-7f);
  c = ffma(c, x2, 2.48015873e-5f);
  c = ffma(c, x2, -1.38888889e-3f);
  c = ffma(c, x2, 4.16666667e-2f);
  c = ffma(c, x2, -0.5f);
  c = ffma(c, x2, 1.0f);
  return flip ? -c : c;
}

// v^g for v in [0, 1] and g > 0, as exp2(g * log2(v)) with the polynomials above: the same
// bits on both backends, and a loop over it vectorises on the CPU (selects, no branches).
// Relative error about 1e-6 for tiny v (the rounding of g * log2(v)), 1e-7 near 1.
RL_HD float pow01(float v, float g) {
  const float x = v < 1.17549435e-38f ? 1.17549435e-38f : (v > 1.0f ? 1.0f : v);
  float t = fmul(g, log2_poly(x));
  t = t < -126.0f ? -126.0f : t;
  const float r = exp2_poly(t);
  return v <= 0.0f ? 0.0f : (v >= 1.0f ? 1.0f : (t <= -126.0f ? 0.0f : r));
}

// Raw value -> display value with the view's intensity transform (everything before blur).
RL_HD float shade(const AugmentView& v, float raw) {
  float value = ffma(raw, v.value_scale, v.value_offset);
  if (v.window_clamp) value = clamp01(value);
  if (v.intensity) {
    value = clamp01(fmul(value, v.brightness));
    value = clamp01(ffma(fadd(value, -0.5f), v.contrast, 0.5f));
    if (v.gamma != 1.0f) value = pow01(value, v.gamma);
  }
  return value;
}

// Standard normal for pixel `index` of a view: Box-Muller on two 24-bit uniforms, with the
// shared log2/cos polynomials and IEEE sqrt, so both backends draw the same bits.
RL_HD float pixel_normal(const AugmentKey& key, const AugmentView& v, std::uint32_t index) {
  philox::Uint4 bits = philox::philox4x32_10(philox::Uint4{index, v.view | (2u << 24), v.image_key, key.step}, key.seed_lo,
                                             key.seed_hi);
  float u1 = philox::uniform24_open0(bits.x);  // (0, 1]: log is finite
  float u2 = philox::uniform24(bits.y);
  float radius = sqrtf(fmul(-1.38629436f, log2_poly(u1)));  // -2 ln(u1) = -2 ln(2) log2(u1)
  return fmul(radius, cos_2pi(u2));
}

// Everything after blur: noise, normalisation.
RL_HD float finish(const AugmentKey& key, const AugmentView& v, float value, std::uint32_t index, float norm_scale,
                   float norm_offset) {
  if (v.noise_std > 0.0f) value = ffma(v.noise_std, pixel_normal(key, v, index), value);
  return ffma(value, norm_scale, norm_offset);
}


// float32 -> bfloat16 bits, round to nearest even, NaN kept quiet.
RL_HD std::uint16_t to_bfloat16(float f) {
  std::uint32_t u = float_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((u >> 16) | 0x40u);
  return static_cast<std::uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

// float32 -> IEEE half bits, round to nearest even, overflow to infinity, subnormals kept.
RL_HD std::uint16_t to_half(float f) {
  std::uint32_t u = float_bits(f);
  std::uint32_t sign = (u >> 16) & 0x8000u;
  std::uint32_t abs = u & 0x7fffffffu;
  if (abs > 0x7f800000u) return static_cast<std::uint16_t>(sign | 0x7e00u);
  if (abs >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00u);
  if (abs < 0x38800000u) {  // half subnormal or zero
    if (abs < 0x33000000u) return static_cast<std::uint16_t>(sign);
    std::uint32_t exponent = abs >> 23;
    std::uint32_t mantissa = (abs & 0x7fffffu) | 0x800000u;
    std::uint32_t shift = 126u - exponent;  // 14..24
    std::uint32_t half = mantissa >> shift;
    std::uint32_t rest = mantissa & ((1u << shift) - 1u);
    std::uint32_t halfway = 1u << (shift - 1u);
    if (rest > halfway || (rest == halfway && (half & 1u))) ++half;
    return static_cast<std::uint16_t>(sign | half);
  }
  std::uint32_t rounded = abs + 0xfffu + ((abs >> 13) & 1u);
  return static_cast<std::uint16_t>(sign | ((rounded - 0x38000000u) >> 13));
}

RL_HD void store_output(void* out, AugmentOutputType type, std::int64_t index, float value) {
  switch (type) {
    case AugmentOutputType::BFloat16:
      static_cast<std::uint16_t*>(out)[index] = to_bfloat16(value);
      break;
    case AugmentOutputType::Float16:
      static_cast<std::uint16_t*>(out)[index] = to_half(value);
      break;
    default:
      static_cast<float*>(out)[index] = value;
  }
}

}  // namespace aug
}  // namespace radlearn
