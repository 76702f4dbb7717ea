// CUDA status checks shared by every .cu file: any failing call or launch becomes a
// radlearn::Error(ERR_CUDA) carrying CUDA's own message and the call that failed.
#pragma once

#include <cuda_runtime.h>

#include <string>

#include "radlearn/common.h"

namespace radlearn {

inline void cuda_check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) {
    cudaGetLastError();  // clear a sticky-free error so later calls are not blamed
    throw Error(kErrCuda, std::string(what) + ": " + cudaGetErrorName(status) + " (" + cudaGetErrorString(status) + ")");
  }
}

// Call right after a kernel launch: configuration errors surface here, not at the next sync.
inline void check_launch_status(const char* kernel) { cuda_check(cudaGetLastError(), kernel); }

}  // namespace radlearn

#define RL_CUDA(call) ::radlearn::cuda_check((call), #call)
