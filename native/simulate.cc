// `simulate(lanes, config, current, currentOn, codes)`: lanes holds LANE_FIELDS rows of `stride`
// coefficients; the chunk is lanes [config.laneOffset, + config.laneCount). Copies the (already validated) arguments into a plain struct and runs the chunk on a
// background thread (Napi::AsyncWorker), so the JS thread stays free. The TypeScript wrapper
// (main/emulator/native.ts + prepare.ts) validates everything; only shapes are re-checked here.
#include "simulate.h"

#include <cstdint>
#include <vector>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "kernel.h"

namespace adex {

namespace {

class SimulateWorker : public Napi::AsyncWorker {
 public:
  SimulateWorker(Napi::Env env, Config cfg, Batch batch, int threads, std::vector<Napi::ObjectReference> keep)
      : Napi::AsyncWorker(env), cfg_(cfg), batch_(batch), threads_(threads), keep_(std::move(keep)),
        deferred_(Napi::Promise::Deferred::New(env)), counts_(batch.m) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      simulate_chunk(cfg_, batch_, threads_, counts_.data(), times_);
    } catch (const std::exception& e) {
      SetError(std::string("native emulator kernel failed: ") + e.what());
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    auto counts = Napi::Int32Array::New(env, counts_.size());
    std::copy(counts_.begin(), counts_.end(), counts.Data());
    auto times = Napi::Float32Array::New(env, times_.size());
    std::copy(times_.begin(), times_.end(), times.Data());
    Napi::Object res = Napi::Object::New(env);
    res.Set("counts", counts);
    res.Set("times", times);
    deferred_.Resolve(res);
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Config cfg_;
  Batch batch_;
  int threads_;
  std::vector<Napi::ObjectReference> keep_;  // keeps the typed arrays alive while the worker runs
  Napi::Promise::Deferred deferred_;
  std::vector<int32_t> counts_;
  std::vector<float> times_;
};

// The output traces are usually a fresh, untouched allocation (20 MB for 10,000 default traces).
// Faulting it in 4 KiB pages costs about as much as a third of the simulation; asking for
// transparent huge pages on the 2 MiB-aligned interior makes those faults 512x rarer. Only a hint:
// it does nothing where THP is off, and the memory stays owned by the JavaScript engine.
void advise_huge_pages(void* p, size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr uintptr_t kHuge = (uintptr_t)2 << 20;
  const uintptr_t lo = ((uintptr_t)p + kHuge - 1) & ~(kHuge - 1);
  const uintptr_t hi = ((uintptr_t)p + bytes) & ~(kHuge - 1);
  if (hi > lo) madvise((void*)lo, hi - lo, MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}

double num(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string("config.") + key + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

template <typename T>
T typed(const Napi::CallbackInfo& info, size_t i, napi_typedarray_type type, const char* what) {
  if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != type) {
    throw Napi::TypeError::New(info.Env(), std::string(what) + " has the wrong typed-array type");
  }
  return info[i].As<T>();
}

}  // namespace

Napi::Value Simulate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto lanes = typed<Napi::Float32Array>(info, 0, napi_float32_array, "lanes");
  if (!info[1].IsObject()) throw Napi::TypeError::New(env, "config must be an object");
  Napi::Object c = info[1].As<Napi::Object>();
  auto current = typed<Napi::Float32Array>(info, 2, napi_float32_array, "current");
  auto current_on = typed<Napi::Float32Array>(info, 3, napi_float32_array, "currentOn");
  auto codes = typed<Napi::Int16Array>(info, 4, napi_int16_array, "codes");

  Config cfg{};
  cfg.steps = (int64_t)num(c, "steps");
  cfg.steps_per_sample = (int64_t)num(c, "stepsPerSample");
  cfg.samples = (int64_t)num(c, "samples");
  cfg.dt = (float)num(c, "dt");
  cfg.row_start = (uint32_t)num(c, "rowStart");
  cfg.key0 = (uint32_t)num(c, "key0");
  cfg.key1 = (uint32_t)num(c, "key1");
  cfg.hardware = c.Get("hardware").ToBoolean().Value();
  cfg.mv_at_zero = (float)num(c, "mvAtZero");
  cfg.lsb_per_mv = (float)num(c, "lsbPerMv");
  cfg.readout_noise = (float)num(c, "readoutNoise");
  cfg.force_generic = c.Get("forceGeneric").ToBoolean().Value();
  const int threads = (int)num(c, "threads");

  const int64_t stride = (int64_t)(lanes.ElementLength() / kLaneFields);
  const int64_t offset = (int64_t)num(c, "laneOffset");
  const int64_t m = (int64_t)num(c, "laneCount");
  if ((int64_t)lanes.ElementLength() != stride * kLaneFields || offset < 0 || m < 0 || offset + m > stride ||
      cfg.steps_per_sample < 1 || cfg.samples < 1 ||
      cfg.steps != cfg.samples * cfg.steps_per_sample || (int64_t)current.ElementLength() != cfg.steps ||
      (int64_t)current_on.ElementLength() != cfg.steps || (int64_t)codes.ElementLength() != m * cfg.samples ||
      threads < 1) {
    throw Napi::RangeError::New(env, "simulate: inconsistent shapes (lanes, steps, samples, codes or threads)");
  }
  advise_huge_pages(codes.Data(), codes.ByteLength());
  Batch batch{lanes.Data() + offset, stride, m, current.Data(), current_on.Data(), codes.Data()};
  std::vector<Napi::ObjectReference> keep;
  for (size_t i : {0, 2, 3, 4}) keep.push_back(Napi::Persistent(info[i].As<Napi::Object>()));
  auto* worker = new SimulateWorker(env, cfg, batch, threads, std::move(keep));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace adex
