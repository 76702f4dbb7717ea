// How this addon was built, for `radlearn doctor` and the loader's version check:
//   buildInfo() -> { version, builder, compiler, flags, isa, cudaArchs: string | null }
// The build system passes the version, its own name and the flags (CMakeLists.txt,
// binding.gyp); the compiler and the instruction set come from the compiler's predefined macros,
// so they describe the binary even where the build system did not say.
#include <napi.h>

#include <string>

#ifndef RADLEARN_VERSION_TEXT
#define RADLEARN_VERSION_TEXT ""
#endif
#ifndef RADLEARN_BUILDER_TEXT
#define RADLEARN_BUILDER_TEXT "unknown"
#endif
#ifndef RADLEARN_FLAGS_TEXT
#define RADLEARN_FLAGS_TEXT ""
#endif

namespace radlearn {
namespace {

std::string compiler_text() {
#if defined(__clang__)
  return std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  return std::string("GCC ") + __VERSION__;
#elif defined(_MSC_FULL_VER)
  return "MSVC " + std::to_string(_MSC_FULL_VER);
#else
  return "unknown";
#endif
}

// The vector extensions the CPU code may use: a portable prebuilt lists the baseline only, a
// source build tuned with -march=native lists what the build machine has.
std::string isa_text() {
  std::string out;
  auto add = [&out](const char* name) {
    if (!out.empty()) out += ' ';
    out += name;
  };
#if defined(__x86_64__) || defined(_M_X64)
  add("x86-64");
#endif
#if defined(__aarch64__) || defined(_M_ARM64)
  add("arm64");
#endif
#ifdef __SSE4_2__
  add("sse4.2");
#endif
#ifdef __AVX__
  add("avx");
#endif
#ifdef __AVX2__
  add("avx2");
#endif
#ifdef __FMA__
  add("fma");
#endif
#ifdef __AVX512F__
  add("avx512f");
#endif
#ifdef __ARM_NEON
  add("neon");
#endif
#ifdef __ARM_FEATURE_SVE
  add("sve");
#endif
  return out;
}

Napi::Value BuildInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("version", RADLEARN_VERSION_TEXT);
  out.Set("builder", RADLEARN_BUILDER_TEXT);
  out.Set("compiler", compiler_text());
  out.Set("flags", RADLEARN_FLAGS_TEXT);
  out.Set("isa", isa_text());
#if defined(RADLEARN_CUDA_ARCHS_TEXT)
  out.Set("cudaArchs", RADLEARN_CUDA_ARCHS_TEXT);
#else
  out.Set("cudaArchs", env.Null());
#endif
  return out;
}

}  // namespace

void register_build_info(Napi::Env env, Napi::Object exports) {
  exports.Set("buildInfo", Napi::Function::New(env, BuildInfo, "buildInfo"));
}

}  // namespace radlearn
