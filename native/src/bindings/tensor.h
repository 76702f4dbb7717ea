// DeviceTensor: a buffer in GPU memory with a dtype and dims, so GPU work can chain
// without host copies. JS creates one with DeviceTensor.upload(array, dims, dtype) or
// DeviceTensor.empty(dims, dtype), reads it back with download(), frees it with
// dispose(); a finalizer frees it if the object is collected first (safety net, not the
// plan: GPU memory is scarcer than the GC thinks). In CPU-only builds, or with no device,
// creating one throws ERR_BACKEND_UNAVAILABLE.
#pragma once

#include <napi.h>

#include <cstddef>
#include <string>
#include <vector>

#include "radlearn/common.h"

namespace radlearn {

enum class DType { Float32, Float16, BFloat16, Int32, Uint8, Uint16 };

const char* dtype_name(DType dtype);
std::size_t dtype_size(DType dtype);
DType parse_dtype(const std::string& name);

class DeviceTensor : public Napi::ObjectWrap<DeviceTensor> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  // A new uninitialised tensor (JS object) of the given dtype and dims.
  static Napi::Value Create(Napi::Env env, DType dtype, std::vector<index_t> dims);
  // The native tensor behind a JS value, or nullptr when it is not a DeviceTensor.
  static DeviceTensor* Unwrap(const Napi::Value& value);

  explicit DeviceTensor(const Napi::CallbackInfo& info);
  ~DeviceTensor() override;

  void* data() const;  // throws ERR_TENSOR_DISPOSED after dispose()
  DType dtype() const { return dtype_; }
  index_t elements() const { return elements_; }
  std::size_t bytes() const { return elements_ * dtype_size(dtype_); }

  // Operations that hold this tensor as an operand (keep_alive in args.h): dispose() refuses
  // while any is pending, because an async op still reads or writes the memory on its thread.
  void add_use() { ++pending_uses_; }
  void drop_use() { --pending_uses_; }

 private:
  static Napi::Value Upload(const Napi::CallbackInfo& info);
  static Napi::Value Empty(const Napi::CallbackInfo& info);
  Napi::Value Download(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  Napi::Value GetDims(const Napi::CallbackInfo& info);
  Napi::Value GetDtype(const Napi::CallbackInfo& info);
  Napi::Value GetDisposed(const Napi::CallbackInfo& info);
  Napi::Value GetByteLength(const Napi::CallbackInfo& info);
  void release(Napi::Env env);

  void* ptr_ = nullptr;
  DType dtype_ = DType::Float32;
  std::vector<index_t> dims_;
  index_t elements_ = 0;
  bool disposed_ = false;
  int pending_uses_ = 0;  // changed on the JS thread only (operand capture and op completion)
};

}  // namespace radlearn
