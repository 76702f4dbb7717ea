// Self-distillation losses on the GPU (contract and formulas in radlearn/distill.h).
//
// Teacher probabilities: centered softmax with one 256-thread block per row (block max, block
// sum-exp, then a write pass), or log-domain Sinkhorn-Knopp with a thread per prototype for the
// prototype log-sum-exps (coalesced across prototypes) and a block per row for the row ones.
// Student rows: one block per row, two passes over the row (max/sum-exp, then softmax, summed
// teacher targets, gradient written directly and the row's loss in float64); the per-row losses
// are summed by a single block in a fixed order, so the loss is deterministic.
// KoLeo: rows are normalised with the l2norm kernels; the nearest-neighbour search runs one
// block per row, its 8 warps striding over candidates (lanes over features, warp shuffles), the
// best (largest dot, smallest index on ties) combined in shared memory. The gradient wrt the
// normalised rows is gathered per row (no atomics: each row scans the neighbour list for rows
// that chose it), then the l2norm backward kernel maps it to x.
// Scratch: teacher probabilities [rows, K] floats (the one prototype-sized buffer), small
// per-row vectors, and the pairing plan (int32) uploaded from the host.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "cuda_check.cuh"
#include "radlearn/device.h"
#include "radlearn/distill.h"
#include "radlearn/l2norm.h"
#include "radlearn/trace.h"

namespace radlearn {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;

// Device memory owned for the duration of one op.
class Buffer {
 public:
  explicit Buffer(size_t bytes) : ptr_(bytes ? device_alloc(bytes) : nullptr) {}
  ~Buffer() { device_free(ptr_); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  template <class T>
  T* as() const {
    return static_cast<T*>(ptr_);
  }

 private:
  void* ptr_;
};

template <class T>
struct Upload {
  explicit Upload(const std::vector<T>& host) : buffer(host.size() * sizeof(T)) {
    if (!host.empty()) copy_to_device(buffer.as<T>(), host.data(), host.size() * sizeof(T));
  }
  T* get() const { return buffer.as<T>(); }
  Buffer buffer;
};

unsigned blocks_for(index_t n, int per_block) { return static_cast<unsigned>((n + per_block - 1) / per_block); }
unsigned grid_stride_blocks(index_t n) {
  return static_cast<unsigned>(std::min<index_t>((n + kThreads - 1) / kThreads, 65535));
}

__device__ inline float warp_max(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}
template <class T>
__device__ inline T warp_sum(T v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// Block-wide reductions for kThreads threads. `red` holds kWarps values; the leading
// __syncthreads() protects it from the previous reduction's readers.
__device__ float block_max(float v, float* red) {
  v = warp_max(v);
  __syncthreads();
  if (threadIdx.x % 32 == 0) red[threadIdx.x / 32] = v;
  __syncthreads();
  float r = red[0];
  for (int w = 1; w < kWarps; ++w) r = fmaxf(r, red[w]);
  return r;
}
template <class T>
__device__ T block_sum(T v, T* red) {
  v = warp_sum(v);
  __syncthreads();
  if (threadIdx.x % 32 == 0) red[threadIdx.x / 32] = v;
  __syncthreads();
  T r = red[0];
  for (int w = 1; w < kWarps; ++w) r += red[w];  // same order in every thread
  return r;
}

__device__ inline index_t source_row(const std::int32_t* row_index, index_t n) {
  return row_index ? static_cast<index_t>(row_index[n]) : n;
}

__global__ void __launch_bounds__(kThreads) centered_softmax_kernel(const float* __restrict__ teacher,
                                                                    const std::int32_t* __restrict__ row_index,
                                                                    const float* __restrict__ center, index_t k,
                                                                    float inv_tau, float* __restrict__ probs) {
  __shared__ float redf[kWarps];
  const index_t n = blockIdx.x;
  const float* t = teacher + source_row(row_index, n) * k;
  float* p = probs + n * k;
  float mx = -INFINITY;
  for (index_t i = threadIdx.x; i < k; i += kThreads) mx = fmaxf(mx, (t[i] - (center ? center[i] : 0.0f)) * inv_tau);
  mx = block_max(mx, redf);
  float sum = 0.0f;
  for (index_t i = threadIdx.x; i < k; i += kThreads) sum += expf((t[i] - (center ? center[i] : 0.0f)) * inv_tau - mx);
  sum = block_sum(sum, redf);
  const float inv = 1.0f / sum;
  for (index_t i = threadIdx.x; i < k; i += kThreads) p[i] = expf((t[i] - (center ? center[i] : 0.0f)) * inv_tau - mx) * inv;
}

__global__ void gather_scaled_kernel(const float* __restrict__ teacher, const std::int32_t* __restrict__ row_index,
                                     index_t rows, index_t k, float scale, float* __restrict__ x) {
  const index_t total = rows * k;
  for (index_t e = blockIdx.x * static_cast<index_t>(blockDim.x) + threadIdx.x; e < total;
       e += static_cast<index_t>(gridDim.x) * blockDim.x) {
    index_t n = e / k, i = e % k;
    x[e] = teacher[source_row(row_index, n) * k + i] * scale;
  }
}

// a_k = -LSE_n(x[n, k] + b_n): one thread per prototype.
__global__ void prototype_lse_kernel(const float* __restrict__ x, const float* __restrict__ b, index_t rows, index_t k,
                                     float* __restrict__ a) {
  const index_t i = blockIdx.x * static_cast<index_t>(blockDim.x) + threadIdx.x;
  if (i >= k) return;
  float mx = -INFINITY;
  for (index_t n = 0; n < rows; ++n) mx = fmaxf(mx, x[n * k + i] + b[n]);
  float sum = 0.0f;
  for (index_t n = 0; n < rows; ++n) sum += expf(x[n * k + i] + b[n] - mx);
  a[i] = -(mx + logf(sum));
}

// b_n = -LSE_k(x[n, k] + a_k): one block per row.
__global__ void __launch_bounds__(kThreads) row_lse_kernel(const float* __restrict__ x, const float* __restrict__ a,
                                                           index_t k, float* __restrict__ b) {
  __shared__ float redf[kWarps];
  const index_t n = blockIdx.x;
  const float* xr = x + n * k;
  float mx = -INFINITY;
  for (index_t i = threadIdx.x; i < k; i += kThreads) mx = fmaxf(mx, xr[i] + a[i]);
  mx = block_max(mx, redf);
  float sum = 0.0f;
  for (index_t i = threadIdx.x; i < k; i += kThreads) sum += expf(xr[i] + a[i] - mx);
  sum = block_sum(sum, redf);
  if (threadIdx.x == 0) b[n] = -(mx + logf(sum));
}

__global__ void sinkhorn_finish_kernel(float* __restrict__ x, const float* __restrict__ a, const float* __restrict__ b,
                                       index_t rows, index_t k) {
  const index_t total = rows * k;
  for (index_t e = blockIdx.x * static_cast<index_t>(blockDim.x) + threadIdx.x; e < total;
       e += static_cast<index_t>(gridDim.x) * blockDim.x)
    x[e] = expf(x[e] + a[e % k] + b[e / k]);
}

__global__ void __launch_bounds__(kThreads) soft_ce_kernel(const float* __restrict__ student, index_t k, float inv_tau,
                                                           const float* __restrict__ probs,
                                                           const std::int32_t* __restrict__ first,
                                                           const std::int32_t* __restrict__ count,
                                                           const std::int32_t* __restrict__ targets,
                                                           const float* __restrict__ weight,
                                                           const std::int32_t* __restrict__ order, float* __restrict__ grad,
                                                           double* __restrict__ row_loss) {
  __shared__ float redf[kWarps];
  __shared__ double redd[kWarps];
  const index_t r = order ? static_cast<index_t>(order[blockIdx.x]) : static_cast<index_t>(blockIdx.x);
  const float* s = student + r * k;
  float* g = grad + r * k;
  const int n_targets = count[r];
  if (n_targets == 0) {  // uniform across the block
    for (index_t i = threadIdx.x; i < k; i += kThreads) g[i] = 0.0f;
    if (threadIdx.x == 0) row_loss[r] = 0.0;
    return;
  }
  const std::int32_t* tr = targets + first[r];
  float smax = -INFINITY;
  for (index_t i = threadIdx.x; i < k; i += kThreads) smax = fmaxf(smax, s[i]);
  const float zmax = block_max(smax, redf) * inv_tau;
  float sum = 0.0f;
  for (index_t i = threadIdx.x; i < k; i += kThreads) sum += expf(s[i] * inv_tau - zmax);
  const float lse = zmax + logf(block_sum(sum, redf));
  const float coef = weight[r] * inv_tau;
  const float fcount = static_cast<float>(n_targets);
  double loss = 0.0;
  for (index_t i = threadIdx.x; i < k; i += kThreads) {
    float z = s[i] * inv_tau;
    float w = 0.0f;
    for (int t = 0; t < n_targets; ++t) w += probs[static_cast<index_t>(tr[t]) * k + i];
    g[i] = coef * (fcount * expf(z - lse) - w);
    loss += static_cast<double>(w) * static_cast<double>(lse - z);
  }
  loss = block_sum(loss, redd);
  if (threadIdx.x == 0) row_loss[r] = static_cast<double>(weight[r]) * loss;
}

// total = sum(values), one block, fixed order (deterministic).
__global__ void __launch_bounds__(kThreads) sum_kernel(const double* __restrict__ values, index_t n, double* total) {
  __shared__ double redd[kWarps];
  double s = 0.0;
  for (index_t i = threadIdx.x; i < n; i += kThreads) s += values[i];
  s = block_sum(s, redd);
  if (threadIdx.x == 0) *total = s;
}

__global__ void update_center_kernel(const float* __restrict__ center, const float* __restrict__ teacher,
                                     const std::int32_t* __restrict__ row_index, index_t rows, index_t k, float momentum,
                                     float* new_center) {
  const index_t i = blockIdx.x * static_cast<index_t>(blockDim.x) + threadIdx.x;
  if (i >= k) return;
  double sum = 0.0;
  for (index_t n = 0; n < rows; ++n) sum += teacher[source_row(row_index, n) * k + i];
  double c = center[i];  // read before writing: new_center may alias center
  new_center[i] = rows == 0 ? static_cast<float>(c)
                            : static_cast<float>(momentum * c + (1.0 - static_cast<double>(momentum)) * sum / rows);
}

// Nearest neighbour by largest dot product, j != i; ties go to the smallest j; no finite candidate
// (NaN dots) gives row 0, or row 1 for row 0 (the CPU's fallback).
__global__ void __launch_bounds__(kThreads) nearest_kernel(const float* __restrict__ y, index_t rows, index_t dim,
                                                           std::int32_t* __restrict__ nn) {
  __shared__ float best_dot[kWarps];
  __shared__ index_t best_j[kWarps];
  const index_t i = blockIdx.x;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const float* yi = y + i * dim;
  float best = -INFINITY;
  index_t arg = -1;
  for (index_t j = warp; j < rows; j += kWarps) {
    if (j == i) continue;  // uniform across the warp
    const float* yj = y + j * dim;
    float dot = 0.0f;
    for (index_t c = lane; c < dim; c += 32) dot = fmaf(yi[c], yj[c], dot);
    dot = warp_sum(dot);
    if (dot > best) best = dot, arg = j;
  }
  if (lane == 0) best_dot[warp] = best, best_j[warp] = arg;
  __syncthreads();
  if (threadIdx.x == 0) {
    float b = best_dot[0];
    index_t a = best_j[0];
    for (int w = 1; w < kWarps; ++w)
      if (best_j[w] >= 0 && (a < 0 || best_dot[w] > b || (best_dot[w] == b && best_j[w] < a))) b = best_dot[w], a = best_j[w];
    // No candidate beat -inf (every dot NaN: a NaN/Inf row): fall back to row 0 (row 1 for row 0),
    // as the CPU twin does. -1 would make the distance and gather kernels read y[-dim..-1].
    if (a < 0) a = i == 0 ? 1 : 0;
    nn[i] = static_cast<std::int32_t>(a);
  }
}

// d_i, the loss term -log(d_i + eps) / B and the coefficient -1 / (B d (d + eps)); one warp per row.
__global__ void koleo_distance_kernel(const float* __restrict__ y, const std::int32_t* __restrict__ nn, index_t rows,
                                      index_t dim, float* __restrict__ coef, double* __restrict__ row_loss) {
  const index_t i = blockIdx.x * static_cast<index_t>(kWarps) + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (i >= rows) return;
  const float* yi = y + i * dim;
  const float* yn = y + static_cast<index_t>(nn[i]) * dim;
  double sq = 0.0;
  for (index_t c = lane; c < dim; c += 32) {
    float d = yi[c] - yn[c];
    sq += static_cast<double>(d) * d;
  }
  sq = warp_sum(sq);
  if (lane == 0) {
    double d = sqrt(sq), inv_b = 1.0 / static_cast<double>(rows);
    row_loss[i] = -inv_b * log(d + static_cast<double>(kKoLeoEps));
    coef[i] = d == 0.0 ? 0.0f : static_cast<float>(-inv_b / (d * (d + static_cast<double>(kKoLeoEps))));
  }
}

// gy_i = coef_i (y_i - y_nn(i)) - sum_{k: nn(k) = i} coef_k (y_k - y_i); one warp per row.
__global__ void koleo_gather_kernel(const float* __restrict__ y, const std::int32_t* __restrict__ nn,
                                    const float* __restrict__ coef, index_t rows, index_t dim, float* __restrict__ gy) {
  const index_t i = blockIdx.x * static_cast<index_t>(kWarps) + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (i >= rows) return;
  const float* yi = y + i * dim;
  const float* yn = y + static_cast<index_t>(nn[i]) * dim;
  for (index_t c = lane; c < dim; c += 32) gy[i * dim + c] = coef[i] * (yi[c] - yn[c]);
  for (index_t kk = 0; kk < rows; ++kk) {
    if (nn[kk] != i) continue;  // uniform across the warp
    const float* yk = y + kk * dim;
    for (index_t c = lane; c < dim; c += 32) gy[i * dim + c] -= coef[kk] * (yk[c] - yi[c]);
  }
}

__global__ void ema_kernel(float* __restrict__ teacher, const float* __restrict__ student, index_t n, float keep, float take) {
  for (index_t i = blockIdx.x * static_cast<index_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<index_t>(gridDim.x) * blockDim.x)
    teacher[i] = keep * teacher[i] + take * student[i];
}

void sinkhorn_in_place(float* x, index_t rows, index_t k, int iterations) {
  Buffer a(k * sizeof(float)), b(rows * sizeof(float));
  RL_CUDA(cudaMemset(b.as<float>(), 0, rows * sizeof(float)));
  for (int it = 0; it < iterations; ++it) {
    prototype_lse_kernel<<<blocks_for(k, kThreads), kThreads>>>(x, b.as<float>(), rows, k, a.as<float>());
    check_launch_status("prototype_lse_kernel");
    row_lse_kernel<<<static_cast<unsigned>(rows), kThreads>>>(x, a.as<float>(), k, b.as<float>());
    check_launch_status("row_lse_kernel");
  }
  sinkhorn_finish_kernel<<<grid_stride_blocks(rows * k), kThreads>>>(x, a.as<float>(), b.as<float>(), rows, k);
  check_launch_status("sinkhorn_finish_kernel");
  RL_CUDA(cudaDeviceSynchronize());  // a and b are freed on return; do not rely on cudaFree to wait
}

void teacher_probs(const float* teacher, const std::int32_t* row_index, index_t rows, index_t k, const float* center,
                   const DistillConfig& config, float* probs) {
  const float inv_tau = 1.0f / config.teacher_temp;
  if (config.norm == TeacherNorm::Sinkhorn) {
    gather_scaled_kernel<<<grid_stride_blocks(rows * k), kThreads>>>(teacher, row_index, rows, k, inv_tau, probs);
    check_launch_status("gather_scaled_kernel");
    sinkhorn_in_place(probs, rows, k, config.sinkhorn_iterations);
    return;
  }
  centered_softmax_kernel<<<static_cast<unsigned>(rows), kThreads>>>(teacher, row_index, center, k, inv_tau, probs);
  check_launch_status("centered_softmax_kernel");
}

double soft_cross_entropy(const float* student, index_t k, float student_temp, const float* probs,
                          const SoftTargetPlan& plan, float* grad) {
  Upload<std::int32_t> first(plan.first), count(plan.count), targets(plan.targets);
  Upload<float> weight(plan.weight);
  Upload<std::int32_t> order(plan.order);
  Buffer row_loss(plan.student_rows * sizeof(double)), total(sizeof(double));
  soft_ce_kernel<<<static_cast<unsigned>(plan.student_rows), kThreads>>>(
      student, k, 1.0f / student_temp, probs, first.get(), count.get(), targets.get(), weight.get(),
      plan.order.empty() ? nullptr : order.get(), grad,
      row_loss.as<double>());
  check_launch_status("soft_ce_kernel");
  sum_kernel<<<1, kThreads>>>(row_loss.as<double>(), plan.student_rows, total.as<double>());
  check_launch_status("sum_kernel");
  double loss = 0.0;
  copy_to_host(&loss, total.as<double>(), sizeof(double));
  return loss;
}

double distill_loss(const float* student, const float* teacher, const float* center, const SoftTargetPlan& plan,
                    bool identity_rows, index_t k, const DistillConfig& config, float* grad, float* new_center,
                    float momentum) {
  const index_t rows = static_cast<index_t>(plan.teacher_rows.size());
  Upload<std::int32_t> row_index(identity_rows ? std::vector<std::int32_t>{} : plan.teacher_rows);
  const std::int32_t* ri = identity_rows ? nullptr : row_index.get();
  Buffer probs(static_cast<size_t>(rows * k) * sizeof(float));  // the one [rows, K] buffer
  if (rows > 0) teacher_probs(teacher, ri, rows, k, center, config, probs.as<float>());
  double loss = soft_cross_entropy(student, k, config.student_temp, probs.as<float>(), plan, grad);
  if (new_center) {
    update_center_kernel<<<blocks_for(k, kThreads), kThreads>>>(center, teacher, ri, rows, k, momentum, new_center);
    check_launch_status("update_center_kernel");
  }
  RL_CUDA(cudaDeviceSynchronize());
  return loss;
}

}  // namespace

void sinkhorn_knopp_cuda(const float* logits, index_t rows, index_t k, float temperature, int iterations, float* probs) {
  ScopedOp op("sinkhorn_knopp", "cuda");
  gather_scaled_kernel<<<grid_stride_blocks(rows * k), kThreads>>>(logits, nullptr, rows, k, 1.0f / temperature, probs);
  check_launch_status("gather_scaled_kernel");
  sinkhorn_in_place(probs, rows, k, iterations);
  RL_CUDA(cudaDeviceSynchronize());
}

void update_center_cuda(const float* center, const float* teacher, index_t rows, index_t k, float momentum,
                        float* new_center) {
  ScopedOp op("update_center", "cuda");
  update_center_kernel<<<blocks_for(k, kThreads), kThreads>>>(center, teacher, nullptr, rows, k, momentum, new_center);
  check_launch_status("update_center_kernel");
  RL_CUDA(cudaDeviceSynchronize());
}

double dino_loss_cuda(const float* student, const float* teacher, const float* center, index_t student_views,
                      index_t teacher_views, index_t batch, index_t k, const DistillConfig& config, float* grad,
                      float* new_center, float center_momentum) {
  ScopedOp op("dino_loss", "cuda");
  SoftTargetPlan plan = dino_plan(student_views, teacher_views, batch);
  return distill_loss(student, teacher, center, plan, true, k, config, grad, new_center, center_momentum);
}

double ibot_loss_cuda(const float* student, const float* teacher, const std::uint8_t* masks_host, const float* center,
                      index_t batch, index_t patches, index_t k, const DistillConfig& config, float* grad,
                      float* new_center, float center_momentum) {
  ScopedOp op("ibot_loss", "cuda");
  SoftTargetPlan plan = ibot_plan(masks_host, batch, patches);
  return distill_loss(student, teacher, center, plan, false, k, config, grad, new_center, center_momentum);
}

double koleo_loss_cuda(const float* x, index_t rows, index_t dim, float* grad) {
  ScopedOp op("koleo_loss", "cuda");
  if (rows < 2) throw Error(kErrInvalidArgument, "KoLeo needs at least 2 rows (a nearest neighbour)");
  Buffer y(static_cast<size_t>(rows * dim) * sizeof(float)), gy(static_cast<size_t>(rows * dim) * sizeof(float));
  Buffer nn(rows * sizeof(std::int32_t)), coef(rows * sizeof(float)), row_loss(rows * sizeof(double)), total(sizeof(double));
  l2norm_forward_cuda(x, y.as<float>(), rows, dim, kKoLeoNormEps);
  nearest_kernel<<<static_cast<unsigned>(rows), kThreads>>>(y.as<float>(), rows, dim, nn.as<std::int32_t>());
  check_launch_status("nearest_kernel");
  koleo_distance_kernel<<<blocks_for(rows, kWarps), kThreads>>>(y.as<float>(), nn.as<std::int32_t>(), rows, dim,
                                                                coef.as<float>(), row_loss.as<double>());
  check_launch_status("koleo_distance_kernel");
  koleo_gather_kernel<<<blocks_for(rows, kWarps), kThreads>>>(y.as<float>(), nn.as<std::int32_t>(), coef.as<float>(), rows,
                                                              dim, gy.as<float>());
  check_launch_status("koleo_gather_kernel");
  sum_kernel<<<1, kThreads>>>(row_loss.as<double>(), rows, total.as<double>());
  check_launch_status("sum_kernel");
  l2norm_backward_cuda(x, gy.as<float>(), grad, rows, dim, kKoLeoNormEps);
  double loss = 0.0;
  copy_to_host(&loss, total.as<double>(), sizeof(double));
  return loss;
}

void ema_teacher_update_cuda(float* teacher, const float* student, index_t n, float momentum) {
  ScopedOp op("ema_teacher_update", "cuda");
  if (n == 0) return;
  ema_kernel<<<grid_stride_blocks(n), kThreads>>>(teacher, student, n, momentum, 1.0f - momentum);
  check_launch_status("ema_kernel");
  RL_CUDA(cudaDeviceSynchronize());
}

}  // namespace radlearn
