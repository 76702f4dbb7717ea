// Branch-free float32 exp and log1p written so GCC/Clang vectorise loops that call them
// (libm's expf/log1pf are scalar calls; the contrastive tiles evaluate a few of these per
// logit, which would otherwise cost as much as the dot products).
//
// exp: x = n ln2 + r with |r| <= ln2/2 (n = round(x / ln2)) (ln2 split in two parts so n*ln2 is exact enough), a
// degree-6 minimax polynomial for e^r (Cephes' expf coefficients), and 2^n built from bits.
// Inputs are clamped to [-87.3, 88.3]; below -87.3 the result is flushed to 0. Relative
// error about 2 ulp over the range.
// log: x = m 2^e with m in [sqrt(1/2), sqrt(2)), a degree-9 polynomial in m - 1 (Cephes'
// logf coefficients). log1p(t) = log(1 + t) corrected by ((1 + t) - 1 - t) / (1 + t), which
// restores the low bits lost when rounding 1 + t (accurate for tiny t too).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

// Always inlined: an out-of-line call inside a loop stops the vectoriser.
#if defined(__GNUC__)
#define RL_VMATH_INLINE inline __attribute__((always_inline))
#else
#define RL_VMATH_INLINE inline
#endif

namespace radlearn {
namespace vmath {

RL_VMATH_INLINE float bits_to_float(std::uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

RL_VMATH_INLINE std::uint32_t float_to_bits(float value) {
  std::uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

RL_VMATH_INLINE float exp(float x) {
  const float clamped = x < -87.3f ? -87.3f : (x > 88.3f ? 88.3f : x);
  // Round to nearest by adding 1.5 * 2^23 (no floor call, which blocks vectorisation).
  const float n = (clamped * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  const float r = (clamped - n * 0.693359375f) + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float e_r = p * (r * r) + r + 1.0f;
  const float two_n = bits_to_float(static_cast<std::uint32_t>(static_cast<std::int32_t>(n) + 127) << 23);
  return x < -87.3f ? 0.0f : e_r * two_n;
}

// Natural log of a positive, finite, normal x.
RL_VMATH_INLINE float log(float x) {
  const std::uint32_t bits = float_to_bits(x);
  float e = static_cast<float>(static_cast<std::int32_t>((bits >> 23) & 0xffu) - 126);  // x = m 2^e, m in [0.5, 1)
  float m = bits_to_float((bits & 0x007fffffu) | 0x3f000000u);
  const bool low = m < 0.707106781186547524f;
  e = low ? e - 1.0f : e;
  m = low ? m + m - 1.0f : m - 1.0f;
  const float z = m * m;
  float y = 7.0376836292e-2f;
  y = y * m - 1.1514610310e-1f;
  y = y * m + 1.1676998740e-1f;
  y = y * m - 1.2420140846e-1f;
  y = y * m + 1.4249322787e-1f;
  y = y * m - 1.6668057665e-1f;
  y = y * m + 2.0000714765e-1f;
  y = y * m - 2.4999993993e-1f;
  y = y * m + 3.3333331174e-1f;
  y = y * z * m;
  y += e * -2.12194440e-4f;
  y -= 0.5f * z;
  return (m + y) + e * 0.693359375f;
}

// log(1 + t) for t >= 0.
RL_VMATH_INLINE float log1p(float t) {
  const float u = 1.0f + t;
  return log(u) - ((u - 1.0f) - t) / u;
}

}  // namespace vmath
}  // namespace radlearn
