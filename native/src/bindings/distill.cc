// Bindings for the self-distillation op family (radlearn/distill.h). Sizes, iteration counts
// and the center a normalization needs are checked against the operands before any kernel
// touches memory; temperatures and momenta were validated by src/kernels/distill.ts.
//   dinoLoss(student, teacher, { center?, studentViews, teacherViews, batch, prototypes, studentTemperature,
//            teacherTemperature, normalization, sinkhornIterations, centerMomentum, updateCenter,
//            gradOut?, centerOut?, backend, async })                              -> {loss, grad, center?}
//   ibotLoss(student, teacher, masks, { center?, batch, patches, prototypes, ...the same teacher options })
//                                                                                 -> {loss, grad, center?}
//   koleoLoss(x, { rows, dim, gradOut?, backend, async })                         -> {loss, grad}
//   sinkhornKnopp(logits, { rows, prototypes, temperature, iterations, out?, backend, async }) -> probs
//   updateCenter(center, teacher, { rows, prototypes, momentum, out?, backend, async })       -> new center
//   emaTeacherUpdate(teacher, student, { n, momentum, backend, async })           -> teacher (in place)
//   benchDistillCuda({ op: 'dino', studentViews, teacherViews, batch, prototypes, iterations }
//                  | { op: 'koleo', rows, dim, iterations })                     -> per-iteration ms (CUDA events)
#include <algorithm>
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

// The kernels walk every row of every prototype: a size of 0 leaves them nothing to index.
index_t positive_field(const Napi::Object& options, const char* name) {
  index_t n = size_field(options, name);
  if (n < 1) throw Error(kErrInvalidArgument, std::string(name) + " must be at least 1");
  return n;
}

// Bounds the Sinkhorn-Knopp loop.
int iterations_field(const Napi::Object& options, const char* name) {
  index_t iterations = size_field(options, name);
  if (iterations < 1 || iterations > 1000) throw Error(kErrInvalidArgument, std::string(name) + " must be in [1, 1000]");
  return static_cast<int>(iterations);
}

DistillConfig config_fields(const Napi::Object& options) {
  DistillConfig config;
  config.student_temp = float_field(options, "studentTemperature");
  config.teacher_temp = float_field(options, "teacherTemperature");
  std::string norm = string_field(options, "normalization");
  if (norm == "center") config.norm = TeacherNorm::Center;
  else if (norm == "sinkhorn") config.norm = TeacherNorm::Sinkhorn;
  else throw Error(kErrInvalidArgument, "normalization must be 'center' or 'sinkhorn', got '" + norm + "'");
  config.sinkhorn_iterations = iterations_field(options, "sinkhornIterations");
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

// A kernel reads the center for 'center' normalization and writes the new one in place of it.
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
    Napi::Object options = options_arg(info, 2);
    index_t vs = positive_field(options, "studentViews"), vt = positive_field(options, "teacherViews");
    index_t batch = positive_field(options, "batch"), k = positive_field(options, "prototypes");
    DistillConfig config = config_fields(options);
    float momentum = float_field(options, "centerMomentum");
    bool update = bool_field(options, "updateCenter");
    Napi::Value center_value = field(options, "center"), grad_out = field(options, "gradOut");
    Napi::Value center_out = field(options, "centerOut");
    Backend backend = backend_field(options);
    bool async = async_field(options);
    std::string s_shape = "[Vs, B, K] = " + shape_text({vs, batch, k});
    FloatOperand student = float_operand(info[0], "student", product({vs, batch, k}, "student"), s_shape);
    FloatOperand teacher = float_operand(info[1], "teacher", product({vt, batch, k}, "teacher"),
                                         "[Vt, B, K] = " + shape_text({vt, batch, k}));
    same_place({&student, &teacher}, "student and teacher");
    CenterArgs c = center_args(env, center_value, center_out, update, student.on_device(), config, k);
    require_host_for_cpu(backend, {&student, &teacher});
    if (c.has_center) require_host_for_cpu(backend, {&c.center});
    Napi::Value grad_value;
    FloatOperand grad = float_output(env, grad_out, student.on_device(), student.length, "gradOut", s_shape, &grad_value);
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
    Napi::Object options = options_arg(info, 3);
    index_t batch = positive_field(options, "batch"), patches = positive_field(options, "patches");
    index_t k = positive_field(options, "prototypes");
    DistillConfig config = config_fields(options);
    float momentum = float_field(options, "centerMomentum");
    bool update = bool_field(options, "updateCenter");
    Napi::Value center_value = field(options, "center"), grad_out = field(options, "gradOut");
    Napi::Value center_out = field(options, "centerOut");
    Backend backend = backend_field(options);
    bool async = async_field(options);
    std::string shape = "[B, P, K] = " + shape_text({batch, patches, k});
    index_t length = product({batch, patches, k}, "student");
    FloatOperand student = float_operand(info[0], "student", length, shape);
    FloatOperand teacher = float_operand(info[1], "teacher", length, shape);
    same_place({&student, &teacher}, "student and teacher");
    ByteOperand masks = byte_operand(info[2], "masks", batch * patches, "[B, P] = " + shape_text({batch, patches}));
    if (backend == Backend::Cpu && masks.device) throw Error(kErrBackend, "a DeviceTensor operand needs the CUDA backend");
    CenterArgs c = center_args(env, center_value, center_out, update, student.on_device(), config, k);
    require_host_for_cpu(backend, {&student, &teacher});
    if (c.has_center) require_host_for_cpu(backend, {&c.center});
    Napi::Value grad_value;
    FloatOperand grad = float_output(env, grad_out, student.on_device(), length, "gradOut", shape, &grad_value);
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
    Napi::Object options = options_arg(info, 1);
    index_t rows = size_field(options, "rows"), dim = positive_field(options, "dim");
    // Each row reads its nearest other row; neighbour indices are 32-bit.
    if (rows < 2) throw Error(kErrInvalidArgument, "KoLeo needs at least 2 rows (each needs a nearest neighbour), got " + std::to_string(rows));
    if (rows > 2147483647) throw Error(kErrShape, "KoLeo rows exceed 2^31");
    Napi::Value grad_out = field(options, "gradOut");
    Backend backend = backend_field(options);
    bool async = async_field(options);
    std::string shape = "[B, D] = " + shape_text({rows, dim});
    FloatOperand x = float_operand(info[0], "x", product({rows, dim}, "x"), shape);
    require_host_for_cpu(backend, {&x});
    Napi::Value grad_value;
    FloatOperand grad = float_output(env, grad_out, x.on_device(), x.length, "gradOut", shape, &grad_value);
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
    Napi::Object options = options_arg(info, 1);
    index_t rows = positive_field(options, "rows"), k = positive_field(options, "prototypes");
    float temperature = float_field(options, "temperature");
    int its = iterations_field(options, "iterations");
    Napi::Value out_value = field(options, "out");
    Backend backend = backend_field(options);
    bool async = async_field(options);
    std::string shape = "[rows, K] = " + shape_text({rows, k});
    FloatOperand logits = float_operand(info[0], "logits", product({rows, k}, "logits"), shape);
    require_host_for_cpu(backend, {&logits});
    Napi::Value result;
    FloatOperand probs = float_output(env, out_value, logits.on_device(), logits.length, "out", shape, &result);
    Result keep_result = persist(result);
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
    Napi::Object options = options_arg(info, 2);
    index_t rows = positive_field(options, "rows"), k = positive_field(options, "prototypes");
    float momentum = float_field(options, "momentum");
    Napi::Value out_value = field(options, "out");
    Backend backend = backend_field(options);
    bool async = async_field(options);
    FloatOperand center = float_operand(info[0], "center", k, "[K] = " + shape_text({k}));
    FloatOperand teacher = float_operand(info[1], "teacher", product({rows, k}, "teacher"), "[rows, K] = " + shape_text({rows, k}));
    same_place({&center, &teacher}, "center and teacher");
    require_host_for_cpu(backend, {&center, &teacher});
    Napi::Value result;
    FloatOperand out = float_output(env, out_value, center.on_device(), k, "out", "[K] = " + shape_text({k}), &result);
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
    Napi::Object options = options_arg(info, 2);
    index_t n = size_field(options, "n");
    float momentum = float_field(options, "momentum");
    Backend backend = backend_field(options);
    bool async = async_field(options);
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

// One DINO (centered) or KoLeo call timed with CUDA events on device-resident data.
Napi::Value BenchDistillCuda(const Napi::CallbackInfo& info) {
  return guarded(info, []([[maybe_unused]] const Napi::CallbackInfo& info) -> Napi::Value {
#ifdef RADLEARN_WITH_CUDA
    Napi::Object options = options_arg(info, 0);
    std::string op = string_field(options, "op");
    index_t iterations = std::max<index_t>(1, size_field(options, "iterations"));
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
      index_t vs = positive_field(options, "studentViews"), vt = positive_field(options, "teacherViews");
      index_t batch = positive_field(options, "batch"), k = positive_field(options, "prototypes");
      float* student = fill(product({vs, batch, k}, "student"), 1);
      float* teacher = fill(product({vt, batch, k}, "teacher"), 2);
      float* center = fill(k, 3);
      float* grad = scratch.allocate(vs * batch * k);
      float* new_center = scratch.allocate(k);
      DistillConfig config;
      run = [=]() { dino_loss_cuda(student, teacher, center, vs, vt, batch, k, config, grad, new_center, 0.9f); };
    } else if (op == "koleo") {
      index_t rows = positive_field(options, "rows"), dim = positive_field(options, "dim");
      float* x = fill(product({rows, dim}, "x"), 4);
      float* grad = scratch.allocate(rows * dim);
      run = [=]() { koleo_loss_cuda(x, rows, dim, grad); };
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
