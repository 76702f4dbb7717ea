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
#pragma GCC optimize("fp-contract=off", "no-trapping-math")
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
void axis_taps(int size, int taps, float scale, float offset, int extent, std::vector<AxisTap>& out, int o0, int o1) {
  out.resize(static_cast<size_t>(size) * taps);
  const float inv = 1.0f / static_cast<float>(taps);
  for (int o = o0; o < o1; ++o) {
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

// Noise, normalisation and the cast for one row of display values (the end of pass 2).
template <AugmentOutputType Out>
void store_row(const AugmentPlan& plan, const AugmentView& view, float* acc, int n, std::int64_t row_pixel, void* out) {
  const AugmentView v = view;
  if (v.noise_std > 0.0f)
    for (int x = 0; x < n; ++x)
      acc[x] = aug::ffma(v.noise_std, aug::pixel_normal(plan.key, v, static_cast<std::uint32_t>(row_pixel + x)), acc[x]);
  const float ns = plan.norm_scale, no = plan.norm_offset;
  const std::int64_t base = v.out_offset + row_pixel;
  if (Out == AugmentOutputType::Float32) {
    float* o = static_cast<float*>(out) + base;
    for (int x = 0; x < n; ++x) o[x] = aug::ffma(acc[x], ns, no);
  } else {
    for (int x = 0; x < n; ++x) aug::store_output(out, Out, base + x, aug::ffma(acc[x], ns, no));
  }
}

// shade() then emit() for a whole output row, stage by stage so the compiler can vectorise
// the stages; per pixel the same operations in the same order.
template <AugmentOutputType Out>
void finish_row(const AugmentPlan& plan, const AugmentView& view, float* acc, int n, std::int64_t row_pixel, void* out,
                float* scratch) {
  const AugmentView v = view;  // a local copy: stores below cannot alias it
  const float vs = v.value_scale, vo = v.value_offset;
  for (int x = 0; x < n; ++x) acc[x] = aug::ffma(acc[x], vs, vo);
  if (v.window_clamp)
    for (int x = 0; x < n; ++x) acc[x] = aug::clamp01(acc[x]);
  if (v.intensity) {
    const float b = v.brightness, c = v.contrast;
    for (int x = 0; x < n; ++x) {
      float value = aug::clamp01(aug::fmul(acc[x], b));
      acc[x] = aug::clamp01(aug::ffma(aug::fadd(value, -0.5f), c, 0.5f));
    }
    if (v.gamma != 1.0f)
      for (int x = 0; x < n; ++x) acc[x] = aug::pow01(acc[x], v.gamma);
  }
  if (scratch) {
    std::copy(acc, acc + n, scratch + row_pixel);
    return;
  }
  store_row<Out>(plan, v, acc, n, row_pixel, out);
}

// Per-thread buffers of the axis-aligned path.
struct AxisScratch {
  std::vector<AxisTap> rows, cols;
  std::vector<std::int32_t> col0, col1;  // [taps_x][size] reflected source columns
  std::vector<float> col_t;              // [taps_x][size] horizontal weights
  std::vector<float> source_row;         // one source row as float
  std::vector<float> horizontal;         // [source rows in range][taps_x][size]
  std::vector<std::uint8_t> ready;       // horizontal row computed
  std::vector<float> acc;                // one output row
};

constexpr std::int64_t kMaxHorizontalFloats = std::int64_t{1} << 22;

template <typename T, AugmentOutputType Out>
void render_rows_general(const AugmentPlan& plan, const AugmentView& v, const T* src, int height, int width, void* out,
                         float* scratch, int y0, int y1) {
  const int size = v.size;
  for (int y = y0; y < y1; ++y)
    for (int x = 0; x < size; ++x)
      emit<Out>(plan, v, out, scratch, static_cast<std::int64_t>(y) * size + x,
                aug::shade(v, aug::sample_view(v, src, height, width, x, y)));
}

// Fast path for views without rotation (affine[1] == affine[3] == 0, the common case). A
// bilinear tap is lerp_y(lerp_x(row y0), lerp_x(row y1)); the horizontal lerps of a source
// row are computed once per band and reused by every output row and vertical tap that
// reads that row, and the vertical lerps run over contiguous rows (vectorised). The same
// float operations in the same order as sample_view(), so the same bits as the CUDA kernel.
template <typename T, AugmentOutputType Out>
void render_rows_axis_aligned(const AugmentPlan& plan, const AugmentView& v, const T* src, int height, int width, void* out,
                              float* scratch, int y0, int y1) {
  thread_local AxisScratch t;
  const int size = v.size, nx = v.taps_x, ny = v.taps_y;
  std::vector<AxisTap>& cols = t.cols;
  axis_taps(size, nx, v.affine[0], v.affine[2], width, cols, 0, size);
  axis_taps(size, ny, v.affine[4], v.affine[5], height, t.rows, y0, y1);
  int lo = height, hi = -1;
  for (int y = y0; y < y1; ++y)
    for (int j = 0; j < ny; ++j) {
      const AxisTap& r = t.rows[static_cast<size_t>(y) * ny + j];
      lo = std::min(lo, std::min(r.i0, r.i1));
      hi = std::max(hi, std::max(r.i0, r.i1));
    }
  const std::int64_t span = hi - lo + 1;
  if (span * nx * size > kMaxHorizontalFloats) {  // extreme shrink: tabulating rows would not pay
    render_rows_general<T, Out>(plan, v, src, height, width, out, scratch, y0, y1);
    return;
  }
  const size_t plane = static_cast<size_t>(nx) * size;
  t.col0.resize(plane), t.col1.resize(plane), t.col_t.resize(plane);
  int first_col = width, last_col = 0;  // source columns the view reads
  for (int x = 0; x < size; ++x)
    for (int i = 0; i < nx; ++i) {
      const AxisTap& c = cols[static_cast<size_t>(x) * nx + i];
      first_col = std::min(first_col, std::min(c.i0, c.i1));
      last_col = std::max(last_col, std::max(c.i0, c.i1));
      t.col0[static_cast<size_t>(i) * size + x] = c.i0;
      t.col1[static_cast<size_t>(i) * size + x] = c.i1;
      t.col_t[static_cast<size_t>(i) * size + x] = c.t;
    }
  t.horizontal.resize(static_cast<size_t>(span) * plane);
  t.ready.assign(static_cast<size_t>(span), 0);
  t.source_row.resize(static_cast<size_t>(width));
  t.acc.resize(static_cast<size_t>(size));

  auto horizontal_row = [&](int r) -> const float* {
    float* h = t.horizontal.data() + static_cast<size_t>(r - lo) * plane;
    if (t.ready[r - lo]) return h;
    const T* in = src + static_cast<std::int64_t>(r) * width;
    float* f = t.source_row.data();
    for (int x = first_col; x <= last_col; ++x) f[x] = static_cast<float>(in[x]);
    const std::int32_t* c0 = t.col0.data();
    const std::int32_t* c1 = t.col1.data();
    const float* ct = t.col_t.data();
    for (size_t k = 0; k < plane; ++k) h[k] = aug::ffma(ct[k], aug::fadd(f[c1[k]], -f[c0[k]]), f[c0[k]]);
    t.ready[r - lo] = 1;
    return h;
  };

  const float inv_taps = aug::fmul(1.0f / static_cast<float>(nx), 1.0f / static_cast<float>(ny));
  float* acc = t.acc.data();
  for (int y = y0; y < y1; ++y) {
    const AxisTap* ry = t.rows.data() + static_cast<size_t>(y) * ny;
    if (nx == 1 && ny == 1) {
      const float* top = horizontal_row(ry->i0);
      const float* bottom = horizontal_row(ry->i1);
      const float ty = ry->t;
      for (int x = 0; x < size; ++x) acc[x] = aug::ffma(ty, aug::fadd(bottom[x], -top[x]), top[x]);
    } else {
      std::fill(acc, acc + size, 0.0f);
      for (int j = 0; j < ny; ++j) {
        const float* top_rows = horizontal_row(ry[j].i0);
        const float* bottom_rows = horizontal_row(ry[j].i1);
        const float ty = ry[j].t;
        // Per pixel the taps are still summed j-major, i-minor, as in sample_view().
        for (int i = 0; i < nx; ++i) {
          const float* top = top_rows + static_cast<size_t>(i) * size;
          const float* bottom = bottom_rows + static_cast<size_t>(i) * size;
          for (int x = 0; x < size; ++x) acc[x] = aug::fadd(acc[x], aug::ffma(ty, aug::fadd(bottom[x], -top[x]), top[x]));
        }
      }
      for (int x = 0; x < size; ++x) acc[x] = aug::fmul(acc[x], inv_taps);
    }
    finish_row<Out>(plan, v, acc, size, static_cast<std::int64_t>(y) * size, out, scratch);
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
  render_rows_general<T, Out>(plan, v, src, height, width, out, scratch, y0, y1);
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
// noise, normalisation and the cast. Each output sums k = 0..2R with fused multiply-adds
// from zero, as on CUDA; the loops run over contiguous pixels so they vectorise.
template <AugmentOutputType Out>
void blur_view(const AugmentPlan& plan, const AugmentView& v, const float* in, void* out) {
  thread_local std::vector<float> rows, padded, acc;
  const int size = v.size;
  const int radius = v.blur_radius;
  const float* w = radius > 0 ? plan.blur_weights.data() + v.blur_weights : nullptr;
  acc.resize(static_cast<size_t>(size));
  if (radius == 0) {
    for (int y = 0; y < size; ++y) {
      std::copy(in + static_cast<std::int64_t>(y) * size, in + static_cast<std::int64_t>(y + 1) * size, acc.data());
      store_row<Out>(plan, v, acc.data(), size, static_cast<std::int64_t>(y) * size, out);
    }
    return;
  }
  rows.resize(static_cast<size_t>(size) * size);
  padded.resize(static_cast<size_t>(size + 2 * radius));
  for (int y = 0; y < size; ++y) {
    const float* line = in + static_cast<std::int64_t>(y) * size;
    for (int x = -radius; x < size + radius; ++x) padded[x + radius] = line[aug::reflect(x, size)];
    float* dst = rows.data() + static_cast<std::int64_t>(y) * size;
    std::fill(dst, dst + size, 0.0f);
    for (int k = 0; k <= 2 * radius; ++k) {
      const float wk = w[k];
      const float* src = padded.data() + k;
      for (int x = 0; x < size; ++x) dst[x] = aug::ffma(wk, src[x], dst[x]);
    }
  }
  for (int y = 0; y < size; ++y) {
    float* a = acc.data();
    std::fill(a, a + size, 0.0f);
    for (int k = 0; k <= 2 * radius; ++k) {
      const float wk = w[k];
      const float* src = rows.data() + static_cast<std::int64_t>(aug::reflect(y + k - radius, size)) * size;
      for (int x = 0; x < size; ++x) a[x] = aug::ffma(wk, src[x], a[x]);
    }
    store_row<Out>(plan, v, a, size, static_cast<std::int64_t>(y) * size, out);
  }
}

void blur_view_any(const AugmentPlan& plan, const AugmentView& v, const float* in, void* out) {
  switch (plan.output) {
    case AugmentOutputType::BFloat16:
      blur_view<AugmentOutputType::BFloat16>(plan, v, in, out);
      break;
    case AugmentOutputType::Float16:
      blur_view<AugmentOutputType::Float16>(plan, v, in, out);
      break;
    default:
      blur_view<AugmentOutputType::Float32>(plan, v, in, out);
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
    for (std::int64_t i = begin; i < end; ++i) {
      const AugmentView& v = plan.views[i];
      blur_view_any(plan, v, scratch.data() + v.pixel_offset, outputs[v.group]);
    }
  });
}

}  // namespace radlearn
