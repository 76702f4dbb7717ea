// float32 <-> bfloat16 / float16 conversion on the host, round to nearest even, NaN and
// infinities preserved. Used when uploading float32 data into half-precision device tensors.
#pragma once

#include <cstdint>

namespace radlearn {

std::uint16_t float_to_bfloat16(float value);
float bfloat16_to_float(std::uint16_t bits);
std::uint16_t float_to_half(float value);
float half_to_float(std::uint16_t bits);

void floats_to_bfloat16(const float* in, std::uint16_t* out, std::int64_t n);
void bfloat16_to_floats(const std::uint16_t* in, float* out, std::int64_t n);
void floats_to_half(const float* in, std::uint16_t* out, std::int64_t n);
void half_to_floats(const std::uint16_t* in, float* out, std::int64_t n);

}  // namespace radlearn
