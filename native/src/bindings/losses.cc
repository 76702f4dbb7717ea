// Bindings for the classification losses (contracts in radlearn/losses.h). Each returns
// { loss, valid, grad } where grad is the caller's buffer or a new one.
//   bceWithLogits(logits, targets, { rows, classes, mask?, posWeight?, uncertain, grad?, backend, async })
//   softmaxCrossEntropy(logits, { rows, classes, labels?, targets?, labelSmoothing, temperature, grad?, backend, async })
//   ordinalLoss(logits, levels, { rows, levels, grad?, backend, async })
// Options and target values were validated by src/kernels/losses.ts. Host labels are checked
// here, because a kernel indexes the logits row with them (the error names the index); device
// labels are checked by the kernels, which count bad ones.
#include <cmath>
#include <memory>

#include "args.h"
#include "operand_helpers.h"
#include "radlearn/losses.h"
#include "staging.h"

namespace radlearn {
namespace {

int policy_field(const Napi::Object& options) {
  std::string policy = string_field(options, "uncertain");
  if (policy == "ignore") return kUncertainIgnore;
  if (policy == "ones") return kUncertainOnes;
  if (policy == "zeros") return kUncertainZeros;
  throw Error(kErrInvalidArgument, "uncertain must be 'ignore', 'ones' or 'zeros', got '" + policy + "'");
}

// Host labels: -1 (ignored) or an integer in [0, limit).
void check_labels(const FloatOperand& labels, index_t limit, const char* op, const char* name) {
  if (labels.on_device()) return;
  for (index_t i = 0; i < labels.length; ++i) {
    float v = labels.host[i];
    if (v == -1.0f) continue;
    if (!(v >= 0.0f && v < static_cast<float>(limit) && std::floor(v) == v))
      throw Error(kErrInvalidArgument, std::string(op) + ": " + name + "[" + std::to_string(i) + "] is " +
                                           std::to_string(v) + "; expected -1 (ignore) or an integer in [0, " +
                                           std::to_string(limit - 1) + "]");
  }
}

Napi::Value loss_result(Napi::Env env, const LossResult& r, const Napi::Value& grad) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("loss", Napi::Number::New(env, r.loss));
  out.Set("valid", Napi::Number::New(env, r.valid));
  out.Set("grad", grad);
  return out;
}

Napi::Value BceWithLogits(const Napi::CallbackInfo& info) {
  return guarded(info, [](const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object options = options_arg(info, 2);
    index_t rows = size_field(options, "rows"), classes = size_field(options, "classes");
    int pol = policy_field(options);
    Napi::Value mask_value = field(options, "mask"), pos_weight_value = field(options, "posWeight");
    Napi::Value grad_out = field(options, "grad");
    Backend backend = backend_field(options);
    bool async = async_field(options);
    std::string shape = "[rows, classes] = " + shape_text({rows, classes});
    index_t length = checked_size_product(rows, classes, "logits");
    FloatOperand logits = float_operand(info[0], "logits", length, shape);
    FloatOperand targets = float_operand(info[1], "targets", length, shape);
    FloatOperand mask = optional_float(mask_value, "mask", length, shape);
    FloatOperand pos_weight = optional_float(pos_weight_value, "posWeight", classes, "[classes] = " + shape_text({classes}));
    bool device = same_place({&logits, &targets, &mask, &pos_weight}, "bceWithLogits");
    require_host_for_cpu(backend, {&logits, &targets, &mask, &pos_weight});
    Napi::Value grad_value;
    FloatOperand grad = float_output(env, grad_out, device, length, "grad", shape, &grad_value);
    auto keep_grad = std::make_shared<Napi::ObjectReference>(Napi::Persistent(grad_value.As<Napi::Object>()));
    auto result = std::make_shared<LossResult>();
    auto work = [=]() {
      if (backend == Backend::Cpu) {
        *result = bce_with_logits_cpu(logits.host, targets.host, present(mask) ? mask.host : nullptr,
                                      present(pos_weight) ? pos_weight.host : nullptr, grad.host, rows, classes, pol);
        return;
      }
#ifdef RADLEARN_WITH_CUDA
      DeviceScratch scratch;
      const float* d_logits = scratch.input(logits);
      const float* d_targets = scratch.input(targets);
      const float* d_mask = optional_input(scratch, mask);
      const float* d_pw = optional_input(scratch, pos_weight);
      float* d_grad = scratch.output(grad);
      *result = bce_with_logits_cuda(d_logits, d_targets, d_mask, d_pw, d_grad, rows, classes, pol);
      scratch.finish(grad, d_grad);
#endif
    };
    return run_op(env, async, work, [keep_grad, result](Napi::Env env) { return loss_result(env, *result, keep_grad->Value()); },
                  {logits.keep, targets.keep, mask.keep, pos_weight.keep, grad.keep});
  });
}

Napi::Value SoftmaxCrossEntropy(const Napi::CallbackInfo& info) {
  return guarded(info, [](const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object options = options_arg(info, 1);
    index_t rows = size_field(options, "rows"), classes = size_field(options, "classes");
    float eps = float_field(options, "labelSmoothing"), tau = float_field(options, "temperature");
    Napi::Value labels_value = field(options, "labels"), targets_value = field(options, "targets");
    Napi::Value grad_out = field(options, "grad");
    Backend backend = backend_field(options);
    bool async = async_field(options);
    std::string shape = "[rows, classes] = " + shape_text({rows, classes});
    index_t length = checked_size_product(rows, classes, "logits");
    FloatOperand logits = float_operand(info[0], "logits", length, shape);
    FloatOperand labels = optional_float(labels_value, "labels", rows, "[rows] = " + shape_text({rows}));
    FloatOperand targets = optional_float(targets_value, "targets", length, shape);
    if (present(labels) == present(targets))
      throw Error(kErrInvalidArgument, "softmaxCrossEntropy: give exactly one of labels (class indices) or targets (distributions)");
    if (classes == 0 && rows > 0) throw Error(kErrShape, "softmaxCrossEntropy: classes must be >= 1");
    bool device = same_place({&logits, &labels, &targets}, "softmaxCrossEntropy");
    require_host_for_cpu(backend, {&logits, &labels, &targets});
    if (present(labels)) check_labels(labels, classes, "softmaxCrossEntropy", "labels");
    Napi::Value grad_value;
    FloatOperand grad = float_output(env, grad_out, device, length, "grad", shape, &grad_value);
    auto keep_grad = std::make_shared<Napi::ObjectReference>(Napi::Persistent(grad_value.As<Napi::Object>()));
    auto result = std::make_shared<LossResult>();
    auto work = [=]() {
      if (backend == Backend::Cpu) {
        *result = softmax_cross_entropy_cpu(logits.host, present(labels) ? labels.host : nullptr,
                                            present(targets) ? targets.host : nullptr, grad.host, rows, classes, eps, tau);
        return;
      }
#ifdef RADLEARN_WITH_CUDA
      DeviceScratch scratch;
      const float* d_logits = scratch.input(logits);
      const float* d_labels = optional_input(scratch, labels);
      const float* d_targets = optional_input(scratch, targets);
      float* d_grad = scratch.output(grad);
      *result = softmax_cross_entropy_cuda(d_logits, d_labels, d_targets, d_grad, rows, classes, eps, tau);
      scratch.finish(grad, d_grad);
#endif
    };
    return run_op(env, async, work, [keep_grad, result](Napi::Env env) { return loss_result(env, *result, keep_grad->Value()); },
                  {logits.keep, labels.keep, targets.keep, grad.keep});
  });
}

Napi::Value OrdinalLoss(const Napi::CallbackInfo& info) {
  return guarded(info, [](const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object options = options_arg(info, 2);
    index_t rows = size_field(options, "rows"), levels_count = size_field(options, "levels");
    if (levels_count < 2) throw Error(kErrInvalidArgument, "ordinalLoss: levels must be >= 2");
    Napi::Value grad_out = field(options, "grad");
    Backend backend = backend_field(options);
    bool async = async_field(options);
    index_t thresholds = levels_count - 1;
    std::string shape = "[rows, levels - 1] = " + shape_text({rows, thresholds});
    index_t length = checked_size_product(rows, thresholds, "logits");
    FloatOperand logits = float_operand(info[0], "logits", length, shape);
    FloatOperand levels = float_operand(info[1], "levels", rows, "[rows] = " + shape_text({rows}));
    bool device = same_place({&logits, &levels}, "ordinalLoss");
    require_host_for_cpu(backend, {&logits, &levels});
    check_labels(levels, levels_count, "ordinalLoss", "levels");
    Napi::Value grad_value;
    FloatOperand grad = float_output(env, grad_out, device, length, "grad", shape, &grad_value);
    auto keep_grad = std::make_shared<Napi::ObjectReference>(Napi::Persistent(grad_value.As<Napi::Object>()));
    auto result = std::make_shared<LossResult>();
    auto work = [=]() {
      if (backend == Backend::Cpu) {
        *result = ordinal_loss_cpu(logits.host, levels.host, grad.host, rows, levels_count);
        return;
      }
#ifdef RADLEARN_WITH_CUDA
      DeviceScratch scratch;
      const float* d_logits = scratch.input(logits);
      const float* d_levels = scratch.input(levels);
      float* d_grad = scratch.output(grad);
      *result = ordinal_loss_cuda(d_logits, d_levels, d_grad, rows, levels_count);
      scratch.finish(grad, d_grad);
#endif
    };
    return run_op(env, async, work, [keep_grad, result](Napi::Env env) { return loss_result(env, *result, keep_grad->Value()); },
                  {logits.keep, levels.keep, grad.keep});
  });
}

}  // namespace

void register_losses(Napi::Env env, Napi::Object exports) {
  exports.Set("bceWithLogits", Napi::Function::New(env, BceWithLogits, "bceWithLogits"));
  exports.Set("softmaxCrossEntropy", Napi::Function::New(env, SoftmaxCrossEntropy, "softmaxCrossEntropy"));
  exports.Set("ordinalLoss", Napi::Function::New(env, OrdinalLoss, "ordinalLoss"));
}

}  // namespace radlearn
