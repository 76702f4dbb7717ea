// Module entry: each op family registers its functions here. Adding a family means one
// declaration and one call below, plus its sources in native/sources.txt.
#include <napi.h>

#include "bindings/tensor.h"

namespace radlearn {
void register_backend(Napi::Env env, Napi::Object exports);
void register_similarity(Napi::Env env, Napi::Object exports);
void register_heads(Napi::Env env, Napi::Object exports);
void register_losses(Napi::Env env, Napi::Object exports);
void register_optim(Napi::Env env, Napi::Object exports);
void register_augment(Napi::Env env, Napi::Object exports);
void register_contrastive(Napi::Env env, Napi::Object exports);
void register_distill(Napi::Env env, Napi::Object exports);
void register_build_info(Napi::Env env, Napi::Object exports);
void register_distributed(Napi::Env env, Napi::Object exports);
}  // namespace radlearn

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  radlearn::DeviceTensor::Init(env, exports);
  radlearn::register_backend(env, exports);
  radlearn::register_similarity(env, exports);
  radlearn::register_heads(env, exports);
  radlearn::register_losses(env, exports);
  radlearn::register_optim(env, exports);
  radlearn::register_augment(env, exports);
  radlearn::register_contrastive(env, exports);
  radlearn::register_distill(env, exports);
  radlearn::register_build_info(env, exports);
  radlearn::register_distributed(env, exports);
  // Bumped whenever the calling convention changes (src/native/addon.ts refuses another).
  exports.Set("abiVersion", Napi::Number::New(env, 2));
  return exports;
}

NODE_API_MODULE(radlearn, Init)
