// Bindings for the dense-layer ops of trainable heads (contracts in radlearn/linear.h). Sizes
// are checked against operand lengths here; every other option was validated by
// src/kernels/heads.ts.
//   linearForward(x, w, { b?, rows, inFeatures, outFeatures, out?, backend, async })  -> out
//   linearBackward(x, w, dy, { rows, inFeatures, outFeatures, dx?, dw?, db?, accumulate, backend, async })
//     -> undefined (gradients are written into the caller's buffers; an absent one is not computed)
//   geluForward(x, { length, out?, backend, async })                                 -> out
//   geluBackward(x, dy, { length, out?, backend, async })                            -> out
//   benchLinearCuda({ rows, inFeatures, outFeatures, iterations }) -> { forward, backward } per-iteration ms (CUDA events)
#include <algorithm>
#include <utility>

#include "args.h"
#include "operand_helpers.h"
#include "radlearn/linear.h"
#include "staging.h"

namespace radlearn {
namespace {

Napi::Value LinearForward(const Napi::CallbackInfo& info) {
  return guarded(info, [](const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object options = options_arg(info, 2);
    index_t rows = size_field(options, "rows"), in = size_field(options, "inFeatures"), out = size_field(options, "outFeatures");
    Napi::Value b_value = field(options, "b"), out_value = field(options, "out");
    Backend backend = backend_field(options);
    bool async = async_field(options);
    FloatOperand x = float_operand(info[0], "x", checked_size_product(rows, in, "x"), "[rows, in] = " + shape_text({rows, in}));
    FloatOperand w = float_operand(info[1], "w", checked_size_product(out, in, "w"), "[out, in] = " + shape_text({out, in}));
    FloatOperand b = optional_float(b_value, "b", out, "[out] = " + shape_text({out}));
    bool device = same_place({&x, &w, &b}, "linearForward");
    require_host_for_cpu(backend, {&x, &w, &b});
    Napi::Value result;
    FloatOperand y = float_output(env, out_value, device, checked_size_product(rows, out, "y"), "out",
                                  "[rows, out] = " + shape_text({rows, out}), &result);
    auto keep_result = std::make_shared<Napi::ObjectReference>(Napi::Persistent(result.As<Napi::Object>()));
    auto work = [=]() {
      if (backend == Backend::Cpu) {
        linear_forward_cpu(x.host, w.host, present(b) ? b.host : nullptr, y.host, rows, in, out);
        return;
      }
#ifdef RADLEARN_WITH_CUDA
      DeviceScratch scratch;
      const float* dx = scratch.input(x);
      const float* dw = scratch.input(w);
      const float* db = optional_input(scratch, b);
      float* dyp = scratch.output(y);
      linear_forward_cuda(dx, dw, db, dyp, rows, in, out);
      scratch.finish(y, dyp);
#endif
    };
    return run_op(env, async, work, [keep_result](Napi::Env) { return keep_result->Value(); },
                  {x.keep, w.keep, b.keep, y.keep});
  });
}

Napi::Value LinearBackward(const Napi::CallbackInfo& info) {
  return guarded(info, [](const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object options = options_arg(info, 3);
    index_t rows = size_field(options, "rows"), in = size_field(options, "inFeatures"), out = size_field(options, "outFeatures");
    Napi::Value dx_value = field(options, "dx"), dw_value = field(options, "dw"), db_value = field(options, "db");
    bool accumulate = bool_field(options, "accumulate");
    Backend backend = backend_field(options);
    bool async = async_field(options);
    std::string x_shape = "[rows, in] = " + shape_text({rows, in});
    FloatOperand x = float_operand(info[0], "x", checked_size_product(rows, in, "x"), x_shape);
    FloatOperand w = float_operand(info[1], "w", checked_size_product(out, in, "w"), "[out, in] = " + shape_text({out, in}));
    FloatOperand dy = float_operand(info[2], "dy", checked_size_product(rows, out, "dy"), "[rows, out] = " + shape_text({rows, out}));
    FloatOperand dx = optional_float(dx_value, "dx", rows * in, x_shape);
    FloatOperand dw = optional_float(dw_value, "dw", out * in, "[out, in] = " + shape_text({out, in}));
    FloatOperand db = optional_float(db_value, "db", out, "[out] = " + shape_text({out}));
    same_place({&x, &w, &dy, &dx, &dw, &db}, "linearBackward");
    require_host_for_cpu(backend, {&x, &w, &dy, &dx, &dw, &db});
    for (const FloatOperand* output : {&dx, &dw, &db}) mark_written(output->keep);
    auto work = [=]() {
      if (backend == Backend::Cpu) {
        linear_backward_cpu(x.host, w.host, dy.host, present(dx) ? dx.host : nullptr, present(dw) ? dw.host : nullptr,
                            present(db) ? db.host : nullptr, rows, in, out, accumulate);
        return;
      }
#ifdef RADLEARN_WITH_CUDA
      DeviceScratch scratch;
      const float* d_x = scratch.input(x);
      const float* d_w = scratch.input(w);
      const float* d_dy = scratch.input(dy);
      float* d_dx = present(dx) ? scratch.output(dx) : nullptr;
      // Accumulating into host gradients needs their current values on the device.
      float* d_dw = present(dw) ? (accumulate ? const_cast<float*>(scratch.input(dw)) : scratch.output(dw)) : nullptr;
      float* d_db = present(db) ? (accumulate ? const_cast<float*>(scratch.input(db)) : scratch.output(db)) : nullptr;
      linear_backward_cuda(d_x, d_w, d_dy, d_dx, d_dw, d_db, rows, in, out, accumulate);
      if (d_dx) scratch.finish(dx, d_dx);
      if (d_dw) scratch.finish(dw, d_dw);
      if (d_db) scratch.finish(db, d_db);
#endif
    };
    return run_op(env, async, work, [](Napi::Env env) { return env.Undefined(); },
                  {x.keep, w.keep, dy.keep, dx.keep, dw.keep, db.keep});
  });
}

Napi::Value GeluForward(const Napi::CallbackInfo& info) {
  return guarded(info, [](const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object options = options_arg(info, 1);
    index_t length = size_field(options, "length");
    Napi::Value out_value = field(options, "out");
    Backend backend = backend_field(options);
    bool async = async_field(options);
    std::string shape = "[" + std::to_string(length) + "]";
    FloatOperand x = float_operand(info[0], "x", length, shape);
    require_host_for_cpu(backend, {&x});
    Napi::Value result;
    FloatOperand y = float_output(env, out_value, x.on_device(), length, "out", shape, &result);
    auto keep_result = std::make_shared<Napi::ObjectReference>(Napi::Persistent(result.As<Napi::Object>()));
    auto work = [=]() {
      if (backend == Backend::Cpu) {
        gelu_forward_cpu(x.host, y.host, length);
        return;
      }
#ifdef RADLEARN_WITH_CUDA
      DeviceScratch scratch;
      const float* d_x = scratch.input(x);
      float* d_y = scratch.output(y);
      gelu_forward_cuda(d_x, d_y, length);
      scratch.finish(y, d_y);
#endif
    };
    return run_op(env, async, work, [keep_result](Napi::Env) { return keep_result->Value(); }, {x.keep, y.keep});
  });
}

Napi::Value GeluBackward(const Napi::CallbackInfo& info) {
  return guarded(info, [](const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object options = options_arg(info, 2);
    index_t length = size_field(options, "length");
    Napi::Value out_value = field(options, "out");
    Backend backend = backend_field(options);
    bool async = async_field(options);
    std::string shape = "[" + std::to_string(length) + "]";
    FloatOperand x = float_operand(info[0], "x", length, shape);
    FloatOperand dy = float_operand(info[1], "dy", length, shape);
    bool device = same_place({&x, &dy}, "geluBackward");
    require_host_for_cpu(backend, {&x, &dy});
    Napi::Value result;
    FloatOperand dx = float_output(env, out_value, device, length, "out", shape, &result);
    auto keep_result = std::make_shared<Napi::ObjectReference>(Napi::Persistent(result.As<Napi::Object>()));
    auto work = [=]() {
      if (backend == Backend::Cpu) {
        gelu_backward_cpu(x.host, dy.host, dx.host, length);
        return;
      }
#ifdef RADLEARN_WITH_CUDA
      DeviceScratch scratch;
      const float* d_x = scratch.input(x);
      const float* d_dy = scratch.input(dy);
      float* d_dx = scratch.output(dx);
      gelu_backward_cuda(d_x, d_dy, d_dx, length);
      scratch.finish(dx, d_dx);
#endif
    };
    return run_op(env, async, work, [keep_result](Napi::Env) { return keep_result->Value(); },
                  {x.keep, dy.keep, dx.keep});
  });
}

Napi::Value BenchLinearCuda(const Napi::CallbackInfo& info) {
  return guarded(info, []([[maybe_unused]] const Napi::CallbackInfo& info) -> Napi::Value {
#ifdef RADLEARN_WITH_CUDA
    Napi::Object options = options_arg(info, 0);
    index_t rows = size_field(options, "rows"), in = size_field(options, "inFeatures"), out = size_field(options, "outFeatures");
    index_t iterations = std::max<index_t>(1, size_field(options, "iterations"));
    DeviceScratch scratch;
    float* x = scratch.allocate(rows * in);
    float* w = scratch.allocate(out * in);
    float* b = scratch.allocate(out);
    float* y = scratch.allocate(rows * out);
    float* dx = scratch.allocate(rows * in);
    float* dw = scratch.allocate(out * in);
    float* db = scratch.allocate(out);
    std::vector<float> host(static_cast<size_t>(std::max({rows * in, out * in, rows * out})));
    for (size_t i = 0; i < host.size(); ++i) host[i] = static_cast<float>((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
    copy_to_device(x, host.data(), rows * in * sizeof(float));
    copy_to_device(w, host.data(), out * in * sizeof(float));
    copy_to_device(b, host.data(), out * sizeof(float));
    copy_to_device(y, host.data(), rows * out * sizeof(float));
    linear_forward_cuda(x, w, b, y, rows, in, out);
    linear_backward_cuda(x, w, y, dx, dw, db, rows, in, out, false);
    Napi::Env env = info.Env();
    auto forward = Napi::Float64Array::New(env, static_cast<size_t>(iterations));
    auto backward = Napi::Float64Array::New(env, static_cast<size_t>(iterations));
    DeviceTimer timer;
    for (index_t i = 0; i < iterations; ++i) {
      timer.start();
      linear_forward_cuda(x, w, b, y, rows, in, out);
      forward[static_cast<size_t>(i)] = timer.stop_ms();
      timer.start();
      linear_backward_cuda(x, w, y, dx, dw, db, rows, in, out, false);
      backward[static_cast<size_t>(i)] = timer.stop_ms();
    }
    Napi::Object result = Napi::Object::New(env);
    result.Set("forward", forward);
    result.Set("backward", backward);
    return result;
#else
    throw Error(kErrBackend, "benchLinearCuda needs a CUDA build");
#endif
  });
}

}  // namespace

void register_heads(Napi::Env env, Napi::Object exports) {
  exports.Set("linearForward", Napi::Function::New(env, LinearForward, "linearForward"));
  exports.Set("linearBackward", Napi::Function::New(env, LinearBackward, "linearBackward"));
  exports.Set("geluForward", Napi::Function::New(env, GeluForward, "geluForward"));
  exports.Set("geluBackward", Napi::Function::New(env, GeluBackward, "geluBackward"));
  exports.Set("benchLinearCuda", Napi::Function::New(env, BenchLinearCuda, "benchLinearCuda"));
}

}  // namespace radlearn
