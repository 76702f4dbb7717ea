// NCCL, loaded when a job asks for it: collectives between GPUs on device buffers, one GPU per
// rank, with MPI only for the bootstrap (rank 0's unique id is broadcast over MPI, then every
// rank joins the communicator). As with MPI, the addon links no NCCL: probe() dlopen()s
// libnccl.so.2 (or RADLEARN_NCCL_LIBRARY alone when set) and resolves the functions below from
// their documented C signatures; builds without CUDA report it unavailable.
//
// Collectives are issued on the default stream (where radlearn's kernels run) and waited for, so
// they are blocking like the MPI ones. float32 only for now.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "radlearn/common.h"

namespace radlearn::nccl {

inline constexpr const char* kErrNccl = "ERR_NCCL";
inline constexpr int kUniqueIdBytes = 128;  // NCCL_UNIQUE_ID_BYTES

struct Probe {
  bool available = false;
  std::string library;
  std::string version;  // e.g. 2.21.5
  std::string reason;
};

enum class Op { Sum, Max };

Probe probe();
// Rank 0 makes the id every rank then passes to init().
std::vector<std::uint8_t> unique_id();
// cudaSetDevice(device), then ncclCommInitRank; once per process.
void init(const std::uint8_t* id, int rank, int size, int device);
bool initialized();
void allreduce_f32(float* device_data, index_t n, Op op);
// out (device) holds size * n values, rank r's at r * n.
void allgather_f32(const float* device_in, index_t n, float* device_out);
void broadcast_bytes(void* device_data, index_t bytes, int root);
void destroy();

}  // namespace radlearn::nccl
