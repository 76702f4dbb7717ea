// Batched, seeded multi-crop augmentation of grey-level images (radiographs).
//
// Contract shared by the CPU (native/src/cpu/augment.cc) and CUDA (native/cuda/augment.cu)
// backends. The work is split in two:
//   1. plan_augment() runs on the host, once per call: it draws every random parameter of
//      every view with Philox-4x32-10 keyed by (seed, step, image key, view, slot) and turns
//      them into one AugmentView record per view (inverse affine map, tap counts, intensity
//      factors, blur weights, noise std), plus the patch masks. Both backends consume the
//      same records, so parameters are bit-identical on CPU and CUDA by construction.
//   2. augment_cpu() / augment_cuda() render the views: one pass per output pixel (affine
//      sample with footprint antialiasing, window, intensity, noise, normalisation, cast),
//      or, for blurred views, a separable Gaussian over the display values before noise,
//      normalisation and the cast (CPU: a second pass over a float32 scratch; CUDA: a second
//      launch that samples each tile plus its halo straight into shared memory). The
//      per-pixel arithmetic lives in radlearn/augment_pixel.h, compiled by both backends.
// Sources: uint8, uint16 or float32, each with its own height and width, row-major, not
// copied. Outputs: one buffer per crop group, [B * count, 1, size, size] (image-major: the
// views of image i are rows i*count .. i*count+count-1), float32, bfloat16 or float16.
#pragma once

#include <cstdint>
#include <vector>

#include "radlearn/common.h"

namespace radlearn {

enum class AugmentSourceType : std::int32_t { Uint8 = 0, Uint16 = 1, Float32 = 2 };
enum class AugmentOutputType : std::int32_t { Float32 = 0, BFloat16 = 1, Float16 = 2 };
enum class AugmentMaskMode : std::int32_t { None = 0, Block = 1, Random = 2 };

// Largest Gaussian radius (ceil(3 sigma)) and footprint taps per axis a view may use.
inline constexpr int kAugmentMaxBlurRadius = 24;
inline constexpr double kAugmentMaxBlurSigma = 8.0;
inline constexpr int kAugmentMaxTaps = 8;
// Minimum patches per block of the BEiT block-masking generator, and its aspect range.
inline constexpr int kMaskMinBlockPatches = 4;
inline constexpr double kMaskMinAspect = 0.3;

struct AugmentMaskSpec {
  AugmentMaskMode mode = AugmentMaskMode::None;
  index_t patch = 0;
  double ratio_min = 0, ratio_max = 0, p = 0;
};

struct AugmentCropGroup {
  index_t count = 0;
  index_t size = 0;
  double scale_min = 0, scale_max = 0;  // fraction of the source area, in (0, 1]
  double ratio_min = 0, ratio_max = 0;  // width / height, > 0
  AugmentMaskSpec mask;
};

// Probabilities p are in [0, 1]; ranges are [min, max] with min <= max (validated by the caller).
struct AugmentSpec {
  std::vector<AugmentCropGroup> groups;
  double flip_h = 0, flip_v = 0;
  double rotate_p = 0, rotate_min = 0, rotate_max = 0;            // degrees
  double translate_p = 0, translate_x = 0, translate_y = 0;       // max |shift| as a fraction of the crop
  double intensity_p = 0;
  double brightness_min = 1, brightness_max = 1;                   // multiplicative factor
  double contrast_min = 1, contrast_max = 1;                       // factor around mid-grey 0.5
  double gamma_min = 1, gamma_max = 1;                             // exponent, drawn log-uniformly
  double blur_p = 0, blur_min = 0, blur_max = 0;                   // Gaussian sigma in output pixels
  double noise_p = 0, noise_min = 0, noise_max = 0;                // additive Gaussian std
  bool window = false;
  double window_center = 0, window_width = 1;                      // in source units
  double normalize_mean = 0, normalize_std = 1;
  AugmentOutputType output = AugmentOutputType::Float32;
};

struct AugmentSourceShape {
  AugmentSourceType type = AugmentSourceType::Float32;
  index_t height = 0, width = 0;
  std::uint32_t key = 0;  // keys the RNG: a dataset index, so a view does not depend on batch position
};

struct AugmentSource {
  const void* data = nullptr;
  AugmentSourceType type = AugmentSourceType::Float32;
  std::int32_t height = 0, width = 0;
};

// One view as the kernels consume it (plain data, uploaded to the device as is).
struct AugmentView {
  std::int64_t out_offset;    // first element of the view in its group's output
  std::int64_t pixel_offset;  // first element of the view among all views (CPU two-pass scratch)
  float affine[6];            // source index coords: fx = a0*x + a1*y + a2, fy = a3*x + a4*y + a5
  float value_scale, value_offset;  // raw source value -> display value
  float brightness, contrast, gamma;
  float noise_std;
  std::int32_t taps_x, taps_y;      // footprint taps per axis (1 = plain bilinear)
  std::int32_t window_clamp;        // clamp the display value to [0, 1]
  std::int32_t intensity;           // apply brightness / contrast / gamma
  std::int32_t blur_radius;         // 0 = no blur
  std::int32_t blur_weights;        // offset of the 2R+1 weights in AugmentPlan::blur_weights
  std::int32_t source;              // batch slot of the source image
  std::uint32_t image_key;
  std::uint32_t view;               // index of the view among its image's views, over all groups
  std::int32_t group;
  std::int32_t size;
  std::int32_t pad_;
};

// What was drawn for one view, reported to the caller (double precision).
enum AugmentReportField : int {
  kRepImage = 0, kRepKey, kRepGroup, kRepView, kRepCropX, kRepCropY, kRepCropW, kRepCropH, kRepCropFallback,
  kRepFlipH, kRepFlipV, kRepAngle, kRepShiftX, kRepShiftY, kRepIntensity, kRepBrightness, kRepContrast, kRepGamma,
  kRepBlurSigma, kRepNoiseStd, kRepMaskRatio, kRepMaskedPatches, kRepTapsX, kRepTapsY,
  kRepAffine0, kRepAffine1, kRepAffine2, kRepAffine3, kRepAffine4, kRepAffine5,
  kRepFieldCount
};

struct AugmentKey {
  std::uint32_t seed_lo = 0, seed_hi = 0;
  std::uint32_t step = 0;
};

struct AugmentPlan {
  AugmentKey key;
  std::vector<AugmentView> views;            // group-major, then image, then view within the group
  std::vector<std::int64_t> group_views;     // views per group
  std::vector<float> blur_weights;
  std::vector<std::vector<std::uint8_t>> masks;  // per group ([views, patches]) or empty
  std::vector<double> report;                // views.size() * kRepFieldCount
  std::int64_t total_pixels = 0;
  bool two_pass = false;                     // some view is blurred (the CPU then runs a second pass)
  float norm_scale = 1, norm_offset = 0;     // v -> v * norm_scale + norm_offset
  AugmentOutputType output = AugmentOutputType::Float32;
};

// What planning and rendering need to stay in bounds: at least one crop group, views per image
// and view sides in range (allocation sizes, 32-bit pixel indices) and a mask patch that fits
// the view. The values themselves (probabilities, ranges, window, normalisation) are the
// caller's to validate: src/kernels/augment-spec.ts does. Throws radlearn::Error.
void check_augment_bounds(const AugmentSpec& spec);
// Checks the bounds and draws every parameter.
AugmentPlan plan_augment(const AugmentSpec& spec, const std::vector<AugmentSourceShape>& sources, std::uint64_t seed,
                         std::uint64_t step);

// outputs[g] points at group g's output (float or 16-bit bits, per plan.output).
void augment_cpu(const AugmentPlan& plan, const std::vector<AugmentSource>& sources, const std::vector<void*>& outputs);

#ifdef RADLEARN_WITH_CUDA
// Device pointers in `sources` and `outputs`; synchronous with respect to the host.
void augment_cuda(const AugmentPlan& plan, const std::vector<AugmentSource>& sources, const std::vector<void*>& outputs);
// Bench: uploads the plan once, then times `iterations` launches (kernels only) with CUDA events.
std::vector<double> augment_cuda_kernel_ms(const AugmentPlan& plan, const std::vector<AugmentSource>& sources,
                                           const std::vector<void*>& outputs, int iterations);
#endif

}  // namespace radlearn
