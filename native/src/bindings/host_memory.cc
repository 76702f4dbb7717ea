#include "host_memory.h"

#include <cstdlib>
#include <iterator>
#include <map>
#include <string>
#include <utility>

#include "radlearn/common.h"

namespace radlearn {
namespace {

// Bindings run on the JS thread only; one flag per thread keeps worker threads out of it.
thread_local bool t_binding_async = false;

std::size_t element_size(napi_typedarray_type type) {
  switch (type) {
    case napi_int8_array: case napi_uint8_array: case napi_uint8_clamped_array: return 1;
    case napi_int16_array: case napi_uint16_array: return 2;
    case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: return 8;
    default: return 4;
  }
}

// Free blocks by capacity; a request takes the smallest block that fits and wastes at most
// half of it. Over the cap, the largest blocks go back to the system first.
class CopyPool {
 public:
  ~CopyPool() {
    for (auto& [capacity, data] : free_) std::free(data);
  }

  void* acquire(std::size_t bytes, std::size_t* capacity) {
    auto it = free_.lower_bound(bytes);
    if (it != free_.end() && it->first <= 2 * bytes + kSlack) {
      void* data = it->second;
      *capacity = it->first;
      cached_ -= it->first;
      free_.erase(it);
      return data;
    }
    *capacity = (bytes + 4095) / 4096 * 4096;
    // 64-byte alignment: the CPU kernels' vector loads and the CUDA staging copies like it.
    void* data = std::aligned_alloc(64, *capacity);
    if (!data) throw Error(kErrOutOfMemory, "could not allocate " + std::to_string(bytes) + " bytes for an async op's copy of its operand");
    return data;
  }

  void release(void* data, std::size_t capacity) {
    free_.emplace(capacity, data);
    cached_ += capacity;
    while (cached_ > PrivateCopy::kMaxCachedBytes && !free_.empty()) {
      auto largest = std::prev(free_.end());
      cached_ -= largest->first;
      std::free(largest->second);
      free_.erase(largest);
    }
  }

 private:
  static constexpr std::size_t kSlack = 64 * 1024;
  std::multimap<std::size_t, void*> free_;
  std::size_t cached_ = 0;
};

thread_local CopyPool t_copies;

}  // namespace

PrivateCopy::PrivateCopy(std::size_t bytes) { data_ = t_copies.acquire(bytes == 0 ? 1 : bytes, &capacity_); }

PrivateCopy::~PrivateCopy() {
  if (data_) t_copies.release(data_, capacity_);
}

PrivateCopy::PrivateCopy(PrivateCopy&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), capacity_(std::exchange(other.capacity_, 0)) {}

PrivateCopy& PrivateCopy::operator=(PrivateCopy&& other) noexcept {
  if (this != &other) {
    if (data_) t_copies.release(data_, capacity_);
    data_ = std::exchange(other.data_, nullptr);
    capacity_ = std::exchange(other.capacity_, 0);
  }
  return *this;
}

bool binding_is_async() { return t_binding_async; }
void set_binding_async(bool async) { t_binding_async = async; }

bool is_detached(const Napi::TypedArray& array) {
  napi_value buffer = nullptr;
  napi_status status = napi_get_typedarray_info(array.Env(), array, nullptr, nullptr, nullptr, &buffer, nullptr);
  if (status != napi_ok || buffer == nullptr) return false;
  bool detached = false;
  // napi_is_detached_arraybuffer answers false for a SharedArrayBuffer, which cannot be detached.
  if (napi_is_detached_arraybuffer(array.Env(), buffer, &detached) != napi_ok) return false;
  return detached;
}

HostArray host_array(const Napi::TypedArray& array, const std::string& name) {
  if (is_detached(array))
    throw Error(kErrDetached, name + "'s ArrayBuffer is detached (it was transferred); pass an array that owns its memory");
  HostArray out;
  napi_value buffer = nullptr;
  // The data pointer comes from the view itself: Napi::TypedArray::ArrayBuffer().Data() fails
  // for views of a SharedArrayBuffer.
  if (napi_get_typedarray_info(array.Env(), array, &out.type, &out.elements, &out.data, &buffer, nullptr) != napi_ok)
    throw Error(kErrInvalidArgument, name + " could not be read as a typed array");
  out.bytes = out.elements * element_size(out.type);
  return out;
}

}  // namespace radlearn
