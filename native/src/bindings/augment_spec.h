// The augment spec as it crosses the boundary: a plain object that src/kernels/augment-spec.ts
// validated and filled with every default, read here field by field into radlearn::AugmentSpec.
// Only the field types are checked while reading; plan_augment() then checks the few limits
// that keep planning and rendering in bounds (check_augment_bounds).
#pragma once

#include <napi.h>

#include "radlearn/augment.h"

namespace radlearn {

// Reads options[name]: { crops: [{ count, size, scale, ratio, mask }], flip, rotate, translate,
// intensity, blur, noise, window, normalize, output } (layout in src/native/types.ts).
AugmentSpec augment_spec_field(const Napi::Object& options, const char* name);

}  // namespace radlearn
