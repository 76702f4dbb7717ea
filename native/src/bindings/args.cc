#include "args.h"

#include <cmath>
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
  double x = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(x)) throw Error(kErrInvalidArgument, std::string(name) + " must be finite, got " + std::to_string(x));
  return x;
}

bool bool_arg(const Napi::Value& v, const char* name) {
  if (!v.IsBoolean()) throw Error(kErrInvalidArgument, std::string(name) + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

std::string string_arg(const Napi::Value& v, const char* name) {
  if (!v.IsString()) throw Error(kErrInvalidArgument, std::string(name) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
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

std::shared_ptr<Napi::ObjectReference> keep_alive(const Napi::Value& v) {
  DeviceTensor* tensor = DeviceTensor::Unwrap(v);
  auto* reference = new Napi::ObjectReference(Napi::Persistent(v.As<Napi::Object>()));
  if (tensor) tensor->add_use();
  // If the control block cannot be allocated, shared_ptr calls the deleter: the count stays balanced.
  return std::shared_ptr<Napi::ObjectReference>(reference, [tensor](Napi::ObjectReference* r) {
    if (tensor) tensor->drop_use();
    delete r;
  });
}

FloatOperand float_operand(const Napi::Value& v, const char* name, index_t expected, const std::string& shape) {
  FloatOperand operand;
  if (v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_float32_array) {
    auto array = v.As<Napi::Float32Array>();
    operand.host = array.Data();
    operand.length = static_cast<index_t>(array.ElementLength());
  } else if (DeviceTensor* tensor = DeviceTensor::Unwrap(v)) {
    if (tensor->dtype() != DType::Float32)
      throw Error(kErrInvalidArgument, std::string(name) + " must be a float32 tensor, got " + dtype_name(tensor->dtype()));
    operand.device = static_cast<float*>(tensor->data());
    operand.length = tensor->elements();
  } else {
    throw Error(kErrInvalidArgument, std::string(name) + " must be a Float32Array or a float32 DeviceTensor");
  }
  if (expected >= 0 && operand.length != expected)
    throw Error(kErrShape, std::string(name) + " has " + std::to_string(operand.length) + " elements but shape " + shape +
                               " needs " + std::to_string(expected));
  operand.keep = keep_alive(v);
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
    return out;
  }
  Napi::Value created = on_device ? DeviceTensor::Create(env, DType::Float32, {length})
                                  : Napi::Value(Napi::Float32Array::New(env, static_cast<size_t>(length)));
  *result_value = created;
  return float_operand(created, name, length, shape);
}

namespace {

class OpWorker : public Napi::AsyncWorker {
 public:
  OpWorker(Napi::Env env, std::function<void()> work, std::function<Napi::Value(Napi::Env)> result,
           std::vector<std::shared_ptr<Napi::ObjectReference>> keep)
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
  Napi::Promise::Deferred deferred_;
  std::function<void()> work_;
  std::function<Napi::Value(Napi::Env)> result_;
  std::vector<std::shared_ptr<Napi::ObjectReference>> keep_;
  std::string code_;
  std::string message_;
};

}  // namespace

Napi::Value run_op(Napi::Env env, bool async, std::function<void()> work, std::function<Napi::Value(Napi::Env)> result,
                   std::vector<std::shared_ptr<Napi::ObjectReference>> keep) {
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
  try {
    return body(info);
  } catch (const Error& e) {
    throw make_js_error(info.Env(), e.code(), e.what());
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw make_js_error(info.Env(), "ERR_NATIVE", e.what());
  }
}

}  // namespace radlearn
