// AdEx / BrainScaleS-2 emulator kernel: shared types and the per-ISA block entry points.
// The arithmetic is float32, op for op identical to main/emulator/kernel.ts (no FMA contraction,
// no fast-math), so the native and TypeScript kernels give bit-identical results.
#pragma once
#include <cstdint>
#include <vector>

namespace adex {

// Rows of the per-lane coefficient matrix (SoA); same order as LANE in main/emulator/prepare.ts.
enum Lane : int {
  kEl = 0, kVt, kExpScale, kEGain, kKLeak, kDm, kDw, kA, kB,
  kVReset, kVSpike, kDrst, kRefSteps, kPause, kSigma, kIGain, kIOff, kCEl, kVAfter, kLaneFields
};

// Lanes simulated together in one block (state stays in L1/L2; the inner loop runs across them).
constexpr int kBlock = 64;

struct Config {
  int64_t steps;
  int64_t steps_per_sample;
  int64_t samples;
  float dt;
  uint32_t row_start;  // global row index of lane 0 (keys the noise streams)
  uint32_t key0, key1;
  bool hardware;
  float mv_at_zero, lsb_per_mv, readout_noise;
  bool force_generic;  // run the portable build even where AVX2 is available (tests, comparisons)
};

struct Spike {
  uint32_t lane;
  float time;
};

// Inputs of one chunk: m lanes with coefficients lanes[f * stride + i] (lane 0 of the chunk at
// i = 0), stimulus per step, output codes (m * samples).
struct Batch {
  const float* lanes;
  int64_t stride;
  int64_t m;
  const float* current;
  const float* current_on;
  int16_t* codes;  // m * samples
};

// Simulate lanes [b0, b1) (b1 - b0 <= kBlock); spikes appended in time order.
void simulate_block_generic(const Config& cfg, const Batch& b, int64_t b0, int64_t b1, std::vector<Spike>& out);
void simulate_block_avx2(const Config& cfg, const Batch& b, int64_t b0, int64_t b1, std::vector<Spike>& out);

// Whole chunk on `threads` threads; fills counts[m] and times (lane-major, time-ordered per lane).
void simulate_chunk(const Config& cfg, const Batch& b, int threads, int32_t* counts, std::vector<float>& times);

// Instruction set chosen at run time ("avx2" or "generic").
const char* kernel_isa();

}  // namespace adex
