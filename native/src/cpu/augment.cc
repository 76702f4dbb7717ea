// Renders an augmentation plan on the CPU (see radlearn/augment.h and augment_pixel.h).
// Pass 1 is split over (view, band of 16 rows) work items on the shared pool; each pixel
// runs the shared per-pixel pipeline. When some view is blurred, pass 1 writes display
// values to a float32 scratch and pass 2 (one view per work item) runs the separable
// Gaussian (horizontal into a row buffer, then vertical), noise, normalisation and the cast.
// The same float32 operations as the CUDA kernels, in the same order, so results agree to
// rounding of the transcendental functions (pow, log, cos in gamma and noise).
//
// GCC may fuse a*b+c across statements on its own; the shared arithmetic must not be fused
// differently from CUDA, so contraction is off in this file (the fused operations it needs
// are explicit std::fma calls).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=off")
#endif
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#include <algorithm>
#include <vector>

#include "radlearn/augment.h"
#include "radlearn/augment_pixel.h"
#include "radlearn/thread_pool.h"
#include "radlearn/trace.h"

namespace radlearn {
namespace {

constexpr int kBandRows = 16;

// Stores one display value: to the pass-2 scratch, or through noise, normalisation and the cast.
template <AugmentOutputType Out>
RL_HD void emit(const AugmentPlan& plan, const AugmentView& v, void* out, float* scratch, std::int64_t pixel, float value) {
  if (scratch) {
    scratch[pixel] = value;
    return;
  }
  value = aug::finish(plan.key, v, value, static_cast<std::uint32_t>(pixel), plan.norm_scale, plan.norm_offset);
  aug::store_output(out, Out, v.out_offset + pixel, value);
}

// Where one footprint tap of a column (or row) reads: reflected neighbour indices and weight.
struct AxisTap {
  std::int32_t i0, i1;
  float t;
};

// The tap coordinate along one axis exactly as sample_view() computes it when the other
// axis's coefficient is zero (ffma(0, s, b) == b), so the tables give the same bits.
void axis_taps(int size, int taps, float scale, float offset, int extent, std::vector<AxisTap>& out) {
  out.resize(static_cast<size_t>(size) * taps);
  const float inv = 1.0f / static_cast<float>(taps);
  for (int o = 0; o < size; ++o) {
    for (int k = 0; k < taps; ++k) {
      float s = static_cast<float>(o);
      if (taps > 1) s = aug::fadd(s, aug::fadd(aug::fmul(aug::fadd(static_cast<float>(k), 0.5f), inv), -0.5f));
      float f = aug::ffma(scale, s, offset);
      f = f < -4194304.0f ? -4194304.0f : (f > 4194304.0f ? 4194304.0f : f);
      float f0 = floorf(f);
      int i0 = static_cast<int>(f0);
      out[static_cast<size_t>(o) * taps + k] = AxisTap{aug::reflect(i0, extent), aug::reflect(i0 + 1, extent), f - f0};
    }
  }
}

// Fast path for views without rotation (affine[1] == affine[3] == 0, the common case): the
// sample columns and rows are tabulated once per band instead of once per pixel. Same
// operations in the same order as the general path, so the same bits.
template <typename T, AugmentOutputType Out>
void render_rows_axis_aligned(const AugmentPlan& plan, const AugmentView& v, const T* src, int height, int width, void* out,
                              float* scratch, int y0, int y1) {
  thread_local std::vector<AxisTap> cols, rows;
  const int size = v.size, nx = v.taps_x, ny = v.taps_y;
  axis_taps(size, nx, v.affine[0], v.affine[2], width, cols);
  axis_taps(size, ny, v.affine[4], v.affine[5], height, rows);
  const float inv_taps = aug::fmul(1.0f / static_cast<float>(nx), 1.0f / static_cast<float>(ny));
  for (int y = y0; y < y1; ++y) {
    const AxisTap* ry = rows.data() + static_cast<size_t>(y) * ny;
    const std::int64_t row_pixel = static_cast<std::int64_t>(y) * size;
    if (nx == 1 && ny == 1) {
      const T* r0 = src + static_cast<std::int64_t>(ry->i0) * width;
      const T* r1 = src + static_cast<std::int64_t>(ry->i1) * width;
      const float ty = ry->t;
      for (int x = 0; x < size; ++x) {
        const AxisTap c = cols[x];
        float v00 = static_cast<float>(r0[c.i0]), v01 = static_cast<float>(r0[c.i1]);
        float v10 = static_cast<float>(r1[c.i0]), v11 = static_cast<float>(r1[c.i1]);
        float top = aug::ffma(c.t, aug::fadd(v01, -v00), v00);
        float bottom = aug::ffma(c.t, aug::fadd(v11, -v10), v10);
        emit<Out>(plan, v, out, scratch, row_pixel + x, aug::shade(v, aug::ffma(ty, aug::fadd(bottom, -top), top)));
      }
      continue;
    }
    for (int x = 0; x < size; ++x) {
      float sum = 0.0f;
      for (int j = 0; j < ny; ++j) {
        const T* r0 = src + static_cast<std::int64_t>(ry[j].i0) * width;
        const T* r1 = src + static_cast<std::int64_t>(ry[j].i1) * width;
        const AxisTap* cx = cols.data() + static_cast<size_t>(x) * nx;
        for (int i = 0; i < nx; ++i) {
          float v00 = static_cast<float>(r0[cx[i].i0]), v01 = static_cast<float>(r0[cx[i].i1]);
          float v10 = static_cast<float>(r1[cx[i].i0]), v11 = static_cast<float>(r1[cx[i].i1]);
          float top = aug::ffma(cx[i].t, aug::fadd(v01, -v00), v00);
          float bottom = aug::ffma(cx[i].t, aug::fadd(v11, -v10), v10);
          sum = aug::fadd(sum, aug::ffma(ry[j].t, aug::fadd(bottom, -top), top));
        }
      }
      emit<Out>(plan, v, out, scratch, row_pixel + x, aug::shade(v, aug::fmul(sum, inv_taps)));
    }
  }
}

// Writes rows [y0, y1) of one view; `scratch` != nullptr stores display values for pass 2.
template <typename T, AugmentOutputType Out>
void render_rows(const AugmentPlan& plan, const AugmentView& v, const T* src, int height, int width, void* out,
                 float* scratch, int y0, int y1) {
  if (v.affine[1] == 0.0f && v.affine[3] == 0.0f) {
    render_rows_axis_aligned<T, Out>(plan, v, src, height, width, out, scratch, y0, y1);
    return;
  }
  const int size = v.size;
  for (int y = y0; y < y1; ++y) {
    for (int x = 0; x < size; ++x) {
      const std::int64_t pixel = static_cast<std::int64_t>(y) * size + x;
      emit<Out>(plan, v, out, scratch, pixel, aug::shade(v, aug::sample_view(v, src, height, width, x, y)));
    }
  }
}

template <AugmentOutputType Out>
void render_band(const AugmentPlan& plan, const AugmentView& v, const AugmentSource& s, void* out, float* scratch, int y0,
                 int y1) {
  switch (s.type) {
    case AugmentSourceType::Uint8:
      render_rows<std::uint8_t, Out>(plan, v, static_cast<const std::uint8_t*>(s.data), s.height, s.width, out, scratch, y0, y1);
      break;
    case AugmentSourceType::Uint16:
      render_rows<std::uint16_t, Out>(plan, v, static_cast<const std::uint16_t*>(s.data), s.height, s.width, out, scratch, y0,
                                      y1);
      break;
    default:
      render_rows<float, Out>(plan, v, static_cast<const float*>(s.data), s.height, s.width, out, scratch, y0, y1);
  }
}

void render_band_any(const AugmentPlan& plan, const AugmentView& v, const AugmentSource& s, void* out, float* scratch, int y0,
                     int y1) {
  switch (plan.output) {
    case AugmentOutputType::BFloat16:
      render_band<AugmentOutputType::BFloat16>(plan, v, s, out, scratch, y0, y1);
      break;
    case AugmentOutputType::Float16:
      render_band<AugmentOutputType::Float16>(plan, v, s, out, scratch, y0, y1);
      break;
    default:
      render_band<AugmentOutputType::Float32>(plan, v, s, out, scratch, y0, y1);
  }
}

// Pass 2 for one view: separable Gaussian (reflected edges) over its display values, then
// noise, normalisation and the cast. Sums run k = -R..R with fused multiply-adds, as on CUDA.
void blur_view(const AugmentPlan& plan, const AugmentView& v, const float* in, void* out, std::vector<float>& rows) {
  const int size = v.size;
  const int radius = v.blur_radius;
  const float* w = radius > 0 ? plan.blur_weights.data() + v.blur_weights : nullptr;
  rows.resize(static_cast<size_t>(size) * size);
  // Horizontal pass into `rows`.
  for (int y = 0; y < size; ++y) {
    const float* line = in + static_cast<std::int64_t>(y) * size;
    float* dst = rows.data() + static_cast<std::int64_t>(y) * size;
    for (int x = 0; x < size; ++x) {
      if (radius == 0) {
        dst[x] = line[x];
        continue;
      }
      float acc = 0.0f;
      for (int k = -radius; k <= radius; ++k) acc = aug::ffma(w[k + radius], line[aug::reflect(x + k, size)], acc);
      dst[x] = acc;
    }
  }
  // Vertical pass, then the rest of the pipeline.
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      float value;
      if (radius == 0) {
        value = rows[static_cast<size_t>(y) * size + x];
      } else {
        value = 0.0f;
        for (int k = -radius; k <= radius; ++k)
          value = aug::ffma(w[k + radius], rows[static_cast<size_t>(aug::reflect(y + k, size)) * size + x], value);
      }
      const std::int64_t pixel = static_cast<std::int64_t>(y) * size + x;
      value = aug::finish(plan.key, v, value, static_cast<std::uint32_t>(pixel), plan.norm_scale, plan.norm_offset);
      aug::store_output(out, plan.output, v.out_offset + pixel, value);
    }
  }
}

}  // namespace

void augment_cpu(const AugmentPlan& plan, const std::vector<AugmentSource>& sources, const std::vector<void*>& outputs) {
  ScopedOp op("augment", "cpu");
  const std::int64_t views = static_cast<std::int64_t>(plan.views.size());
  if (views == 0) return;
  // Work items: (view, band of rows). Views are listed group by group, so items of one
  // group are contiguous and chunks stay balanced.
  std::vector<std::int64_t> first_item(static_cast<size_t>(views) + 1, 0);
  for (std::int64_t i = 0; i < views; ++i)
    first_item[i + 1] = first_item[i] + (plan.views[i].size + kBandRows - 1) / kBandRows;
  std::vector<float> scratch(plan.two_pass ? static_cast<size_t>(plan.total_pixels) : 0);
  parallel_for(first_item[views], 1, [&](std::int64_t begin, std::int64_t end) {
    std::int64_t view = std::upper_bound(first_item.begin(), first_item.end(), begin) - first_item.begin() - 1;
    for (std::int64_t item = begin; item < end; ++item) {
      while (first_item[view + 1] <= item) ++view;
      const AugmentView& v = plan.views[view];
      const int y0 = static_cast<int>((item - first_item[view]) * kBandRows);
      const int y1 = std::min(v.size, y0 + kBandRows);
      float* view_scratch = plan.two_pass ? scratch.data() + v.pixel_offset : nullptr;
      render_band_any(plan, v, sources[v.source], outputs[v.group], view_scratch, y0, y1);
    }
  });
  if (!plan.two_pass) return;
  parallel_for(views, 1, [&](std::int64_t begin, std::int64_t end) {
    std::vector<float> rows;
    for (std::int64_t i = begin; i < end; ++i) {
      const AugmentView& v = plan.views[i];
      blur_view(plan, v, scratch.data() + v.pixel_offset, outputs[v.group], rows);
    }
  });
}

}  // namespace radlearn
