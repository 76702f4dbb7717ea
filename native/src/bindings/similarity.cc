// Bindings for the similarity op family: similarity(), l2Normalize(), l2NormalizeBackward(),
// and the CUDA-event bench entry. Sizes are checked against operand lengths before any
// kernel touches memory; every other option was validated by src/kernels/similarity.ts.
//   similarity(a, b, { n, m, d, scale, out?, backend, async })          -> out
//   l2Normalize(x, { rows, dim, out?, backend, async })                 -> out
//   l2NormalizeBackward(x, grad, { rows, dim, out?, backend, async })   -> out
//   benchSimilarityCuda({ n, m, d, iterations })                        -> per-iteration ms (CUDA events)
#include <algorithm>

#include "args.h"
#include "radlearn/l2norm.h"
#include "radlearn/similarity.h"
#include "staging.h"

namespace radlearn {
namespace {

index_t checked_product(index_t a, index_t b, const char* what) {
  if (a != 0 && b > (index_t{1} << 53) / a) throw Error(kErrShape, std::string(what) + " is too large");
  return a * b;
}

Napi::Value Similarity(const Napi::CallbackInfo& info) {
  return guarded(info, [](const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object options = options_arg(info, 2);
    index_t n = size_field(options, "n"), m = size_field(options, "m"), d = size_field(options, "d");
    float scale = float_field(options, "scale");
    Napi::Value out_value = field(options, "out");
    Backend backend = backend_field(options);
    bool async = async_field(options);
    FloatOperand a = float_operand(info[0], "a", checked_product(n, d, "a"), "[n, d] = " + shape_text({n, d}));
    FloatOperand b = float_operand(info[1], "b", checked_product(m, d, "b"), "[m, d] = " + shape_text({m, d}));
    if (a.on_device() != b.on_device()) throw Error(kErrInvalidArgument, "a and b must both be host arrays or both DeviceTensors");
    require_host_for_cpu(backend, {&a, &b});
    Napi::Value result;
    FloatOperand s = float_output(env, out_value, a.on_device(), checked_product(n, m, "the output"), "out",
                                  "[n, m] = " + shape_text({n, m}), &result);
    auto keep_result = std::make_shared<Napi::ObjectReference>(Napi::Persistent(result.As<Napi::Object>()));
    auto work = [=]() {
      if (backend == Backend::Cpu) {
        similarity_cpu(a.host, b.host, s.host, n, m, d, scale);
        return;
      }
#ifdef RADLEARN_WITH_CUDA
      DeviceScratch scratch;
      const float* da = scratch.input(a);
      const float* db = scratch.input(b);
      float* ds = scratch.output(s);
      similarity_cuda(da, db, ds, n, m, d, scale);
      scratch.finish(s, ds);
#endif
    };
    return run_op(env, async, work, [keep_result](Napi::Env) { return keep_result->Value(); }, {a.keep, b.keep, s.keep});
  });
}

Napi::Value L2Normalize(const Napi::CallbackInfo& info) {
  return guarded(info, [](const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object options = options_arg(info, 1);
    index_t rows = size_field(options, "rows"), dim = size_field(options, "dim");
    Napi::Value out_value = field(options, "out");
    Backend backend = backend_field(options);
    bool async = async_field(options);
    std::string shape = "[rows, dim] = " + shape_text({rows, dim});
    FloatOperand x = float_operand(info[0], "x", checked_product(rows, dim, "x"), shape);
    require_host_for_cpu(backend, {&x});
    Napi::Value result;
    FloatOperand y = float_output(env, out_value, x.on_device(), rows * dim, "out", shape, &result);
    auto keep_result = std::make_shared<Napi::ObjectReference>(Napi::Persistent(result.As<Napi::Object>()));
    auto work = [=]() {
      if (backend == Backend::Cpu) {
        l2norm_forward_cpu(x.host, y.host, rows, dim, kL2NormEps);
        return;
      }
#ifdef RADLEARN_WITH_CUDA
      DeviceScratch scratch;
      const float* dx = scratch.input(x);
      float* dy = scratch.output(y);
      l2norm_forward_cuda(dx, dy, rows, dim, kL2NormEps);
      scratch.finish(y, dy);
#endif
    };
    return run_op(env, async, work, [keep_result](Napi::Env) { return keep_result->Value(); }, {x.keep, y.keep});
  });
}

Napi::Value L2NormalizeBackward(const Napi::CallbackInfo& info) {
  return guarded(info, [](const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object options = options_arg(info, 2);
    index_t rows = size_field(options, "rows"), dim = size_field(options, "dim");
    Napi::Value out_value = field(options, "out");
    Backend backend = backend_field(options);
    bool async = async_field(options);
    std::string shape = "[rows, dim] = " + shape_text({rows, dim});
    FloatOperand x = float_operand(info[0], "x", checked_product(rows, dim, "x"), shape);
    FloatOperand g = float_operand(info[1], "grad", rows * dim, shape);
    if (x.on_device() != g.on_device()) throw Error(kErrInvalidArgument, "x and grad must live in the same place");
    require_host_for_cpu(backend, {&x, &g});
    Napi::Value result;
    FloatOperand dx = float_output(env, out_value, x.on_device(), rows * dim, "out", shape, &result);
    auto keep_result = std::make_shared<Napi::ObjectReference>(Napi::Persistent(result.As<Napi::Object>()));
    auto work = [=]() {
      if (backend == Backend::Cpu) {
        l2norm_backward_cpu(x.host, g.host, dx.host, rows, dim, kL2NormEps);
        return;
      }
#ifdef RADLEARN_WITH_CUDA
      DeviceScratch scratch;
      const float* d_x = scratch.input(x);
      const float* d_g = scratch.input(g);
      float* d_dx = scratch.output(dx);
      l2norm_backward_cuda(d_x, d_g, d_dx, rows, dim, kL2NormEps);
      scratch.finish(dx, d_dx);
#endif
    };
    return run_op(env, async, work, [keep_result](Napi::Env) { return keep_result->Value(); }, {x.keep, g.keep, dx.keep});
  });
}

// Device-resident data, so no host copy falls in the timed region.
Napi::Value BenchSimilarityCuda(const Napi::CallbackInfo& info) {
  return guarded(info, []([[maybe_unused]] const Napi::CallbackInfo& info) -> Napi::Value {
#ifdef RADLEARN_WITH_CUDA
    Napi::Object options = options_arg(info, 0);
    index_t n = size_field(options, "n"), m = size_field(options, "m"), d = size_field(options, "d");
    index_t iterations = std::max<index_t>(1, size_field(options, "iterations"));
    DeviceScratch scratch;
    float* a = scratch.allocate(checked_product(n, d, "a"));
    float* b = scratch.allocate(checked_product(m, d, "b"));
    float* s = scratch.allocate(checked_product(n, m, "the output"));
    std::vector<float> host(static_cast<size_t>(std::max(n, m) * d));
    for (size_t i = 0; i < host.size(); ++i) host[i] = static_cast<float>((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
    copy_to_device(a, host.data(), n * d * sizeof(float));
    copy_to_device(b, host.data(), m * d * sizeof(float));
    similarity_cuda(a, b, s, n, m, d, 1.0f);  // warm-up
    auto out = Napi::Float64Array::New(info.Env(), static_cast<size_t>(iterations));
    DeviceTimer timer;
    for (index_t i = 0; i < iterations; ++i) {
      timer.start();
      similarity_cuda(a, b, s, n, m, d, 1.0f);
      out[static_cast<size_t>(i)] = timer.stop_ms();
    }
    return out;
#else
    throw Error(kErrBackend, "benchSimilarityCuda needs a CUDA build");
#endif
  });
}

}  // namespace

void register_similarity(Napi::Env env, Napi::Object exports) {
  exports.Set("similarity", Napi::Function::New(env, Similarity, "similarity"));
  exports.Set("l2Normalize", Napi::Function::New(env, L2Normalize, "l2Normalize"));
  exports.Set("l2NormalizeBackward", Napi::Function::New(env, L2NormalizeBackward, "l2NormalizeBackward"));
  exports.Set("benchSimilarityCuda", Napi::Function::New(env, BenchSimilarityCuda, "benchSimilarityCuda"));
}

}  // namespace radlearn
