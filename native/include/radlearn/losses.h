// Classification losses for trainable heads. Each call returns the mean loss and writes the
// gradient of that mean with respect to the logits, in one pass over the data.
//
// Reduction (all losses): mean over VALID entries (BCE: elements; softmax CE and ordinal:
// rows). Invalid entries get a zero gradient. When nothing is valid the loss is 0 and the
// whole gradient is 0 (no division by zero, no NaN), and `valid` is reported as 0.
// Sums are in float64 on the CPU (per row, then rows in order: thread-count independent)
// and in float32 per thread + a fixed-order tree on the GPU.
//
// 1. BCE with logits, multi-label. logits, targets: [rows, classes].
//    targets in [0, 1] (soft labels allowed) or -1 = uncertain; mask (optional, [rows,
//    classes], nonzero = label present) marks missing labels. Uncertain policy:
//      kUncertainIgnore: -1 entries are not valid; kUncertainOnes: -1 -> 1; kUncertainZeros: -1 -> 0.
//    pos_weight (optional, [classes]) weighs the positive term, as torch's BCEWithLogitsLoss:
//      l = -[p_c * y * log sigmoid(z) + (1 - y) * log(1 - sigmoid(z))]
//        = (1 - y) * z + (1 + (p_c - 1) * y) * softplus(-z),
//      softplus(-z) = max(-z, 0) + log1p(exp(-|z|))                  (never overflows)
//      dl/dz = (1 - y) - (1 + (p_c - 1) * y) * sigmoid(-z)
//
// 2. Softmax cross-entropy, multi-class. logits: [rows, classes].
//    Hard labels: labels[rows] holds class indices as floats (exact below 2^24); -1 = ignore
//    the row. Soft targets: targets[rows, classes] a distribution per row (a row summing to 0
//    is ignored). Label smoothing eps: q <- (1 - eps) * q + eps / classes.
//    Temperature tau (distillation, Hinton et al. 2015): p = softmax(z / tau) and
//      l = tau^2 * sum_k q_k * (lse(z / tau) - z_k / tau)
//      dl/dz_k = tau * (p_k * sum_j q_j - q_k)
//    The tau^2 factor keeps gradient magnitudes comparable across temperatures (so a
//    distillation term can be mixed with a hard-label term without retuning); at tau = 1
//    this is plain cross-entropy. The value is the cross-entropy, i.e. KL(q || p) + H(q).
//
// 3. Ordinal (graded labels, e.g. Kellgren-Lawrence 0..4), cumulative binary form
//    (Niu et al. 2016; the CORAL loss of Cao et al. 2020): K levels -> K-1 logits per row,
//    logit k models P(level > k). levels[rows] are floats 0..K-1, -1 = ignore the row.
//      l = sum_{k<K-1} BCE(z_k, [level > k])     (summed over thresholds, mean over rows)
//      dl/dz_k = sigmoid(z_k) - [level > k]
//    Predicted level = number of k with sigmoid(z_k) > 0.5 (z_k > 0).
#pragma once

#include "radlearn/common.h"

namespace radlearn {

enum UncertainPolicy : int { kUncertainIgnore = 0, kUncertainOnes = 1, kUncertainZeros = 2 };

struct LossResult {
  double loss = 0.0;   // mean over valid entries (0 when none)
  double valid = 0.0;  // number of valid entries (elements for BCE, rows otherwise)
};

// mask and pos_weight may be null.
LossResult bce_with_logits_cpu(const float* logits, const float* targets, const float* mask, const float* pos_weight,
                               float* grad, index_t rows, index_t classes, int policy);
// Exactly one of labels / targets is non-null.
LossResult softmax_cross_entropy_cpu(const float* logits, const float* labels, const float* targets, float* grad,
                                     index_t rows, index_t classes, float smoothing, float temperature);
LossResult ordinal_loss_cpu(const float* logits, const float* levels, float* grad, index_t rows, index_t levels_count);

#ifdef RADLEARN_WITH_CUDA
LossResult bce_with_logits_cuda(const float* logits, const float* targets, const float* mask, const float* pos_weight,
                                float* grad, index_t rows, index_t classes, int policy);
LossResult softmax_cross_entropy_cuda(const float* logits, const float* labels, const float* targets, float* grad,
                                      index_t rows, index_t classes, float smoothing, float temperature);
LossResult ordinal_loss_cuda(const float* logits, const float* levels, float* grad, index_t rows, index_t levels_count);
#endif

}  // namespace radlearn
