// Host-side half-precision conversions (see radlearn/half.h). Bit manipulation, no
// dependency on CUDA headers, so CPU-only builds can still read half data back.
#include "radlearn/half.h"

#include <cmath>
#include <cstring>

namespace radlearn {
namespace {

std::uint32_t bits_of(float v) {
  std::uint32_t u;
  std::memcpy(&u, &v, 4);
  return u;
}

float float_of(std::uint32_t u) {
  float v;
  std::memcpy(&v, &u, 4);
  return v;
}

}  // namespace

std::uint16_t float_to_bfloat16(float value) {
  std::uint32_t u = bits_of(value);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((u >> 16) | 0x40u);  // quiet NaN
  std::uint32_t rounding = 0x7fffu + ((u >> 16) & 1u);  // round half to even
  return static_cast<std::uint16_t>((u + rounding) >> 16);
}

float bfloat16_to_float(std::uint16_t bits) { return float_of(static_cast<std::uint32_t>(bits) << 16); }

std::uint16_t float_to_half(float value) {
  std::uint32_t u = bits_of(value);
  std::uint32_t sign = (u >> 16) & 0x8000u;
  std::uint32_t abs = u & 0x7fffffffu;
  if (abs > 0x7f800000u) return static_cast<std::uint16_t>(sign | 0x7e00u);  // NaN
  if (abs >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00u);  // overflow rounds to inf
  if (abs < 0x38800000u) {
    // Subnormal half (or zero): scale into the subnormal grid and round to nearest even.
    float magnitude = float_of(abs);
    float scaled = magnitude * 16777216.0f;  // 2^24: one unit = smallest half subnormal
    std::uint32_t q = static_cast<std::uint32_t>(std::nearbyint(scaled));
    return static_cast<std::uint16_t>(sign | q);
  }
  std::uint32_t exponent = ((abs >> 23) - 112u) << 10;
  std::uint32_t mantissa = (abs >> 13) & 0x3ffu;
  std::uint32_t h = exponent | mantissa;
  std::uint32_t rest = abs & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;
  return static_cast<std::uint16_t>(sign | h);
}

float half_to_float(std::uint16_t bits) {
  std::uint32_t sign = (static_cast<std::uint32_t>(bits) & 0x8000u) << 16;
  std::uint32_t exponent = (bits >> 10) & 0x1fu;
  std::uint32_t mantissa = bits & 0x3ffu;
  if (exponent == 0) {
    float magnitude = static_cast<float>(mantissa) / 16777216.0f;
    return sign ? -magnitude : magnitude;
  }
  if (exponent == 31) return float_of(sign | 0x7f800000u | (mantissa << 13));
  return float_of(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}

void floats_to_bfloat16(const float* in, std::uint16_t* out, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) out[i] = float_to_bfloat16(in[i]);
}
void bfloat16_to_floats(const std::uint16_t* in, float* out, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) out[i] = bfloat16_to_float(in[i]);
}
void floats_to_half(const float* in, std::uint16_t* out, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) out[i] = float_to_half(in[i]);
}
void half_to_floats(const std::uint16_t* in, float* out, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) out[i] = half_to_float(in[i]);
}

}  // namespace radlearn
