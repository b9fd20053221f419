// N-API operation `simulate(lanes, config, current, currentOn, codes) -> Promise<{counts, times}>`.
#pragma once
#include <napi.h>

namespace adex {
Napi::Value Simulate(const Napi::CallbackInfo& info);
}
