#include "tensor.h"

#include <cstring>

#include "args.h"
#include "host_memory.h"
#include "radlearn/half.h"
#ifdef RADLEARN_WITH_CUDA
#include "radlearn/device.h"
#endif

namespace radlearn {
namespace {

struct TensorClass {
  Napi::FunctionReference constructor;
};

// Passed as the only constructor argument so `new DeviceTensor()` from JS is refused.
struct ConstructToken {
  DType dtype;
  std::vector<index_t> dims;
};

std::vector<index_t> dims_arg(const Napi::Value& v) {
  if (!v.IsArray()) throw Error(kErrInvalidArgument, "dims must be an array of non-negative integers");
  auto array = v.As<Napi::Array>();
  std::vector<index_t> dims;
  for (uint32_t i = 0; i < array.Length(); ++i) dims.push_back(size_arg(array.Get(i), "dims[i]"));
  return dims;
}

index_t product(const std::vector<index_t>& dims) {
  index_t n = 1;
  for (index_t d : dims) n *= d;
  return n;
}

void require_device() {
#ifdef RADLEARN_WITH_CUDA
  DeviceInfo info = cuda_device_info();
  if (!info.available) throw Error(kErrBackend, "DeviceTensor needs a CUDA device: " + info.reason);
#else
  throw Error(kErrBackend, "DeviceTensor needs a CUDA build of radlearn; this addon was built CPU-only");
#endif
}

}  // namespace

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::Float32: return "float32";
    case DType::Float16: return "float16";
    case DType::BFloat16: return "bfloat16";
    case DType::Int32: return "int32";
    case DType::Uint8: return "uint8";
    case DType::Uint16: return "uint16";
  }
  return "unknown";
}

std::size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::Float32:
    case DType::Int32: return 4;
    case DType::Float16:
    case DType::BFloat16:
    case DType::Uint16: return 2;
    case DType::Uint8: return 1;
  }
  return 1;
}

DType parse_dtype(const std::string& name) {
  for (DType d : {DType::Float32, DType::Float16, DType::BFloat16, DType::Int32, DType::Uint8, DType::Uint16})
    if (name == dtype_name(d)) return d;
  throw Error(kErrInvalidArgument,
              "dtype must be one of float32, float16, bfloat16, int32, uint8, uint16; got '" + name + "'");
}

void DeviceTensor::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "DeviceTensor",
                                    {StaticMethod<&DeviceTensor::Upload>("upload"),
                                     StaticMethod<&DeviceTensor::Empty>("empty"),
                                     InstanceMethod<&DeviceTensor::Download>("download"),
                                     InstanceMethod<&DeviceTensor::Dispose>("dispose"),
                                     InstanceAccessor<&DeviceTensor::GetDims>("dims"),
                                     InstanceAccessor<&DeviceTensor::GetDtype>("dtype"),
                                     InstanceAccessor<&DeviceTensor::GetDisposed>("disposed"),
                                     InstanceAccessor<&DeviceTensor::GetByteLength>("byteLength")});
  auto* data = new TensorClass{Napi::Persistent(ctor)};
  env.SetInstanceData<TensorClass>(data);
  exports.Set("DeviceTensor", ctor);
}

Napi::Value DeviceTensor::Create(Napi::Env env, DType dtype, std::vector<index_t> dims) {
  require_device();
  ConstructToken token{dtype, std::move(dims)};
  auto* cls = env.GetInstanceData<TensorClass>();
  return cls->constructor.New({Napi::External<ConstructToken>::New(env, &token)});
}

DeviceTensor* DeviceTensor::Unwrap(const Napi::Value& value) {
  if (!value.IsObject()) return nullptr;
  auto* cls = value.Env().GetInstanceData<TensorClass>();
  if (!cls || !value.As<Napi::Object>().InstanceOf(cls->constructor.Value())) return nullptr;
  return Napi::ObjectWrap<DeviceTensor>::Unwrap(value.As<Napi::Object>());
}

DeviceTensor::DeviceTensor(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DeviceTensor>(info) {
  if (info.Length() != 1 || !info[0].IsExternal()) {
    throw make_js_error(info.Env(), kErrInvalidArgument,
                        "DeviceTensor is created with DeviceTensor.upload() or DeviceTensor.empty(), not new");
  }
  auto* token = info[0].As<Napi::External<ConstructToken>>().Data();
  dtype_ = token->dtype;
  dims_ = token->dims;
  elements_ = product(dims_);
#ifdef RADLEARN_WITH_CUDA
  try {
    ptr_ = device_alloc(bytes());
  } catch (const Error& e) {
    throw make_js_error(info.Env(), e.code(), e.what());
  }
  Napi::MemoryManagement::AdjustExternalMemory(info.Env(), static_cast<int64_t>(bytes()));
#endif
}

DeviceTensor::~DeviceTensor() {
#ifdef RADLEARN_WITH_CUDA
  if (!disposed_) device_free(ptr_);  // finalizer path: no env to adjust memory accounting
#endif
}

void DeviceTensor::release(Napi::Env env) {
  if (disposed_) return;
#ifdef RADLEARN_WITH_CUDA
  device_free(ptr_);
  Napi::MemoryManagement::AdjustExternalMemory(env, -static_cast<int64_t>(bytes()));
#else
  (void)env;
#endif
  ptr_ = nullptr;
  disposed_ = true;
}

void* DeviceTensor::data() const {
  if (disposed_) throw Error(kErrDisposed, "this DeviceTensor was disposed");
  return ptr_;
}

Napi::Value DeviceTensor::Empty(const Napi::CallbackInfo& info) {
  return guarded(info, [](const Napi::CallbackInfo& info) {
    DType dtype = info.Length() > 1 && !info[1].IsUndefined() ? parse_dtype(string_arg(info[1], "dtype")) : DType::Float32;
    return Create(info.Env(), dtype, dims_arg(info[0]));
  });
}

Napi::Value DeviceTensor::Upload(const Napi::CallbackInfo& info) {
  return guarded(info, [](const Napi::CallbackInfo& info) -> Napi::Value {
    if (!info[0].IsTypedArray()) throw Error(kErrInvalidArgument, "upload() needs a typed array");
    HostArray array = host_array(info[0].As<Napi::TypedArray>(), "upload()'s array");
    std::vector<index_t> dims = dims_arg(info[1]);
    DType dtype = info.Length() > 2 && !info[2].IsUndefined() ? parse_dtype(string_arg(info[2], "dtype")) : DType::Float32;
    index_t n = product(dims);
    if (static_cast<index_t>(array.elements) != n)
      throw Error(kErrShape, "upload(): the array has " + std::to_string(array.elements) +
                                 " elements but dims need " + std::to_string(n));
    napi_typedarray_type type = array.type;
    bool from_float = type == napi_float32_array;
    bool matches = (dtype == DType::Float32 && from_float) || (dtype == DType::Int32 && type == napi_int32_array) ||
                   (dtype == DType::Uint8 && type == napi_uint8_array) ||
                   (dtype == DType::Uint16 && type == napi_uint16_array) ||
                   ((dtype == DType::Float16 || dtype == DType::BFloat16) && (from_float || type == napi_uint16_array));
    if (!matches)
      throw Error(kErrInvalidArgument, std::string("upload(): cannot store this typed array as ") + dtype_name(dtype) +
                                           " (float16/bfloat16 take a Float32Array to convert, or raw Uint16Array bits)");
    Napi::Value value = Create(info.Env(), dtype, dims);
#ifdef RADLEARN_WITH_CUDA
    DeviceTensor* tensor = Unwrap(value);
    const uint8_t* src = static_cast<const uint8_t*>(array.data);
    if ((dtype == DType::Float16 || dtype == DType::BFloat16) && from_float) {
      std::vector<std::uint16_t> staged(static_cast<size_t>(n));
      const float* f = reinterpret_cast<const float*>(src);
      if (dtype == DType::Float16) floats_to_half(f, staged.data(), n);
      else floats_to_bfloat16(f, staged.data(), n);
      copy_to_device(tensor->data(), staged.data(), tensor->bytes());
    } else {
      copy_to_device(tensor->data(), src, tensor->bytes());
    }
#endif
    return value;
  });
}

Napi::Value DeviceTensor::Download(const Napi::CallbackInfo& info) {
  return guarded(info, [this]([[maybe_unused]] const Napi::CallbackInfo& info) -> Napi::Value {
    void* src = data();
    size_t n = static_cast<size_t>(elements_);
#ifdef RADLEARN_WITH_CUDA
    Napi::Env env = info.Env();
    switch (dtype_) {
      case DType::Float32: {
        auto out = Napi::Float32Array::New(env, n);
        copy_to_host(out.Data(), src, bytes());
        return out;
      }
      case DType::Float16:
      case DType::BFloat16: {
        std::vector<std::uint16_t> staged(n);
        copy_to_host(staged.data(), src, bytes());
        auto out = Napi::Float32Array::New(env, n);
        if (dtype_ == DType::Float16) half_to_floats(staged.data(), out.Data(), elements_);
        else bfloat16_to_floats(staged.data(), out.Data(), elements_);
        return out;
      }
      case DType::Int32: {
        auto out = Napi::Int32Array::New(env, n);
        copy_to_host(out.Data(), src, bytes());
        return out;
      }
      case DType::Uint8: {
        auto out = Napi::Uint8Array::New(env, n);
        copy_to_host(out.Data(), src, bytes());
        return out;
      }
      case DType::Uint16: {
        auto out = Napi::Uint16Array::New(env, n);
        copy_to_host(out.Data(), src, bytes());
        return out;
      }
    }
#else
    (void)src;
    (void)n;
#endif
    throw Error(kErrBackend, "download() needs a CUDA build");
  });
}

Napi::Value DeviceTensor::Dispose(const Napi::CallbackInfo& info) {
  if (pending_uses_ > 0)
    throw Error(kErrInUse, "this DeviceTensor is an operand of " + std::to_string(pending_uses_) +
                               " pending operation(s); await them before dispose()");
  release(info.Env());
  return info.Env().Undefined();
}

Napi::Value DeviceTensor::GetDims(const Napi::CallbackInfo& info) {
  auto out = Napi::Array::New(info.Env(), dims_.size());
  for (size_t i = 0; i < dims_.size(); ++i) out.Set(static_cast<uint32_t>(i), Napi::Number::New(info.Env(), static_cast<double>(dims_[i])));
  return out;
}

Napi::Value DeviceTensor::GetDtype(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), dtype_name(dtype_)); }
Napi::Value DeviceTensor::GetDisposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), disposed_); }
Napi::Value DeviceTensor::GetByteLength(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(bytes()));
}

}  // namespace radlearn
