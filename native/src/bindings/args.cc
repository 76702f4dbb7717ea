#include "args.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>

namespace radlearn {

Napi::Error make_js_error(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Value().Set("code", Napi::String::New(env, code));
  return error;
}

index_t size_arg(const Napi::Value& v, const char* name) {
  if (!v.IsNumber()) throw Error(kErrInvalidArgument, std::string(name) + " must be a number");
  double x = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(x) || x < 0 || std::floor(x) != x || x >= 9007199254740992.0)
    throw Error(kErrInvalidArgument, std::string(name) + " must be a non-negative integer, got " + std::to_string(x));
  return static_cast<index_t>(x);
}

double number_arg(const Napi::Value& v, const char* name) {
  if (!v.IsNumber()) throw Error(kErrInvalidArgument, std::string(name) + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

bool bool_arg(const Napi::Value& v, const char* name) {
  if (!v.IsBoolean()) throw Error(kErrInvalidArgument, std::string(name) + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

std::string string_arg(const Napi::Value& v, const char* name) {
  if (!v.IsString()) throw Error(kErrInvalidArgument, std::string(name) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

Napi::Object options_arg(const Napi::CallbackInfo& info, std::size_t index) {
  Napi::Value v = info[index];
  if (!v.IsObject() || v.IsArray() || v.IsTypedArray() || v.IsFunction())
    throw Error(kErrInvalidArgument, "options must be an object");
  return v.As<Napi::Object>();
}

Napi::Value field(const Napi::Object& options, const char* name) { return options.Get(name); }

bool has_field(const Napi::Object& options, const char* name) {
  Napi::Value v = field(options, name);
  return !v.IsUndefined() && !v.IsNull();
}

index_t size_field(const Napi::Object& options, const char* name) { return size_arg(field(options, name), name); }

double number_field(const Napi::Object& options, const char* name) { return number_arg(field(options, name), name); }

float float_field(const Napi::Object& options, const char* name) { return static_cast<float>(number_field(options, name)); }

bool bool_field(const Napi::Object& options, const char* name) { return bool_arg(field(options, name), name); }

std::string string_field(const Napi::Object& options, const char* name) { return string_arg(field(options, name), name); }

std::optional<double> optional_number_field(const Napi::Object& options, const char* name) {
  Napi::Value v = field(options, name);
  if (v.IsUndefined() || v.IsNull()) return std::nullopt;
  return number_arg(v, name);
}

std::optional<float> optional_float_field(const Napi::Object& options, const char* name) {
  std::optional<double> x = optional_number_field(options, name);
  if (!x) return std::nullopt;
  return static_cast<float>(*x);
}

bool async_field(const Napi::Object& options) {
  bool async = bool_field(options, "async");
  set_binding_async(async);
  return async;
}

std::string shape_text(std::initializer_list<index_t> dims) {
  std::ostringstream out;
  out << '[';
  bool first = true;
  for (index_t d : dims) {
    if (!first) out << ", ";
    out << d;
    first = false;
  }
  out << ']';
  return out.str();
}

HeldOperand::HeldOperand(const Napi::Value& value, std::string name)
    : reference_(Napi::Persistent(value.As<Napi::Object>())), name_(std::move(name)) {
  tensor_ = DeviceTensor::Unwrap(value);
  if (tensor_) tensor_->add_use();
}

HeldOperand::~HeldOperand() {
  if (tensor_) tensor_->drop_use();
}

void* HeldOperand::take_private_copy(const void* data, std::size_t bytes) {
  private_ = PrivateCopy(bytes);
  if (bytes > 0) std::memcpy(private_.data(), data, bytes);
  return private_.data();
}

std::string HeldOperand::delivery_problem() const {
  if (!private_ || !written_) return "";
  Napi::Value v = reference_.Value();
  if (!v.IsTypedArray()) return name_ + " is no longer a typed array";
  auto array = v.As<Napi::TypedArray>();
  if (is_detached(array)) return "the ArrayBuffer behind " + name_ + " was detached (transferred)";
  if (array.ByteLength() != bytes_) return "the ArrayBuffer behind " + name_ + " was resized";
  return "";
}

void HeldOperand::deliver() const {
  if (!private_ || !written_ || bytes_ == 0) return;
  HostArray array = host_array(reference_.Value().As<Napi::TypedArray>(), name_);
  std::memcpy(array.data, private_.data(), bytes_);
}

void HeldOperand::set_memory(const void* begin, std::size_t bytes, bool on_device) {
  begin_ = static_cast<const char*>(begin);
  bytes_ = bytes;
  on_device_ = on_device;
}

bool HeldOperand::overlaps(const HeldOperand& other) const {
  if (bytes_ == 0 || other.bytes_ == 0 || on_device_ != other.on_device_) return false;
  return begin_ < other.begin_ + other.bytes_ && other.begin_ < begin_ + bytes_;
}

Keep keep_alive(const Napi::Value& v, std::string name) { return std::make_shared<HeldOperand>(v, std::move(name)); }

void mark_written(const Keep& keep) {
  if (keep) keep->mark_written();
}

void allow_in_place(const Keep& output, const Keep& input) {
  if (output && input) output->allow_in_place_of(input.get());
}

void* host_operand(const Napi::TypedArray& array, const std::string& name, const Keep& keep, std::size_t* elements) {
  HostArray host = host_array(array, name);
  keep->set_memory(host.data, host.bytes, false);
  *elements = host.elements;
  return binding_is_async() ? keep->take_private_copy(host.data, host.bytes) : host.data;
}

namespace {

void check_disjoint(const std::vector<Keep>& keep) {
  for (std::size_t i = 0; i < keep.size(); ++i) {
    for (std::size_t j = i + 1; j < keep.size(); ++j) {
      const Keep& a = keep[i];
      const Keep& b = keep[j];
      if (!a || !b || (!a->written() && !b->written()) || !a->overlaps(*b)) continue;
      bool declared = a->in_place_of() == b.get() || b->in_place_of() == a.get();
      if (declared && a->same_memory(*b)) continue;
      throw Error(kErrInvalidArgument, a->name() + " and " + b->name() + " share memory, and the op writes " +
                                           (a->written() ? a->name() : b->name()) +
                                           ": pass an output that does not overlap the op's other operands");
    }
  }
}

}  // namespace

RawOperand raw_operand(const Napi::Value& v, const std::string& name, napi_typedarray_type host_type, DType device_type,
                       const std::string& expected) {
  RawOperand operand;
  if (v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == host_type) {
    operand.keep = keep_alive(v, name);
    std::size_t elements = 0;
    operand.host = host_operand(v.As<Napi::TypedArray>(), name, operand.keep, &elements);
    operand.length = static_cast<index_t>(elements);
  } else if (DeviceTensor* tensor = DeviceTensor::Unwrap(v)) {
    if (tensor->dtype() != device_type)
      throw Error(kErrInvalidArgument, name + " must be " + expected + ", got a " + dtype_name(tensor->dtype()) + " DeviceTensor");
    operand.device = tensor->data();
    operand.length = tensor->elements();
    operand.keep = keep_alive(v, name);
    operand.keep->set_memory(operand.device, tensor->bytes(), true);
  } else {
    throw Error(kErrInvalidArgument, name + " must be " + expected);
  }
  return operand;
}

FloatOperand float_operand(const Napi::Value& v, const char* name, index_t expected, const std::string& shape) {
  RawOperand raw = raw_operand(v, name, napi_float32_array, DType::Float32, "a Float32Array or a float32 DeviceTensor");
  if (expected >= 0 && raw.length != expected)
    throw Error(kErrShape, std::string(name) + " has " + std::to_string(raw.length) + " elements but shape " + shape +
                               " needs " + std::to_string(expected));
  FloatOperand operand;
  operand.host = static_cast<float*>(raw.host);
  operand.device = static_cast<float*>(raw.device);
  operand.length = raw.length;
  operand.keep = std::move(raw.keep);
  return operand;
}

FloatOperand float_output(Napi::Env env, const Napi::Value& maybe_out, bool on_device, index_t length, const char* name,
                          const std::string& shape, Napi::Value* result_value) {
  if (!maybe_out.IsUndefined() && !maybe_out.IsNull()) {
    FloatOperand out = float_operand(maybe_out, name, length, shape);
    if (out.on_device() != on_device)
      throw Error(kErrInvalidArgument, std::string(name) + " must live where the inputs live (" +
                                           (on_device ? "a DeviceTensor" : "a Float32Array") + ")");
    *result_value = maybe_out;
    mark_written(out.keep);
    return out;
  }
  if (on_device) {
    Napi::Value created = DeviceTensor::Create(env, DType::Float32, {length});
    *result_value = created;
    FloatOperand out = float_operand(created, name, length, shape);
    mark_written(out.keep);
    return out;
  }
  Napi::Float32Array created;
  try {
    created = Napi::Float32Array::New(env, static_cast<size_t>(length));
  } catch (const Napi::Error& e) {
    throw Error(kErrShape, std::string(name) + " " + shape + " needs " + std::to_string(length) +
                               " floats, more than can be allocated here (" + e.Message() + ")");
  }
  *result_value = created;
  // A new array no JavaScript can reach before the op completes: the op writes it directly.
  FloatOperand out;
  out.host = created.Data();
  out.length = length;
  out.keep = keep_alive(created, name);
  out.keep->set_memory(out.host, static_cast<std::size_t>(length) * sizeof(float), false);
  mark_written(out.keep);
  return out;
}

namespace {

class OpWorker : public Napi::AsyncWorker {
 public:
  OpWorker(Napi::Env env, std::function<void()> work, std::function<Napi::Value(Napi::Env)> result,
           std::vector<Keep> keep)
      : Napi::AsyncWorker(env, "radlearn-op"),
        deferred_(Napi::Promise::Deferred::New(env)),
        work_(std::move(work)),
        result_(std::move(result)),
        keep_(std::move(keep)) {}

  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      work_();
    } catch (const Error& e) {
      code_ = e.code();
      message_ = e.what();
    } catch (const std::exception& e) {
      code_ = "ERR_NATIVE";
      message_ = e.what();
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (code_.empty()) deliver_outputs();
    if (!code_.empty()) {
      deferred_.Reject(make_js_error(env, code_, message_).Value());
      return;
    }
    try {
      deferred_.Resolve(result_(env));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }

 private:
  // Every written array must still take its bytes back before any of them does.
  void deliver_outputs() {
    for (const Keep& held : keep_) {
      std::string problem = held ? held->delivery_problem() : "";
      if (problem.empty()) continue;
      code_ = kErrDetached;
      message_ = problem + " while the op ran, so its result could not be written back and no output was changed. "
                 "Do not transfer or resize a buffer until the op's Promise settles";
      return;
    }
    for (const Keep& held : keep_)
      if (held) held->deliver();
  }

  Napi::Promise::Deferred deferred_;
  std::function<void()> work_;
  std::function<Napi::Value(Napi::Env)> result_;
  std::vector<Keep> keep_;
  std::string code_;
  std::string message_;
};

}  // namespace

Napi::Value run_op(Napi::Env env, bool async, std::function<void()> work, std::function<Napi::Value(Napi::Env)> result,
                   std::vector<Keep> keep) {
  check_disjoint(keep);
  if (!async) {
    work();
    return result(env);
  }
  auto* worker = new OpWorker(env, std::move(work), std::move(result), std::move(keep));
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

Napi::Value guarded(const Napi::CallbackInfo& info, const std::function<Napi::Value(const Napi::CallbackInfo&)>& body) {
  struct AsyncFlag {
    AsyncFlag() { set_binding_async(false); }
    ~AsyncFlag() { set_binding_async(false); }
  } flag;
  try {
    return body(info);
  } catch (const Error& e) {
    throw make_js_error(info.Env(), e.code(), e.what());
  } catch (Napi::Error& e) {
    // A failing Node-API call raises an Error with no code; every error radlearn throws has one.
    Napi::Value code = e.Value().Get("code");
    if (!code.IsString()) e.Value().Set("code", Napi::String::New(info.Env(), "ERR_NATIVE"));
    throw;
  } catch (const std::exception& e) {
    throw make_js_error(info.Env(), "ERR_NATIVE", e.what());
  }
}

}  // namespace radlearn
