// MPI, loaded when a run asks for it: the addon links no MPI library, so it builds and loads on
// machines without one. probe() dlopen()s the MPI shared library (RADLEARN_MPI_LIBRARY alone when
// set, else Open MPI's libmpi.so.40) with RTLD_GLOBAL, as Open MPI's plugins need, and resolves the
// functions and predefined handles below. Open MPI only for now: its handles are addresses of
// exported objects (ompi_mpi_comm_world, ...), where MPICH's are integer constants.
//
// Collectives are blocking and run on the calling thread (MPI_THREAD_FUNNELED: only the thread
// that initialised MPI calls it). Counts above MPI's int range are sent in pieces.
#pragma once

#include <cstdint>
#include <string>

#include "radlearn/common.h"

namespace radlearn::mpi {

inline constexpr const char* kErrMpi = "ERR_MPI";

struct Probe {
  bool available = false;
  std::string library;  // the file that was loaded, or the names tried
  std::string version;  // MPI_Get_library_version's text
  std::string reason;   // why it is not available
};

enum class Op { Sum, Max };

Probe probe();
// MPI_Init_thread once (later calls return the same); throws Error(kErrMpi) when MPI is unavailable.
void init();
bool initialized();
int rank();
int size();
void allreduce_f32(float* data, index_t n, Op op);
void allreduce_f64(double* data, index_t n, Op op);
// out holds size() * n values, rank r's n at r * n.
void allgather_f32(const float* in, index_t n, float* out);
void allgather_f64(const double* in, index_t n, double* out);
void broadcast_bytes(void* data, index_t bytes, int root);
void barrier();
[[noreturn]] void abort(int code);
void finalize();

}  // namespace radlearn::mpi
