// Classification losses on the GPU (contracts and formulas in radlearn/losses.h).
//
// Each loss runs three kernels on the default stream, with no host round trip between them:
//   1. the loss kernel writes the UNSCALED gradient and, per block, partial sums of the loss,
//      the valid count and the number of bad labels (grid-stride over a fixed grid, so the
//      partition and the bits are the same on every run);
//   2. finish_kernel (one block) sums the partials in float64 in block order and stores
//      result = {loss / valid, valid, bad};
//   3. scale_kernel multiplies the gradient by 1 / valid (0 when nothing is valid).
// The host then copies the three numbers back. BCE runs one thread per element; softmax
// cross-entropy and the ordinal loss run one warp per row (shuffles for max / sums).
// Labels outside [0, classes) other than -1 (and non-integers) are counted as bad: the row
// is ignored on the device and the binding raises ERR_INVALID_ARGUMENT.
#include <cmath>

#include "cuda_check.cuh"
#include "radlearn/losses.h"
#include "radlearn/trace.h"
#include "reduce.cuh"

namespace radlearn {
namespace {

constexpr int kParts = 3;  // loss, valid, bad

__device__ inline float softplus_f(float z) { return fmaxf(z, 0.0f) + log1pf(expf(-fabsf(z))); }
__device__ inline float sigmoid_f(float z) {
  if (z >= 0.0f) return 1.0f / (1.0f + expf(-z));
  float e = expf(z);
  return e / (1.0f + e);
}

__device__ inline void store_partials(float loss, float valid, float bad, float* partials) {
  __shared__ float scratch[32];
  loss = block_reduce_sum(loss, scratch);
  valid = block_reduce_sum(valid, scratch);
  bad = block_reduce_sum(bad, scratch);
  if (threadIdx.x == 0) {
    partials[blockIdx.x * kParts + 0] = loss;
    partials[blockIdx.x * kParts + 1] = valid;
    partials[blockIdx.x * kParts + 2] = bad;
  }
}

__global__ void bce_kernel(const float* __restrict__ logits, const float* __restrict__ targets,
                           const float* __restrict__ mask, const float* __restrict__ pos_weight,
                           float* __restrict__ grad, index_t length, index_t classes, int policy,
                           float* __restrict__ partials) {
  float loss = 0.0f, valid = 0.0f;
  for (index_t i = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < length;
       i += static_cast<index_t>(gridDim.x) * blockDim.x) {
    float y = targets[i];
    bool ok = !(mask && mask[i] == 0.0f);
    if (ok && y < 0.0f) {
      if (policy == kUncertainOnes) y = 1.0f;
      else if (policy == kUncertainZeros) y = 0.0f;
      else ok = false;
    }
    if (!ok) {
      grad[i] = 0.0f;
      continue;
    }
    float z = logits[i];
    float lw = pos_weight ? 1.0f + (pos_weight[i % classes] - 1.0f) * y : 1.0f;
    loss += (1.0f - y) * z + lw * softplus_f(-z);
    grad[i] = (1.0f - y) - lw * sigmoid_f(-z);
    valid += 1.0f;
  }
  store_partials(loss, valid, 0.0f, partials);
}

// One warp per row.
__global__ void softmax_ce_kernel(const float* __restrict__ logits, const float* __restrict__ labels,
                                  const float* __restrict__ targets, float* __restrict__ grad, index_t rows,
                                  index_t classes, float smoothing, float tau, float* __restrict__ partials) {
  const int lane = threadIdx.x % 32;
  const index_t warps_total = static_cast<index_t>(gridDim.x) * (blockDim.x / 32);
  float loss = 0.0f, valid = 0.0f, bad = 0.0f;
  const float uniform = 1.0f / static_cast<float>(classes);
  for (index_t r = static_cast<index_t>(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32; r < rows; r += warps_total) {
    const float* z = logits + r * classes;
    float* g = grad + r * classes;
    float mass = 0.0f;
    index_t label = -1;
    bool row_bad = false;
    if (labels) {
      float l = labels[r];
      if (l >= 0.0f) {
        if (l < static_cast<float>(classes) && l == floorf(l)) {
          label = static_cast<index_t>(l);
          mass = 1.0f;
        } else {
          row_bad = true;
        }
      } else if (l != -1.0f) {
        row_bad = true;
      }
    } else {
      for (index_t c = lane; c < classes; c += 32) mass += targets[r * classes + c];
      mass = warp_reduce_sum(mass);
    }
    if (mass == 0.0f) {
      for (index_t c = lane; c < classes; c += 32) g[c] = 0.0f;
      if (lane == 0 && row_bad) bad += 1.0f;
      continue;
    }
    float zmax = -INFINITY;
    for (index_t c = lane; c < classes; c += 32) zmax = fmaxf(zmax, z[c]);
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) zmax = fmaxf(zmax, __shfl_xor_sync(0xffffffffu, zmax, offset));
    float sum_exp = 0.0f;
    for (index_t c = lane; c < classes; c += 32) sum_exp += expf((z[c] - zmax) / tau);
    const float lse = logf(warp_reduce_sum(sum_exp));
    float row_loss = 0.0f;
    for (index_t c = lane; c < classes; c += 32) {
      float q = labels ? (c == label ? 1.0f : 0.0f) : targets[r * classes + c];
      q = (1.0f - smoothing) * q + smoothing * uniform * mass;
      float logp = (z[c] - zmax) / tau - lse;
      row_loss -= q * logp;
      g[c] = tau * (expf(logp) * mass - q);
    }
    row_loss = warp_reduce_sum(row_loss);
    if (lane == 0) {
      loss += tau * tau * row_loss;
      valid += 1.0f;
    }
  }
  store_partials(loss, valid, bad, partials);
}

__global__ void ordinal_kernel(const float* __restrict__ logits, const float* __restrict__ levels,
                               float* __restrict__ grad, index_t rows, index_t thresholds,
                               float* __restrict__ partials) {
  const int lane = threadIdx.x % 32;
  const index_t warps_total = static_cast<index_t>(gridDim.x) * (blockDim.x / 32);
  float loss = 0.0f, valid = 0.0f, bad = 0.0f;
  for (index_t r = static_cast<index_t>(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32; r < rows; r += warps_total) {
    const float* z = logits + r * thresholds;
    float* g = grad + r * thresholds;
    float level = levels[r];
    bool ok = level >= 0.0f && level <= static_cast<float>(thresholds) && level == floorf(level);
    if (!ok) {
      for (index_t k = lane; k < thresholds; k += 32) g[k] = 0.0f;
      if (lane == 0 && level != -1.0f) bad += 1.0f;
      continue;
    }
    float row_loss = 0.0f;
    for (index_t k = lane; k < thresholds; k += 32) {
      float y = level > static_cast<float>(k) ? 1.0f : 0.0f;
      float zk = z[k];
      row_loss += (1.0f - y) * zk + softplus_f(-zk);
      g[k] = sigmoid_f(zk) - y;
    }
    row_loss = warp_reduce_sum(row_loss);
    if (lane == 0) {
      loss += row_loss;
      valid += 1.0f;
    }
  }
  store_partials(loss, valid, bad, partials);
}

// result = {loss_sum / valid (or 0), valid, bad}; sums in float64, in block order.
__global__ void finish_kernel(const float* __restrict__ partials, int blocks, double* __restrict__ result) {
  if (threadIdx.x != 0 || blockIdx.x != 0) return;
  double loss = 0.0, valid = 0.0, bad = 0.0;
  for (int b = 0; b < blocks; ++b) {
    loss += partials[b * kParts + 0];
    valid += partials[b * kParts + 1];
    bad += partials[b * kParts + 2];
  }
  result[0] = valid > 0 ? loss / valid : 0.0;
  result[1] = valid;
  result[2] = bad;
}

__global__ void scale_kernel(float* __restrict__ grad, index_t length, const double* __restrict__ result) {
  const float inv = result[1] > 0 ? static_cast<float>(1.0 / result[1]) : 0.0f;
  for (index_t i = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < length;
       i += static_cast<index_t>(gridDim.x) * blockDim.x)
    grad[i] *= inv;
}

// Runs finish + scale and copies the result back; throws on bad labels.
// Scratch layout: result (3 doubles), then kParts floats per block.
float* partials_for(unsigned blocks) {
  auto* base = static_cast<double*>(thread_scratch(3 * sizeof(double) + blocks * kParts * sizeof(float)));
  return reinterpret_cast<float*>(base + 3);
}

LossResult finish(const char* name, float* partials, unsigned blocks, float* grad, index_t grad_length) {
  double* result = reinterpret_cast<double*>(partials) - 3;
  finish_kernel<<<1, 32>>>(partials, static_cast<int>(blocks), result);
  check_launch_status("finish_kernel");
  if (grad_length > 0) {
    scale_kernel<<<reduce_blocks_for(grad_length, kReduceThreads), kReduceThreads>>>(grad, grad_length, result);
    check_launch_status("scale_kernel");
  }
  double host[3];
  RL_CUDA(cudaMemcpy(host, result, sizeof(host), cudaMemcpyDeviceToHost));
  if (host[2] > 0)
    throw Error(kErrInvalidArgument, std::string(name) + ": " + std::to_string(static_cast<long long>(host[2])) +
                                         " label(s) are neither -1 nor an integer class index in range");
  LossResult out;
  out.loss = host[0];
  out.valid = host[1];
  return out;
}

}  // namespace

LossResult bce_with_logits_cuda(const float* logits, const float* targets, const float* mask, const float* pos_weight,
                                float* grad, index_t rows, index_t classes, int policy) {
  ScopedOp op("bce_with_logits", "cuda");
  index_t length = rows * classes;
  if (length == 0) return LossResult{};
  unsigned blocks = reduce_blocks_for(length, kReduceThreads);
  float* partials = partials_for(blocks);
  bce_kernel<<<blocks, kReduceThreads>>>(logits, targets, mask, pos_weight, grad, length, classes, policy,
                                         partials);
  check_launch_status("bce_kernel");
  return finish("bceWithLogits", partials, blocks, grad, length);
}

LossResult softmax_cross_entropy_cuda(const float* logits, const float* labels, const float* targets, float* grad,
                                      index_t rows, index_t classes, float smoothing, float temperature) {
  ScopedOp op("softmax_cross_entropy", "cuda");
  if (rows == 0 || classes == 0) return LossResult{};
  constexpr int kWarps = kReduceThreads / 32;
  unsigned blocks = reduce_blocks_for(rows, kWarps);
  float* partials = partials_for(blocks);
  softmax_ce_kernel<<<blocks, kReduceThreads>>>(logits, labels, targets, grad, rows, classes, smoothing, temperature,
                                                partials);
  check_launch_status("softmax_ce_kernel");
  return finish("softmaxCrossEntropy", partials, blocks, grad, rows * classes);
}

LossResult ordinal_loss_cuda(const float* logits, const float* levels, float* grad, index_t rows, index_t levels_count) {
  ScopedOp op("ordinal_loss", "cuda");
  index_t thresholds = levels_count - 1;
  if (rows == 0 || thresholds <= 0) return LossResult{};
  constexpr int kWarps = kReduceThreads / 32;
  unsigned blocks = reduce_blocks_for(rows, kWarps);
  float* partials = partials_for(blocks);
  ordinal_kernel<<<blocks, kReduceThreads>>>(logits, levels, grad, rows, thresholds, partials);
  check_launch_status("ordinal_kernel");
  return finish("ordinalLoss", partials, blocks, grad, rows * thresholds);
}

}  // namespace radlearn
