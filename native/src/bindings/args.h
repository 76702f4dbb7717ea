// Argument handling shared by every binding: validated sizes and numbers, float tensors
// that are either host Float32Arrays or DeviceTensors, JS errors with a stable `code`, and
// one way to run an op synchronously or off the event loop (returning a Promise).
#pragma once

#include <napi.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "radlearn/common.h"
#include "tensor.h"

namespace radlearn {

// A JS Error whose `code` property is set (the TS layer maps codes onto error classes).
Napi::Error make_js_error(Napi::Env env, const std::string& code, const std::string& message);

// Throws radlearn::Error(ERR_INVALID_ARGUMENT) unless v is a finite integer in [0, 2^53).
index_t size_arg(const Napi::Value& v, const char* name);
// Throws unless v is a finite number.
double number_arg(const Napi::Value& v, const char* name);
bool bool_arg(const Napi::Value& v, const char* name);
std::string string_arg(const Napi::Value& v, const char* name);

// A float32 operand: a host Float32Array or a float32 DeviceTensor. The reference keeps
// the JS object alive while an async op runs.
struct FloatOperand {
  float* host = nullptr;
  float* device = nullptr;
  index_t length = 0;
  std::shared_ptr<Napi::ObjectReference> keep;
  bool on_device() const { return device != nullptr; }
};

// A reference that keeps the JS object alive while an op holds it; for a DeviceTensor it also
// counts as a pending use until the last copy is released, so dispose() cannot free memory an
// async op is still using. Release it on the JS thread (ops do: workers finish there).
std::shared_ptr<Napi::ObjectReference> keep_alive(const Napi::Value& v);

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
Napi::Value run_op(Napi::Env env, bool async, std::function<void()> work, std::function<Napi::Value(Napi::Env)> result,
                   std::vector<std::shared_ptr<Napi::ObjectReference>> keep);

// Wraps a binding body so radlearn::Error thrown during argument checks becomes a JS error.
Napi::Value guarded(const Napi::CallbackInfo& info, const std::function<Napi::Value(const Napi::CallbackInfo&)>& body);

// "[n, d]"-style shape text for error messages.
std::string shape_text(std::initializer_list<index_t> dims);

}  // namespace radlearn
