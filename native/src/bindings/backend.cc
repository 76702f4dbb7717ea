// Backend facts and runtime controls for the TS layer:
//   backend() -> { cudaCompiled, nvtx, threads, device: {...} | null, deviceReason }
//   setThreads(n), maxThreads(), traceEnable(on), traceTake() -> [{ name, cat, ts, dur, tid }], traceNow()
#include <algorithm>
#include <limits>

#include "args.h"
#include "radlearn/thread_pool.h"
#include "radlearn/trace.h"
#ifdef RADLEARN_WITH_CUDA
#include "radlearn/device.h"
#endif

namespace radlearn {
namespace {

Napi::Value Backend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
#ifdef RADLEARN_WITH_CUDA
  out.Set("cudaCompiled", true);
  DeviceInfo device = cuda_device_info();
  if (device.available) {
    Napi::Object d = Napi::Object::New(env);
    d.Set("name", device.name);
    d.Set("computeCapability", std::to_string(device.compute_major) + "." + std::to_string(device.compute_minor));
    d.Set("memoryBytes", static_cast<double>(device.memory_bytes));
    d.Set("driverVersion", device.driver_version);
    d.Set("runtimeVersion", device.runtime_version);
    d.Set("multiprocessors", device.multiprocessors);
    out.Set("device", d);
  } else {
    out.Set("device", env.Null());
    out.Set("deviceReason", device.reason);
  }
  out.Set("runtimeVersion", device.runtime_version);
#else
  out.Set("cudaCompiled", false);
  out.Set("device", env.Null());
  out.Set("deviceReason", "this addon was built without CUDA (nvcc was not found at build time, or RADLEARN_CUDA=0)");
#endif
#ifdef RADLEARN_WITH_NVTX
  out.Set("nvtx", true);
#else
  out.Set("nvtx", false);
#endif
  out.Set("threads", pool_threads());
  out.Set("maxThreads", max_pool_threads());
  return out;
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  return guarded(info, [](const Napi::CallbackInfo& info) {
    index_t threads = size_arg(info[0], "threads");
    set_pool_threads(static_cast<int>(std::min<index_t>(threads, std::numeric_limits<int>::max())));
    return Napi::Number::New(info.Env(), pool_threads());
  });
}

Napi::Value MaxThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), max_pool_threads()); }

Napi::Value TraceEnable(const Napi::CallbackInfo& info) {
  return guarded(info, [](const Napi::CallbackInfo& info) {
    trace_enable(bool_arg(info[0], "on"));
    return info.Env().Undefined();
  });
}

Napi::Value TraceTake(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<TraceEvent> events = trace_take();
  Napi::Array out = Napi::Array::New(env, events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    Napi::Object e = Napi::Object::New(env);
    e.Set("name", events[i].name);
    e.Set("cat", events[i].category);
    e.Set("ts", events[i].start_us);
    e.Set("dur", events[i].duration_us);
    e.Set("tid", static_cast<double>(events[i].thread_id));
    out.Set(static_cast<uint32_t>(i), e);
  }
  return out;
}

Napi::Value TraceNow(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), trace_now_us()); }

}  // namespace

void register_backend(Napi::Env env, Napi::Object exports) {
  exports.Set("backend", Napi::Function::New(env, Backend, "backend"));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads, "setThreads"));
  exports.Set("maxThreads", Napi::Function::New(env, MaxThreads, "maxThreads"));
  exports.Set("traceEnable", Napi::Function::New(env, TraceEnable, "traceEnable"));
  exports.Set("traceTake", Napi::Function::New(env, TraceTake, "traceTake"));
  exports.Set("traceNow", Napi::Function::New(env, TraceNow, "traceNow"));
}

}  // namespace radlearn
