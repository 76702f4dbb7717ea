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

// Writes rows [y0, y1) of one view; `scratch` != nullptr stores display values for pass 2.
template <typename T, AugmentOutputType Out>
void render_rows(const AugmentPlan& plan, const AugmentView& v, const T* src, int height, int width, void* out,
                 float* scratch, int y0, int y1) {
  const int size = v.size;
  for (int y = y0; y < y1; ++y) {
    for (int x = 0; x < size; ++x) {
      const std::int64_t pixel = static_cast<std::int64_t>(y) * size + x;
      float value = aug::shade(v, aug::sample_view(v, src, height, width, x, y));
      if (scratch) {
        scratch[pixel] = value;
      } else {
        value = aug::finish(plan.key, v, value, static_cast<std::uint32_t>(pixel), plan.norm_scale, plan.norm_offset);
        aug::store_output(out, Out, v.out_offset + pixel, value);
      }
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
