// Self-distillation op family (DINO / iBOT / KoLeo / EMA teacher), the contract both backends
// implement. All tensors float32 row-major; sums that decide the loss are taken in float64.
//
// Teacher probabilities (one [rows, K] buffer, the only [views x prototypes]-sized scratch):
//   center:   p[n, k] = softmax_k((t[n, k] - c[k]) / tau_t)
//   sinkhorn: DINOv2's Sinkhorn-Knopp over the rows of the batch: Q = exp(t / tau_t), then
//             `iterations` times: divide each prototype (column of Q, summed over the rows) by
//             its sum, then each row by its sum. Run in the log domain (scaling vectors a[K],
//             b[rows]), so no exp() can overflow or leave a prototype or row with a zero sum; the
//             result is the same as the exp-domain form (DINOv2's 1/K, 1/B factors cancel).
//             Each output row sums to 1; each prototype sums to ~rows / K.
//
// Soft cross-entropy against those probabilities (student rows streamed, never stored):
//   for student row r with target probability rows T(r) and coefficient w_r,
//   loss += w_r * sum_{t in T(r)} sum_k -p_t[k] * log softmax(s_r / tau_s)[k]
//   grad_r = w_r / tau_s * (|T(r)| * softmax(s_r / tau_s) - sum_{t in T(r)} p_t)
//   Each student row is read twice (max/sum-exp, then loss + gradient written straight into
//   the caller's grad buffer); rows with no target get a zero gradient.
//
// DINO: student [Vs, B, K] (the first Vt student views are the teacher's global views, in the
//   same order), teacher [Vt, B, K], Vt <= Vs, Vs >= 2. Pairs (i < Vt, j < Vs, j != i);
//   loss = mean over pairs and the batch. Extra memory: probabilities Vt*B*K floats plus
//   O(Vs*B*Vt) ints of pairing metadata.
// iBOT: student and teacher patches [B, P, K], masks [B, P] uint8 (non-zero = masked). Teacher
//   probabilities only for the M masked tokens ([M, K] buffer). Per image: mean over its masked
//   tokens; loss = mean over the images that have at least one masked token (images without
//   one add 0 and are not counted; no masked token at all gives loss 0 and a zero gradient).
// Center: c_new[k] = m * c[k] + (1 - m) * mean_n t[n, k] over the teacher rows the loss used
//   (DINO: all Vt*B rows; iBOT: the M masked tokens; M = 0 leaves c unchanged). c_new may alias c.
// KoLeo: y = l2normalize(x, eps 1e-8), nn(i) = argmax_{j != i} y_i . y_j (smallest j on ties),
//   d_i = ||y_i - y_nn(i)|| computed from the difference (not 2 - 2 dot, which loses precision
//   for close points), loss = -(1/B) sum_i log(d_i + 1e-8). B >= 2. Exact duplicates (d_i = 0)
//   add -log(1e-8) = 18.42 and a zero gradient (the direction is undefined there).
// EMA: teacher[i] = m * teacher[i] + (1 - m) * student[i], in place.
#pragma once

#include <cstdint>
#include <vector>

#include "radlearn/common.h"

namespace radlearn {

enum class TeacherNorm { Center, Sinkhorn };

inline constexpr float kKoLeoEps = 1e-8f;      // inside the log, as DINOv2
inline constexpr float kKoLeoNormEps = 1e-8f;  // F.normalize eps, as DINOv2

struct DistillConfig {
  float student_temp = 0.1f;
  float teacher_temp = 0.04f;
  TeacherNorm norm = TeacherNorm::Center;
  int sinkhorn_iterations = 3;
};

// Which teacher probability rows each student row is compared against, and its weight.
// Built on the host for both backends.
struct SoftTargetPlan {
  index_t student_rows = 0;
  std::vector<std::int32_t> first;   // [student_rows] offset into targets
  std::vector<std::int32_t> count;   // [student_rows]
  std::vector<std::int32_t> targets; // probability row indices
  std::vector<float> weight;         // [student_rows]
  std::vector<std::int32_t> teacher_rows;  // teacher logit row of each probability row
  // Order in which student rows are processed (empty = 0, 1, ...). DINO visits the Vs views
  // of one image together so that image's Vt probability rows stay in cache.
  std::vector<std::int32_t> order;
};

// Throws ERR_INVALID_ARGUMENT unless 1 <= teacher_views <= student_views, student_views >= 2.
SoftTargetPlan dino_plan(index_t student_views, index_t teacher_views, index_t batch);
// masks: [batch, patches] on the host.
SoftTargetPlan ibot_plan(const std::uint8_t* masks, index_t batch, index_t patches);

// ---- CPU ----------------------------------------------------------------------------------
// probs: [rows, k]; rows of `teacher` selected by row_index (rows entries).
void teacher_probs_cpu(const float* teacher, const std::int32_t* row_index, index_t rows, index_t k, const float* center,
                       const DistillConfig& config, float* probs);
void sinkhorn_knopp_cpu(const float* logits, index_t rows, index_t k, float temperature, int iterations, float* probs);
double soft_cross_entropy_cpu(const float* student, index_t k, float student_temp, const float* probs,
                              const SoftTargetPlan& plan, float* grad);
void update_center_cpu(const float* center, const float* teacher, const std::int32_t* row_index, index_t rows, index_t k,
                       float momentum, float* new_center);
// new_center may be nullptr (no update).
double dino_loss_cpu(const float* student, const float* teacher, const float* center, index_t student_views,
                     index_t teacher_views, index_t batch, index_t k, const DistillConfig& config, float* grad,
                     float* new_center, float center_momentum);
double ibot_loss_cpu(const float* student, const float* teacher, const std::uint8_t* masks, const float* center,
                     index_t batch, index_t patches, index_t k, const DistillConfig& config, float* grad,
                     float* new_center, float center_momentum);
double koleo_loss_cpu(const float* x, index_t rows, index_t dim, float* grad);
void ema_teacher_update_cpu(float* teacher, const float* student, index_t n, float momentum);

#ifdef RADLEARN_WITH_CUDA
// Device pointers (masks: host pointer); synchronous with respect to the host.
void sinkhorn_knopp_cuda(const float* logits, index_t rows, index_t k, float temperature, int iterations, float* probs);
void update_center_cuda(const float* center, const float* teacher, index_t rows, index_t k, float momentum,
                        float* new_center);
double dino_loss_cuda(const float* student, const float* teacher, const float* center, index_t student_views,
                      index_t teacher_views, index_t batch, index_t k, const DistillConfig& config, float* grad,
                      float* new_center, float center_momentum);
double ibot_loss_cuda(const float* student, const float* teacher, const std::uint8_t* masks_host, const float* center,
                      index_t batch, index_t patches, index_t k, const DistillConfig& config, float* grad,
                      float* new_center, float center_momentum);
double koleo_loss_cuda(const float* x, index_t rows, index_t dim, float* grad);
void ema_teacher_update_cuda(float* teacher, const float* student, index_t n, float momentum);
#endif

}  // namespace radlearn
