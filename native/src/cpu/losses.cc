// Classification losses on the CPU (contracts and formulas in radlearn/losses.h).
//
// Two passes over rows, both parallel: the first counts valid entries (cheap, reads only
// targets/mask/labels) so the second can write the gradient of the MEAN directly (no third
// scaling pass). Per-row losses go to a float64 scratch vector and are summed in row order,
// so the value does not depend on the thread count.
#include <algorithm>
#include <cmath>
#include <vector>

#include "radlearn/losses.h"
#include "radlearn/thread_pool.h"
#include "radlearn/trace.h"

namespace radlearn {
namespace {

// Rows per parallel chunk: enough work to amortise scheduling for small class counts.
index_t row_grain(index_t classes) { return std::max<index_t>(1, 16384 / std::max<index_t>(1, classes)); }

double softplus(double z) { return std::max(z, 0.0) + std::log1p(std::exp(-std::fabs(z))); }
double sigmoid(double z) {
  if (z >= 0) return 1.0 / (1.0 + std::exp(-z));
  double e = std::exp(z);
  return e / (1.0 + e);
}

// The effective BCE target for one entry, or a negative value when the entry is not valid.
inline double bce_target(float t, const float* mask, index_t i, int policy) {
  if (mask && mask[i] == 0.0f) return -1.0;
  if (t < 0.0f) {
    if (policy == kUncertainOnes) return 1.0;
    if (policy == kUncertainZeros) return 0.0;
    return -1.0;
  }
  return t;
}

double sum_in_order(const std::vector<double>& parts) {
  double total = 0.0;
  for (double p : parts) total += p;
  return total;
}

}  // namespace

LossResult bce_with_logits_cpu(const float* logits, const float* targets, const float* mask, const float* pos_weight,
                               float* grad, index_t rows, index_t classes, int policy) {
  ScopedOp op("bce_with_logits", "cpu");
  LossResult result;
  if (rows == 0 || classes == 0) return result;
  std::vector<double> row_valid(static_cast<size_t>(rows)), row_loss(static_cast<size_t>(rows));
  index_t grain = row_grain(classes);
  parallel_for(rows, grain, [&](index_t begin, index_t end) {
    for (index_t r = begin; r < end; ++r) {
      index_t count = 0;
      for (index_t c = 0; c < classes; ++c) count += bce_target(targets[r * classes + c], mask, r * classes + c, policy) >= 0;
      row_valid[static_cast<size_t>(r)] = static_cast<double>(count);
    }
  });
  result.valid = sum_in_order(row_valid);
  double inv = result.valid > 0 ? 1.0 / result.valid : 0.0;
  parallel_for(rows, grain, [&](index_t begin, index_t end) {
    for (index_t r = begin; r < end; ++r) {
      double sum = 0.0;
      for (index_t c = 0; c < classes; ++c) {
        index_t i = r * classes + c;
        double y = bce_target(targets[i], mask, i, policy);
        if (y < 0) {
          grad[i] = 0.0f;
          continue;
        }
        double z = logits[i];
        double lw = pos_weight ? 1.0 + (pos_weight[c] - 1.0) * y : 1.0;
        sum += (1.0 - y) * z + lw * softplus(-z);
        grad[i] = static_cast<float>(((1.0 - y) - lw * sigmoid(-z)) * inv);
      }
      row_loss[static_cast<size_t>(r)] = sum;
    }
  });
  result.loss = sum_in_order(row_loss) * inv;
  return result;
}

LossResult softmax_cross_entropy_cpu(const float* logits, const float* labels, const float* targets, float* grad,
                                     index_t rows, index_t classes, float smoothing, float temperature) {
  ScopedOp op("softmax_cross_entropy", "cpu");
  LossResult result;
  if (rows == 0) return result;
  index_t grain = row_grain(classes);
  std::vector<double> row_valid(static_cast<size_t>(rows)), row_loss(static_cast<size_t>(rows));
  // Mass of each row's target before smoothing (0 = ignored row).
  parallel_for(rows, grain, [&](index_t begin, index_t end) {
    for (index_t r = begin; r < end; ++r) {
      double mass = 0.0;
      if (labels) {
        mass = labels[r] >= 0.0f ? 1.0 : 0.0;
      } else {
        for (index_t c = 0; c < classes; ++c) mass += targets[r * classes + c];
      }
      row_valid[static_cast<size_t>(r)] = mass;
    }
  });
  index_t valid = 0;
  for (double mass : row_valid) valid += mass != 0.0;
  result.valid = static_cast<double>(valid);
  double inv = valid > 0 ? 1.0 / static_cast<double>(valid) : 0.0;
  const double tau = temperature, eps = smoothing, uniform = classes > 0 ? 1.0 / static_cast<double>(classes) : 0.0;
  parallel_for(rows, grain, [&](index_t begin, index_t end) {
    for (index_t r = begin; r < end; ++r) {
      const float* z = logits + r * classes;
      float* g = grad + r * classes;
      double mass = row_valid[static_cast<size_t>(r)];
      if (mass == 0.0 || classes == 0) {
        std::fill(g, g + classes, 0.0f);
        row_loss[static_cast<size_t>(r)] = 0.0;
        continue;
      }
      double zmax = z[0];
      for (index_t c = 1; c < classes; ++c) zmax = std::max<double>(zmax, z[c]);
      double sum_exp = 0.0;
      for (index_t c = 0; c < classes; ++c) sum_exp += std::exp((z[c] - zmax) / tau);
      double lse = std::log(sum_exp);  // of (z - zmax) / tau
      index_t label = labels ? static_cast<index_t>(labels[r]) : -1;
      // Smoothed target mass: (1 - eps) * mass + eps * mass (uniform part scaled to the row's mass).
      double q_total = mass;
      double loss = 0.0;
      for (index_t c = 0; c < classes; ++c) {
        double q = labels ? (c == label ? 1.0 : 0.0) : targets[r * classes + c];
        q = (1.0 - eps) * q + eps * uniform * mass;
        double logp = (z[c] - zmax) / tau - lse;
        loss -= q * logp;
        double p = std::exp(logp);
        g[c] = static_cast<float>(tau * (p * q_total - q) * inv);
      }
      row_loss[static_cast<size_t>(r)] = tau * tau * loss;
    }
  });
  result.loss = sum_in_order(row_loss) * inv;
  return result;
}

LossResult ordinal_loss_cpu(const float* logits, const float* levels, float* grad, index_t rows, index_t levels_count) {
  ScopedOp op("ordinal_loss", "cpu");
  LossResult result;
  index_t thresholds = levels_count - 1;
  if (rows == 0 || thresholds <= 0) return result;
  index_t valid = 0;
  for (index_t r = 0; r < rows; ++r) valid += levels[r] >= 0.0f;
  result.valid = static_cast<double>(valid);
  double inv = valid > 0 ? 1.0 / static_cast<double>(valid) : 0.0;
  std::vector<double> row_loss(static_cast<size_t>(rows));
  parallel_for(rows, row_grain(thresholds), [&](index_t begin, index_t end) {
    for (index_t r = begin; r < end; ++r) {
      const float* z = logits + r * thresholds;
      float* g = grad + r * thresholds;
      float level = levels[r];
      if (level < 0.0f) {
        std::fill(g, g + thresholds, 0.0f);
        row_loss[static_cast<size_t>(r)] = 0.0;
        continue;
      }
      double sum = 0.0;
      for (index_t k = 0; k < thresholds; ++k) {
        double y = level > static_cast<float>(k) ? 1.0 : 0.0;
        double zk = z[k];
        sum += (1.0 - y) * zk + softplus(-zk);
        g[k] = static_cast<float>((sigmoid(zk) - y) * inv);
      }
      row_loss[static_cast<size_t>(r)] = sum;
    }
  });
  result.loss = sum_in_order(row_loss) * inv;
  return result;
}

}  // namespace radlearn
