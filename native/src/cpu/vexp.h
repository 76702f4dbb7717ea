// 16-wide float vectors (GCC/Clang vector extension) and a vectorised exp, for the softmax-
// heavy kernels (self-distillation losses run exp over tens of millions of logits per step;
// std::exp does not vectorise). exp16 is the Cephes single-precision method: x = n ln2 + r,
// |r| <= ln2/2, a degree-6 polynomial for e^r, then scale by 2^n through the exponent bits.
// Relative error about 2 ulp over [-87.3, 88.3]; below -87.3 it returns 0, above 88.3 it
// saturates at e^88.3 (callers subtract a maximum first, so arguments are <= 0).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "radlearn/common.h"

namespace radlearn {
namespace vec {

inline constexpr int kWidth = 16;

#if defined(__GNUC__)
typedef float V16 __attribute__((vector_size(kWidth * sizeof(float)), aligned(4)));
typedef std::int32_t I16 __attribute__((vector_size(kWidth * sizeof(std::int32_t)), aligned(4)));

inline V16 splat(float v) { return V16{} + v; }
inline V16 load(const float* p) {
  V16 v;
  std::memcpy(&v, p, sizeof(V16));
  return v;
}
inline void store(float* p, V16 v) { std::memcpy(p, &v, sizeof(V16)); }

inline V16 select(I16 mask, V16 a, V16 b) { return (V16)((mask & (I16)a) | (~mask & (I16)b)); }
inline V16 vmax(V16 a, V16 b) { return select(a > b, a, b); }
inline V16 vmin(V16 a, V16 b) { return select(a < b, a, b); }
inline float hmax(V16 v) {
  float m = v[0];
  for (int i = 1; i < kWidth; ++i) m = v[i] > m ? v[i] : m;
  return m;
}
// Pairwise lane sum in float64 (fixed order).
inline double hsum(V16 v) {
  double s = 0.0;
  for (int i = 0; i < kWidth; ++i) s += static_cast<double>(v[i]);
  return s;
}

inline V16 exp16(V16 x) {
  const V16 hi = splat(88.3f), lo = splat(-87.3f);
  I16 underflow = x < lo;
  x = vmax(vmin(x, hi), lo);
  // n = round(x / ln2) by the 1.5 * 2^23 trick (exact for |x / ln2| < 2^22).
  V16 n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  V16 r = x - n * 0.693359375f - n * -2.12194440e-4f;
  V16 p = splat(1.9875691500e-4f);
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  I16 bits = (__builtin_convertvector(n, I16) + 127) << 23;
  return select(underflow, V16{}, p * (V16)bits);
}

// The same function for one value (row tails), so tails round like the body.
inline float exp1(float x) { return exp16(splat(x))[0]; }
#else
#error "radlearn's CPU kernels need the GCC/Clang vector extension (vexp.h)"
#endif

}  // namespace vec
}  // namespace radlearn
