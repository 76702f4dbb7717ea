// Fused AdamW and parameter EMA on the GPU (formulas in radlearn/optim.h).
//
// adamw_step runs three kernels on the default stream without a host round trip:
//   1. state_partials_kernel: grid-stride sum of g^2 over a fixed grid (kReduceBlocks x 256,
//      float64 per thread and in the block tree: the kernel is bandwidth-bound, so the
//      float64 adds are free), and the largest |p|, |m|, |v| (+inf for NaN/Inf) -> four
//      values per block;
//   2. state_finish_kernel (one thread): sums the partials in float64 in block order, takes
//      the maxima, and stores {norm, clip coefficient, verdict, max|p|, max|m|, max|v|} in
//      device memory; the verdict (adamw_verdict in optim.h, shared with the CPU) says whether
//      the step may be applied;
//   3. adamw_kernel: reads the coefficient, and when the verdict is Apply updates p, m, v in
//      one pass (float4 loads/stores when all four buffers are 16-byte aligned and the
//      length is a multiple of 4; a scalar loop otherwise). The step scalars are computed
//      on the host in float64 (as PyTorch does) and passed by value.
// The state (48 bytes) comes back to the host, which throws for a refused step. Per-parameter
// traffic: 16 B (pre-pass) + 4 B g + 8 B p + 8 B m + 8 B v (+1 B mask) = 44 bytes.
// grad_norm uses the pre-pass on g alone (norm_partials_kernel / norm_finish_kernel).
#include <cfloat>
#include <cmath>
#include <cstdint>

#include "cuda_check.cuh"
#include "radlearn/optim.h"
#include "radlearn/trace.h"
#include "reduce.cuh"

namespace radlearn {
namespace {

struct StepScalars {
  float b1, b2, one_b1, one_b2, eps, step_size, inv_bias2_sqrt, decay;
};

__global__ void norm_partials_kernel(const float* __restrict__ g, index_t length, double* __restrict__ partials) {
  __shared__ double scratch[32];
  double sum = 0.0;
  for (index_t i = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < length;
       i += static_cast<index_t>(gridDim.x) * blockDim.x) {
    double v = g[i];
    sum = fma(v, v, sum);
  }
  sum = block_reduce_sum(sum, scratch);
  if (threadIdx.x == 0) partials[blockIdx.x] = sum;
}

// state = {norm, clip coefficient, finite (1/0)}
__global__ void norm_finish_kernel(const double* __restrict__ partials, int blocks, double max_norm,
                                   double* __restrict__ state) {
  if (threadIdx.x != 0 || blockIdx.x != 0) return;
  double total = 0.0;
  for (int b = 0; b < blocks; ++b) total += partials[b];
  double norm = sqrt(total);
  double coef = 1.0;
  if (max_norm > 0.0) coef = fmin(1.0, max_norm / (norm + 1e-6));
  state[0] = norm;
  state[1] = coef;
  state[2] = isfinite(norm) ? 1.0 : 0.0;
}

__device__ inline float abs_or_inf(float x) {
  float a = fabsf(x);
  return a <= FLT_MAX ? a : INFINITY;  // NaN and Inf both count as "not finite"
}

// A second moment is a sum of squares: a negative one is as invalid as NaN.
__device__ inline float moment_or_inf(float x) { return x >= 0.0f && x <= FLT_MAX ? x : INFINITY; }

// Per block: {sum g^2, max|p|, max|m|, max|v|}. The g^2 loop is norm_partials_kernel's, so
// the norm has the same bits as grad_norm's.
__global__ void state_partials_kernel(const float* __restrict__ g, const float* __restrict__ p,
                                      const float* __restrict__ m, const float* __restrict__ v, index_t length,
                                      double* __restrict__ partials) {
  __shared__ double scratch[32];
  double sum = 0.0, max_p = 0.0, max_m = 0.0, max_v = 0.0;
  for (index_t i = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < length;
       i += static_cast<index_t>(gridDim.x) * blockDim.x) {
    double x = g[i];
    sum = fma(x, x, sum);
    max_p = fmax(max_p, static_cast<double>(abs_or_inf(p[i])));
    max_m = fmax(max_m, static_cast<double>(abs_or_inf(m[i])));
    max_v = fmax(max_v, static_cast<double>(moment_or_inf(v[i])));
  }
  sum = block_reduce_sum(sum, scratch);
  max_p = block_reduce_max(max_p, scratch);
  max_m = block_reduce_max(max_m, scratch);
  max_v = block_reduce_max(max_v, scratch);
  if (threadIdx.x == 0) {
    double* out = partials + 4 * static_cast<index_t>(blockIdx.x);
    out[0] = sum;
    out[1] = max_p;
    out[2] = max_m;
    out[3] = max_v;
  }
}

struct VerdictInputs {
  double max_norm, beta1, beta2;
  float step_size, decay, eps;
};

// state = {norm, clip coefficient, verdict, max|p|, max|m|, max|v|}
__global__ void state_finish_kernel(const double* __restrict__ partials, int blocks, VerdictInputs in,
                                    double* __restrict__ state) {
  if (threadIdx.x != 0 || blockIdx.x != 0) return;
  double total = 0.0, max_p = 0.0, max_m = 0.0, max_v = 0.0;
  for (int b = 0; b < blocks; ++b) {
    total += partials[4 * b];
    max_p = fmax(max_p, partials[4 * b + 1]);
    max_m = fmax(max_m, partials[4 * b + 2]);
    max_v = fmax(max_v, partials[4 * b + 3]);
  }
  AdamWScan scan;
  scan.grad_norm = sqrt(total);
  scan.max_params = static_cast<float>(max_p);
  scan.max_m = static_cast<float>(max_m);
  scan.max_v = static_cast<float>(max_v);
  double coef = 1.0;
  if (in.max_norm > 0.0) coef = fmin(1.0, in.max_norm / (scan.grad_norm + 1e-6));
  AdamWVerdict verdict = adamw_verdict(scan, coef, in.beta1, in.beta2, in.step_size, in.decay, in.eps);
  state[0] = scan.grad_norm;
  state[1] = coef;
  state[2] = static_cast<double>(static_cast<int>(verdict));
  state[3] = max_p;
  state[4] = max_m;
  state[5] = max_v;
}

__device__ inline float adamw_one(float p, float g, float& m, float& v, bool decay, const StepScalars& s) {
  if (decay) p *= s.decay;
  m = s.b1 * m + s.one_b1 * g;
  v = s.b2 * v + s.one_b2 * g * g;
  return p - s.step_size * m / (sqrtf(v) * s.inv_bias2_sqrt + s.eps);
}

__global__ void adamw_kernel(float* __restrict__ params, const float* __restrict__ grads, float* __restrict__ m,
                             float* __restrict__ v, const std::uint8_t* __restrict__ mask, index_t length,
                             StepScalars s, const double* __restrict__ state) {
  if (state[2] != static_cast<double>(static_cast<int>(AdamWVerdict::Apply))) return;  // refused: leave everything untouched
  const float coef = static_cast<float>(state[1]);
  const bool clipping = state[1] < 1.0;
  for (index_t i = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < length;
       i += static_cast<index_t>(gridDim.x) * blockDim.x) {
    float g = clipping ? grads[i] * coef : grads[i];
    float mi = m[i], vi = v[i];
    params[i] = adamw_one(params[i], g, mi, vi, mask == nullptr || mask[i] != 0, s);
    m[i] = mi;
    v[i] = vi;
  }
}

// Same update, four parameters per thread (requires 16-byte aligned buffers, length % 4 == 0).
__global__ void adamw_kernel_vec4(float4* __restrict__ params, const float4* __restrict__ grads, float4* __restrict__ m,
                                  float4* __restrict__ v, const uchar4* __restrict__ mask, index_t length4,
                                  StepScalars s, const double* __restrict__ state) {
  if (state[2] != static_cast<double>(static_cast<int>(AdamWVerdict::Apply))) return;
  const float coef = static_cast<float>(state[1]);
  const bool clipping = state[1] < 1.0;
  for (index_t i = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < length4;
       i += static_cast<index_t>(gridDim.x) * blockDim.x) {
    float4 p = params[i], g = grads[i], mi = m[i], vi = v[i];
    uchar4 d = mask ? mask[i] : make_uchar4(1, 1, 1, 1);
    if (clipping) {
      g.x *= coef;
      g.y *= coef;
      g.z *= coef;
      g.w *= coef;
    }
    p.x = adamw_one(p.x, g.x, mi.x, vi.x, d.x != 0, s);
    p.y = adamw_one(p.y, g.y, mi.y, vi.y, d.y != 0, s);
    p.z = adamw_one(p.z, g.z, mi.z, vi.z, d.z != 0, s);
    p.w = adamw_one(p.w, g.w, mi.w, vi.w, d.w != 0, s);
    params[i] = p;
    m[i] = mi;
    v[i] = vi;
  }
}

__global__ void ema_kernel(float* __restrict__ ema, const float* __restrict__ params, index_t length, float keep,
                           float take) {
  for (index_t i = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < length;
       i += static_cast<index_t>(gridDim.x) * blockDim.x)
    ema[i] = keep * ema[i] + take * params[i];
}

constexpr unsigned kStateDoubles = 6;

bool aligned16(const void* p) { return (reinterpret_cast<std::uintptr_t>(p) & 15u) == 0; }
bool aligned4(const void* p) { return (reinterpret_cast<std::uintptr_t>(p) & 3u) == 0; }

// Enough blocks to fill any current GPU several times over, few enough for grid-stride reuse.
unsigned update_blocks(index_t work) {
  index_t blocks = (work + 255) / 256;
  return static_cast<unsigned>(blocks < 8192 ? (blocks < 1 ? 1 : blocks) : 8192);
}

// Launches the norm kernels; returns the device state {norm, coefficient, finite} in the
// calling thread's scratch (layout: 3 doubles, then one float partial per block).
double* launch_norm(const float* grads, index_t length, double max_norm) {
  unsigned blocks = reduce_blocks_for(length, kReduceThreads);
  auto* state = static_cast<double*>(thread_scratch((3 + blocks) * sizeof(double)));
  double* partials = state + 3;
  norm_partials_kernel<<<blocks, kReduceThreads>>>(grads, length, partials);
  check_launch_status("norm_partials_kernel");
  norm_finish_kernel<<<1, 32>>>(partials, static_cast<int>(blocks), max_norm, state);
  check_launch_status("norm_finish_kernel");
  return state;
}

}  // namespace

double grad_norm_cuda(const float* grads, index_t length) {
  ScopedOp op("grad_norm", "cuda");
  if (length == 0) return 0.0;
  double* state = launch_norm(grads, length, 0.0);
  double host[3];
  RL_CUDA(cudaMemcpy(host, state, sizeof(host), cudaMemcpyDeviceToHost));
  return host[0];
}

double adamw_step_cuda(float* params, const float* grads, float* m, float* v, const std::uint8_t* decay_mask,
                       index_t length, const AdamWConfig& config) {
  ScopedOp op("adamw_step", "cuda");
  if (length == 0) return 0.0;
  const double t = static_cast<double>(config.step);
  StepScalars s;
  s.b1 = static_cast<float>(config.beta1);
  s.b2 = static_cast<float>(config.beta2);
  s.one_b1 = static_cast<float>(1.0 - config.beta1);
  s.one_b2 = static_cast<float>(1.0 - config.beta2);
  s.eps = static_cast<float>(config.eps);
  s.step_size = static_cast<float>(config.lr / (1.0 - std::pow(config.beta1, t)));
  s.inv_bias2_sqrt = static_cast<float>(1.0 / std::sqrt(1.0 - std::pow(config.beta2, t)));
  s.decay = static_cast<float>(1.0 - config.lr * config.weight_decay);
  unsigned blocks = reduce_blocks_for(length, kReduceThreads);
  auto* state = static_cast<double*>(thread_scratch((kStateDoubles + 4 * blocks) * sizeof(double)));
  double* partials = state + kStateDoubles;
  state_partials_kernel<<<blocks, kReduceThreads>>>(grads, params, m, v, length, partials);
  check_launch_status("state_partials_kernel");
  VerdictInputs in{config.max_grad_norm, config.beta1, config.beta2, s.step_size, s.decay, s.eps};
  state_finish_kernel<<<1, 32>>>(partials, static_cast<int>(blocks), in, state);
  check_launch_status("state_finish_kernel");
  bool vec = length % 4 == 0 && aligned16(params) && aligned16(grads) && aligned16(m) && aligned16(v) &&
             (decay_mask == nullptr || aligned4(decay_mask));
  if (vec) {
    index_t length4 = length / 4;
    adamw_kernel_vec4<<<update_blocks(length4), 256>>>(
        reinterpret_cast<float4*>(params), reinterpret_cast<const float4*>(grads), reinterpret_cast<float4*>(m),
        reinterpret_cast<float4*>(v), reinterpret_cast<const uchar4*>(decay_mask), length4, s, state);
    check_launch_status("adamw_kernel_vec4");
  } else {
    adamw_kernel<<<update_blocks(length), 256>>>(params, grads, m, v, decay_mask, length, s, state);
    check_launch_status("adamw_kernel");
  }
  double host[kStateDoubles];
  RL_CUDA(cudaMemcpy(host, state, sizeof(host), cudaMemcpyDeviceToHost));
  auto verdict = static_cast<AdamWVerdict>(static_cast<int>(host[2]));
  if (verdict == AdamWVerdict::InvalidState || verdict == AdamWVerdict::WouldOverflow) {
    AdamWScan scan;
    scan.grad_norm = host[0];
    scan.max_params = static_cast<float>(host[3]);
    scan.max_m = static_cast<float>(host[4]);
    scan.max_v = static_cast<float>(host[5]);
    throw_adamw_refusal(verdict, scan);
  }
  return host[0];
}

void ema_update_cuda(float* ema, const float* params, index_t length, float momentum) {
  ScopedOp op("ema_update", "cuda");
  if (length == 0) return;
  ema_kernel<<<update_blocks(length), 256>>>(ema, params, length, momentum, 1.0f - momentum);
  check_launch_status("ema_kernel");
  RL_CUDA(cudaDeviceSynchronize());
}

}  // namespace radlearn
