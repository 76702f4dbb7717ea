#include "host_memory.h"

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

}  // namespace

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
