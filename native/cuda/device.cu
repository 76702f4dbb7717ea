// Device runtime: device query, allocation, copies and event timing (radlearn/device.h).
// The query runs once; a machine with the toolkit but no driver or no GPU gets
// available=false and the reason CUDA gave, never an exception.
#include <mutex>
#include <string>

#include "cuda_check.cuh"
#include "radlearn/device.h"

namespace radlearn {
namespace {

#ifdef RADLEARN_CUDA_ARCHS_TEXT
constexpr const char* kBuiltArchitectures = RADLEARN_CUDA_ARCHS_TEXT;
#else
constexpr const char* kBuiltArchitectures = "the default architectures";
#endif

// Never launched: asking for its attributes tells whether this build can run on the device.
__global__ void image_probe_kernel() {}

}  // namespace

DeviceInfo cuda_device_info() {
  static std::once_flag once;
  static DeviceInfo info;
  std::call_once(once, [] {
    cudaRuntimeGetVersion(&info.runtime_version);
    cudaError_t status = cudaDriverGetVersion(&info.driver_version);
    if (status != cudaSuccess || info.driver_version == 0) {
      info.reason = "no NVIDIA driver found (libcuda could not be loaded)";
      cudaGetLastError();
      return;
    }
    int count = 0;
    status = cudaGetDeviceCount(&count);
    if (status != cudaSuccess || count == 0) {
      info.reason = status != cudaSuccess ? std::string("cudaGetDeviceCount failed: ") + cudaGetErrorString(status)
                                          : std::string("the driver reports no CUDA device");
      cudaGetLastError();
      return;
    }
    cudaDeviceProp prop{};
    status = cudaGetDeviceProperties(&prop, 0);
    if (status != cudaSuccess) {
      info.reason = std::string("cudaGetDeviceProperties failed: ") + cudaGetErrorString(status);
      cudaGetLastError();
      return;
    }
    info.name = prop.name;
    info.compute_major = prop.major;
    info.compute_minor = prop.minor;
    info.memory_bytes = prop.totalGlobalMem;
    info.multiprocessors = prop.multiProcessorCount;
    // A GPU this build has neither SASS nor compatible PTX for (e.g. sm_75, or an A100 with
    // RADLEARN_CUDA_ARCHS=90) would fail on its first launch: fall back to the CPU instead.
    cudaFuncAttributes attributes{};
    status = cudaFuncGetAttributes(&attributes, image_probe_kernel);
    if (status != cudaSuccess) {
      info.reason = std::string("the GPU (") + prop.name + ", compute capability " + std::to_string(prop.major) + "." +
                    std::to_string(prop.minor) + ") has no kernel image in this build (built for " + kBuiltArchitectures +
                    "): " + cudaGetErrorString(status) + "; rebuild with RADLEARN_CUDA_ARCHS=" + std::to_string(prop.major) +
                    std::to_string(prop.minor) + " npm run build:native";
      cudaGetLastError();
      return;
    }
    info.available = true;
  });
  return info;
}

void* device_alloc(std::size_t bytes) {
  void* ptr = nullptr;
  RL_CUDA(cudaMalloc(&ptr, bytes == 0 ? 1 : bytes));
  return ptr;
}

void device_free(void* ptr) noexcept {
  if (ptr) cudaFree(ptr);
}

void copy_to_device(void* dst, const void* src, std::size_t bytes) {
  RL_CUDA(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice));
}

void copy_to_host(void* dst, const void* src, std::size_t bytes) {
  RL_CUDA(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost));
}

void copy_device_to_device(void* dst, const void* src, std::size_t bytes) {
  RL_CUDA(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToDevice));
}

void device_synchronize() { RL_CUDA(cudaDeviceSynchronize()); }

void select_device(int device) { RL_CUDA(cudaSetDevice(device)); }

void check_launch(const char* what) {
  cuda_check(cudaGetLastError(), what);
}

DeviceTimer::DeviceTimer() {
  cudaEvent_t a, b;
  RL_CUDA(cudaEventCreate(&a));
  cudaError_t status = cudaEventCreate(&b);
  if (status != cudaSuccess) {
    cudaEventDestroy(a);  // the destructor does not run when the constructor throws
    cuda_check(status, "cudaEventCreate(&b)");
  }
  start_ = a;
  stop_ = b;
}

DeviceTimer::~DeviceTimer() {
  cudaEventDestroy(static_cast<cudaEvent_t>(start_));
  cudaEventDestroy(static_cast<cudaEvent_t>(stop_));
}

void DeviceTimer::start() { RL_CUDA(cudaEventRecord(static_cast<cudaEvent_t>(start_))); }

float DeviceTimer::stop_ms() {
  RL_CUDA(cudaEventRecord(static_cast<cudaEvent_t>(stop_)));
  RL_CUDA(cudaEventSynchronize(static_cast<cudaEvent_t>(stop_)));
  float ms = 0;
  RL_CUDA(cudaEventElapsedTime(&ms, static_cast<cudaEvent_t>(start_), static_cast<cudaEvent_t>(stop_)));
  return ms;
}

}  // namespace radlearn
