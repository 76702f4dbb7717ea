// Renders an augmentation plan on the GPU (see radlearn/augment.h, augment_pixel.h).
//
// Launch 1, augment_sample_kernel: every view that is not blurred, of every crop group of the
//   batch, in one grid. Each view is cut into 32x32 tiles; a 256-thread block renders one
//   tile, each thread 4 pixels of one column, a warp per output row segment, so stores are coalesced
//   (128 B per warp in float32, 64 B in 16-bit). Block -> view is a binary search over the
//   views' first tiles (views without tiles in this launch share the next view's offset, and
//   the search takes the largest view whose first tile is <= the block). Each thread runs the
//   shared per-pixel pipeline: inverse affine, footprint taps of bilinear samples (reads go
//   through L1/L2; neighbouring threads read neighbouring source pixels), window, intensity,
//   noise, normalisation and the cast.
// Launch 2, augment_blur_kernel (only when some view is blurred): the blurred views, in
//   32x32 output tiles. A block samples its tile plus a reflected halo of R = blur radius
//   straight from the source into shared memory (the halo is recomputed rather than read
//   back from a scratch buffer: no extra pass over memory), runs the horizontal Gaussian into
//   a second shared buffer, then the vertical one, then noise, normalisation and the cast.
//   Shared memory: (32+2R)^2 + (32+2R)*32 floats (35 KiB at R = 24).
// The plan (views, sources, output pointers, blur weights, tile offsets) is uploaded in one
// copy into a buffer kept between calls; calls are serialised by a mutex.
#include <algorithm>
#include <cstring>
#include <mutex>
#include <vector>

#include "cuda_check.cuh"
#include "radlearn/augment.h"
#include "radlearn/augment_pixel.h"
#include "radlearn/device.h"
#include "radlearn/trace.h"

namespace radlearn {
namespace {

constexpr int kTileW = 32;
constexpr int kTileH = 32;  // 256 threads = 8 rows of 32; each thread takes 4 rows
constexpr int kBlurTile = 32;
constexpr int kThreads = 256;
constexpr std::size_t kBlurStaticSmemReserve = 1024;  // >= augment_blur_kernel's static shared memory

struct DevicePlan {
  const AugmentView* views;
  const AugmentSource* sources;
  void* const* outputs;
  const float* weights;
  const std::int64_t* sample_tiles;  // first 32x32 tile of each view in launch 1 (views + 1 entries)
  const std::int64_t* blur_tiles;    // first 32x32 tile of each view in launch 2 (views + 1 entries)
  std::int64_t view_count;
  AugmentKey key;
  float norm_scale, norm_offset;
  AugmentOutputType output;
};

// Largest v with first(v) <= tile, for first() increasing.
template <typename First>
__device__ std::int64_t find_view(std::int64_t count, std::int64_t tile, First first) {
  std::int64_t lo = 0, hi = count - 1;
  while (lo < hi) {
    std::int64_t mid = (lo + hi + 1) / 2;
    if (first(mid) <= tile) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

// Every thread of the block calls this: thread 0 finds the view owning `tile` in the cumulative
// tile table `tiles` and loads it into the block's shared copies, then the block syncs.
__device__ inline void load_tile_view(const DevicePlan& p, const std::int64_t* tiles, std::int64_t tile, AugmentView& view,
                                      AugmentSource& source, std::int64_t& first_tile) {
  if (threadIdx.x == 0) {
    std::int64_t v = find_view(p.view_count, tile, [&](std::int64_t i) { return tiles[i]; });
    view = p.views[v];
    source = p.sources[view.source];
    first_tile = tiles[v];
  }
  __syncthreads();
}

__global__ void __launch_bounds__(kThreads) augment_sample_kernel(DevicePlan p) {
  __shared__ AugmentView view;
  __shared__ AugmentSource source;
  __shared__ std::int64_t first_tile;
  const std::int64_t tile = blockIdx.x;
  load_tile_view(p, p.sample_tiles, tile, view, source, first_tile);
  const int size = view.size;
  const std::int64_t local = tile - first_tile;
  const int tiles_x = (size + kTileW - 1) / kTileW;
  const int x = static_cast<int>(local % tiles_x) * kTileW + static_cast<int>(threadIdx.x % kTileW);
  const int y0 = static_cast<int>(local / tiles_x) * kTileH + static_cast<int>(threadIdx.x / kTileW);
  if (x >= size) return;
  // Each thread renders kTileH / 8 rows of its column, 8 rows apart: the block's view lookup
  // is amortised over 1024 pixels while every warp still stores one contiguous row segment.
  for (int y = y0; y < size && y < y0 + kTileH; y += kThreads / kTileW) {
    const std::int64_t pixel = static_cast<std::int64_t>(y) * size + x;
    float value = aug::shade(view, aug::sample_any(view, source, x, y));
    value = aug::finish(p.key, view, value, static_cast<std::uint32_t>(pixel), p.norm_scale, p.norm_offset);
    aug::store_output(p.outputs[view.group], p.output, view.out_offset + pixel, value);
  }
}

__global__ void __launch_bounds__(kThreads) augment_blur_kernel(DevicePlan p) {
  extern __shared__ float smem[];
  __shared__ AugmentView view;
  __shared__ AugmentSource source;
  __shared__ std::int64_t first_tile;
  const std::int64_t tile = blockIdx.x;
  load_tile_view(p, p.blur_tiles, tile, view, source, first_tile);
  const int size = view.size;
  const int radius = view.blur_radius;
  const int span = kBlurTile + 2 * radius;
  const std::int64_t local = tile - first_tile;
  const int tiles_x = (size + kBlurTile - 1) / kBlurTile;
  const int x0 = static_cast<int>(local % tiles_x) * kBlurTile;
  const int y0 = static_cast<int>(local / tiles_x) * kBlurTile;
  float* region = smem;                    // [span][span] display values (before blur)
  float* horizontal = smem + span * span;  // [span][kBlurTile]
  const float* w = p.weights + view.blur_weights;

  // The tile and its halo, reflected at the view's edges, sampled from the source.
  for (int i = threadIdx.x; i < span * span; i += blockDim.x) {
    int r = i / span, c = i % span;
    int sy = aug::reflect(y0 - radius + r, size), sx = aug::reflect(x0 - radius + c, size);
    region[i] = aug::shade(view, aug::sample_any(view, source, sx, sy));
  }
  __syncthreads();
  for (int i = threadIdx.x; i < span * kBlurTile; i += blockDim.x) {
    int r = i / kBlurTile, c = i % kBlurTile;
    float acc = 0.0f;
    for (int k = 0; k <= 2 * radius; ++k) acc = aug::ffma(w[k], region[r * span + c + k], acc);
    horizontal[i] = acc;
  }
  __syncthreads();
  for (int i = threadIdx.x; i < kBlurTile * kBlurTile; i += blockDim.x) {
    int r = i / kBlurTile, c = i % kBlurTile;
    int x = x0 + c, y = y0 + r;
    if (x >= size || y >= size) continue;
    float value = 0.0f;
    for (int k = 0; k <= 2 * radius; ++k) value = aug::ffma(w[k], horizontal[(r + k) * kBlurTile + c], value);
    const std::int64_t pixel = static_cast<std::int64_t>(y) * size + x;
    value = aug::finish(p.key, view, value, static_cast<std::uint32_t>(pixel), p.norm_scale, p.norm_offset);
    aug::store_output(p.outputs[view.group], p.output, view.out_offset + pixel, value);
  }
}

// A device buffer kept between calls (grown when needed).
struct CachedBuffer {
  void* ptr = nullptr;
  std::size_t bytes = 0;
  void* get(std::size_t want) {
    if (want > bytes) {
      if (ptr) RL_CUDA(cudaFree(ptr));
      ptr = nullptr;
      bytes = 0;
      RL_CUDA(cudaMalloc(&ptr, want));
      bytes = want;
    }
    return ptr;
  }
};

std::mutex g_mutex;
CachedBuffer g_plan_buffer;

std::size_t align_up(std::size_t n) { return (n + 255) & ~std::size_t{255}; }

}  // namespace

namespace {

struct Launch {
  DevicePlan p;
  unsigned sample_blocks = 0, blur_blocks = 0;
  std::size_t blur_shared = 0;
};

// Packs and uploads the plan (one copy) and works out both grids. Caller holds g_mutex.
Launch prepare(const AugmentPlan& plan, const std::vector<AugmentSource>& sources, const std::vector<void*>& outputs) {
  const std::int64_t views = static_cast<std::int64_t>(plan.views.size());

  // Each view is rendered by exactly one launch: blurred views by launch 2, the rest by launch 1.
  std::vector<std::int64_t> sample_tiles(static_cast<size_t>(views) + 1, 0), blur_tiles(static_cast<size_t>(views) + 1, 0);
  int max_radius = 0;
  for (std::int64_t i = 0; i < views; ++i) {
    const AugmentView& v = plan.views[i];
    const bool blurred = v.blur_radius > 0;
    const std::int64_t blur = (v.size + kBlurTile - 1) / kBlurTile;
    const std::int64_t sample = static_cast<std::int64_t>((v.size + kTileW - 1) / kTileW) * ((v.size + kTileH - 1) / kTileH);
    sample_tiles[i + 1] = sample_tiles[i] + (blurred ? 0 : sample);
    blur_tiles[i + 1] = blur_tiles[i] + (blurred ? blur * blur : 0);
    max_radius = std::max(max_radius, v.blur_radius);
  }
  if (sample_tiles.back() > 0x7fffffffLL || blur_tiles.back() > 0x7fffffffLL)
    throw Error(kErrShape, "augment: too many output pixels for one launch");

  // One upload: views | sources | outputs | weights | blur tiles.
  const std::size_t views_bytes = sizeof(AugmentView) * plan.views.size();
  const std::size_t sources_bytes = sizeof(AugmentSource) * sources.size();
  const std::size_t outputs_bytes = sizeof(void*) * outputs.size();
  const std::size_t weights_bytes = sizeof(float) * std::max<std::size_t>(1, plan.blur_weights.size());
  const std::size_t tiles_bytes = sizeof(std::int64_t) * blur_tiles.size();
  const std::size_t o_sources = align_up(views_bytes), o_outputs = o_sources + align_up(sources_bytes),
                    o_weights = o_outputs + align_up(outputs_bytes), o_tiles = o_weights + align_up(weights_bytes),
                    o_blur_tiles = o_tiles + align_up(tiles_bytes), total = o_blur_tiles + align_up(tiles_bytes);
  std::vector<unsigned char> host(total, 0);
  std::memcpy(host.data(), plan.views.data(), views_bytes);
  std::memcpy(host.data() + o_sources, sources.data(), sources_bytes);
  std::memcpy(host.data() + o_outputs, outputs.data(), outputs_bytes);
  if (!plan.blur_weights.empty()) std::memcpy(host.data() + o_weights, plan.blur_weights.data(), plan.blur_weights.size() * sizeof(float));
  std::memcpy(host.data() + o_tiles, sample_tiles.data(), tiles_bytes);
  std::memcpy(host.data() + o_blur_tiles, blur_tiles.data(), tiles_bytes);
  auto* device = static_cast<unsigned char*>(g_plan_buffer.get(total));
  RL_CUDA(cudaMemcpy(device, host.data(), total, cudaMemcpyHostToDevice));

  DevicePlan p;
  p.views = reinterpret_cast<const AugmentView*>(device);
  p.sources = reinterpret_cast<const AugmentSource*>(device + o_sources);
  p.outputs = reinterpret_cast<void* const*>(device + o_outputs);
  p.weights = reinterpret_cast<const float*>(device + o_weights);
  p.sample_tiles = reinterpret_cast<const std::int64_t*>(device + o_tiles);
  p.blur_tiles = reinterpret_cast<const std::int64_t*>(device + o_blur_tiles);
  p.view_count = views;
  p.key = plan.key;
  p.norm_scale = plan.norm_scale;
  p.norm_offset = plan.norm_offset;
  p.output = plan.output;

  Launch launch;
  launch.p = p;
  launch.sample_blocks = static_cast<unsigned>(sample_tiles.back());
  launch.blur_blocks = static_cast<unsigned>(blur_tiles.back());
  const int span = kBlurTile + 2 * max_radius;
  launch.blur_shared = sizeof(float) * static_cast<std::size_t>(span * span + span * kBlurTile);
  // The default per-block limit (48 KiB) covers static + dynamic shared memory: the kernel's own
  // static bytes (view, source, first tile: 144 B on sm_90) count too, so opt in with 1 KiB to spare.
  if (launch.blur_blocks > 0 && launch.blur_shared > 48 * 1024 - kBlurStaticSmemReserve)
    RL_CUDA(cudaFuncSetAttribute(augment_blur_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(launch.blur_shared)));
  return launch;
}

void run(const Launch& launch) {
  if (launch.sample_blocks > 0) {
    augment_sample_kernel<<<launch.sample_blocks, kThreads>>>(launch.p);
    check_launch_status("augment_sample_kernel");
  }
  if (launch.blur_blocks > 0) {
    augment_blur_kernel<<<launch.blur_blocks, kThreads, launch.blur_shared>>>(launch.p);
    check_launch_status("augment_blur_kernel");
  }
}

}  // namespace

void augment_cuda(const AugmentPlan& plan, const std::vector<AugmentSource>& sources, const std::vector<void*>& outputs) {
  ScopedOp op("augment", "cuda");
  if (plan.views.empty()) return;
  std::lock_guard<std::mutex> lock(g_mutex);
  run(prepare(plan, sources, outputs));
  RL_CUDA(cudaDeviceSynchronize());
}

std::vector<double> augment_cuda_kernel_ms(const AugmentPlan& plan, const std::vector<AugmentSource>& sources,
                                           const std::vector<void*>& outputs, int iterations) {
  std::vector<double> ms;
  if (plan.views.empty()) return ms;
  std::lock_guard<std::mutex> lock(g_mutex);
  Launch launch = prepare(plan, sources, outputs);
  run(launch);  // warm-up
  RL_CUDA(cudaDeviceSynchronize());
  DeviceTimer timer;
  for (int i = 0; i < iterations; ++i) {
    timer.start();
    run(launch);
    ms.push_back(timer.stop_ms());
  }
  return ms;
}

}  // namespace radlearn
