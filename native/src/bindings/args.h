// Argument handling shared by every binding: validated sizes and numbers, float tensors
// that are either host Float32Arrays or DeviceTensors, JS errors with a stable `code`, and
// one way to run an op synchronously or off the event loop (returning a Promise).
#pragma once

#include <napi.h>

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "host_memory.h"
#include "radlearn/common.h"
#include "tensor.h"

namespace radlearn {

// A JS Error whose `code` property is set (the TS layer maps codes onto error classes).
Napi::Error make_js_error(Napi::Env env, const std::string& code, const std::string& message);

// Reading one JS value, with ERR_INVALID_ARGUMENT naming `name` when it has the wrong type.
// A size must be an integer in [0, 2^53): sizes decide how much memory an op touches. Other
// numbers are only type-checked: their ranges are the TypeScript layer's (src/kernels).
index_t size_arg(const Napi::Value& v, const char* name);
double number_arg(const Napi::Value& v, const char* name);
bool bool_arg(const Napi::Value& v, const char* name);
std::string string_arg(const Napi::Value& v, const char* name);

// A kernel binding takes its operands and then one options object whose fields are read by
// name. Read every field before resolving any operand: a getter or a Proxy can run JavaScript,
// which must not get to detach or resize memory a sync op already points into.
Napi::Object options_arg(const Napi::CallbackInfo& info, std::size_t index);
// The field's value (undefined when missing); `has_field` is false for undefined and null.
Napi::Value field(const Napi::Object& options, const char* name);
bool has_field(const Napi::Object& options, const char* name);
index_t size_field(const Napi::Object& options, const char* name);
double number_field(const Napi::Object& options, const char* name);
// A number the kernels use in float32 (the TS layer checked that it fits).
float float_field(const Napi::Object& options, const char* name);
bool bool_field(const Napi::Object& options, const char* name);
std::string string_field(const Napi::Object& options, const char* name);
// Absent (undefined or null) gives no value; present ones are read as above.
std::optional<double> optional_number_field(const Napi::Object& options, const char* name);
std::optional<float> optional_float_field(const Napi::Object& options, const char* name);
// The `async` field; also records it for the host operands resolved next (host_memory.h).
bool async_field(const Napi::Object& options);

// What an op holds while it runs: the JS object (so it is not collected); for a DeviceTensor a
// pending use, so dispose() refuses meanwhile; for a host array read by an async call, the
// private copy the op works on (host_memory.h explains why). Created and released on the
// JS thread (ops finish there).
class HeldOperand {
 public:
  HeldOperand(const Napi::Value& value, std::string name);
  ~HeldOperand();
  HeldOperand(const HeldOperand&) = delete;
  HeldOperand& operator=(const HeldOperand&) = delete;

  Napi::Value value() const { return reference_.Value(); }
  const std::string& name() const { return name_; }

  // The bytes the op reaches through this operand, and whether it writes them: run_op refuses
  // an op whose written operand overlaps any other operand (a kernel would read what it has
  // already overwritten, or two outputs would race).
  void set_memory(const void* begin, std::size_t bytes, bool on_device);
  void mark_written() { written_ = true; }
  bool written() const { return written_; }
  bool overlaps(const HeldOperand& other) const;
  // This written operand may be exactly `input` (the kernel updates it in place).
  void allow_in_place_of(const HeldOperand* input) { in_place_of_ = input; }
  bool same_memory(const HeldOperand& other) const { return begin_ == other.begin_ && bytes_ == other.bytes_; }
  const HeldOperand* in_place_of() const { return in_place_of_; }

  // Copies the caller's bytes into memory the op owns and returns it (async calls).
  void* take_private_copy(const void* data, std::size_t bytes);
  // After an async op, on the JS thread: why the written private copy cannot go back into the
  // caller's array ("" when it can), and the copy back itself.
  std::string delivery_problem() const;
  void deliver() const;

 private:
  Napi::ObjectReference reference_;
  std::string name_;
  DeviceTensor* tensor_ = nullptr;
  const char* begin_ = nullptr;
  std::size_t bytes_ = 0;
  bool on_device_ = false;
  bool written_ = false;
  const HeldOperand* in_place_of_ = nullptr;
  PrivateCopy private_;
};
using Keep = std::shared_ptr<HeldOperand>;

Keep keep_alive(const Napi::Value& v, std::string name);

// A host typed array the op reads (or writes) directly: detached arrays are refused, and for an
// async call the returned pointer is the op's private copy, held by `keep`.
void* host_operand(const Napi::TypedArray& array, const std::string& name, const Keep& keep, std::size_t* elements);

// Marks an operand the op writes in place (outputs from float_output are marked already).
void mark_written(const Keep& keep);
// Lets `output` be exactly the same memory as `input` (not a partial overlap), for kernels
// that read each element of `input` before writing that element of `output`.
void allow_in_place(const Keep& output, const Keep& input);

// A host typed array of `host_type` or a DeviceTensor of `device_type`: where the op finds its
// elements (a private copy for an async call) and what keeps them there. Throws ERR_INVALID_ARGUMENT naming `name` and `expected`
// (e.g. "a Uint8Array or a uint8 DeviceTensor") for anything else, ERR_BUFFER_DETACHED for
// a detached array.
struct RawOperand {
  void* host = nullptr;
  void* device = nullptr;
  index_t length = 0;
  Keep keep;
};
RawOperand raw_operand(const Napi::Value& v, const std::string& name, napi_typedarray_type host_type, DType device_type,
                       const std::string& expected);

// A float32 operand: a host Float32Array or a float32 DeviceTensor.
struct FloatOperand {
  float* host = nullptr;
  float* device = nullptr;
  index_t length = 0;
  Keep keep;
  bool on_device() const { return device != nullptr; }
};

// Reads a Float32Array or float32 DeviceTensor. `expected` < 0 skips the length check;
// otherwise a mismatch throws ERR_SHAPE naming `name`, the length and `shape_text`.
FloatOperand float_operand(const Napi::Value& v, const char* name, index_t expected, const std::string& shape_text);

// The output of an op: either the caller's (poisoned) buffer or a new one of `length`,
// on the host or on the device to match the inputs.
FloatOperand float_output(Napi::Env env, const Napi::Value& maybe_out, bool on_device, index_t length, const char* name,
                          const std::string& shape_text, Napi::Value* result_value);

// Runs `work` now (sync) or on the libuv pool (async). `result` builds the return value on
// the JS thread afterwards. radlearn::Error becomes a JS error with its code; any other
// C++ exception becomes ERR_NATIVE.
// Before running, refuses (ERR_INVALID_ARGUMENT) an op whose written operand shares memory with
// another of its operands. An async op delivers what it wrote into the caller's arrays when it
// completes; if one of them was detached or resized meanwhile, it rejects with
// ERR_BUFFER_DETACHED and writes none of them.
Napi::Value run_op(Napi::Env env, bool async, std::function<void()> work, std::function<Napi::Value(Napi::Env)> result,
                   std::vector<Keep> keep);

// Wraps a binding body so radlearn::Error thrown during argument checks becomes a JS error.
Napi::Value guarded(const Napi::CallbackInfo& info, const std::function<Napi::Value(const Napi::CallbackInfo&)>& body);

// "[n, d]"-style shape text for error messages.
std::string shape_text(std::initializer_list<index_t> dims);

}  // namespace radlearn
