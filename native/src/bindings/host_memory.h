// Host typed arrays as kernel operands: where their bytes are, and the rule that keeps an
// async op from touching memory JavaScript may free.
//
// An async op runs on a worker thread while JavaScript goes on. Keeping the TypedArray object
// alive is not enough: JS may detach its ArrayBuffer meanwhile (a postMessage/structuredClone
// transfer, ArrayBuffer.prototype.transfer) or shrink a resizable one, and the memory can be
// freed under the op. Node-API offers no way to pin a buffer's memory, so an async op owns
// what it touches: it copies each host operand into memory of its own when it is called, and
// copies the operands it wrote back into the caller's arrays when it completes, on the JS
// thread, after checking they are still attached and of the same size. Sync ops run while no
// JS can run, so they use the caller's memory directly (a binding reads every option, where a
// getter could run JS, before it resolves any operand).
#pragma once

#include <napi.h>

#include <cstddef>
#include <string>

namespace radlearn {

struct HostArray {
  void* data = nullptr;
  std::size_t elements = 0;
  std::size_t bytes = 0;
  napi_typedarray_type type = napi_uint8_array;
};

// The bytes of a TypedArray (SharedArrayBuffer-backed ones included). Throws
// ERR_BUFFER_DETACHED naming `name` when its ArrayBuffer was detached.
HostArray host_array(const Napi::TypedArray& array, const std::string& name);

// True when the TypedArray's ArrayBuffer has been detached.
bool is_detached(const Napi::TypedArray& array);

// Memory for an op's private copies. Blocks are recycled: fresh pages cost a fault each on
// first touch, and filling 40 MB of fresh memory took 168 ms on the development VM against
// 3.5 ms for warm memory. Acquired and released on the JS thread only (one pool per thread,
// so worker_threads each have their own); at most kMaxCachedBytes stay cached.
class PrivateCopy {
 public:
  PrivateCopy() = default;
  explicit PrivateCopy(std::size_t bytes);
  ~PrivateCopy();
  PrivateCopy(const PrivateCopy&) = delete;
  PrivateCopy& operator=(const PrivateCopy&) = delete;
  PrivateCopy(PrivateCopy&& other) noexcept;
  PrivateCopy& operator=(PrivateCopy&& other) noexcept;

  void* data() const { return data_; }
  explicit operator bool() const { return data_ != nullptr; }

  static constexpr std::size_t kMaxCachedBytes = std::size_t{1} << 30;

 private:
  void* data_ = nullptr;
  std::size_t capacity_ = 0;
};

// Whether the call being bound runs off the JS thread: set by async_field() while a binding
// reads its arguments, cleared by guarded() when the binding returns. Host operands read
// while it is set are copied (see above).
bool binding_is_async();
void set_binding_async(bool async);

}  // namespace radlearn
