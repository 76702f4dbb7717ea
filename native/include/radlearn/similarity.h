// Batched similarity matrix S = scale * A . B^T.
// A: [n, d], B: [m, d], S: [n, m], float32 row-major, float32 accumulation.
// FLOPs: 2*n*m*d. Memory: inputs plus the n*m output; no scratch.
#pragma once

#include "radlearn/common.h"

namespace radlearn {

void similarity_cpu(const float* a, const float* b, float* s, index_t n, index_t m, index_t d, float scale);

#ifdef RADLEARN_WITH_CUDA
// Device pointers; synchronous with respect to the host (the binding syncs).
void similarity_cuda(const float* a, const float* b, float* s, index_t n, index_t m, index_t d, float scale);
#endif

}  // namespace radlearn
