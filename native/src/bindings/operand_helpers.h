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
  Keep keep;
  bool on_device() const { return device != nullptr; }
};

inline ByteOperand byte_operand(const Napi::Value& v, const std::string& name, index_t expected, const std::string& shape) {
  RawOperand raw = raw_operand(v, name, napi_uint8_array, DType::Uint8, "a Uint8Array or a uint8 DeviceTensor");
  if (raw.length != expected)
    throw Error(kErrShape, name + " has " + std::to_string(raw.length) + " elements but " + shape + " needs " +
                               std::to_string(expected));
  return ByteOperand{static_cast<std::uint8_t*>(raw.host), static_cast<std::uint8_t*>(raw.device), raw.length, std::move(raw.keep)};
}

inline ByteOperand optional_bytes(const Napi::Value& v, const char* name, index_t expected) {
  if (is_absent(v)) return ByteOperand{};
  return byte_operand(v, name, expected, "one per parameter");
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

#ifdef RADLEARN_WITH_CUDA
// Device pointer for an optional input (null when absent).
inline const float* optional_input(DeviceScratch& scratch, const FloatOperand& op) {
  return present(op) ? scratch.input(op) : nullptr;
}
#endif

}  // namespace radlearn
