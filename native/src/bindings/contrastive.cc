// Bindings for the contrastive losses (InfoNCE with groups / relaxation, SigLIP) and their
// CUDA-event bench entry. Sizes, groups and operands are checked here before any kernel runs;
// the numbers (logitScale, bias, relaxThreshold) were validated by src/kernels/contrastive.ts.
//   contrastive(image, text, { batch, dim, kind, logitScale, bias, normalize, groups?, relaxThreshold?,
//               backend, async }) -> { loss, gradImage, gradText, gradLogitScale, gradBias? }
//   benchContrastiveCuda({ batch, dim, kind, dtype, iterations }) -> Float64Array of milliseconds
// image/text: Float32Array [B*D] (CPU or CUDA with staging) or DeviceTensor [B, D] of float32,
// bfloat16 or float16 (CUDA). Gradients come back float32 in the inputs' place.
#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "args.h"
#include "host_memory.h"
#include "radlearn/contrastive.h"
#include "radlearn/half.h"
#include "staging.h"

namespace radlearn {
namespace {

struct LossInput {
  const float* host = nullptr;
  const void* device = nullptr;
  ContrastiveInput type = ContrastiveInput::Float32;
  Keep keep;
};

LossInput loss_input(const Napi::Value& v, const char* name, index_t expected, const std::string& shape) {
  LossInput in;
  index_t length = 0;
  if (v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_float32_array) {
    in.keep = keep_alive(v, name);
    std::size_t elements = 0;
    in.host = static_cast<const float*>(host_operand(v.As<Napi::TypedArray>(), name, in.keep, &elements));
    length = static_cast<index_t>(elements);
  } else if (DeviceTensor* tensor = DeviceTensor::Unwrap(v)) {
    switch (tensor->dtype()) {
      case DType::Float32: in.type = ContrastiveInput::Float32; break;
      case DType::BFloat16: in.type = ContrastiveInput::BFloat16; break;
      case DType::Float16: in.type = ContrastiveInput::Float16; break;
      default:
        throw Error(kErrInvalidArgument, std::string(name) + " must be a float32, bfloat16 or float16 DeviceTensor, got " +
                                             dtype_name(tensor->dtype()));
    }
    in.device = tensor->data();
    length = tensor->elements();
    in.keep = keep_alive(v, name);
  } else {
    throw Error(kErrInvalidArgument, std::string(name) + " must be a Float32Array or a DeviceTensor");
  }
  if (length != expected)
    throw Error(kErrShape, std::string(name) + " has " + std::to_string(length) + " elements but shape " + shape +
                               " needs " + std::to_string(expected));
  return in;
}

ContrastiveKind kind_field(const Napi::Object& options) {
  std::string kind = string_field(options, "kind");
  if (kind == "infonce") return ContrastiveKind::InfoNCE;
  if (kind == "siglip") return ContrastiveKind::SigLIP;
  throw Error(kErrInvalidArgument, "kind must be 'infonce' or 'siglip', got '" + kind + "'");
}

struct Gradient {
  Napi::Value value;
  float* host = nullptr;
  float* device = nullptr;
};

Gradient make_gradient(Napi::Env env, bool on_device, index_t batch, index_t dim) {
  Gradient g;
  if (on_device) {
    g.value = DeviceTensor::Create(env, DType::Float32, {batch, dim});
    g.device = static_cast<float*>(DeviceTensor::Unwrap(g.value)->data());
  } else {
    auto array = Napi::Float32Array::New(env, static_cast<size_t>(batch * dim));
    g.host = array.Data();
    g.value = array;
  }
  return g;
}

// Logits beyond float32 range (huge unnormalised inputs or scale) would give inf/NaN: say so.
void check_finite(const ContrastiveResult& r) {
  if (!std::isfinite(r.loss) || !std::isfinite(r.grad_logit_scale) || !std::isfinite(r.grad_bias))
    throw Error(kErrInvalidArgument,
                "the loss overflowed float32 (logits a * u.v out of range): normalise the inputs or lower logitScale");
}

Napi::Value Contrastive(const Napi::CallbackInfo& info) {
  return guarded(info, [](const Napi::CallbackInfo& info) -> Napi::Value {
    Napi::Env env = info.Env();
    Napi::Object options = options_arg(info, 2);
    index_t batch = size_field(options, "batch"), dim = size_field(options, "dim");
    // The tiles assume at least one row and column, and CUDA indexes rows and columns in 32 bits.
    if (batch < 1 || dim < 1) throw Error(kErrInvalidArgument, "batch and dim must be >= 1");
    if (batch > (index_t{1} << 31) || dim > (index_t{1} << 31) || batch * dim > (index_t{1} << 53))
      throw Error(kErrShape, "batch * dim is too large");
    ContrastiveParams params;
    params.batch = batch;
    params.dim = dim;
    params.kind = kind_field(options);
    params.logit_scale = float_field(options, "logitScale");
    params.bias = float_field(options, "bias");
    params.normalize = bool_field(options, "normalize");
    if (std::optional<float> threshold = optional_float_field(options, "relaxThreshold")) {
      params.relax = true;
      params.relax_threshold = *threshold;
    }
    Napi::Value groups_value = field(options, "groups");
    Backend backend = backend_field(options);
    bool async = async_field(options);
    std::vector<std::int32_t> groups;
    if (!groups_value.IsUndefined() && !groups_value.IsNull()) {
      if (!groups_value.IsTypedArray() || groups_value.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
        throw Error(kErrInvalidArgument, "groups must be an Int32Array");
      HostArray array = host_array(groups_value.As<Napi::TypedArray>(), "groups");
      if (static_cast<index_t>(array.elements) != batch)
        throw Error(kErrShape, "groups has " + std::to_string(array.elements) + " elements but batch is " +
                                   std::to_string(batch));
      const auto* first = static_cast<const std::int32_t*>(array.data);
      groups.assign(first, first + array.elements);  // copied: the caller may reuse the array
    }
    std::string shape = "[batch, dim] = " + shape_text({batch, dim});
    LossInput image = loss_input(info[0], "image", batch * dim, shape);
    LossInput text = loss_input(info[1], "text", batch * dim, shape);
    bool on_device = image.device != nullptr;
    if (on_device != (text.device != nullptr))
      throw Error(kErrInvalidArgument, "image and text must both be host arrays or both DeviceTensors");
    if (on_device && image.type != text.type) throw Error(kErrInvalidArgument, "image and text must have the same dtype");
    if (on_device && backend == Backend::Cpu) throw Error(kErrBackend, "DeviceTensor operands need the CUDA backend");

    Gradient grad_image = make_gradient(env, on_device, batch, dim);
    Gradient grad_text = make_gradient(env, on_device, batch, dim);
    auto keep_image = std::make_shared<Napi::ObjectReference>(Napi::Persistent(grad_image.value.As<Napi::Object>()));
    auto keep_text = std::make_shared<Napi::ObjectReference>(Napi::Persistent(grad_text.value.As<Napi::Object>()));
    auto out = std::make_shared<ContrastiveResult>();
    auto shared_groups = std::make_shared<std::vector<std::int32_t>>(std::move(groups));
    bool siglip = params.kind == ContrastiveKind::SigLIP;

    auto work = [=]() {
      ContrastiveParams p = params;
      std::vector<float> weight;
      if (!shared_groups->empty()) {
        weight.resize(static_cast<size_t>(batch));
        contrastive_group_weights(shared_groups->data(), batch, weight.data());
      }
      if (backend == Backend::Cpu) {
        if (!weight.empty()) {
          p.groups = shared_groups->data();
          p.group_weight = weight.data();
        }
        *out = contrastive_cpu(image.host, text.host, p, grad_image.host, grad_text.host);
        check_finite(*out);
        return;
      }
#ifdef RADLEARN_WITH_CUDA
      DeviceScratch scratch;
      const index_t n = batch * dim;
      const void* d_image = image.device;
      const void* d_text = text.device;
      if (!on_device) {
        float* a = scratch.allocate(n);
        float* b = scratch.allocate(n);
        copy_to_device(a, image.host, n * sizeof(float));
        copy_to_device(b, text.host, n * sizeof(float));
        d_image = a;
        d_text = b;
      }
      if (!weight.empty()) {
        float* d_groups = scratch.allocate(batch);  // int32 and float32 share a size
        float* d_weight = scratch.allocate(batch);
        copy_to_device(d_groups, shared_groups->data(), batch * sizeof(std::int32_t));
        copy_to_device(d_weight, weight.data(), batch * sizeof(float));
        p.groups = reinterpret_cast<const std::int32_t*>(d_groups);
        p.group_weight = d_weight;
      }
      float* gx = on_device ? grad_image.device : scratch.allocate(n);
      float* gt = on_device ? grad_text.device : scratch.allocate(n);
      *out = contrastive_cuda(d_image, d_text, image.type, p, gx, gt);
      check_finite(*out);
      if (!on_device) {
        copy_to_host(grad_image.host, gx, n * sizeof(float));
        copy_to_host(grad_text.host, gt, n * sizeof(float));
      }
#endif
    };
    auto result = [=](Napi::Env env) -> Napi::Value {
      Napi::Object object = Napi::Object::New(env);
      object.Set("loss", Napi::Number::New(env, out->loss));
      object.Set("gradImage", keep_image->Value());
      object.Set("gradText", keep_text->Value());
      object.Set("gradLogitScale", Napi::Number::New(env, out->grad_logit_scale));
      if (siglip) object.Set("gradBias", Napi::Number::New(env, out->grad_bias));
      return object;
    };
    return run_op(env, async, work, result, {image.keep, text.keep});
  });
}

// benchContrastiveCuda(batch, dim, kind, dtype, iterations): per-iteration milliseconds of one
// forward+backward call, CUDA events, device-resident inputs and gradients.
Napi::Value BenchContrastiveCuda(const Napi::CallbackInfo& info) {
  return guarded(info, []([[maybe_unused]] const Napi::CallbackInfo& info) -> Napi::Value {
#ifdef RADLEARN_WITH_CUDA
    Napi::Object options = options_arg(info, 0);
    index_t batch = size_field(options, "batch"), dim = size_field(options, "dim");
    if (batch < 1 || dim < 1) throw Error(kErrInvalidArgument, "batch and dim must be >= 1");
    ContrastiveParams params;
    params.batch = batch;
    params.dim = dim;
    params.kind = kind_field(options);
    params.logit_scale = 14.285714f;
    params.bias = params.kind == ContrastiveKind::SigLIP ? -10.0f : 0.0f;
    std::string dtype = string_field(options, "dtype");
    ContrastiveInput input = dtype == "float32"    ? ContrastiveInput::Float32
                             : dtype == "bfloat16" ? ContrastiveInput::BFloat16
                             : dtype == "float16"  ? ContrastiveInput::Float16
                                                   : throw Error(kErrInvalidArgument, "dtype must be float32, bfloat16 or float16");
    index_t iterations = std::max<index_t>(1, size_field(options, "iterations"));
    const index_t n = batch * dim;
    DeviceScratch scratch;
    std::vector<float> host(static_cast<size_t>(n));
    std::uint32_t state = 12345u;
    for (float& v : host) {
      state = state * 1664525u + 1013904223u;
      v = static_cast<float>(state >> 8) / 16777216.0f - 0.5f;
    }
    void* image = scratch.allocate(n);
    void* text = scratch.allocate(n);
    if (input == ContrastiveInput::Float32) {
      copy_to_device(image, host.data(), n * sizeof(float));
      std::reverse(host.begin(), host.end());  // a different matrix for the text side
      copy_to_device(text, host.data(), n * sizeof(float));
    } else {
      std::vector<std::uint16_t> half(static_cast<size_t>(n));
      if (input == ContrastiveInput::BFloat16)
        floats_to_bfloat16(host.data(), half.data(), n);
      else
        floats_to_half(host.data(), half.data(), n);
      copy_to_device(image, half.data(), n * sizeof(std::uint16_t));
      std::reverse(half.begin(), half.end());  // a different matrix for the text side
      copy_to_device(text, half.data(), n * sizeof(std::uint16_t));
    }
    float* gx = scratch.allocate(n);
    float* gt = scratch.allocate(n);
    contrastive_cuda(image, text, input, params, gx, gt);  // warm-up
    auto out = Napi::Float64Array::New(info.Env(), static_cast<size_t>(iterations));
    DeviceTimer timer;
    for (index_t i = 0; i < iterations; ++i) {
      timer.start();
      contrastive_cuda(image, text, input, params, gx, gt);
      out[static_cast<size_t>(i)] = timer.stop_ms();
    }
    return out;
#else
    throw Error(kErrBackend, "benchContrastiveCuda needs a CUDA build");
#endif
  });
}

}  // namespace

void register_contrastive(Napi::Env env, Napi::Object exports) {
  exports.Set("contrastive", Napi::Function::New(env, Contrastive, "contrastive"));
  exports.Set("benchContrastiveCuda", Napi::Function::New(env, BenchContrastiveCuda, "benchContrastiveCuda"));
}

}  // namespace radlearn
