// Bindings for the self-distillation op family (radlearn/distill.h). Every size, temperature
// and momentum is validated against the operands before any kernel touches memory.
//   dinoLoss(student, teacher, center?, Vs, Vt, B, K, tauS, tauT, norm, iterations, momentum,
//            updateCenter, gradOut?, centerOut?, backend, async)              -> {loss, grad, center?}
//   ibotLoss(student, teacher, masks, center?, B, P, K, tauS, tauT, norm, iterations, momentum,
//            updateCenter, gradOut?, centerOut?, backend, async)              -> {loss, grad, center?}
//   koleoLoss(x, rows, dim, gradOut?, backend, async)                          -> {loss, grad}
//   sinkhornKnopp(logits, rows, k, temperature, iterations, out?, backend, async) -> probs
//   updateCenter(center, teacher, rows, k, momentum, out?, backend, async)     -> new center
//   emaTeacherUpdate(teacher, student, n, momentum, backend, async)            -> teacher (in place)
//   benchDistillCuda(op, a, b, c, d, iterations)                               -> per-iteration ms (CUDA events)
#include <algorithm>
#include <cfloat>
#include <cstdint>
#include <memory>
#include <vector>

#include "args.h"
#include "operand_helpers.h"
#include "radlearn/distill.h"
#include "staging.h"
#ifdef RADLEARN_WITH_CUDA
#include "radlearn/device.h"
#endif

namespace radlearn {
namespace {

index_t product(std::initializer_list<index_t> dims, const char* what) {
  index_t total = 1;
  for (index_t d : dims) {
    if (d != 0 && total > (index_t{1} << 53) / d) throw Error(kErrShape, std::string(what) + " is too large");
    total *= d;
  }
  return total;
}

index_t positive(const Napi::Value& v, const char* name) {
  index_t n = size_arg(v, name);
  if (n < 1) throw Error(kErrInvalidArgument, std::string(name) + " must be at least 1");
  return n;
}

float temperature_arg(const Napi::Value& v, const char* name) {
  double t = number_arg(v, name);
  // logits are divided by it in float32: below FLT_MIN it rounds to 0 or a subnormal whose inverse overflows
  if (!(t >= static_cast<double>(FLT_MIN)) || t > 1e6)
    throw Error(kErrInvalidArgument, std::string(name) + " must be in [1.2e-38, 1e6] (a positive float32), got " + number_text(t));
  return static_cast<float>(t);
}

float momentum_arg(const Napi::Value& v, const char* name) {
  double m = number_arg(v, name);
  if (m < 0.0 || m > 1.0) throw Error(kErrInvalidArgument, std::string(name) + " must be in [0, 1], got " + std::to_string(m));
  return static_cast<float>(m);
}

DistillConfig config_args(const Napi::CallbackInfo& info, int first) {
  DistillConfig config;
  config.student_temp = temperature_arg(info[first], "studentTemperature");
  config.teacher_temp = temperature_arg(info[first + 1], "teacherTemperature");
  std::string norm = string_arg(info[first + 2], "normalization");
  if (norm == "center") config.norm = TeacherNorm::Center;
  else if (norm == "sinkhorn") config.norm = TeacherNorm::Sinkhorn;
  else throw Error(kErrInvalidArgument, "normalization must be 'center' or 'sinkhorn', got '" + norm + "'");
  index_t iterations = size_arg(info[first + 3], "sinkhornIterations");
  if (iterations < 1 || iterations > 1000) throw Error(kErrInvalidArgument, "sinkhornIterations must be in [1, 1000]");
  config.sinkhorn_iterations = static_cast<int>(iterations);
  return config;
}

using Result = std::shared_ptr<Napi::ObjectReference>;
Result persist(const Napi::Value& v) { return std::make_shared<Napi::ObjectReference>(Napi::Persistent(v.As<Napi::Object>())); }

// {loss, grad, center?} built on the JS thread after the work ran.
std::function<Napi::Value(Napi::Env)> loss_result(std::shared_ptr<double> loss, Result grad, Result center) {
  return [loss, grad, center](Napi::Env env) -> Napi::Value {
    Napi::Object out = Napi::Object::New(env);
    out.Set("loss", Napi::Number::New(env, *loss));
    out.Set("grad", grad->Value());
    if (center) out.Set("center", center->Value());
    return out;
  };
}

// Shared by dinoLoss and ibotLoss: the optional center operand and its output.
struct CenterArgs {
  FloatOperand center;
  FloatOperand out;
  Result out_value;
  bool has_center = false;
  bool update = false;

  // The op's keep list: its other operands plus the centers it reads and writes.
  std::vector<Keep> with_keeps(std::vector<Keep> keep) const {
    if (has_center) keep.push_back(center.keep);
    if (update) keep.push_back(out.keep);
    return keep;
  }
};

#ifdef RADLEARN_WITH_CUDA
// Device pointers for a DINO / iBOT call: student and teacher logits and the center uploaded when
// they live on the host, the gradient and the new center in temporaries copied back by finish().
struct StagedCenteredLoss {
  DeviceScratch scratch;
  const float* student;
  const float* teacher;
  const float* center;
  float* grad;
  float* center_out;

  StagedCenteredLoss(const FloatOperand& s, const FloatOperand& t, const FloatOperand& g, const CenterArgs& c)
      : student(scratch.input(s)), teacher(scratch.input(t)), center(c.has_center ? scratch.input(c.center) : nullptr),
        grad(scratch.output(g)), center_out(c.update ? scratch.output(c.out) : nullptr) {}

  void finish(const FloatOperand& g, const CenterArgs& c) {
    scratch.finish(g, grad);
    if (c.update) scratch.finish(c.out, center_out);
  }
};
#endif

CenterArgs center_args(Napi::Env env, const Napi::Value& center, const Napi::Value& center_out, bool update, bool on_device,
                       const DistillConfig& config, index_t k) {
  CenterArgs args;
  args.has_center = !center.IsUndefined() && !center.IsNull();
  args.update = update;
  std::string shape = "[K] = " + shape_text({k});
  if (config.norm == TeacherNorm::Center && !args.has_center)
    throw Error(kErrInvalidArgument, "normalization 'center' needs a center of shape " + shape);
  if (update && !args.has_center) throw Error(kErrInvalidArgument, "updateCenter needs a center of shape " + shape);
  if (args.has_center) {
    args.center = float_operand(center, "center", k, shape);
    if (args.center.on_device() != on_device) throw Error(kErrInvalidArgument, "center must live where the logits live");
  }
  if (update) {
    Napi::Value created;
    args.out = float_output(env, center_out, on_device, k, "centerOut", shape, &created);
    allow_in_place(args.out.keep, args.center.keep);
    args.out_value = persist(created);
  }
  return args;
}

Napi::Value DinoLoss(const Napi::CallbackInfo& info) {
  return guarded(info, [](const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    index_t vs = positive(info[3], "studentViews"), vt = positive(info[4], "teacherViews");
    index_t batch = positive(info[5], "batch"), k = positive(info[6], "prototypes");
    DistillConfig config = config_args(info, 7);
    float momentum = momentum_arg(info[11], "centerMomentum");
    bool update = bool_arg(info[12], "updateCenter");
    Backend backend = backend_arg(info[15]);
    bool async = async_arg(info[16]);
    if (vt > vs || vs < 2)
      throw Error(kErrInvalidArgument, "DINO needs teacherViews <= studentViews and studentViews >= 2, got studentViews=" +
                                           std::to_string(vs) + ", teacherViews=" + std::to_string(vt));
    std::string s_shape = "[Vs, B, K] = " + shape_text({vs, batch, k});
    FloatOperand student = float_operand(info[0], "student", product({vs, batch, k}, "student"), s_shape);
    FloatOperand teacher = float_operand(info[1], "teacher", product({vt, batch, k}, "teacher"),
                                         "[Vt, B, K] = " + shape_text({vt, batch, k}));
    same_place({&student, &teacher}, "student and teacher");
    CenterArgs c = center_args(env, info[2], info[14], update, student.on_device(), config, k);
    require_host_for_cpu(backend, {&student, &teacher});
    if (c.has_center) require_host_for_cpu(backend, {&c.center});
    Napi::Value grad_value;
    FloatOperand grad = float_output(env, info[13], student.on_device(), student.length, "gradOut", s_shape, &grad_value);
    auto loss = std::make_shared<double>(0.0);
    auto work = [=]() {
      if (backend == Backend::Cpu) {
        *loss = dino_loss_cpu(student.host, teacher.host, c.has_center ? c.center.host : nullptr, vs, vt, batch, k, config,
                              grad.host, c.update ? c.out.host : nullptr, momentum);
        return;
      }
#ifdef RADLEARN_WITH_CUDA
      StagedCenteredLoss d(student, teacher, grad, c);
      *loss = dino_loss_cuda(d.student, d.teacher, d.center, vs, vt, batch, k, config, d.grad, d.center_out, momentum);
      d.finish(grad, c);
#endif
    };
    return run_op(env, async, work, loss_result(loss, persist(grad_value), c.update ? c.out_value : nullptr),
                  c.with_keeps({student.keep, teacher.keep, grad.keep}));
  });
}

Napi::Value IbotLoss(const Napi::CallbackInfo& info) {
  return guarded(info, [](const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    index_t batch = positive(info[4], "batch"), patches = positive(info[5], "patches"), k = positive(info[6], "prototypes");
    DistillConfig config = config_args(info, 7);
    float momentum = momentum_arg(info[11], "centerMomentum");
    bool update = bool_arg(info[12], "updateCenter");
    Backend backend = backend_arg(info[15]);
    bool async = async_arg(info[16]);
    std::string shape = "[B, P, K] = " + shape_text({batch, patches, k});
    index_t length = product({batch, patches, k}, "student");
    FloatOperand student = float_operand(info[0], "student", length, shape);
    FloatOperand teacher = float_operand(info[1], "teacher", length, shape);
    same_place({&student, &teacher}, "student and teacher");
    ByteOperand masks = byte_operand(info[2], "masks", batch * patches, "[B, P] = " + shape_text({batch, patches}));
    if (backend == Backend::Cpu && masks.device) throw Error(kErrBackend, "a DeviceTensor operand needs the CUDA backend");
    CenterArgs c = center_args(env, info[3], info[14], update, student.on_device(), config, k);
    require_host_for_cpu(backend, {&student, &teacher});
    if (c.has_center) require_host_for_cpu(backend, {&c.center});
    Napi::Value grad_value;
    FloatOperand grad = float_output(env, info[13], student.on_device(), length, "gradOut", shape, &grad_value);
    auto loss = std::make_shared<double>(0.0);
    auto work = [=]() {
      if (backend == Backend::Cpu) {
        *loss = ibot_loss_cpu(student.host, teacher.host, masks.host, c.has_center ? c.center.host : nullptr, batch, patches,
                              k, config, grad.host, c.update ? c.out.host : nullptr, momentum);
        return;
      }
#ifdef RADLEARN_WITH_CUDA
      // The plan is built on the host: device masks (B * P bytes) are copied down first.
      std::vector<std::uint8_t> host_masks;
      const std::uint8_t* mh = masks.host;
      if (masks.device) {
        host_masks.resize(static_cast<size_t>(masks.length));
        copy_to_host(host_masks.data(), masks.device, host_masks.size());
        mh = host_masks.data();
      }
      StagedCenteredLoss d(student, teacher, grad, c);
      *loss = ibot_loss_cuda(d.student, d.teacher, mh, d.center, batch, patches, k, config, d.grad, d.center_out, momentum);
      d.finish(grad, c);
#endif
    };
    return run_op(env, async, work, loss_result(loss, persist(grad_value), c.update ? c.out_value : nullptr),
                  c.with_keeps({student.keep, teacher.keep, masks.keep, grad.keep}));
  });
}

Napi::Value KoleoLoss(const Napi::CallbackInfo& info) {
  return guarded(info, [](const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    index_t rows = size_arg(info[1], "rows"), dim = positive(info[2], "dim");
    if (rows < 2) throw Error(kErrInvalidArgument, "KoLeo needs at least 2 rows (each needs a nearest neighbour), got " + std::to_string(rows));
    if (rows > 2147483647) throw Error(kErrShape, "KoLeo rows exceed 2^31");
    Backend backend = backend_arg(info[4]);
    bool async = async_arg(info[5]);
    std::string shape = "[B, D] = " + shape_text({rows, dim});
    FloatOperand x = float_operand(info[0], "x", product({rows, dim}, "x"), shape);
    require_host_for_cpu(backend, {&x});
    Napi::Value grad_value;
    FloatOperand grad = float_output(env, info[3], x.on_device(), x.length, "gradOut", shape, &grad_value);
    auto loss = std::make_shared<double>(0.0);
    auto work = [=]() {
      if (backend == Backend::Cpu) {
        *loss = koleo_loss_cpu(x.host, rows, dim, grad.host);
        return;
      }
#ifdef RADLEARN_WITH_CUDA
      DeviceScratch scratch;
      const float* dx = scratch.input(x);
      float* dg = scratch.output(grad);
      *loss = koleo_loss_cuda(dx, rows, dim, dg);
      scratch.finish(grad, dg);
#endif
    };
    return run_op(env, async, work, loss_result(loss, persist(grad_value), nullptr), {x.keep, grad.keep});
  });
}

Napi::Value SinkhornKnopp(const Napi::CallbackInfo& info) {
  return guarded(info, [](const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    index_t rows = positive(info[1], "rows"), k = positive(info[2], "prototypes");
    float temperature = temperature_arg(info[3], "temperature");
    index_t iterations = size_arg(info[4], "iterations");
    if (iterations < 1 || iterations > 1000) throw Error(kErrInvalidArgument, "iterations must be in [1, 1000]");
    Backend backend = backend_arg(info[6]);
    bool async = async_arg(info[7]);
    std::string shape = "[rows, K] = " + shape_text({rows, k});
    FloatOperand logits = float_operand(info[0], "logits", product({rows, k}, "logits"), shape);
    require_host_for_cpu(backend, {&logits});
    Napi::Value result;
    FloatOperand probs = float_output(env, info[5], logits.on_device(), logits.length, "out", shape, &result);
    Result keep_result = persist(result);
    int its = static_cast<int>(iterations);
    auto work = [=]() {
      if (backend == Backend::Cpu) {
        sinkhorn_knopp_cpu(logits.host, rows, k, temperature, its, probs.host);
        return;
      }
#ifdef RADLEARN_WITH_CUDA
      DeviceScratch scratch;
      const float* dl = scratch.input(logits);
      float* dp = scratch.output(probs);
      sinkhorn_knopp_cuda(dl, rows, k, temperature, its, dp);
      scratch.finish(probs, dp);
#endif
    };
    return run_op(env, async, work, [keep_result](Napi::Env) { return keep_result->Value(); }, {logits.keep, probs.keep});
  });
}

Napi::Value UpdateCenter(const Napi::CallbackInfo& info) {
  return guarded(info, [](const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    index_t rows = positive(info[2], "rows"), k = positive(info[3], "prototypes");
    float momentum = momentum_arg(info[4], "momentum");
    Backend backend = backend_arg(info[6]);
    bool async = async_arg(info[7]);
    FloatOperand center = float_operand(info[0], "center", k, "[K] = " + shape_text({k}));
    FloatOperand teacher = float_operand(info[1], "teacher", product({rows, k}, "teacher"), "[rows, K] = " + shape_text({rows, k}));
    same_place({&center, &teacher}, "center and teacher");
    require_host_for_cpu(backend, {&center, &teacher});
    Napi::Value result;
    FloatOperand out = float_output(env, info[5], center.on_device(), k, "out", "[K] = " + shape_text({k}), &result);
    allow_in_place(out.keep, center.keep);
    Result keep_result = persist(result);
    auto work = [=]() {
      if (backend == Backend::Cpu) {
        update_center_cpu(center.host, teacher.host, nullptr, rows, k, momentum, out.host);
        return;
      }
#ifdef RADLEARN_WITH_CUDA
      DeviceScratch scratch;
      const float* dc = scratch.input(center);
      const float* dt = scratch.input(teacher);
      float* dn = scratch.output(out);
      update_center_cuda(dc, dt, rows, k, momentum, dn);
      scratch.finish(out, dn);
#endif
    };
    return run_op(env, async, work, [keep_result](Napi::Env) { return keep_result->Value(); }, {center.keep, teacher.keep, out.keep});
  });
}

Napi::Value EmaTeacherUpdate(const Napi::CallbackInfo& info) {
  return guarded(info, [](const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    index_t n = size_arg(info[2], "n");
    float momentum = momentum_arg(info[3], "momentum");
    Backend backend = backend_arg(info[4]);
    bool async = async_arg(info[5]);
    std::string shape = "[n] = " + shape_text({n});
    FloatOperand teacher = float_operand(info[0], "teacher", n, shape);
    FloatOperand student = float_operand(info[1], "student", n, shape);
    same_place({&teacher, &student}, "teacher and student");
    mark_written(teacher.keep);
    require_host_for_cpu(backend, {&teacher, &student});
    Result keep_result = persist(info[0]);
    auto work = [=]() {
      if (backend == Backend::Cpu) {
        ema_teacher_update_cpu(teacher.host, student.host, n, momentum);
        return;
      }
#ifdef RADLEARN_WITH_CUDA
      DeviceScratch scratch;
      float* dt = teacher.on_device() ? teacher.device : scratch.allocate(n);
      if (!teacher.on_device()) copy_to_device(dt, teacher.host, n * sizeof(float));
      const float* ds = scratch.input(student);
      ema_teacher_update_cuda(dt, ds, n, momentum);
      scratch.finish(teacher, dt);
#endif
    };
    return run_op(env, async, work, [keep_result](Napi::Env) { return keep_result->Value(); }, {teacher.keep, student.keep});
  });
}

// benchDistillCuda('dino', Vs, Vt*B... ) timed with CUDA events on device-resident data:
//   op 'dino':  a = studentViews, b = teacherViews, c = batch, d = prototypes (centered)
//   op 'koleo': a = rows, b = dim
Napi::Value BenchDistillCuda(const Napi::CallbackInfo& info) {
  return guarded(info, [](const Napi::CallbackInfo& info) -> Napi::Value {
#ifdef RADLEARN_WITH_CUDA
    std::string op = string_arg(info[0], "op");
    index_t a = positive(info[1], "a"), b = positive(info[2], "b"), c = positive(info[3], "c"), d = positive(info[4], "d");
    index_t iterations = std::max<index_t>(1, size_arg(info[5], "iterations"));
    DeviceScratch scratch;
    auto fill = [&](index_t n, unsigned seed) {
      float* p = scratch.allocate(n);
      std::vector<float> host(static_cast<size_t>(n));
      for (size_t i = 0; i < host.size(); ++i)
        host[i] = static_cast<float>(((i + seed) * 2654435761u) % 1000) / 500.0f - 1.0f;
      copy_to_device(p, host.data(), n * sizeof(float));
      return p;
    };
    std::function<void()> run;
    if (op == "dino") {
      float* student = fill(a * c * d, 1);
      float* teacher = fill(b * c * d, 2);
      float* center = fill(d, 3);
      float* grad = scratch.allocate(a * c * d);
      float* new_center = scratch.allocate(d);
      DistillConfig config;
      run = [=]() { dino_loss_cuda(student, teacher, center, a, b, c, d, config, grad, new_center, 0.9f); };
    } else if (op == "koleo") {
      float* x = fill(a * b, 4);
      float* grad = scratch.allocate(a * b);
      run = [=]() { koleo_loss_cuda(x, a, b, grad); };
    } else {
      throw Error(kErrInvalidArgument, "benchDistillCuda op must be 'dino' or 'koleo'");
    }
    run();  // warm-up
    auto out = Napi::Float64Array::New(info.Env(), static_cast<size_t>(iterations));
    DeviceTimer timer;
    for (index_t i = 0; i < iterations; ++i) {
      timer.start();
      run();
      out[static_cast<size_t>(i)] = timer.stop_ms();
    }
    return out;
#else
    throw Error(kErrBackend, "benchDistillCuda needs a CUDA build");
#endif
  });
}

}  // namespace

void register_distill(Napi::Env env, Napi::Object exports) {
  exports.Set("dinoLoss", Napi::Function::New(env, DinoLoss, "dinoLoss"));
  exports.Set("ibotLoss", Napi::Function::New(env, IbotLoss, "ibotLoss"));
  exports.Set("koleoLoss", Napi::Function::New(env, KoleoLoss, "koleoLoss"));
  exports.Set("sinkhornKnopp", Napi::Function::New(env, SinkhornKnopp, "sinkhornKnopp"));
  exports.Set("updateCenter", Napi::Function::New(env, UpdateCenter, "updateCenter"));
  exports.Set("emaTeacherUpdate", Napi::Function::New(env, EmaTeacherUpdate, "emaTeacherUpdate"));
  exports.Set("benchDistillCuda", Napi::Function::New(env, BenchDistillCuda, "benchDistillCuda"));
}

}  // namespace radlearn
