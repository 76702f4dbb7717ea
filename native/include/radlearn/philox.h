// Philox-4x32-10 counter-based random numbers (Salmon et al., "Parallel random numbers: as
// easy as 1, 2, 3", SC'11), one implementation for the host and the device.
//
// A draw is a pure function of (key, counter): no state, no sequence. radlearn keys every
// random decision of the augmentation by (seed, step, image key, view, what, index), so a
// view's parameters and noise never depend on batch composition, thread count or backend.
// Only 32-bit integer multiplies (hi/lo halves of a 64-bit product), so the host and CUDA
// produce the same bits.
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define RL_HD __host__ __device__ __forceinline__
#elif defined(__GNUC__)
#define RL_HD inline __attribute__((always_inline))
#else
#define RL_HD inline
#endif

namespace radlearn {
namespace philox {

struct Uint4 {
  std::uint32_t x, y, z, w;
};

constexpr std::uint32_t kMul0 = 0xD2511F53u;
constexpr std::uint32_t kMul1 = 0xCD9E8D57u;
constexpr std::uint32_t kWeyl0 = 0x9E3779B9u;  // golden ratio
constexpr std::uint32_t kWeyl1 = 0xBB67AE85u;  // sqrt(3) - 1

RL_HD std::uint32_t mulhilo(std::uint32_t a, std::uint32_t b, std::uint32_t* hi) {
  std::uint64_t product = static_cast<std::uint64_t>(a) * static_cast<std::uint64_t>(b);
  *hi = static_cast<std::uint32_t>(product >> 32);
  return static_cast<std::uint32_t>(product);
}

// Ten rounds of the Philox S-box with the key schedule bumped by the Weyl constants.
RL_HD Uint4 philox4x32_10(Uint4 counter, std::uint32_t key0, std::uint32_t key1) {
  Uint4 c = counter;
  for (int round = 0; round < 10; ++round) {
    std::uint32_t hi0, hi1;
    std::uint32_t lo0 = mulhilo(kMul0, c.x, &hi0);
    std::uint32_t lo1 = mulhilo(kMul1, c.z, &hi1);
    c = Uint4{hi1 ^ c.y ^ key0, lo1, hi0 ^ c.w ^ key1, lo0};
    key0 += kWeyl0;
    key1 += kWeyl1;
  }
  return c;
}

// Uniform in [0, 1) with 24 random bits (exact in float32).
RL_HD float uniform24(std::uint32_t bits) { return static_cast<float>(bits >> 8) * (1.0f / 16777216.0f); }
// Uniform in (0, 1] with 24 random bits (safe for log()).
RL_HD float uniform24_open0(std::uint32_t bits) { return static_cast<float>((bits >> 8) + 1u) * (1.0f / 16777216.0f); }

}  // namespace philox
}  // namespace radlearn
