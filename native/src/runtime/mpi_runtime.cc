// MPI through dlopen (see radlearn/mpi_runtime.h). Every entry point checks that MPI was
// initialised and reports MPI's own error string on failure.
#include "radlearn/mpi_runtime.h"

#include <dlfcn.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "radlearn/shared_library.h"

namespace radlearn::mpi {
namespace {

// Open MPI passes its handles as pointers to predefined objects.
using Handle = void*;

struct Api {
  void* library = nullptr;
  int (*init_thread)(int*, char***, int, int*) = nullptr;
  int (*initialized)(int*) = nullptr;
  int (*finalized)(int*) = nullptr;
  int (*finalize)() = nullptr;
  int (*comm_rank)(Handle, int*) = nullptr;
  int (*comm_size)(Handle, int*) = nullptr;
  int (*allreduce)(const void*, void*, int, Handle, Handle, Handle) = nullptr;
  int (*allgather)(const void*, int, Handle, void*, int, Handle, Handle) = nullptr;
  int (*bcast)(void*, int, Handle, int, Handle) = nullptr;
  int (*barrier)(Handle) = nullptr;
  int (*abort)(Handle, int) = nullptr;
  int (*error_string)(int, char*, int*) = nullptr;
  int (*library_version)(char*, int*) = nullptr;
  Handle comm_world = nullptr;
  Handle in_place = nullptr;
  Handle type_float = nullptr;
  Handle type_double = nullptr;
  Handle type_byte = nullptr;
  Handle op_sum = nullptr;
  Handle op_max = nullptr;
};

constexpr int kThreadFunneled = 1;  // MPI_THREAD_FUNNELED in Open MPI's and MPICH's mpi.h
constexpr int kSuccess = 0;
constexpr int kMaxLibraryVersion = 8192;  // above MPI_MAX_LIBRARY_VERSION_STRING of both
constexpr int kMaxErrorString = 512;
// MPI counts are ints: larger buffers go in pieces of this many elements.
constexpr index_t kPiece = index_t{1} << 28;

std::mutex g_mutex;
Api g_api;
Probe g_probe;
bool g_probed = false;
bool g_initialized = false;
bool g_finalized = false;  // MPI cannot be initialised again after MPI_Finalize
int g_rank = 0;
int g_size = 1;

Probe load() {
  Probe result;
  SharedLibrary found = open_shared_library("RADLEARN_MPI_LIBRARY", {"libmpi.so.40", "libmpi.so"}, RTLD_NOW | RTLD_GLOBAL);
  void* lib = found.handle;
  if (!lib) {
    result.library = found.tried;
    result.reason = "no MPI library could be loaded (" + found.tried +
                    "); install Open MPI (Debian: apt-get install openmpi-bin) or point RADLEARN_MPI_LIBRARY at its libmpi.so";
    return result;
  }
  result.library = found.name;
  Api api;
  api.library = lib;
  std::string missing;
  resolve_symbol(lib, "MPI_Init_thread", api.init_thread, missing);
  resolve_symbol(lib, "MPI_Initialized", api.initialized, missing);
  resolve_symbol(lib, "MPI_Finalized", api.finalized, missing);
  resolve_symbol(lib, "MPI_Finalize", api.finalize, missing);
  resolve_symbol(lib, "MPI_Comm_rank", api.comm_rank, missing);
  resolve_symbol(lib, "MPI_Comm_size", api.comm_size, missing);
  resolve_symbol(lib, "MPI_Allreduce", api.allreduce, missing);
  resolve_symbol(lib, "MPI_Allgather", api.allgather, missing);
  resolve_symbol(lib, "MPI_Bcast", api.bcast, missing);
  resolve_symbol(lib, "MPI_Barrier", api.barrier, missing);
  resolve_symbol(lib, "MPI_Abort", api.abort, missing);
  resolve_symbol(lib, "MPI_Error_string", api.error_string, missing);
  resolve_symbol(lib, "MPI_Get_library_version", api.library_version, missing);
  if (!missing.empty()) {
    result.reason = result.library + " lacks MPI functions: " + missing;
    return result;
  }
  std::string handles;
  resolve_symbol(lib, "ompi_mpi_comm_world", api.comm_world, handles);
  resolve_symbol(lib, "ompi_mpi_float", api.type_float, handles);
  resolve_symbol(lib, "ompi_mpi_double", api.type_double, handles);
  resolve_symbol(lib, "ompi_mpi_byte", api.type_byte, handles);
  resolve_symbol(lib, "ompi_mpi_op_sum", api.op_sum, handles);
  resolve_symbol(lib, "ompi_mpi_op_max", api.op_max, handles);
  char version[kMaxLibraryVersion] = {0};
  int length = 0;
  if (api.library_version(version, &length) == kSuccess) result.version = std::string(version, std::clamp(length, 0, kMaxLibraryVersion - 1));
  while (!result.version.empty() && (result.version.back() == '\n' || result.version.back() == ' ' || result.version.back() == '\0'))
    result.version.pop_back();
  if (!handles.empty()) {
    result.reason = result.library + " is not Open MPI (no " + handles +
                    "); radlearn supports Open MPI's library for now" + (result.version.empty() ? "" : " (found: " + result.version + ")");
    return result;
  }
  // MPI_IN_PLACE is ((void *) 1) in Open MPI's mpi.h.
  api.in_place = reinterpret_cast<Handle>(static_cast<std::uintptr_t>(1));
  g_api = api;
  result.available = true;
  return result;
}

// Callers hold g_mutex.
const Probe& probe_locked() {
  if (!g_probed) {
    g_probe = load();
    g_probed = true;
  }
  return g_probe;
}

std::string error_text(int code) {
  char text[kMaxErrorString] = {0};
  int length = 0;
  if (g_api.error_string && g_api.error_string(code, text, &length) == kSuccess) return std::string(text, std::clamp(length, 0, kMaxErrorString - 1));
  return "MPI error " + std::to_string(code);
}

void check(int code, const char* call) {
  if (code != kSuccess) throw Error(kErrMpi, std::string(call) + " failed: " + error_text(code));
}

void require_initialized(const char* call) {
  if (!g_initialized) throw Error(kErrMpi, std::string(call) + ": MPI is not initialised (call init() first)");
}

int count_of(index_t n, const char* call) {
  if (n < 0 || n > INT_MAX) throw Error(kErrMpi, std::string(call) + ": " + std::to_string(n) + " elements is more than one MPI call can carry");
  return static_cast<int>(n);
}

template <typename T>
void allreduce_pieces(T* data, index_t n, Handle type, Op op) {
  std::lock_guard<std::mutex> lock(g_mutex);
  require_initialized("allreduce");
  Handle mpi_op = op == Op::Sum ? g_api.op_sum : g_api.op_max;
  for (index_t at = 0; at < n; at += kPiece) {
    int count = static_cast<int>(std::min(kPiece, n - at));
    check(g_api.allreduce(g_api.in_place, data + at, count, type, mpi_op, g_api.comm_world), "MPI_Allreduce");
  }
}

template <typename T>
void allgather_values(const T* in, index_t n, T* out, Handle type) {
  std::lock_guard<std::mutex> lock(g_mutex);
  require_initialized("allgather");
  int count = count_of(n, "allgather");
  check(g_api.allgather(in, count, type, out, count, type, g_api.comm_world), "MPI_Allgather");
}

}  // namespace

Probe probe() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return probe_locked();
}

void init() {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_initialized) return;
  if (g_finalized) throw Error(kErrMpi, "MPI was finalised in this process and cannot be initialised again");
  const Probe& p = probe_locked();
  if (!p.available) throw Error(kErrMpi, "MPI is not available: " + p.reason);
  int already = 0;
  check(g_api.initialized(&already), "MPI_Initialized");
  if (!already) {
    int provided = 0;
    check(g_api.init_thread(nullptr, nullptr, kThreadFunneled, &provided), "MPI_Init_thread");
    if (provided < kThreadFunneled)
      throw Error(kErrMpi, "MPI_Init_thread provided thread level " + std::to_string(provided) + ", radlearn needs MPI_THREAD_FUNNELED");
  }
  check(g_api.comm_rank(g_api.comm_world, &g_rank), "MPI_Comm_rank");
  check(g_api.comm_size(g_api.comm_world, &g_size), "MPI_Comm_size");
  g_initialized = true;
}

bool initialized() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_initialized;
}

int rank() {
  std::lock_guard<std::mutex> lock(g_mutex);
  require_initialized("rank");
  return g_rank;
}

int size() {
  std::lock_guard<std::mutex> lock(g_mutex);
  require_initialized("size");
  return g_size;
}

void allreduce_f32(float* data, index_t n, Op op) { allreduce_pieces(data, n, g_api.type_float, op); }
void allreduce_f64(double* data, index_t n, Op op) { allreduce_pieces(data, n, g_api.type_double, op); }
void allgather_f32(const float* in, index_t n, float* out) { allgather_values(in, n, out, g_api.type_float); }
void allgather_f64(const double* in, index_t n, double* out) { allgather_values(in, n, out, g_api.type_double); }

void broadcast_bytes(void* data, index_t bytes, int root) {
  std::lock_guard<std::mutex> lock(g_mutex);
  require_initialized("broadcast");
  if (root < 0 || root >= g_size) throw Error(kErrMpi, "broadcast: root " + std::to_string(root) + " is not a rank of " + std::to_string(g_size));
  auto* at = static_cast<unsigned char*>(data);
  for (index_t done = 0; done < bytes; done += kPiece) {
    int count = static_cast<int>(std::min(kPiece, bytes - done));
    check(g_api.bcast(at + done, count, g_api.type_byte, root, g_api.comm_world), "MPI_Bcast");
  }
}

void barrier() {
  std::lock_guard<std::mutex> lock(g_mutex);
  require_initialized("barrier");
  check(g_api.barrier(g_api.comm_world), "MPI_Barrier");
}

void abort(int code) {
  if (g_initialized) g_api.abort(g_api.comm_world, code);
  std::_Exit(code);
}

void finalize() {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (!g_initialized) return;
  int done = 0;
  g_initialized = false;
  g_finalized = true;
  if (g_api.finalized(&done) == kSuccess && !done) check(g_api.finalize(), "MPI_Finalize");
}

}  // namespace radlearn::mpi
