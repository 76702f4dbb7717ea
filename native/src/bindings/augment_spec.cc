#include "augment_spec.h"

#include <cstdint>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "args.h"

namespace radlearn {
namespace {

// One object of the spec and its path, so an error names the field ("augment spec: rotate.degrees ...").
class Section {
 public:
  Section(const Napi::Value& value, std::string path) : path_(std::move(path)) {
    if (!value.IsObject() || value.IsArray()) throw Error(kErrInvalidArgument, label() + " must be an object");
    object_ = value.As<Napi::Object>();
  }

  Section section(const char* key) const { return Section(object_.Get(key), qualified(key)); }
  bool has(const char* key) const {
    Napi::Value v = object_.Get(key);
    return !v.IsUndefined() && !v.IsNull();
  }
  double number(const char* key) const { return number_arg(object_.Get(key), name(key).c_str()); }
  index_t size(const char* key) const { return size_arg(object_.Get(key), name(key).c_str()); }
  std::string text(const char* key) const { return string_arg(object_.Get(key), name(key).c_str()); }

  // A [min, max] pair.
  std::pair<double, double> range(const char* key) const {
    Napi::Value v = object_.Get(key);
    if (!v.IsArray() || v.As<Napi::Array>().Length() != 2)
      throw Error(kErrInvalidArgument, name(key) + " must be a [min, max] pair");
    auto pair = v.As<Napi::Array>();
    return {number_arg(pair.Get(0u), (name(key) + "[0]").c_str()), number_arg(pair.Get(1u), (name(key) + "[1]").c_str())};
  }

  // The elements of an array field, each a Section.
  std::vector<Section> list(const char* key) const {
    Napi::Value v = object_.Get(key);
    if (!v.IsArray()) throw Error(kErrInvalidArgument, name(key) + " must be an array");
    auto array = v.As<Napi::Array>();
    std::vector<Section> items;
    for (std::uint32_t i = 0; i < array.Length(); ++i)
      items.emplace_back(array.Get(i), qualified(key) + "[" + std::to_string(i) + "]");
    return items;
  }

 private:
  std::string qualified(const char* key) const { return path_.empty() ? key : path_ + "." + key; }
  std::string name(const char* key) const { return "augment spec: " + qualified(key); }
  std::string label() const { return path_.empty() ? "augment spec" : "augment spec: " + path_; }

  Napi::Object object_;
  std::string path_;
};

AugmentMaskSpec mask_of(const Section& crop) {
  AugmentMaskSpec mask;
  if (!crop.has("mask")) return mask;
  Section m = crop.section("mask");
  std::string mode = m.text("mode");
  if (mode == "block") mask.mode = AugmentMaskMode::Block;
  else if (mode == "random") mask.mode = AugmentMaskMode::Random;
  else throw Error(kErrInvalidArgument, "augment spec: mask.mode must be 'block' or 'random', got '" + mode + "'");
  mask.patch = m.size("patchSize");
  std::tie(mask.ratio_min, mask.ratio_max) = m.range("ratio");
  mask.p = m.number("p");
  return mask;
}

AugmentOutputType output_of(const Section& spec) {
  std::string output = spec.text("output");
  if (output == "float32") return AugmentOutputType::Float32;
  if (output == "bfloat16") return AugmentOutputType::BFloat16;
  if (output == "float16") return AugmentOutputType::Float16;
  throw Error(kErrInvalidArgument, "augment spec: output must be 'float32', 'bfloat16' or 'float16', got '" + output + "'");
}

}  // namespace

AugmentSpec augment_spec_field(const Napi::Object& options, const char* name) {
  Section s(options.Get(name), "");
  AugmentSpec spec;
  for (const Section& crop : s.list("crops")) {
    AugmentCropGroup group;
    group.count = crop.size("count");
    group.size = crop.size("size");
    std::tie(group.scale_min, group.scale_max) = crop.range("scale");
    std::tie(group.ratio_min, group.ratio_max) = crop.range("ratio");
    group.mask = mask_of(crop);
    spec.groups.push_back(group);
  }
  Section flip = s.section("flip");
  spec.flip_h = flip.number("horizontal");
  spec.flip_v = flip.number("vertical");
  Section rotate = s.section("rotate");
  spec.rotate_p = rotate.number("p");
  std::tie(spec.rotate_min, spec.rotate_max) = rotate.range("degrees");
  Section translate = s.section("translate");
  spec.translate_p = translate.number("p");
  spec.translate_x = translate.number("x");
  spec.translate_y = translate.number("y");
  Section intensity = s.section("intensity");
  spec.intensity_p = intensity.number("p");
  std::tie(spec.brightness_min, spec.brightness_max) = intensity.range("brightness");
  std::tie(spec.contrast_min, spec.contrast_max) = intensity.range("contrast");
  std::tie(spec.gamma_min, spec.gamma_max) = intensity.range("gamma");
  Section blur = s.section("blur");
  spec.blur_p = blur.number("p");
  std::tie(spec.blur_min, spec.blur_max) = blur.range("sigma");
  Section noise = s.section("noise");
  spec.noise_p = noise.number("p");
  std::tie(spec.noise_min, spec.noise_max) = noise.range("std");
  spec.window = s.has("window");
  if (spec.window) {
    Section window = s.section("window");
    spec.window_center = window.number("center");
    spec.window_width = window.number("width");
  }
  Section normalize = s.section("normalize");
  spec.normalize_mean = normalize.number("mean");
  spec.normalize_std = normalize.number("std");
  spec.output = output_of(s);
  return spec;
}

}  // namespace radlearn
