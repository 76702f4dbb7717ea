// Self-distillation losses on the CPU (contract and formulas in radlearn/distill.h).
//
// DINO / iBOT: teacher probabilities are computed once into one [rows, K] buffer (the only
// prototype-sized scratch); student rows are then streamed: pass 1 finds max and sum-exp of
// s / tau_s, pass 2 forms softmax, the summed teacher targets, the row's loss and gradient in
// 16-wide chunks and writes the gradient straight into the caller's buffer. Rows go to the
// thread pool; per-row losses (float64) are summed in row order, so results do not depend on
// the thread count. exp is the vectorised exp16 (vexp.h).
// KoLeo: nearest neighbours from the packed tile GEMM (gemm_nt.h) on normalised rows, 32 rows
// at a time into a thread-local [32, B] tile (max dot product <=> min distance for unit vectors).
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cpu/gemm_nt.h"
#include "cpu/vexp.h"
#include "radlearn/distill.h"
#include "radlearn/l2norm.h"
#include "radlearn/thread_pool.h"
#include "radlearn/trace.h"

namespace radlearn {

using vec::V16;
using vec::kWidth;

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

void check_int32(index_t n, const char* what) {
  if (n > index_t{2147483647}) throw Error(kErrShape, std::string(what) + " exceeds 2^31 entries");
}

index_t row_grain(index_t k) { return std::max<index_t>(1, 16384 / std::max<index_t>(1, k)); }

// Softmax of (row - center) * inv_tau into dst (center may be nullptr).
void centered_softmax_row(const float* row, const float* center, index_t k, float inv_tau, float* dst) {
  V16 vmax = vec::splat(kNegInf);
  index_t i = 0;
  for (; i + kWidth <= k; i += kWidth) {
    V16 z = vec::load(row + i);
    if (center) z -= vec::load(center + i);
    vec::store(dst + i, z * inv_tau);
    vmax = vec::vmax(vmax, z * inv_tau);
  }
  float mx = vec::hmax(vmax);
  for (; i < k; ++i) {
    float z = (row[i] - (center ? center[i] : 0.0f)) * inv_tau;
    dst[i] = z;
    mx = std::max(mx, z);
  }
  double sum = 0.0;
  V16 acc{};
  i = 0;
  for (int n = 0; i + kWidth <= k; i += kWidth) {
    V16 e = vec::exp16(vec::load(dst + i) - mx);
    vec::store(dst + i, e);
    acc += e;
    if (++n == 64) {  // flush float lanes into float64 every 1024 values
      sum += vec::hsum(acc);
      acc = V16{};
      n = 0;
    }
  }
  sum += vec::hsum(acc);
  for (; i < k; ++i) {
    dst[i] = vec::exp1(dst[i] - mx);
    sum += dst[i];
  }
  float inv = static_cast<float>(1.0 / sum);
  for (i = 0; i < k; ++i) dst[i] *= inv;
}

// log sum_i exp(scale * x[i] + add[i]) (scale > 0; add may be nullptr) in one sweep over
// memory: each block of 1024 values (4 KiB, stays in L1) is scanned for its max, then summed
// relative to the running max, the running sum being rescaled when the max grows. Large rows
// (K = 65,536 is 256 KiB) are thus read once from L2/DRAM instead of twice.
template <bool kHasAdd>
float log_sum_exp_impl(const float* x, const float* add, index_t k, float scale) {
  constexpr index_t kBlock = 1024;
  float run_max = kNegInf;
  double run_sum = 0.0;
  for (index_t b0 = 0; b0 < k; b0 += kBlock) {
    const index_t n = std::min(kBlock, k - b0);
    const float* xb = x + b0;
    const float* ab = kHasAdd ? add + b0 : nullptr;
    auto value = [&](index_t i) {
      if constexpr (kHasAdd) return vec::load(xb + i) * scale + vec::load(ab + i);
      else return vec::load(xb + i) * scale;
    };
    auto value1 = [&](index_t i) {
      if constexpr (kHasAdd) return xb[i] * scale + ab[i];
      else return xb[i] * scale;
    };
    V16 vmax = vec::splat(kNegInf);
    index_t i = 0;
    for (; i + kWidth <= n; i += kWidth) vmax = vec::vmax(vmax, value(i));
    float block_max = vec::hmax(vmax);
    for (; i < n; ++i) block_max = std::max(block_max, value1(i));
    if (block_max > run_max) {
      run_sum *= std::exp(static_cast<double>(run_max) - block_max);  // 0 on the first block
      run_max = block_max;
    }
    V16 acc{};
    for (i = 0; i + kWidth <= n; i += kWidth) acc += vec::exp16(value(i) - run_max);
    double block_sum = vec::hsum(acc);
    for (; i < n; ++i) block_sum += vec::exp1(value1(i) - run_max);
    run_sum += block_sum;
  }
  return run_max + static_cast<float>(std::log(run_sum));
}

float log_sum_exp(const float* x, const float* add, index_t k, float scale) {
  return add ? log_sum_exp_impl<true>(x, add, k, scale) : log_sum_exp_impl<false>(x, nullptr, k, scale);
}

// Log-domain Sinkhorn-Knopp on x = logits / tau already stored in `x` ([rows, k]); writes the
// probabilities over x.
void sinkhorn_in_place(float* x, index_t rows, index_t k, int iterations) {
  std::vector<float> a(static_cast<size_t>(k), 0.0f), b(static_cast<size_t>(rows), 0.0f);
  constexpr index_t kChunk = 256;
  index_t chunks = (k + kChunk - 1) / kChunk;
  for (int it = 0; it < iterations; ++it) {
    // Prototypes: a_k = -LSE_n(x[n, k] + b_n), 256 prototypes per task, vectorised over k.
    parallel_for(chunks, 1, [&](index_t c0, index_t c1) {
      alignas(64) float mx[kChunk];
      alignas(64) float sum[kChunk];
      for (index_t c = c0; c < c1; ++c) {
        index_t k0 = c * kChunk, width = std::min(kChunk, k - k0);
        for (index_t j = 0; j < width; ++j) mx[j] = kNegInf, sum[j] = 0.0f;
        for (index_t n = 0; n < rows; ++n) {
          const float* xr = x + n * k + k0;
          float bn = b[n];
          for (index_t j = 0; j < width; ++j) mx[j] = std::max(mx[j], xr[j] + bn);
        }
        for (index_t n = 0; n < rows; ++n) {
          const float* xr = x + n * k + k0;
          float bn = b[n];
          index_t j = 0;
          for (; j + kWidth <= width; j += kWidth)
            vec::store(sum + j, vec::load(sum + j) + vec::exp16(vec::load(xr + j) + bn - vec::load(mx + j)));
          for (; j < width; ++j) sum[j] += vec::exp1(xr[j] + bn - mx[j]);
        }
        for (index_t j = 0; j < width; ++j) a[k0 + j] = -(mx[j] + std::log(sum[j]));
      }
    });
    // Rows: b_n = -LSE_k(x[n, k] + a_k).
    parallel_for(rows, row_grain(k), [&](index_t r0, index_t r1) {
      for (index_t n = r0; n < r1; ++n) b[n] = -log_sum_exp(x + n * k, a.data(), k, 1.0f);
    });
  }
  parallel_for(rows, row_grain(k), [&](index_t r0, index_t r1) {
    for (index_t n = r0; n < r1; ++n) {
      float* xr = x + n * k;
      float bn = b[n];
      index_t i = 0;
      for (; i + kWidth <= k; i += kWidth) vec::store(xr + i, vec::exp16(vec::load(xr + i) + vec::load(a.data() + i) + bn));
      for (; i < k; ++i) xr[i] = vec::exp1(xr[i] + a[i] + bn);
    }
  });
}

void gather_scaled(const float* teacher, const std::int32_t* row_index, index_t rows, index_t k, float scale,
                   float* dst) {
  parallel_for(rows, row_grain(k), [&](index_t r0, index_t r1) {
    for (index_t n = r0; n < r1; ++n) {
      const float* src = teacher + (row_index ? static_cast<index_t>(row_index[n]) : n) * k;
      float* d = dst + n * k;
      for (index_t i = 0; i < k; ++i) d[i] = src[i] * scale;
    }
  });
}

// The teacher-probability buffer is reused across calls: a fresh 32 MiB allocation is
// page-faulted in on every call (10-45 ms measured here, a sixth of the whole loss).
// Concurrent calls each hold their own buffer; the largest one is kept for the next call, so
// the process keeps at most one probability buffer alive between calls.
class CachedScratch {
 public:
  explicit CachedScratch(index_t n) {
    {
      std::lock_guard<std::mutex> lock(mutex());
      if (cache().size >= n) std::swap(held_, cache());
    }
    if (held_.size < n) {
      held_.data.reset(new float[static_cast<size_t>(n)]);
      held_.size = n;
    }
  }
  ~CachedScratch() {
    std::lock_guard<std::mutex> lock(mutex());
    if (held_.size > cache().size) std::swap(held_, cache());
  }
  CachedScratch(const CachedScratch&) = delete;
  CachedScratch& operator=(const CachedScratch&) = delete;
  float* get() { return held_.data.get(); }

 private:
  struct Block {
    std::unique_ptr<float[]> data;
    index_t size = 0;
  };
  static std::mutex& mutex() {
    static std::mutex m;
    return m;
  }
  static Block& cache() {
    static Block block;
    return block;
  }
  Block held_;
};

}  // namespace

SoftTargetPlan dino_plan(index_t student_views, index_t teacher_views, index_t batch) {
  if (teacher_views < 1 || student_views < 2 || teacher_views > student_views)
    throw Error(kErrInvalidArgument, "DINO needs 1 <= teacherViews <= studentViews and studentViews >= 2 (the first "
                                     "teacherViews student views are the teacher's global views), got studentViews=" +
                                         std::to_string(student_views) + ", teacherViews=" + std::to_string(teacher_views));
  check_int32(student_views * batch * teacher_views, "the DINO pairing");
  SoftTargetPlan plan;
  plan.student_rows = student_views * batch;
  double pairs = static_cast<double>(teacher_views) * static_cast<double>(student_views - 1);
  float weight = static_cast<float>(1.0 / (pairs * static_cast<double>(batch)));
  plan.first.reserve(plan.student_rows);
  for (index_t j = 0; j < student_views; ++j)
    for (index_t b = 0; b < batch; ++b) {
      plan.first.push_back(static_cast<std::int32_t>(plan.targets.size()));
      for (index_t i = 0; i < teacher_views; ++i)
        if (i != j) plan.targets.push_back(static_cast<std::int32_t>(i * batch + b));
      plan.count.push_back(static_cast<std::int32_t>(plan.targets.size()) - plan.first.back());
      plan.weight.push_back(weight);
    }
  plan.order.reserve(plan.student_rows);
  for (index_t b = 0; b < batch; ++b)
    for (index_t j = 0; j < student_views; ++j) plan.order.push_back(static_cast<std::int32_t>(j * batch + b));
  plan.teacher_rows.resize(static_cast<size_t>(teacher_views * batch));
  for (size_t n = 0; n < plan.teacher_rows.size(); ++n) plan.teacher_rows[n] = static_cast<std::int32_t>(n);
  return plan;
}

SoftTargetPlan ibot_plan(const std::uint8_t* masks, index_t batch, index_t patches) {
  check_int32(batch * patches, "the iBOT token count");
  SoftTargetPlan plan;
  plan.student_rows = batch * patches;
  std::vector<index_t> masked(static_cast<size_t>(batch), 0);
  index_t images = 0;
  for (index_t b = 0; b < batch; ++b) {
    for (index_t p = 0; p < patches; ++p) masked[b] += masks[b * patches + p] != 0;
    images += masked[b] > 0;
  }
  plan.first.reserve(plan.student_rows);
  for (index_t b = 0; b < batch; ++b) {
    float weight = masked[b] > 0 ? static_cast<float>(1.0 / (static_cast<double>(images) * masked[b])) : 0.0f;
    for (index_t p = 0; p < patches; ++p) {
      plan.first.push_back(static_cast<std::int32_t>(plan.targets.size()));
      bool on = masks[b * patches + p] != 0;
      if (on) {
        plan.targets.push_back(static_cast<std::int32_t>(plan.teacher_rows.size()));
        plan.teacher_rows.push_back(static_cast<std::int32_t>(b * patches + p));
      }
      plan.count.push_back(on ? 1 : 0);
      plan.weight.push_back(on ? weight : 0.0f);
    }
  }
  return plan;
}

void sinkhorn_knopp_cpu(const float* logits, index_t rows, index_t k, float temperature, int iterations, float* probs) {
  ScopedOp op("sinkhorn_knopp", "cpu");
  gather_scaled(logits, nullptr, rows, k, 1.0f / temperature, probs);
  sinkhorn_in_place(probs, rows, k, iterations);
}

void teacher_probs_cpu(const float* teacher, const std::int32_t* row_index, index_t rows, index_t k, const float* center,
                       const DistillConfig& config, float* probs) {
  ScopedOp op("teacher_probs", "cpu");
  float inv_tau = 1.0f / config.teacher_temp;
  if (config.norm == TeacherNorm::Sinkhorn) {
    gather_scaled(teacher, row_index, rows, k, inv_tau, probs);
    sinkhorn_in_place(probs, rows, k, config.sinkhorn_iterations);
    return;
  }
  parallel_for(rows, row_grain(k), [&](index_t r0, index_t r1) {
    for (index_t n = r0; n < r1; ++n) {
      const float* src = teacher + (row_index ? static_cast<index_t>(row_index[n]) : n) * k;
      centered_softmax_row(src, center, k, inv_tau, probs + n * k);
    }
  });
}

double soft_cross_entropy_cpu(const float* student, index_t k, float student_temp, const float* probs,
                              const SoftTargetPlan& plan, float* grad) {
  ScopedOp op("soft_cross_entropy", "cpu");
  const float inv_tau = 1.0f / student_temp;
  std::vector<double> row_loss(static_cast<size_t>(plan.student_rows), 0.0);
  const std::int32_t* order = plan.order.empty() ? nullptr : plan.order.data();
  parallel_for(plan.student_rows, row_grain(k), [&](index_t i0, index_t i1) {
    for (index_t idx = i0; idx < i1; ++idx) {
      const index_t r = order ? static_cast<index_t>(order[idx]) : idx;
      const float* s = student + r * k;
      float* g = grad + r * k;
      const int count = plan.count[r];
      if (count == 0) {
        std::fill(g, g + k, 0.0f);
        continue;
      }
      const std::int32_t* targets = plan.targets.data() + plan.first[r];
      // Pass 1: log-sum-exp of z = s / tau, one sweep over memory.
      const float lse = log_sum_exp(s, nullptr, k, inv_tau);
      // Pass 2: W = summed targets; loss += W (lse - z); grad = w / tau (count q - W).
      const float coef = plan.weight[r] * inv_tau;
      const float fcount = static_cast<float>(count);
      double loss = 0.0;
      V16 lacc{};
      index_t i = 0;
      for (int n = 0; i + kWidth <= k; i += kWidth) {
        V16 z = vec::load(s + i) * inv_tau;
        V16 w = vec::load(probs + static_cast<index_t>(targets[0]) * k + i);
        for (int t = 1; t < count; ++t) w += vec::load(probs + static_cast<index_t>(targets[t]) * k + i);
        V16 q = vec::exp16(z - lse);
        vec::store(g + i, coef * (fcount * q - w));
        lacc += w * (lse - z);
        if (++n == 64) {
          loss += vec::hsum(lacc);
          lacc = V16{};
          n = 0;
        }
      }
      loss += vec::hsum(lacc);
      for (; i < k; ++i) {
        float z = s[i] * inv_tau;
        float w = 0.0f;
        for (int t = 0; t < count; ++t) w += probs[static_cast<index_t>(targets[t]) * k + i];
        g[i] = coef * (fcount * vec::exp1(z - lse) - w);
        loss += static_cast<double>(w) * (lse - z);
      }
      row_loss[r] = static_cast<double>(plan.weight[r]) * loss;
    }
  });
  double total = 0.0;
  for (double v : row_loss) total += v;
  return total;
}

void update_center_cpu(const float* center, const float* teacher, const std::int32_t* row_index, index_t rows, index_t k,
                       float momentum, float* new_center) {
  ScopedOp op("update_center", "cpu");
  if (rows == 0) {
    if (new_center != center) std::copy(center, center + k, new_center);
    return;
  }
  constexpr index_t kChunk = 512;
  const double inv_rows = 1.0 / static_cast<double>(rows);
  parallel_for((k + kChunk - 1) / kChunk, 1, [&](index_t c0, index_t c1) {
    double sum[kChunk];
    for (index_t c = c0; c < c1; ++c) {
      index_t k0 = c * kChunk, width = std::min(kChunk, k - k0);
      std::fill(sum, sum + width, 0.0);
      for (index_t n = 0; n < rows; ++n) {
        const float* src = teacher + (row_index ? static_cast<index_t>(row_index[n]) : n) * k + k0;
        for (index_t j = 0; j < width; ++j) sum[j] += src[j];
      }
      for (index_t j = 0; j < width; ++j)
        new_center[k0 + j] = static_cast<float>(momentum * static_cast<double>(center[k0 + j]) +
                                                (1.0 - static_cast<double>(momentum)) * sum[j] * inv_rows);
    }
  });
}

double dino_loss_cpu(const float* student, const float* teacher, const float* center, index_t student_views,
                     index_t teacher_views, index_t batch, index_t k, const DistillConfig& config, float* grad,
                     float* new_center, float center_momentum) {
  ScopedOp op("dino_loss", "cpu");
  SoftTargetPlan plan = dino_plan(student_views, teacher_views, batch);
  const index_t rows = teacher_views * batch;
  // The one [views x prototypes] buffer: teacher probabilities, Vt * B * K floats.
  CachedScratch probs(rows * k);
  teacher_probs_cpu(teacher, nullptr, rows, k, center, config, probs.get());
  double loss = soft_cross_entropy_cpu(student, k, config.student_temp, probs.get(), plan, grad);
  if (new_center) update_center_cpu(center, teacher, nullptr, rows, k, center_momentum, new_center);
  return loss;
}

double ibot_loss_cpu(const float* student, const float* teacher, const std::uint8_t* masks, const float* center,
                     index_t batch, index_t patches, index_t k, const DistillConfig& config, float* grad,
                     float* new_center, float center_momentum) {
  ScopedOp op("ibot_loss", "cpu");
  SoftTargetPlan plan = ibot_plan(masks, batch, patches);
  const index_t rows = static_cast<index_t>(plan.teacher_rows.size());
  // Probabilities only for the masked tokens: M * K floats.
  CachedScratch probs(std::max<index_t>(1, rows * k));
  if (rows > 0) teacher_probs_cpu(teacher, plan.teacher_rows.data(), rows, k, center, config, probs.get());
  double loss = soft_cross_entropy_cpu(student, k, config.student_temp, probs.get(), plan, grad);
  if (new_center) update_center_cpu(center, teacher, plan.teacher_rows.data(), rows, k, center_momentum, new_center);
  return loss;
}

double koleo_loss_cpu(const float* x, index_t rows, index_t dim, float* grad) {
  ScopedOp op("koleo_loss", "cpu");
  if (rows < 2) throw Error(kErrInvalidArgument, "KoLeo needs at least 2 rows (a nearest neighbour), got " + std::to_string(rows));
  check_int32(rows, "KoLeo rows");
  std::vector<float> y(static_cast<size_t>(rows * dim));
  l2norm_forward_cpu(x, y.data(), rows, dim, kKoLeoNormEps);
  std::vector<std::int32_t> nn(static_cast<size_t>(rows));
  constexpr index_t kBlock = 32;
  parallel_for((rows + kBlock - 1) / kBlock, 1, [&](index_t b0, index_t b1) {
    thread_local std::vector<float> tile;
    tile.resize(static_cast<size_t>(kBlock * rows));
    for (index_t blk = b0; blk < b1; ++blk) {
      index_t i0 = blk * kBlock, count = std::min(kBlock, rows - i0);
      gemm::gemm_nt(y.data() + i0 * dim, dim, count, y.data(), dim, rows, dim, tile.data(), rows, 1.0f, false);
      for (index_t r = 0; r < count; ++r) {
        const float* dots = tile.data() + r * rows;
        float best = kNegInf;
        index_t arg = -1;
        for (index_t j = 0; j < rows; ++j)
          if (j != i0 + r && dots[j] > best) best = dots[j], arg = j;
        nn[i0 + r] = static_cast<std::int32_t>(arg < 0 ? (i0 + r == 0 ? 1 : 0) : arg);
      }
    }
  });
  // Distances from the differences, the loss, and the gradient wrt y (scattered serially:
  // B * D work, negligible next to the search).
  std::vector<float> gy(static_cast<size_t>(rows * dim), 0.0f);
  std::vector<float> diff(static_cast<size_t>(dim));
  const double inv_b = 1.0 / static_cast<double>(rows);
  double loss = 0.0;
  for (index_t i = 0; i < rows; ++i) {
    const float* yi = y.data() + i * dim;
    const float* yn = y.data() + static_cast<index_t>(nn[i]) * dim;
    double sq = 0.0;
    for (index_t c = 0; c < dim; ++c) {
      diff[c] = yi[c] - yn[c];
      sq += static_cast<double>(diff[c]) * diff[c];
    }
    double d = std::sqrt(sq);
    loss -= inv_b * std::log(d + kKoLeoEps);
    if (d == 0.0) continue;  // exact duplicate: zero gradient (direction undefined)
    float coef = static_cast<float>(-inv_b / (d * (d + kKoLeoEps)));
    float* gi = gy.data() + i * dim;
    float* gn = gy.data() + static_cast<index_t>(nn[i]) * dim;
    for (index_t c = 0; c < dim; ++c) {
      gi[c] += coef * diff[c];
      gn[c] -= coef * diff[c];
    }
  }
  l2norm_backward_cpu(x, gy.data(), grad, rows, dim, kKoLeoNormEps);
  return loss;
}

void ema_teacher_update_cpu(float* teacher, const float* student, index_t n, float momentum) {
  ScopedOp op("ema_teacher_update", "cpu");
  const float keep = momentum, take = 1.0f - momentum;
  parallel_for(n, index_t{1} << 16, [&](index_t i0, index_t i1) {
    for (index_t i = i0; i < i1; ++i) teacher[i] = keep * teacher[i] + take * student[i];
  });
}

}  // namespace radlearn
