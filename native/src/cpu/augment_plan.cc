// Host-side planning of an augmentation call: checks the spec's bounds, draws every random
// parameter of every view and turns them into the AugmentView records both backends render
// (see radlearn/augment.h). Runs once per call, O(views), plus the patch masks.
//
// Randomness: Philox-4x32-10 with key = seed (64 bits) and counter = (slot, view | domain << 24,
// image key, step). Each parameter owns a fixed slot, so enabling one option never shifts
// the draws of another, and a view's draws depend only on (seed, step, image key, view).
//   slots 0..9   crop tries: area fraction, log aspect ratio, x, y (one Philox block per try)
//   slot 10      flip h, flip v, rotation fires, angle
//   slot 11      shift fires, shift x, shift y, intensity fires
//   slot 12      brightness, contrast, gamma, blur fires
//   slot 13      blur sigma, noise fires, noise std, mask fires
//   slot 14      mask ratio
//   domain 1     the mask generator's sequential stream; domain 2: per-pixel noise (augment_pixel.h)
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "radlearn/augment.h"
#include "radlearn/philox.h"

namespace radlearn {
namespace {

constexpr int kCropTries = 10;
constexpr double kPi = 3.14159265358979323846;

struct Drawer {
  std::uint32_t seed_lo, seed_hi, step, key, view;
  // Four uniforms in [0, 1) (32 bits each) for a slot of domain 0.
  void draw(std::uint32_t slot, double out[4]) const {
    philox::Uint4 r = philox::philox4x32_10(philox::Uint4{slot, view, key, step}, seed_lo, seed_hi);
    const double scale = 1.0 / 4294967296.0;
    out[0] = r.x * scale;
    out[1] = r.y * scale;
    out[2] = r.z * scale;
    out[3] = r.w * scale;
  }
};

// Sequential uniforms from one domain of one view (the mask generator's stream).
class Stream {
 public:
  Stream(const Drawer& d, std::uint32_t domain) : d_(d), domain_(domain) {}
  double uniform() {
    if (used_ == 4) {
      philox::Uint4 r = philox::philox4x32_10(philox::Uint4{counter_++, d_.view | (domain_ << 24), d_.key, d_.step},
                                              d_.seed_lo, d_.seed_hi);
      buffer_[0] = r.x, buffer_[1] = r.y, buffer_[2] = r.z, buffer_[3] = r.w;
      used_ = 0;
    }
    return buffer_[used_++] * (1.0 / 4294967296.0);
  }
  // Uniform integer in [lo, hi] (hi >= lo).
  index_t integer(index_t lo, index_t hi) {
    index_t v = lo + static_cast<index_t>(uniform() * static_cast<double>(hi - lo + 1));
    return std::min(v, hi);
  }

 private:
  Drawer d_;
  std::uint32_t domain_;
  std::uint32_t counter_ = 0;
  std::uint32_t buffer_[4] = {0, 0, 0, 0};
  int used_ = 4;
};

double lerp(double lo, double hi, double u) { return lo + (hi - lo) * u; }

void check(bool ok, const std::string& message) {
  if (!ok) throw Error(kErrInvalidArgument, "augment spec: " + message);
}

// BEiT/iBOT block masking: blocks of random area and aspect ratio are added while they fit
// in the remaining budget; whatever the blocks cannot place is topped up with random
// patches, so exactly `target` patches end up masked.
void block_mask(Stream& s, std::uint8_t* mask, index_t grid, index_t target) {
  index_t masked = 0;
  const double log_aspect_lo = std::log(kMaskMinAspect), log_aspect_hi = -std::log(kMaskMinAspect);
  while (masked < target) {
    index_t budget = target - masked;
    index_t added = 0;
    for (int attempt = 0; attempt < 10 && added == 0; ++attempt) {
      double area = lerp(static_cast<double>(std::min<index_t>(kMaskMinBlockPatches, budget)), static_cast<double>(budget),
                         s.uniform());
      double aspect = std::exp(lerp(log_aspect_lo, log_aspect_hi, s.uniform()));
      index_t h = static_cast<index_t>(std::lround(std::sqrt(area * aspect)));
      index_t w = static_cast<index_t>(std::lround(std::sqrt(area / aspect)));
      if (h < 1 || w < 1 || h >= grid || w >= grid) continue;
      index_t top = s.integer(0, grid - h), left = s.integer(0, grid - w);
      index_t fresh = 0;
      for (index_t r = top; r < top + h; ++r)
        for (index_t c = left; c < left + w; ++c) fresh += mask[r * grid + c] == 0;
      if (fresh == 0 || fresh > budget) continue;
      for (index_t r = top; r < top + h; ++r)
        for (index_t c = left; c < left + w; ++c) mask[r * grid + c] = 1;
      added = fresh;
    }
    if (added == 0) break;
    masked += added;
  }
  if (masked >= target) return;
  // Top up: a partial Fisher-Yates shuffle over the unmasked patches.
  std::vector<index_t> free_patches;
  for (index_t i = 0; i < grid * grid; ++i)
    if (!mask[i]) free_patches.push_back(i);
  for (index_t k = 0; masked < target; ++k, ++masked) {
    index_t pick = s.integer(k, static_cast<index_t>(free_patches.size()) - 1);
    std::swap(free_patches[k], free_patches[pick]);
    mask[free_patches[k]] = 1;
  }
}

void random_mask(Stream& s, std::uint8_t* mask, index_t patches, index_t target) {
  std::vector<index_t> order(static_cast<size_t>(patches));
  std::iota(order.begin(), order.end(), index_t{0});
  for (index_t k = 0; k < target; ++k) {
    index_t pick = s.integer(k, patches - 1);
    std::swap(order[k], order[pick]);
    mask[order[k]] = 1;
  }
}

}  // namespace

void check_augment_bounds(const AugmentSpec& spec) {
  check(!spec.groups.empty(), "crops must list at least one crop group");
  for (size_t g = 0; g < spec.groups.size(); ++g) {
    const AugmentCropGroup& c = spec.groups[g];
    std::string name = "crops[" + std::to_string(g) + "]";
    check(c.count >= 1 && c.count <= 1024, name + ".count must be an integer in [1, 1024], got " + std::to_string(c.count));
    check(c.size >= 1 && c.size <= 8192, name + ".size must be an integer in [1, 8192], got " + std::to_string(c.size));
    if (c.mask.mode != AugmentMaskMode::None)
      check(c.mask.patch >= 1 && c.mask.patch <= c.size,
            name + ": mask.patchSize must be in [1, " + std::to_string(c.size) + "], got " + std::to_string(c.mask.patch));
  }
}

AugmentPlan plan_augment(const AugmentSpec& spec, const std::vector<AugmentSourceShape>& sources, std::uint64_t seed,
                         std::uint64_t step) {
  check_augment_bounds(spec);
  for (size_t i = 0; i < sources.size(); ++i) {
    const AugmentSourceShape& s = sources[i];
    if (s.height < 1 || s.width < 1 || s.height > (1 << 20) || s.width > (1 << 20))
      throw Error(kErrShape, "image " + std::to_string(i) + " must be at least 1x1 and at most 2^20 per side, got " +
                                 std::to_string(s.height) + "x" + std::to_string(s.width));
  }
  AugmentPlan plan;
  plan.key = AugmentKey{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32), static_cast<std::uint32_t>(step)};
  plan.output = spec.output;
  plan.norm_scale = static_cast<float>(1.0 / spec.normalize_std);
  plan.norm_offset = static_cast<float>(-spec.normalize_mean / spec.normalize_std);
  const index_t batch = static_cast<index_t>(sources.size());
  index_t total_views = 0;
  for (const AugmentCropGroup& g : spec.groups) total_views += g.count * batch;
  if (total_views > (index_t{1} << 24)) throw Error(kErrShape, "too many views in one call (at most 2^24)");
  plan.views.reserve(static_cast<size_t>(total_views));
  plan.report.assign(static_cast<size_t>(total_views * kRepFieldCount), 0.0);
  plan.masks.resize(spec.groups.size());

  index_t view_base = 0;  // index of a group's first view among an image's views
  std::int64_t pixel_offset = 0;
  for (size_t g = 0; g < spec.groups.size(); ++g) {
    const AugmentCropGroup& group = spec.groups[g];
    const index_t size = group.size;
    const index_t grid = group.mask.mode == AugmentMaskMode::None ? 0 : size / group.mask.patch;
    if (grid > 0) plan.masks[g].assign(static_cast<size_t>(batch * group.count * grid * grid), 0);
    plan.group_views.push_back(batch * group.count);
    for (index_t i = 0; i < batch; ++i) {
      const AugmentSourceShape& src = sources[static_cast<size_t>(i)];
      for (index_t j = 0; j < group.count; ++j) {
        const index_t row = i * group.count + j;  // row of the group's output
        Drawer d{plan.key.seed_lo, plan.key.seed_hi, plan.key.step, src.key, static_cast<std::uint32_t>(view_base + j)};
        double* rep = &plan.report[plan.views.size() * kRepFieldCount];
        AugmentView v{};
        v.out_offset = row * size * size;
        v.pixel_offset = pixel_offset;
        v.source = static_cast<std::int32_t>(i);
        v.image_key = src.key;
        v.view = d.view;
        v.group = static_cast<std::int32_t>(g);
        v.size = static_cast<std::int32_t>(size);
        pixel_offset += size * size;

        // RandomResizedCrop: area fraction uniform, log aspect ratio uniform, retried until
        // the box fits; else a centred crop of the whole image clamped to the ratio range.
        const double W = static_cast<double>(src.width), H = static_cast<double>(src.height);
        double cw = 0, ch = 0, cx = 0, cy = 0;
        bool found = false;
        for (int t = 0; t < kCropTries && !found; ++t) {
          double u[4];
          d.draw(static_cast<std::uint32_t>(t), u);
          double area = W * H * lerp(group.scale_min, group.scale_max, u[0]);
          double ratio = std::exp(lerp(std::log(group.ratio_min), std::log(group.ratio_max), u[1]));
          double w = std::sqrt(area * ratio), h = std::sqrt(area / ratio);
          if (w > 0 && h > 0 && w <= W && h <= H) {
            cw = w, ch = h, cx = (W - w) * u[2], cy = (H - h) * u[3];
            found = true;
          }
        }
        if (!found) {
          double in_ratio = W / H;
          if (in_ratio < group.ratio_min) cw = W, ch = W / group.ratio_min;
          else if (in_ratio > group.ratio_max) ch = H, cw = H * group.ratio_max;
          else cw = W, ch = H;
          cx = (W - cw) / 2, cy = (H - ch) / 2;
        }
        double u10[4], u11[4], u12[4], u13[4], u14[4];
        d.draw(10, u10), d.draw(11, u11), d.draw(12, u12), d.draw(13, u13), d.draw(14, u14);
        const bool flip_h = u10[0] < spec.flip_h, flip_v = u10[1] < spec.flip_v;
        const double angle = u10[2] < spec.rotate_p ? lerp(spec.rotate_min, spec.rotate_max, u10[3]) : 0.0;
        const bool shifted = u11[0] < spec.translate_p;
        const double shift_x = shifted ? lerp(-spec.translate_x, spec.translate_x, u11[1]) * cw : 0.0;
        const double shift_y = shifted ? lerp(-spec.translate_y, spec.translate_y, u11[2]) * ch : 0.0;
        const bool intensity = u11[3] < spec.intensity_p;
        const double brightness = intensity ? lerp(spec.brightness_min, spec.brightness_max, u12[0]) : 1.0;
        const double contrast = intensity ? lerp(spec.contrast_min, spec.contrast_max, u12[1]) : 1.0;
        const double gamma = intensity ? std::exp(lerp(std::log(spec.gamma_min), std::log(spec.gamma_max), u12[2])) : 1.0;
        const bool blurred = u12[3] < spec.blur_p && spec.blur_max > 0;
        const double sigma = blurred ? lerp(spec.blur_min, spec.blur_max, u13[0]) : 0.0;
        const double noise = u13[1] < spec.noise_p ? lerp(spec.noise_min, spec.noise_max, u13[2]) : 0.0;

        // Inverse map, output pixel centre -> source continuous coords (pixel centres at i + 0.5):
        //   src = c + t + R(angle) diag(cw, ch) F ((o + 0.5) / size - 0.5)
        // then shifted by -0.5 into index coordinates (centres at integers).
        const double rad = angle * kPi / 180.0, cs = std::cos(rad), sn = std::sin(rad);
        const double fxs = flip_h ? -1.0 : 1.0, fys = flip_v ? -1.0 : 1.0;
        const double m00 = cs * cw * fxs / size, m01 = -sn * ch * fys / size;
        const double m10 = sn * cw * fxs / size, m11 = cs * ch * fys / size;
        const double centre_x = cx + cw / 2 + shift_x, centre_y = cy + ch / 2 + shift_y;
        const double off = 0.5 - size / 2.0;  // (o + 0.5) - size/2, per unit of o
        const double b0 = centre_x + m00 * off + m01 * off - 0.5;
        const double b1 = centre_y + m10 * off + m11 * off - 0.5;
        const double affine[6] = {m00, m01, b0, m10, m11, b1};
        for (int k = 0; k < 6; ++k) v.affine[k] = static_cast<float>(affine[k]);
        // Footprint antialiasing: when an output pixel covers more than 2 source pixels along an
        // axis, average ceil(extent / 2) taps along it (capped at kAugmentMaxTaps).
        const double extent_x = std::hypot(m00, m10), extent_y = std::hypot(m01, m11);
        v.taps_x = extent_x > 2 ? static_cast<std::int32_t>(std::min<double>(kAugmentMaxTaps, std::ceil(extent_x / 2))) : 1;
        v.taps_y = extent_y > 2 ? static_cast<std::int32_t>(std::min<double>(kAugmentMaxTaps, std::ceil(extent_y / 2))) : 1;

        if (spec.window) {
          v.value_scale = static_cast<float>(1.0 / spec.window_width);
          v.value_offset = static_cast<float>(-(spec.window_center - spec.window_width / 2) / spec.window_width);
          v.window_clamp = 1;
        } else {
          v.value_scale = src.type == AugmentSourceType::Uint8 ? 1.0f / 255.0f
                          : src.type == AugmentSourceType::Uint16 ? static_cast<float>(1.0 / 65535.0) : 1.0f;
          v.value_offset = 0;
          v.window_clamp = 0;
        }
        v.intensity = intensity ? 1 : 0;
        v.brightness = static_cast<float>(brightness);
        v.contrast = static_cast<float>(contrast);
        v.gamma = static_cast<float>(gamma);
        v.noise_std = static_cast<float>(noise);
        if (blurred && sigma > 0) {
          int radius = std::max(1, std::min(kAugmentMaxBlurRadius, static_cast<int>(std::ceil(3 * sigma))));
          v.blur_radius = radius;
          v.blur_weights = static_cast<std::int32_t>(plan.blur_weights.size());
          double total = 0;
          std::vector<double> w(static_cast<size_t>(2 * radius + 1));
          for (int k = -radius; k <= radius; ++k) total += w[static_cast<size_t>(k + radius)] = std::exp(-(k * k) / (2 * sigma * sigma));
          for (double x : w) plan.blur_weights.push_back(static_cast<float>(x / total));
          plan.two_pass = true;
        }

        double mask_ratio = 0;
        index_t masked = 0;
        if (grid > 0 && u13[3] < group.mask.p) {
          const index_t patches = grid * grid;
          double drawn = lerp(group.mask.ratio_min, group.mask.ratio_max, u14[0]);
          index_t target = std::min<index_t>(patches, std::llround(drawn * static_cast<double>(patches)));
          std::uint8_t* m = plan.masks[g].data() + row * patches;
          Stream s(d, 1);
          if (group.mask.mode == AugmentMaskMode::Block) block_mask(s, m, grid, target);
          else random_mask(s, m, patches, target);
          masked = target;
          mask_ratio = drawn;
        }

        rep[kRepImage] = static_cast<double>(i);
        rep[kRepKey] = src.key;
        rep[kRepGroup] = static_cast<double>(g);
        rep[kRepView] = d.view;
        rep[kRepCropX] = cx, rep[kRepCropY] = cy, rep[kRepCropW] = cw, rep[kRepCropH] = ch;
        rep[kRepCropFallback] = found ? 0 : 1;
        rep[kRepFlipH] = flip_h, rep[kRepFlipV] = flip_v;
        rep[kRepAngle] = angle, rep[kRepShiftX] = shift_x, rep[kRepShiftY] = shift_y;
        rep[kRepIntensity] = intensity, rep[kRepBrightness] = brightness, rep[kRepContrast] = contrast, rep[kRepGamma] = gamma;
        rep[kRepBlurSigma] = v.blur_radius > 0 ? sigma : 0.0;
        rep[kRepNoiseStd] = noise;
        rep[kRepMaskRatio] = mask_ratio;
        rep[kRepMaskedPatches] = static_cast<double>(masked);
        rep[kRepTapsX] = v.taps_x, rep[kRepTapsY] = v.taps_y;
        for (int k = 0; k < 6; ++k) rep[kRepAffine0 + k] = v.affine[k];
        plan.views.push_back(v);
      }
    }
    view_base += group.count;
  }
  plan.total_pixels = pixel_offset;
  return plan;
}

}  // namespace radlearn
