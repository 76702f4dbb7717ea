// Contrastive losses over a batch of B image rows x_i and B text rows t_j ([B, D] each),
// forward and backward in one call, without ever materialising the B x B logit matrix.
//
// With u_i, v_j the rows (L2-normalised when `normalize`: u = x / max(|x|, 1e-12), as
// l2norm.h), cos_ij = u_i . v_j and a = logit_scale > 0:
//   positive(i, j)  = groups ? groups[i] == groups[j] : i == j
//   ce_ij           = relax && positive(i, j) ? min(cos_ij, theta) : cos_ij   (no gradient through the cap)
//   e_ij            = a * ce_ij
//   InfoNCE: L = 1/2 [ 1/B sum_i (LSE_j e_ij - sum_j y_ij e_ij) + 1/B sum_j (LSE_i e_ij - sum_i y_ij e_ij) ]
//            y_ij = positive(i, j) / |group(i)|  (identity without groups)
//   SigLIP:  L = -1/B sum_ij log sigmoid(z_ij (e_ij + bias)),  z_ij = positive(i, j) ? +1 : -1
// Outputs: loss, dL/dx, dL/dt ([B, D], float32; through the normalisation when it is on),
// dL/da and (SigLIP) dL/dbias.
//
// Memory: both backends keep O(B) statistics (row/column max and sum-exp, inverse norms)
// besides the gradients themselves; the CPU adds per-thread tiles (O(threads * T * (T + D))),
// the GPU adds nothing that grows faster than B * D. See docs/kernels-contrastive.md.
#pragma once

#include <cstdint>

#include "radlearn/common.h"

namespace radlearn {

enum class ContrastiveKind { InfoNCE, SigLIP };
enum class ContrastiveInput { Float32, BFloat16, Float16 };  // element type of the inputs (CUDA reads all three)

struct ContrastiveParams {
  index_t batch = 0;
  index_t dim = 0;
  ContrastiveKind kind = ContrastiveKind::InfoNCE;
  float logit_scale = 1.0f;  // a = exp(l) > 0
  float bias = 0.0f;         // SigLIP only
  bool normalize = true;
  const std::int32_t* groups = nullptr;  // [B] group ids or null (host pointer on the CPU, device pointer on CUDA)
  const float* group_weight = nullptr;   // [B] 1 / |group(i)| when groups are given (same memory space as groups)
  bool relax = false;                    // InfoNCE only
  float relax_threshold = 0.0f;
};

struct ContrastiveResult {
  double loss = 0.0;
  double grad_logit_scale = 0.0;  // dL/da
  double grad_bias = 0.0;         // dL/dbias (SigLIP; 0 for InfoNCE)
};

// 1 / |{k : groups[k] == groups[i]}| for every i (host memory). Throws nothing; O(B log B).
void contrastive_group_weights(const std::int32_t* groups, index_t batch, float* weight);

// Host pointers. grad_image / grad_text: [B, D] float32, fully overwritten.
ContrastiveResult contrastive_cpu(const float* image, const float* text, const ContrastiveParams& params,
                                  float* grad_image, float* grad_text);

#ifdef RADLEARN_WITH_CUDA
// Device pointers; image/text hold `input` elements; gradients are float32 [B, D].
// Synchronous with respect to the host. Extra device memory: O(B) floats.
ContrastiveResult contrastive_cuda(const void* image, const void* text, ContrastiveInput input,
                                   const ContrastiveParams& params, float* grad_image, float* grad_text);
#endif

}  // namespace radlearn
