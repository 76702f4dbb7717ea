// Dense layers for trainable heads: a linear (fully connected) layer and the erf GELU.
//
// Linear forward:   Y[n, o] = sum_i X[n, i] * W[o, i] + b[o]
//   X: [rows, in], W: [out, in] (PyTorch nn.Linear layout), b: [out] or null, Y: [rows, out].
// Linear backward, given dY: [rows, out]:
//   dX[n, i] = sum_o dY[n, o] * W[o, i]            (dY . W,    GEMM "nn")
//   dW[o, i] = sum_n dY[n, o] * X[n, i]            (dY^T . X,  GEMM "tn")
//   db[o]    = sum_n dY[n, o]
// Any of dX, dW, db may be null (not wanted). With `accumulate`, dW and db are added to
// (gradient accumulation over micro-batches); dX is always overwritten.
// FLOPs: forward 2*rows*in*out; backward 4*rows*in*out (+ rows*out for db).
// float32 in and out, float32 accumulation. The CPU results do not depend on the thread
// count: every output element is one sum in a fixed order. db is summed in float64.
//
// GELU (exact, erf form, as torch.nn.GELU() with approximate='none'):
//   y = x * Phi(x) = 0.5 * x * (1 + erf(x / sqrt(2)))
//   dy/dx = Phi(x) + x * phi(x),  phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
// gelu_backward: dX = dY * dy/dx evaluated at the forward input X.
#pragma once

#include "radlearn/common.h"

namespace radlearn {

void linear_forward_cpu(const float* x, const float* w, const float* b, float* y, index_t rows, index_t in,
                        index_t out);
void linear_backward_cpu(const float* x, const float* w, const float* dy, float* dx, float* dw, float* db,
                         index_t rows, index_t in, index_t out, bool accumulate);
void gelu_forward_cpu(const float* x, float* y, index_t length);
void gelu_backward_cpu(const float* x, const float* dy, float* dx, index_t length);

#ifdef RADLEARN_WITH_CUDA
// Device pointers; synchronous with respect to the host.
void linear_forward_cuda(const float* x, const float* w, const float* b, float* y, index_t rows, index_t in,
                         index_t out);
void linear_backward_cuda(const float* x, const float* w, const float* dy, float* dx, float* dw, float* db,
                          index_t rows, index_t in, index_t out, bool accumulate);
void gelu_forward_cuda(const float* x, float* y, index_t length);
void gelu_backward_cuda(const float* x, const float* dy, float* dx, index_t length);
#endif

}  // namespace radlearn
