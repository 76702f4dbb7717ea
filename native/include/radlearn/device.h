// The CUDA device runtime as the rest of the native core sees it. Implemented in
// native/cuda/device.cu, and only present in builds with RADLEARN_WITH_CUDA; callers guard
// their use with that macro. Every function checks the CUDA status and throws
// radlearn::Error(ERR_CUDA) with CUDA's own message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace radlearn {

struct DeviceInfo {
  bool available = false;       // a device answered
  std::string reason;           // why not, when !available
  std::string name;
  int compute_major = 0;
  int compute_minor = 0;
  std::uint64_t memory_bytes = 0;
  int driver_version = 0;       // e.g. 13000 for 13.0
  int runtime_version = 0;
  int multiprocessors = 0;
};

#ifdef RADLEARN_WITH_CUDA
DeviceInfo cuda_device_info();            // queried once, then cached
void* device_alloc(std::size_t bytes);
void device_free(void* ptr) noexcept;
void copy_to_device(void* dst, const void* src, std::size_t bytes);
void copy_to_host(void* dst, const void* src, std::size_t bytes);
void copy_device_to_device(void* dst, const void* src, std::size_t bytes);
void device_synchronize();
// Makes `device` this thread's current device (one GPU per rank of a job); throws ERR_CUDA.
void select_device(int device);
// Throws ERR_CUDA if the last launch failed; `what` names the kernel in the message.
void check_launch(const char* what);

// CUDA-event timer on the default stream, for benchmarks timed inside the addon.
class DeviceTimer {
 public:
  DeviceTimer();
  ~DeviceTimer();
  DeviceTimer(const DeviceTimer&) = delete;
  DeviceTimer& operator=(const DeviceTimer&) = delete;
  void start();
  float stop_ms();  // waits for the work recorded since start()

 private:
  void* start_ = nullptr;
  void* stop_ = nullptr;
};
#endif

}  // namespace radlearn
