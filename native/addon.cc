// Registers the emulator addon's exports; each operation lives in its own .h/.cc pair.
#include <napi.h>

#include "kernel.h"
#include "simulate.h"

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("simulate", Napi::Function::New(env, adex::Simulate));
  exports.Set("isa", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
                return Napi::String::New(info.Env(), adex::kernel_isa());
              }));
  return exports;
}

NODE_API_MODULE(adex_emulator, Init)
