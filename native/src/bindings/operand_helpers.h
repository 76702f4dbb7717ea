// Operand helpers shared by the head, loss and optimizer bindings: optional float operands
// (undefined/null = not given), uint8 operands (masks), size products that cannot
// overflow, and the "all on the host or all on the device" rule.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>

#include "args.h"
#include "staging.h"
#include "tensor.h"

namespace radlearn {

inline bool is_absent(const Napi::Value& v) { return v.IsUndefined() || v.IsNull(); }

inline index_t checked_size_product(index_t a, index_t b, const char* what) {
  if (a != 0 && b > (index_t{1} << 53) / a) throw Error(kErrShape, std::string(what) + " is too large");
  return a * b;
}

// A float operand that may be absent (then host and device are both null).
inline FloatOperand optional_float(const Napi::Value& v, const char* name, index_t expected, const std::string& shape) {
  if (is_absent(v)) return FloatOperand{};
  return float_operand(v, name, expected, shape);
}

inline bool present(const FloatOperand& op) { return op.host != nullptr || op.device != nullptr || op.keep != nullptr; }

// A byte operand: a host Uint8Array or a uint8 DeviceTensor.
struct ByteOperand {
  std::uint8_t* host = nullptr;
  std::uint8_t* device = nullptr;
  index_t length = 0;
  std::shared_ptr<Napi::ObjectReference> keep;
  bool on_device() const { return device != nullptr; }
};

inline ByteOperand optional_bytes(const Napi::Value& v, const char* name, index_t expected) {
  ByteOperand operand;
  if (is_absent(v)) return operand;
  if (v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array) {
    auto array = v.As<Napi::Uint8Array>();
    operand.host = array.Data();
    operand.length = static_cast<index_t>(array.ElementLength());
  } else if (DeviceTensor* tensor = DeviceTensor::Unwrap(v)) {
    if (tensor->dtype() != DType::Uint8)
      throw Error(kErrInvalidArgument, std::string(name) + " must be a uint8 tensor, got " + dtype_name(tensor->dtype()));
    operand.device = static_cast<std::uint8_t*>(tensor->data());
    operand.length = tensor->elements();
  } else {
    throw Error(kErrInvalidArgument, std::string(name) + " must be a Uint8Array or a uint8 DeviceTensor");
  }
  if (operand.length != expected)
    throw Error(kErrShape, std::string(name) + " has " + std::to_string(operand.length) + " elements but needs " +
                               std::to_string(expected) + " (one per parameter)");
  operand.keep = keep_alive(v);
  return operand;
}

// Every present operand lives in the same place as the first; returns whether that is the device.
inline bool same_place(std::initializer_list<const FloatOperand*> operands, const char* what) {
  int host = 0, device = 0;
  for (const FloatOperand* op : operands) {
    if (!present(*op)) continue;
    (op->on_device() ? device : host)++;
  }
  if (host > 0 && device > 0)
    throw Error(kErrInvalidArgument, std::string(what) + ": operands must all be host Float32Arrays or all DeviceTensors");
  return device > 0;
}

// Throws when an output's memory overlaps an input's (a GEMM would read what it already
// overwrote). Compares host ranges with host ranges and device ranges with device ranges.
inline void check_no_overlap(const FloatOperand& output, const char* out_name,
                             std::initializer_list<std::pair<const FloatOperand*, const char*>> inputs, const char* op) {
  if (!present(output) || output.length == 0) return;
  const float* o = output.on_device() ? output.device : output.host;
  for (const auto& [input, name] : inputs) {
    if (!present(*input) || input->length == 0 || input->on_device() != output.on_device()) continue;
    const float* i = input->on_device() ? input->device : input->host;
    if (o < i + input->length && i < o + output.length)
      throw Error(kErrInvalidArgument, std::string(op) + ": " + out_name + " must not overlap " + name);
  }
}

#ifdef RADLEARN_WITH_CUDA
// Device pointer for an optional input (null when absent).
inline const float* optional_input(DeviceScratch& scratch, const FloatOperand& op) {
  return present(op) ? scratch.input(op) : nullptr;
}
#endif

}  // namespace radlearn
