// Running a CUDA kernel on host operands: the op uploads its inputs into temporary device
// buffers, runs, and downloads its outputs. Used when the backend is CUDA but the caller
// passed Float32Arrays. Buffers are freed when the scratch goes out of scope.
#pragma once

#include <vector>

#include "args.h"
#ifdef RADLEARN_WITH_CUDA
#include "radlearn/device.h"
#endif

namespace radlearn {

#ifdef RADLEARN_WITH_CUDA
class DeviceScratch {
 public:
  DeviceScratch() = default;
  DeviceScratch(const DeviceScratch&) = delete;
  DeviceScratch& operator=(const DeviceScratch&) = delete;
  ~DeviceScratch() {
    for (void* p : owned_) device_free(p);
  }

  // Device pointer for an input operand (uploaded if it lives on the host).
  const float* input(const FloatOperand& operand) {
    if (operand.on_device()) return operand.device;
    float* p = allocate(operand.length);
    copy_to_device(p, operand.host, operand.length * sizeof(float));
    return p;
  }

  // Device pointer for an output operand (a temporary if it lives on the host).
  float* output(const FloatOperand& operand) { return operand.on_device() ? operand.device : allocate(operand.length); }

  // Copies a temporary output back to its host buffer.
  void finish(const FloatOperand& operand, const float* device) {
    if (!operand.on_device()) copy_to_host(operand.host, device, operand.length * sizeof(float));
  }

  float* allocate(index_t n) {
    void* p = device_alloc(static_cast<size_t>(n) * sizeof(float));
    owned_.push_back(p);
    return static_cast<float*>(p);
  }

 private:
  std::vector<void*> owned_;
};
#endif

// Backends a binding is asked to use; "cuda" with host operands means staging.
enum class Backend { Cpu, Cuda };

inline Backend backend_arg(const Napi::Value& v) {
  std::string name = string_arg(v, "backend");
  if (name == "cpu") return Backend::Cpu;
  if (name == "cuda") {
#ifdef RADLEARN_WITH_CUDA
    DeviceInfo device = cuda_device_info();
    if (!device.available) throw Error(kErrBackend, "backend 'cuda' requested but no CUDA device is usable: " + device.reason);
    return Backend::Cuda;
#else
    throw Error(kErrBackend, "backend 'cuda' requested but this addon was built CPU-only");
#endif
  }
  throw Error(kErrInvalidArgument, "backend must be 'cpu' or 'cuda', got '" + name + "'");
}

inline Backend backend_field(const Napi::Object& options) { return backend_arg(field(options, "backend")); }

// Device tensors can only be used by the CUDA backend.
inline void require_host_for_cpu(Backend backend, std::initializer_list<const FloatOperand*> operands) {
  if (backend != Backend::Cpu) return;
  for (const FloatOperand* op : operands)
    if (op->on_device()) throw Error(kErrBackend, "a DeviceTensor operand needs the CUDA backend");
}

}  // namespace radlearn
