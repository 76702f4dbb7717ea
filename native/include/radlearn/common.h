// Shared vocabulary of the native core: the error type every kernel and binding throws,
// with a stable code that the TypeScript layer maps onto its typed error classes.
#pragma once

#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>

namespace radlearn {

using index_t = std::int64_t;

// Error codes shared with src/native/errors.ts.
inline constexpr const char* kErrShape = "ERR_SHAPE";
inline constexpr const char* kErrInvalidArgument = "ERR_INVALID_ARGUMENT";
inline constexpr const char* kErrCuda = "ERR_CUDA";
inline constexpr const char* kErrBackend = "ERR_BACKEND_UNAVAILABLE";
inline constexpr const char* kErrDisposed = "ERR_TENSOR_DISPOSED";
inline constexpr const char* kErrInUse = "ERR_TENSOR_IN_USE";
inline constexpr const char* kErrDetached = "ERR_BUFFER_DETACHED";
inline constexpr const char* kErrOutOfMemory = "ERR_OUT_OF_MEMORY";

// A number for an error message: %g keeps 1e-46 and 3.4e38 readable where std::to_string
// would print 0.000000 and 39 digits.
inline std::string number_text(double x) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", x);
  return text;
}

class Error : public std::runtime_error {
 public:
  Error(std::string code, const std::string& message) : std::runtime_error(message), code_(std::move(code)) {}
  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

}  // namespace radlearn
