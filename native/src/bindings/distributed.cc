// MPI for JavaScript (src/distributed/mpi.ts), synchronous on the calling thread:
//   mpiProbe() -> { available, library, version, reason }     loads the library, no MPI_Init
//   mpiInit() -> { rank, size }                                MPI_Init_thread once
//   mpiAllreduce(values: Float32Array | Float64Array, op: 'sum' | 'max')   in place
//   mpiAllgather(values, out)          out: the same type, size * values.length
//   mpiBroadcast(bytes: TypedArray, root)                      in place
//   mpiBarrier(), mpiAbort(code), mpiFinalize()
// NCCL on DeviceTensors (float32), one GPU per rank, bootstrapped over MPI by nccl.ts:
//   ncclProbe() -> { available, library, version, reason }
//   ncclUniqueId() -> Uint8Array(128)                          rank 0
//   ncclInit(id, rank, size, device)                           cudaSetDevice + ncclCommInitRank
//   ncclAllreduce(tensor, 'sum' | 'max')                       in place
//   ncclAllgather(tensor, out)                                 out: size * tensor's elements
//   ncclBroadcast(tensor, root), ncclDestroy()
#include <napi.h>

#include <string>

#include "bindings/args.h"
#include "bindings/tensor.h"
#include "radlearn/mpi_runtime.h"
#include "radlearn/nccl_runtime.h"

namespace radlearn {
namespace {

struct Buffer {
  void* data;
  index_t elements;
  index_t bytes;
  napi_typedarray_type type;
};

Buffer buffer_arg(const Napi::Value& v, const char* name) {
  if (!v.IsTypedArray()) throw Error(kErrInvalidArgument, std::string(name) + " must be a typed array");
  Napi::TypedArray array = v.As<Napi::TypedArray>();
  Napi::ArrayBuffer buffer = array.ArrayBuffer();
  if (array.ByteLength() > 0 && buffer.Data() == nullptr)
    throw Error(kErrInvalidArgument, std::string(name) + "'s buffer is detached (transferred to another thread)");
  auto* base = static_cast<unsigned char*>(buffer.Data());
  return {base == nullptr ? nullptr : base + array.ByteOffset(), static_cast<index_t>(array.ElementLength()),
          static_cast<index_t>(array.ByteLength()), array.TypedArrayType()};
}

Buffer float_buffer(const Napi::Value& v, const char* name) {
  Buffer b = buffer_arg(v, name);
  if (b.type != napi_float32_array && b.type != napi_float64_array)
    throw Error(kErrInvalidArgument, std::string(name) + " must be a Float32Array or a Float64Array");
  return b;
}

// { available, library, version, reason } of an MPI or NCCL probe.
template <typename P>
Napi::Object probe_object(Napi::Env env, const P& p) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("available", p.available);
  out.Set("library", p.library);
  out.Set("version", p.version);
  out.Set("reason", p.reason);
  return out;
}

Napi::Value Probe(const Napi::CallbackInfo& info) {
  return guarded(info, [](const Napi::CallbackInfo& i) -> Napi::Value { return probe_object(i.Env(), mpi::probe()); });
}

Napi::Value Init(const Napi::CallbackInfo& info) {
  return guarded(info, [](const Napi::CallbackInfo& i) -> Napi::Value {
    mpi::init();
    Napi::Object out = Napi::Object::New(i.Env());
    out.Set("rank", mpi::rank());
    out.Set("size", mpi::size());
    return out;
  });
}

Napi::Value Allreduce(const Napi::CallbackInfo& info) {
  return guarded(info, [](const Napi::CallbackInfo& i) -> Napi::Value {
    Buffer b = float_buffer(i[0], "values");
    std::string op_name = string_arg(i[1], "op");
    if (op_name != "sum" && op_name != "max") throw Error(kErrInvalidArgument, "op must be 'sum' or 'max', got '" + op_name + "'");
    mpi::Op op = op_name == "sum" ? mpi::Op::Sum : mpi::Op::Max;
    if (b.type == napi_float32_array)
      mpi::allreduce_f32(static_cast<float*>(b.data), b.elements, op);
    else
      mpi::allreduce_f64(static_cast<double*>(b.data), b.elements, op);
    return i.Env().Undefined();
  });
}

Napi::Value Allgather(const Napi::CallbackInfo& info) {
  return guarded(info, [](const Napi::CallbackInfo& i) -> Napi::Value {
    Buffer in = float_buffer(i[0], "values");
    Buffer out = float_buffer(i[1], "out");
    if (in.type != out.type) throw Error(kErrInvalidArgument, "out must have the same element type as values");
    index_t need = in.elements * mpi::size();
    if (out.elements != need)
      throw Error(kErrShape, "out holds " + std::to_string(out.elements) + " values; " + std::to_string(mpi::size()) + " ranks x " +
                                 std::to_string(in.elements) + " need " + std::to_string(need));
    if (in.type == napi_float32_array)
      mpi::allgather_f32(static_cast<const float*>(in.data), in.elements, static_cast<float*>(out.data));
    else
      mpi::allgather_f64(static_cast<const double*>(in.data), in.elements, static_cast<double*>(out.data));
    return i.Env().Undefined();
  });
}

Napi::Value Broadcast(const Napi::CallbackInfo& info) {
  return guarded(info, [](const Napi::CallbackInfo& i) -> Napi::Value {
    Buffer b = buffer_arg(i[0], "bytes");
    double root = number_arg(i[1], "root");
    if (root != static_cast<int>(root)) throw Error(kErrInvalidArgument, "root must be a whole number");
    mpi::broadcast_bytes(b.data, b.bytes, static_cast<int>(root));
    return i.Env().Undefined();
  });
}

Napi::Value Barrier(const Napi::CallbackInfo& info) {
  return guarded(info, [](const Napi::CallbackInfo& i) -> Napi::Value {
    mpi::barrier();
    return i.Env().Undefined();
  });
}

Napi::Value Abort(const Napi::CallbackInfo& info) {
  return guarded(info, [](const Napi::CallbackInfo& i) -> Napi::Value {
    double code = number_arg(i[0], "code");
    mpi::abort(static_cast<int>(code));
  });
}

Napi::Value Finalize(const Napi::CallbackInfo& info) {
  return guarded(info, [](const Napi::CallbackInfo& i) -> Napi::Value {
    mpi::finalize();
    return i.Env().Undefined();
  });
}

DeviceTensor& float_tensor(const Napi::Value& v, const char* name) {
  DeviceTensor* t = DeviceTensor::Unwrap(v);
  if (!t) throw Error(kErrInvalidArgument, std::string(name) + " must be a DeviceTensor");
  if (t->dtype() != DType::Float32)
    throw Error(kErrInvalidArgument, std::string(name) + " must be float32, got " + dtype_name(t->dtype()));
  return *t;
}

int whole_arg(const Napi::Value& v, const char* name) {
  double value = number_arg(v, name);
  if (value != static_cast<int>(value)) throw Error(kErrInvalidArgument, std::string(name) + " must be a whole number");
  return static_cast<int>(value);
}

Napi::Value NcclProbe(const Napi::CallbackInfo& info) {
  return guarded(info, [](const Napi::CallbackInfo& i) -> Napi::Value { return probe_object(i.Env(), nccl::probe()); });
}

Napi::Value NcclUniqueId(const Napi::CallbackInfo& info) {
  return guarded(info, [](const Napi::CallbackInfo& i) -> Napi::Value {
    std::vector<std::uint8_t> id = nccl::unique_id();
    Napi::Uint8Array out = Napi::Uint8Array::New(i.Env(), id.size());
    std::copy(id.begin(), id.end(), out.Data());
    return out;
  });
}

Napi::Value NcclInit(const Napi::CallbackInfo& info) {
  return guarded(info, [](const Napi::CallbackInfo& i) -> Napi::Value {
    Buffer id = buffer_arg(i[0], "id");
    if (id.bytes != nccl::kUniqueIdBytes)
      throw Error(kErrShape, "id holds " + std::to_string(id.bytes) + " bytes; an NCCL unique id has " + std::to_string(nccl::kUniqueIdBytes));
    nccl::init(static_cast<const std::uint8_t*>(id.data), whole_arg(i[1], "rank"), whole_arg(i[2], "size"), whole_arg(i[3], "device"));
    return i.Env().Undefined();
  });
}

Napi::Value NcclAllreduce(const Napi::CallbackInfo& info) {
  return guarded(info, [](const Napi::CallbackInfo& i) -> Napi::Value {
    DeviceTensor& t = float_tensor(i[0], "tensor");
    std::string op_name = string_arg(i[1], "op");
    if (op_name != "sum" && op_name != "max") throw Error(kErrInvalidArgument, "op must be 'sum' or 'max', got '" + op_name + "'");
    nccl::allreduce_f32(static_cast<float*>(t.data()), t.elements(), op_name == "sum" ? nccl::Op::Sum : nccl::Op::Max);
    return i.Env().Undefined();
  });
}

Napi::Value NcclAllgather(const Napi::CallbackInfo& info) {
  return guarded(info, [](const Napi::CallbackInfo& i) -> Napi::Value {
    DeviceTensor& in = float_tensor(i[0], "tensor");
    DeviceTensor& out = float_tensor(i[1], "out");
    int ranks = whole_arg(i[2], "size");
    if (out.elements() != in.elements() * ranks)
      throw Error(kErrShape, "out holds " + std::to_string(out.elements()) + " values; " + std::to_string(ranks) + " ranks x " +
                                 std::to_string(in.elements()) + " need " + std::to_string(in.elements() * ranks));
    nccl::allgather_f32(static_cast<const float*>(in.data()), in.elements(), static_cast<float*>(out.data()));
    return i.Env().Undefined();
  });
}

Napi::Value NcclBroadcast(const Napi::CallbackInfo& info) {
  return guarded(info, [](const Napi::CallbackInfo& i) -> Napi::Value {
    DeviceTensor& t = float_tensor(i[0], "tensor");
    nccl::broadcast_bytes(t.data(), static_cast<index_t>(t.bytes()), whole_arg(i[1], "root"));
    return i.Env().Undefined();
  });
}

Napi::Value NcclDestroy(const Napi::CallbackInfo& info) {
  return guarded(info, [](const Napi::CallbackInfo& i) -> Napi::Value {
    nccl::destroy();
    return i.Env().Undefined();
  });
}

}  // namespace

void register_distributed(Napi::Env env, Napi::Object exports) {
  exports.Set("ncclProbe", Napi::Function::New(env, NcclProbe, "ncclProbe"));
  exports.Set("ncclUniqueId", Napi::Function::New(env, NcclUniqueId, "ncclUniqueId"));
  exports.Set("ncclInit", Napi::Function::New(env, NcclInit, "ncclInit"));
  exports.Set("ncclAllreduce", Napi::Function::New(env, NcclAllreduce, "ncclAllreduce"));
  exports.Set("ncclAllgather", Napi::Function::New(env, NcclAllgather, "ncclAllgather"));
  exports.Set("ncclBroadcast", Napi::Function::New(env, NcclBroadcast, "ncclBroadcast"));
  exports.Set("ncclDestroy", Napi::Function::New(env, NcclDestroy, "ncclDestroy"));
  exports.Set("mpiProbe", Napi::Function::New(env, Probe, "mpiProbe"));
  exports.Set("mpiInit", Napi::Function::New(env, Init, "mpiInit"));
  exports.Set("mpiAllreduce", Napi::Function::New(env, Allreduce, "mpiAllreduce"));
  exports.Set("mpiAllgather", Napi::Function::New(env, Allgather, "mpiAllgather"));
  exports.Set("mpiBroadcast", Napi::Function::New(env, Broadcast, "mpiBroadcast"));
  exports.Set("mpiBarrier", Napi::Function::New(env, Barrier, "mpiBarrier"));
  exports.Set("mpiAbort", Napi::Function::New(env, Abort, "mpiAbort"));
  exports.Set("mpiFinalize", Napi::Function::New(env, Finalize, "mpiFinalize"));
}

}  // namespace radlearn
