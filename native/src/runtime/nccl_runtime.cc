// NCCL through dlopen (see radlearn/nccl_runtime.h). The few types NCCL's C API passes are
// declared here from its documented ABI (an opaque communicator pointer, a 128-byte id passed by
// value, int enums), so no NCCL header is needed at build time.
#include "radlearn/nccl_runtime.h"

#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "radlearn/shared_library.h"

#ifdef RADLEARN_WITH_CUDA
#include "radlearn/device.h"
#endif

namespace radlearn::nccl {
namespace {

struct UniqueId {
  char internal[kUniqueIdBytes];
};
using Comm = void*;
using Stream = void*;  // cudaStream_t; nullptr is the default stream
using Result = int;    // ncclResult_t: 0 is ncclSuccess
constexpr Result kSuccess = 0;
constexpr int kFloat32 = 7;  // ncclFloat32
constexpr int kUint8 = 1;    // ncclUint8
constexpr int kSum = 0;      // ncclSum
constexpr int kMax = 2;      // ncclMax

struct Api {
  Result (*get_version)(int*) = nullptr;
  Result (*get_unique_id)(UniqueId*) = nullptr;
  Result (*comm_init_rank)(Comm*, int, UniqueId, int) = nullptr;
  Result (*comm_destroy)(Comm) = nullptr;
  Result (*all_reduce)(const void*, void*, std::size_t, int, int, Comm, Stream) = nullptr;
  Result (*all_gather)(const void*, void*, std::size_t, int, Comm, Stream) = nullptr;
  Result (*broadcast)(const void*, void*, std::size_t, int, int, Comm, Stream) = nullptr;
  const char* (*error_string)(Result) = nullptr;
};

std::mutex g_mutex;
Api g_api;
Probe g_probe;
bool g_probed = false;
Comm g_comm = nullptr;

Probe load() {
  Probe result;
#ifndef RADLEARN_WITH_CUDA
  result.reason = "this addon was built without CUDA";
  return result;
#else
  SharedLibrary found = open_shared_library("RADLEARN_NCCL_LIBRARY", {"libnccl.so.2", "libnccl.so"}, RTLD_NOW | RTLD_LOCAL);
  void* lib = found.handle;
  if (!lib) {
    result.library = found.tried;
    result.reason = "no NCCL library could be loaded (" + found.tried + "); install NCCL or point RADLEARN_NCCL_LIBRARY at its libnccl.so.2";
    return result;
  }
  result.library = found.name;
  Api api;
  std::string missing;
  resolve_symbol(lib, "ncclGetVersion", api.get_version, missing);
  resolve_symbol(lib, "ncclGetUniqueId", api.get_unique_id, missing);
  resolve_symbol(lib, "ncclCommInitRank", api.comm_init_rank, missing);
  resolve_symbol(lib, "ncclCommDestroy", api.comm_destroy, missing);
  resolve_symbol(lib, "ncclAllReduce", api.all_reduce, missing);
  resolve_symbol(lib, "ncclAllGather", api.all_gather, missing);
  resolve_symbol(lib, "ncclBroadcast", api.broadcast, missing);
  resolve_symbol(lib, "ncclGetErrorString", api.error_string, missing);
  if (!missing.empty()) {
    result.reason = result.library + " lacks NCCL functions: " + missing;
    return result;
  }
  int code = 0;
  if (api.get_version(&code) == kSuccess) {
    // NCCL_VERSION_CODE: major * 10000 + minor * 100 + patch since 2.9 (major * 1000 + minor * 100 + patch before)
    int major = code >= 10000 ? code / 10000 : code / 1000;
    int minor = code >= 10000 ? (code / 100) % 100 : (code / 100) % 10;
    result.version = std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(code % 100);
  }
  DeviceInfo device = cuda_device_info();
  if (!device.available) {
    result.reason = "NCCL " + result.version + " loaded, but there is no CUDA device: " + device.reason;
    return result;
  }
  g_api = api;
  result.available = true;
  return result;
#endif
}

void check(Result status, const char* what) {
  if (status == kSuccess) return;
  const char* text = g_api.error_string ? g_api.error_string(status) : nullptr;
  throw Error(kErrNccl, std::string(what) + " failed: " + (text ? text : "NCCL error " + std::to_string(status)));
}

void require() {
  if (!g_comm) throw Error(kErrNccl, "NCCL is not initialised in this process (call init first)");
}

void wait() {
#ifdef RADLEARN_WITH_CUDA
  device_synchronize();
#endif
}

}  // namespace

Probe probe() {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (!g_probed) {
    g_probe = load();
    g_probed = true;
  }
  return g_probe;
}

std::vector<std::uint8_t> unique_id() {
  Probe p = probe();
  if (!p.available) throw Error(kErrNccl, "NCCL is not available: " + p.reason);
  UniqueId id{};
  check(g_api.get_unique_id(&id), "ncclGetUniqueId");
  return std::vector<std::uint8_t>(reinterpret_cast<const std::uint8_t*>(id.internal),
                                   reinterpret_cast<const std::uint8_t*>(id.internal) + kUniqueIdBytes);
}

void init(const std::uint8_t* id, int rank, int size, int device) {
  Probe p = probe();
  if (!p.available) throw Error(kErrNccl, "NCCL is not available: " + p.reason);
  if (g_comm) throw Error(kErrNccl, "NCCL is already initialised in this process");
  if (size < 1 || rank < 0 || rank >= size) throw Error(kErrInvalidArgument, "rank must be in [0, size)");
#ifdef RADLEARN_WITH_CUDA
  select_device(device);
#else
  (void)device;
#endif
  UniqueId unique{};
  std::memcpy(unique.internal, id, kUniqueIdBytes);
  Comm comm = nullptr;
  check(g_api.comm_init_rank(&comm, size, unique, rank), "ncclCommInitRank");
  g_comm = comm;
}

bool initialized() { return g_comm != nullptr; }

void allreduce_f32(float* device_data, index_t n, Op op) {
  require();
  check(g_api.all_reduce(device_data, device_data, static_cast<std::size_t>(n), kFloat32, op == Op::Sum ? kSum : kMax, g_comm, nullptr),
        "ncclAllReduce");
  wait();
}

void allgather_f32(const float* device_in, index_t n, float* device_out) {
  require();
  check(g_api.all_gather(device_in, device_out, static_cast<std::size_t>(n), kFloat32, g_comm, nullptr), "ncclAllGather");
  wait();
}

void broadcast_bytes(void* device_data, index_t bytes, int root) {
  require();
  check(g_api.broadcast(device_data, device_data, static_cast<std::size_t>(bytes), kUint8, root, g_comm, nullptr), "ncclBroadcast");
  wait();
}

void destroy() {
  if (!g_comm) return;
  Comm comm = g_comm;
  g_comm = nullptr;
  check(g_api.comm_destroy(comm), "ncclCommDestroy");
}

}  // namespace radlearn::nccl
