// Bindings for the augmentation op (radlearn/augment.h). src/kernels/augment.ts validates the
// images' shapes, keys, seed and step and resolves the spec (augment_spec.h reads it by name);
// here each image is checked against its height x width, and plan_augment() checks the limits
// that keep planning and rendering in bounds.
//   augment(images[], { heights, widths, keys, spec, seed, step, backend, async })
//     -> { outputs: (Float32Array | Uint16Array | DeviceTensor)[], masks: (Uint8Array | DeviceTensor | null)[], params: Float64Array }
//   augmentParams({ heights, widths, keys, spec, seed, step }) -> { masks, params }  (no pixels)
//   benchAugmentCuda({ height, width, sourceDtype, batch, spec, iterations }) -> { kernelMs, callMs, copyMs, outputBytes }
//     kernelMs: the launches only (plan uploaded once); callMs: whole augment_cuda calls (pack, upload, launch, sync)
#include <algorithm>
#include <cmath>
#include <cstring>

#include "args.h"
#include "augment_spec.h"
#include "host_memory.h"
#include "radlearn/augment.h"
#include "staging.h"
#include "tensor.h"
#ifdef RADLEARN_WITH_CUDA
#include "radlearn/device.h"
#endif

namespace radlearn {
namespace {

std::vector<index_t> sizes_field(const Napi::Object& options, const char* name) {
  Napi::Value v = field(options, name);
  if (!v.IsArray()) throw Error(kErrInvalidArgument, std::string(name) + " must be an array of integers");
  auto a = v.As<Napi::Array>();
  std::vector<index_t> out;
  for (uint32_t i = 0; i < a.Length(); ++i)
    out.push_back(size_arg(a.Get(i), (std::string(name) + "[" + std::to_string(i) + "]").c_str()));
  return out;
}

// One shape per image; the keys are 32-bit (the TS layer checked their range).
std::vector<AugmentSourceShape> shapes_field(const Napi::Object& options) {
  std::vector<index_t> heights = sizes_field(options, "heights"), widths = sizes_field(options, "widths"),
                       keys = sizes_field(options, "keys");
  if (heights.size() != widths.size() || heights.size() != keys.size())
    throw Error(kErrShape, "heights, widths and keys must have one entry per image");
  if (heights.empty()) throw Error(kErrShape, "the batch must hold at least one image");
  std::vector<AugmentSourceShape> shapes(heights.size());
  for (size_t i = 0; i < heights.size(); ++i)
    shapes[i].height = heights[i], shapes[i].width = widths[i], shapes[i].key = static_cast<std::uint32_t>(keys[i]);
  return shapes;
}

std::uint64_t u64_field(const Napi::Object& options, const char* name) {
  return static_cast<std::uint64_t>(size_field(options, name));
}

Napi::Float64Array report_array(Napi::Env env, const AugmentPlan& plan) {
  auto a = Napi::Float64Array::New(env, plan.report.size());
  if (!plan.report.empty()) std::memcpy(a.Data(), plan.report.data(), plan.report.size() * sizeof(double));
  return a;
}

struct Image {
  AugmentSource source;
  bool on_device = false;
  Keep keep;
};

Image image_arg(const Napi::Value& v, size_t index, const AugmentSourceShape& shape) {
  Image image;
  index_t length = 0;
  std::string name = "images[" + std::to_string(index) + "]";
  if (v.IsTypedArray()) {
    auto t = v.As<Napi::TypedArray>();
    switch (t.TypedArrayType()) {
      case napi_uint8_array: image.source.type = AugmentSourceType::Uint8; break;
      case napi_uint16_array: image.source.type = AugmentSourceType::Uint16; break;
      case napi_float32_array: image.source.type = AugmentSourceType::Float32; break;
      default: throw Error(kErrInvalidArgument, name + " must be a Uint8Array, Uint16Array or Float32Array");
    }
    image.keep = keep_alive(v, name);
    std::size_t elements = 0;
    image.source.data = host_operand(t, name, image.keep, &elements);
    length = static_cast<index_t>(elements);
  } else if (DeviceTensor* d = DeviceTensor::Unwrap(v)) {
    switch (d->dtype()) {
      case DType::Uint8: image.source.type = AugmentSourceType::Uint8; break;
      case DType::Uint16: image.source.type = AugmentSourceType::Uint16; break;
      case DType::Float32: image.source.type = AugmentSourceType::Float32; break;
      default: throw Error(kErrInvalidArgument, name + " must be a uint8, uint16 or float32 DeviceTensor");
    }
    image.source.data = d->data();
    image.on_device = true;
    length = d->elements();
    image.keep = keep_alive(v, name);
  } else {
    throw Error(kErrInvalidArgument, name + " must be a typed array or a DeviceTensor");
  }
  if (length != shape.height * shape.width)
    throw Error(kErrShape, name + " has " + std::to_string(length) + " values but its height x width is " +
                               std::to_string(shape.height) + " x " + std::to_string(shape.width));
  image.source.height = static_cast<std::int32_t>(shape.height);
  image.source.width = static_cast<std::int32_t>(shape.width);
  return image;
}

DType output_dtype(AugmentOutputType t) {
  return t == AugmentOutputType::BFloat16 ? DType::BFloat16 : t == AugmentOutputType::Float16 ? DType::Float16 : DType::Float32;
}

Napi::Value Augment(const Napi::CallbackInfo& info) {
  return guarded(info, [](const Napi::CallbackInfo& info) -> Napi::Value {
    Napi::Env env = info.Env();
    if (!info[0].IsArray()) throw Error(kErrInvalidArgument, "images must be an array");
    Napi::Object options = options_arg(info, 1);
    std::vector<AugmentSourceShape> shapes = shapes_field(options);
    AugmentSpec spec = augment_spec_field(options, "spec");
    std::uint64_t seed = u64_field(options, "seed"), step = u64_field(options, "step");
    Backend backend = backend_field(options);
    bool async = async_field(options);
    auto images_js = info[0].As<Napi::Array>();
    if (images_js.Length() != shapes.size()) throw Error(kErrShape, "images and heights/widths must have the same length");
    // Every element is fetched before any is resolved: a getter on the array can run JavaScript.
    std::vector<Napi::Value> image_values;
    for (uint32_t i = 0; i < images_js.Length(); ++i) image_values.push_back(images_js.Get(i));
    std::vector<Keep> keep;
    std::vector<AugmentSource> sources;
    int device_count = 0;
    for (uint32_t i = 0; i < image_values.size(); ++i) {
      Image image = image_arg(image_values[i], i, shapes[i]);
      shapes[i].type = image.source.type;
      device_count += image.on_device;
      sources.push_back(image.source);
      keep.push_back(image.keep);
    }
    const bool on_device = device_count > 0;
    if (on_device && device_count != static_cast<int>(sources.size()))
      throw Error(kErrInvalidArgument, "images must all be host arrays or all DeviceTensors");
    if (on_device && backend == Backend::Cpu) throw Error(kErrBackend, "DeviceTensor images need the CUDA backend");

    auto plan = std::make_shared<AugmentPlan>(plan_augment(spec, shapes, seed, step));
    // Outputs are created on the JS thread; the work only fills them.
    Napi::Array outputs = Napi::Array::New(env, spec.groups.size());
    Napi::Array masks = Napi::Array::New(env, spec.groups.size());
    std::vector<void*> out_ptrs, mask_ptrs;
    const size_t out_elem = plan->output == AugmentOutputType::Float32 ? 4 : 2;
    for (size_t g = 0; g < spec.groups.size(); ++g) {
      const AugmentCropGroup& c = spec.groups[g];
      index_t rows = c.count * static_cast<index_t>(shapes.size());
      index_t elements = rows * c.size * c.size;
      Napi::Value out;
      if (on_device) {
        out = DeviceTensor::Create(env, output_dtype(plan->output), {rows, 1, c.size, c.size});
        out_ptrs.push_back(DeviceTensor::Unwrap(out)->data());
      } else if (out_elem == 4) {
        auto a = Napi::Float32Array::New(env, static_cast<size_t>(elements));
        out_ptrs.push_back(a.Data());
        out = a;
      } else {
        auto a = Napi::Uint16Array::New(env, static_cast<size_t>(elements));
        out_ptrs.push_back(a.Data());
        out = a;
      }
      outputs.Set(static_cast<uint32_t>(g), out);
      if (plan->masks[g].empty()) {
        masks.Set(static_cast<uint32_t>(g), env.Null());
        mask_ptrs.push_back(nullptr);
        continue;
      }
      index_t patches = static_cast<index_t>(plan->masks[g].size()) / rows;
      Napi::Value m;
      if (on_device) {
        m = DeviceTensor::Create(env, DType::Uint8, {rows, patches});
        mask_ptrs.push_back(DeviceTensor::Unwrap(m)->data());
      } else {
        auto a = Napi::Uint8Array::New(env, plan->masks[g].size());
        std::memcpy(a.Data(), plan->masks[g].data(), plan->masks[g].size());
        mask_ptrs.push_back(nullptr);
        m = a;
      }
      masks.Set(static_cast<uint32_t>(g), m);
    }
    Napi::Object result = Napi::Object::New(env);
    result.Set("outputs", outputs);
    result.Set("masks", masks);
    result.Set("params", report_array(env, *plan));
    Keep keep_result = keep_alive(result, "the result");
    keep.push_back(keep_result);

    std::vector<index_t> group_sizes;
    for (const AugmentCropGroup& c : spec.groups) group_sizes.push_back(c.size);
    auto work = [plan, sources, out_ptrs, mask_ptrs, group_sizes, backend, on_device]() {
      if (backend == Backend::Cpu) {
        augment_cpu(*plan, sources, out_ptrs);
        return;
      }
#ifdef RADLEARN_WITH_CUDA
      if (on_device) {
        for (size_t g = 0; g < mask_ptrs.size(); ++g)
          if (mask_ptrs[g]) copy_to_device(mask_ptrs[g], plan->masks[g].data(), plan->masks[g].size());
        augment_cuda(*plan, sources, out_ptrs);
        return;
      }
      // Host images on CUDA: stage sources and outputs through device buffers.
      std::vector<void*> owned;
      struct Free {
        std::vector<void*>& p;
        ~Free() {
          for (void* x : p) device_free(x);
        }
      } free_all{owned};
      std::vector<AugmentSource> device_sources = sources;
      for (AugmentSource& s : device_sources) {
        size_t bytes = static_cast<size_t>(s.height) * s.width *
                       (s.type == AugmentSourceType::Uint8 ? 1 : s.type == AugmentSourceType::Uint16 ? 2 : 4);
        void* p = device_alloc(bytes);
        owned.push_back(p);
        copy_to_device(p, s.data, bytes);
        s.data = p;
      }
      std::vector<void*> device_outputs;
      std::vector<size_t> out_bytes;
      const size_t elem = plan->output == AugmentOutputType::Float32 ? 4 : 2;
      for (size_t g = 0; g < out_ptrs.size(); ++g) {
        out_bytes.push_back(static_cast<size_t>(plan->group_views[g] * group_sizes[g] * group_sizes[g]) * elem);
        void* p = device_alloc(out_bytes.back());
        owned.push_back(p);
        device_outputs.push_back(p);
      }
      augment_cuda(*plan, device_sources, device_outputs);
      for (size_t g = 0; g < out_ptrs.size(); ++g) copy_to_host(out_ptrs[g], device_outputs[g], out_bytes[g]);
#else
      (void)on_device;
      (void)mask_ptrs;
      (void)group_sizes;
#endif
    };
    return run_op(env, async, work, [keep_result](Napi::Env) { return keep_result->value(); }, keep);
  });
}

Napi::Value AugmentParams(const Napi::CallbackInfo& info) {
  return guarded(info, [](const Napi::CallbackInfo& info) -> Napi::Value {
    Napi::Env env = info.Env();
    Napi::Object options = options_arg(info, 0);
    std::vector<AugmentSourceShape> shapes = shapes_field(options);
    AugmentSpec spec = augment_spec_field(options, "spec");
    AugmentPlan plan = plan_augment(spec, shapes, u64_field(options, "seed"), u64_field(options, "step"));
    Napi::Array masks = Napi::Array::New(env, spec.groups.size());
    for (size_t g = 0; g < spec.groups.size(); ++g) {
      if (plan.masks[g].empty()) {
        masks.Set(static_cast<uint32_t>(g), env.Null());
        continue;
      }
      auto a = Napi::Uint8Array::New(env, plan.masks[g].size());
      std::memcpy(a.Data(), plan.masks[g].data(), plan.masks[g].size());
      masks.Set(static_cast<uint32_t>(g), a);
    }
    Napi::Object result = Napi::Object::New(env);
    result.Set("masks", masks);
    result.Set("params", report_array(env, plan));
    return result;
  });
}

// Times augment_cuda with CUDA events on device-resident sources (deterministic pseudo-random
// pixels), and a cudaMemcpy device-to-device of the output's size as the bandwidth reference.
Napi::Value BenchAugmentCuda(const Napi::CallbackInfo& info) {
  return guarded(info, []([[maybe_unused]] const Napi::CallbackInfo& info) -> Napi::Value {
#ifdef RADLEARN_WITH_CUDA
    Napi::Env env = info.Env();
    Napi::Object options = options_arg(info, 0);
    index_t height = size_field(options, "height"), width = size_field(options, "width");
    std::string dtype = string_field(options, "sourceDtype");
    index_t batch = size_field(options, "batch");
    AugmentSpec spec = augment_spec_field(options, "spec");
    index_t iterations = std::max<index_t>(1, size_field(options, "iterations"));
    if (batch < 1 || height < 1 || width < 1) throw Error(kErrShape, "bench needs a non-empty batch");
    AugmentSourceType type = dtype == "uint8" ? AugmentSourceType::Uint8 : dtype == "uint16" ? AugmentSourceType::Uint16 : AugmentSourceType::Float32;
    size_t elem = type == AugmentSourceType::Uint8 ? 1 : type == AugmentSourceType::Uint16 ? 2 : 4;
    std::vector<AugmentSourceShape> shapes(static_cast<size_t>(batch));
    for (index_t i = 0; i < batch; ++i) shapes[i] = AugmentSourceShape{type, height, width, static_cast<std::uint32_t>(i)};
    std::vector<void*> owned;
    struct Free {
      std::vector<void*>& p;
      ~Free() {
        for (void* x : p) device_free(x);
      }
    } free_all{owned};
    std::vector<std::uint8_t> pixels(static_cast<size_t>(height * width) * elem);
    for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<std::uint8_t>((i * 2654435761u) >> 13);
    if (type == AugmentSourceType::Float32)
      for (size_t i = 0; i < pixels.size() / 4; ++i) reinterpret_cast<float*>(pixels.data())[i] = static_cast<float>(i % 997) / 997.0f;
    std::vector<AugmentSource> sources;
    for (index_t i = 0; i < batch; ++i) {
      void* p = device_alloc(pixels.size());
      owned.push_back(p);
      copy_to_device(p, pixels.data(), pixels.size());
      sources.push_back(AugmentSource{p, type, static_cast<std::int32_t>(height), static_cast<std::int32_t>(width)});
    }
    AugmentPlan plan = plan_augment(spec, shapes, 1234, 0);
    const size_t out_elem = plan.output == AugmentOutputType::Float32 ? 4 : 2;
    std::vector<void*> outputs;
    size_t output_bytes = 0;
    for (size_t g = 0; g < spec.groups.size(); ++g) {
      size_t bytes = static_cast<size_t>(plan.group_views[g] * spec.groups[g].size * spec.groups[g].size) * out_elem;
      void* p = device_alloc(bytes);
      owned.push_back(p);
      outputs.push_back(p);
      output_bytes += bytes;
    }
    void* copy_src = device_alloc(output_bytes);
    owned.push_back(copy_src);
    void* copy_dst = device_alloc(output_bytes);
    owned.push_back(copy_dst);
    augment_cuda(plan, sources, outputs);  // warm-up
    copy_device_to_device(copy_dst, copy_src, output_bytes);
    std::vector<double> kernels = augment_cuda_kernel_ms(plan, sources, outputs, static_cast<int>(iterations));
    auto kernel_ms = Napi::Float64Array::New(env, kernels.size());
    for (size_t i = 0; i < kernels.size(); ++i) kernel_ms[i] = kernels[i];
    auto call_ms = Napi::Float64Array::New(env, static_cast<size_t>(iterations));
    auto copy_ms = Napi::Float64Array::New(env, static_cast<size_t>(iterations));
    DeviceTimer timer;
    for (index_t i = 0; i < iterations; ++i) {
      timer.start();
      augment_cuda(plan, sources, outputs);
      call_ms[static_cast<size_t>(i)] = timer.stop_ms();
      timer.start();
      copy_device_to_device(copy_dst, copy_src, output_bytes);
      copy_ms[static_cast<size_t>(i)] = timer.stop_ms();
    }
    Napi::Object result = Napi::Object::New(env);
    result.Set("kernelMs", kernel_ms);
    result.Set("callMs", call_ms);
    result.Set("copyMs", copy_ms);
    result.Set("outputBytes", Napi::Number::New(env, static_cast<double>(output_bytes)));
    return result;
#else
    throw Error(kErrBackend, "benchAugmentCuda needs a CUDA build");
#endif
  });
}

}  // namespace

void register_augment(Napi::Env env, Napi::Object exports) {
  exports.Set("augment", Napi::Function::New(env, Augment, "augment"));
  exports.Set("augmentParams", Napi::Function::New(env, AugmentParams, "augmentParams"));
  exports.Set("benchAugmentCuda", Napi::Function::New(env, BenchAugmentCuda, "benchAugmentCuda"));
}

}  // namespace radlearn
