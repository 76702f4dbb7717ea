// Bindings for the optimizer ops (contracts in radlearn/optim.h):
//   adamwStep(params, grads, m, v, decayMask?, length, lr, beta1, beta2, eps, weightDecay, step,
//             maxGradNorm, backend, async) -> pre-clip gradient norm (params, m, v updated in place)
//   gradNorm(grads, length, backend, async) -> global L2 norm
//   emaUpdate(ema, params, length, momentum, backend, async) -> undefined (ema updated in place)
//   benchAdamwCuda(length, iterations) -> per-step milliseconds (CUDA events, device-resident)
#include <algorithm>
#include <cmath>
#include <memory>

#include "args.h"
#include "operand_helpers.h"
#include "radlearn/optim.h"
#include "staging.h"

namespace radlearn {
namespace {

Napi::Value AdamwStep(const Napi::CallbackInfo& info) {
  return guarded(info, [](const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    index_t length = size_arg(info[5], "length");
    AdamWConfig config;
    double lr = number_arg(info[6], "lr"), beta1 = number_arg(info[7], "beta1"), beta2 = number_arg(info[8], "beta2");
    double eps = number_arg(info[9], "eps"), wd = number_arg(info[10], "weightDecay");
    index_t step = size_arg(info[11], "step");
    double max_norm = number_arg(info[12], "maxGradNorm");
    if (lr < 0) throw Error(kErrInvalidArgument, "adamwStep: lr must be >= 0");
    if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1))
      throw Error(kErrInvalidArgument, "adamwStep: beta1 and beta2 must be in [0, 1)");
    // eps is used in float32: one that rounds to 0 would divide by zero
    if (!(static_cast<float>(eps) > 0.0f)) throw Error(kErrInvalidArgument, "adamwStep: eps must be > 0 and at least 1.4e-45 (float32)");
    if (wd < 0) throw Error(kErrInvalidArgument, "adamwStep: weightDecay must be >= 0");
    if (step < 1) throw Error(kErrInvalidArgument, "adamwStep: step must be >= 1 (1-based, for bias correction)");
    config.lr = lr;
    config.beta1 = beta1;
    config.beta2 = beta2;
    config.eps = eps;
    config.weight_decay = wd;
    config.step = step;
    config.max_grad_norm = max_norm;
    Backend backend = backend_arg(info[13]);
    bool async = async_arg(info[14]);
    std::string shape = "[" + std::to_string(length) + "]";
    FloatOperand params = float_operand(info[0], "params", length, shape);
    FloatOperand grads = float_operand(info[1], "grads", length, shape);
    FloatOperand m = float_operand(info[2], "m", length, shape);
    FloatOperand v = float_operand(info[3], "v", length, shape);
    ByteOperand mask = optional_bytes(info[4], "decayMask", length);
    bool device = same_place({&params, &grads, &m, &v}, "adamwStep");
    if (mask.keep && mask.on_device() != device)
      throw Error(kErrInvalidArgument, "adamwStep: decayMask must live where the parameters live");
    require_host_for_cpu(backend, {&params, &grads, &m, &v});
    for (const FloatOperand* updated : {&params, &m, &v}) mark_written(updated->keep);
    auto norm = std::make_shared<double>(0.0);
    auto work = [=]() {
      if (backend == Backend::Cpu) {
        *norm = adamw_step_cpu(params.host, grads.host, m.host, v.host, mask.host, length, config);
        return;
      }
#ifdef RADLEARN_WITH_CUDA
      DeviceScratch scratch;
      float* d_p = const_cast<float*>(scratch.input(params));
      const float* d_g = scratch.input(grads);
      float* d_m = const_cast<float*>(scratch.input(m));
      float* d_v = const_cast<float*>(scratch.input(v));
      const std::uint8_t* d_mask = mask.device;
      // Freed on every exit, including a failed upload (the copy can throw after the allocation).
      struct StagedMask {
        void* ptr = nullptr;
        ~StagedMask() { device_free(ptr); }
      } staged_mask;
      if (mask.host) {
        staged_mask.ptr = device_alloc(static_cast<size_t>(length));
        copy_to_device(staged_mask.ptr, mask.host, static_cast<size_t>(length));
        d_mask = static_cast<const std::uint8_t*>(staged_mask.ptr);
      }
      *norm = adamw_step_cuda(d_p, d_g, d_m, d_v, d_mask, length, config);
      scratch.finish(params, d_p);
      scratch.finish(m, d_m);
      scratch.finish(v, d_v);
#endif
    };
    return run_op(env, async, work, [norm](Napi::Env env) { return Napi::Number::New(env, *norm); },
                  {params.keep, grads.keep, m.keep, v.keep, mask.keep});
  });
}

Napi::Value GradNorm(const Napi::CallbackInfo& info) {
  return guarded(info, [](const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    index_t length = size_arg(info[1], "length");
    Backend backend = backend_arg(info[2]);
    bool async = async_arg(info[3]);
    FloatOperand grads = float_operand(info[0], "grads", length, "[" + std::to_string(length) + "]");
    require_host_for_cpu(backend, {&grads});
    auto norm = std::make_shared<double>(0.0);
    auto work = [=]() {
      if (backend == Backend::Cpu) {
        *norm = grad_norm_cpu(grads.host, length);
        return;
      }
#ifdef RADLEARN_WITH_CUDA
      DeviceScratch scratch;
      *norm = grad_norm_cuda(scratch.input(grads), length);
#endif
    };
    return run_op(env, async, work, [norm](Napi::Env env) { return Napi::Number::New(env, *norm); }, {grads.keep});
  });
}

Napi::Value EmaUpdate(const Napi::CallbackInfo& info) {
  return guarded(info, [](const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    index_t length = size_arg(info[2], "length");
    double momentum = number_arg(info[3], "momentum");
    if (!(momentum >= 0 && momentum <= 1)) throw Error(kErrInvalidArgument, "emaUpdate: momentum must be in [0, 1]");
    Backend backend = backend_arg(info[4]);
    bool async = async_arg(info[5]);
    std::string shape = "[" + std::to_string(length) + "]";
    FloatOperand ema = float_operand(info[0], "ema", length, shape);
    FloatOperand params = float_operand(info[1], "params", length, shape);
    same_place({&ema, &params}, "emaUpdate");
    mark_written(ema.keep);
    require_host_for_cpu(backend, {&ema, &params});
    float mom = static_cast<float>(momentum);
    auto work = [=]() {
      if (backend == Backend::Cpu) {
        ema_update_cpu(ema.host, params.host, length, mom);
        return;
      }
#ifdef RADLEARN_WITH_CUDA
      DeviceScratch scratch;
      float* d_ema = const_cast<float*>(scratch.input(ema));
      const float* d_p = scratch.input(params);
      ema_update_cuda(d_ema, d_p, length, mom);
      scratch.finish(ema, d_ema);
#endif
    };
    return run_op(env, async, work, [](Napi::Env env) { return env.Undefined(); }, {ema.keep, params.keep});
  });
}

Napi::Value BenchAdamwCuda(const Napi::CallbackInfo& info) {
  return guarded(info, [](const Napi::CallbackInfo& info) -> Napi::Value {
#ifdef RADLEARN_WITH_CUDA
    index_t length = size_arg(info[0], "length");
    index_t iterations = std::max<index_t>(1, size_arg(info[1], "iterations"));
    DeviceScratch scratch;
    float* p = scratch.allocate(length);
    float* g = scratch.allocate(length);
    float* m = scratch.allocate(length);
    float* v = scratch.allocate(length);
    std::vector<float> host(static_cast<size_t>(length));
    for (size_t i = 0; i < host.size(); ++i) host[i] = static_cast<float>((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
    copy_to_device(p, host.data(), length * sizeof(float));
    copy_to_device(g, host.data(), length * sizeof(float));
    std::fill(host.begin(), host.end(), 0.0f);
    copy_to_device(m, host.data(), length * sizeof(float));
    copy_to_device(v, host.data(), length * sizeof(float));
    AdamWConfig config;
    config.max_grad_norm = 1.0f;
    adamw_step_cuda(p, g, m, v, nullptr, length, config);  // warm-up
    auto out = Napi::Float64Array::New(info.Env(), static_cast<size_t>(iterations));
    DeviceTimer timer;
    for (index_t i = 0; i < iterations; ++i) {
      config.step = i + 2;
      timer.start();
      adamw_step_cuda(p, g, m, v, nullptr, length, config);
      out[static_cast<size_t>(i)] = timer.stop_ms();
    }
    return out;
#else
    throw Error(kErrBackend, "benchAdamwCuda needs a CUDA build");
#endif
  });
}

}  // namespace

void register_optim(Napi::Env env, Napi::Object exports) {
  exports.Set("adamwStep", Napi::Function::New(env, AdamwStep, "adamwStep"));
  exports.Set("gradNorm", Napi::Function::New(env, GradNorm, "gradNorm"));
  exports.Set("emaUpdate", Napi::Function::New(env, EmaUpdate, "emaUpdate"));
  exports.Set("benchAdamwCuda", Napi::Function::New(env, BenchAdamwCuda, "benchAdamwCuda"));
}

}  // namespace radlearn
