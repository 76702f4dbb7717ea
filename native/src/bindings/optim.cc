// Bindings for the optimizer ops (contracts in radlearn/optim.h). Lengths are checked against
// the operands here; the hyperparameters were validated by src/kernels/optim.ts.
//   adamwStep(params, grads, m, v, { decayMask?, length, lr, beta1, beta2, eps, weightDecay, step,
//             maxGradNorm, backend, async }) -> pre-clip gradient norm (params, m, v updated in place)
//   gradNorm(grads, { length, backend, async })              -> global L2 norm
//   emaUpdate(ema, params, { length, momentum, backend, async }) -> undefined (ema updated in place)
//   benchAdamwCuda({ length, iterations })                   -> per-step milliseconds (CUDA events, device-resident)
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
    Napi::Object options = options_arg(info, 4);
    index_t length = size_field(options, "length");
    AdamWConfig config;
    config.lr = number_field(options, "lr");
    config.beta1 = number_field(options, "beta1");
    config.beta2 = number_field(options, "beta2");
    config.eps = number_field(options, "eps");
    config.weight_decay = number_field(options, "weightDecay");
    config.step = size_field(options, "step");
    config.max_grad_norm = number_field(options, "maxGradNorm");
    Napi::Value mask_value = field(options, "decayMask");
    Backend backend = backend_field(options);
    bool async = async_field(options);
    std::string shape = "[" + std::to_string(length) + "]";
    FloatOperand params = float_operand(info[0], "params", length, shape);
    FloatOperand grads = float_operand(info[1], "grads", length, shape);
    FloatOperand m = float_operand(info[2], "m", length, shape);
    FloatOperand v = float_operand(info[3], "v", length, shape);
    ByteOperand mask = optional_bytes(mask_value, "decayMask", length);
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
    Napi::Object options = options_arg(info, 1);
    index_t length = size_field(options, "length");
    Backend backend = backend_field(options);
    bool async = async_field(options);
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
    Napi::Object options = options_arg(info, 2);
    index_t length = size_field(options, "length");
    float mom = float_field(options, "momentum");
    Backend backend = backend_field(options);
    bool async = async_field(options);
    std::string shape = "[" + std::to_string(length) + "]";
    FloatOperand ema = float_operand(info[0], "ema", length, shape);
    FloatOperand params = float_operand(info[1], "params", length, shape);
    same_place({&ema, &params}, "emaUpdate");
    mark_written(ema.keep);
    require_host_for_cpu(backend, {&ema, &params});
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
  return guarded(info, []([[maybe_unused]] const Napi::CallbackInfo& info) -> Napi::Value {
#ifdef RADLEARN_WITH_CUDA
    Napi::Object options = options_arg(info, 0);
    index_t length = size_field(options, "length");
    index_t iterations = std::max<index_t>(1, size_field(options, "iterations"));
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
