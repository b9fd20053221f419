// Body of the block kernel, included once per instruction set (kernel_generic.cc, kernel_avx2.cc).
// Define ADEX_BLOCK_FN before including. Loops over lanes are written branch-free so the compiler
// vectorizes them across neurons.
#include <algorithm>
#include <cstring>
#if defined(__AVX2__) || defined(__SSE2__)
#include <immintrin.h>
#endif

#include "kernel.h"

namespace adex {
namespace {

constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u, kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
// Constants go decimal -> double -> float, exactly as Math.fround(double) does in TypeScript.
// 2^f on [-0.5, 0.5], degree 5 (Estrin form below), max relative error 9e-8.
const float kP1 = (float)0.6931469775881572, kP2 = (float)0.24022242078175388, kP3 = (float)0.055507337590391254,
            kP4 = (float)0.009671512969906863, kP5 = (float)0.001326472245223382;
constexpr float kRoundMagic = 12582912.0f;  // 1.5 * 2^23: x + magic - magic rounds to nearest integer
const float kInvSqrt85 = (float)(1.0 / 9.219544457292887);  // 1 / sqrt(85)
const float kYClamp = (float)(80.0 * 1.4426950408889634);  // exp argument clamp ±80, in log2 units

// Philox4x32-10 for every lane of a block: counter (c0, row_start + b0 + i, stream, 0).
#if defined(__AVX2__)
// AVX2 Philox: 32x32->64-bit products with vpmuludq on even and odd lanes, recombined by blends.
inline void mulhilo8(__m256i x, __m256i m, __m256i& hi, __m256i& lo) {
  const __m256i even = _mm256_mul_epu32(x, m);
  const __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(x, 32), m);
  hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
  lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
}

inline void philox_block(int64_t len, uint32_t c0, uint32_t row0, uint32_t stream, uint32_t k0, uint32_t k1,
                         uint32_t* __restrict o0, uint32_t* __restrict o1, uint32_t* __restrict o2,
                         uint32_t* __restrict o3) {
  const __m256i m0 = _mm256_set1_epi32((int)kM0), m1 = _mm256_set1_epi32((int)kM1);
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  // Round keys (the same for every lane), computed once per block rather than once per 8 lanes.
  __m256i key0[10], key1[10];
  for (int r = 0; r < 10; r++) {
    key0[r] = _mm256_set1_epi32((int)(k0 + (uint32_t)r * kW0));
    key1[r] = _mm256_set1_epi32((int)(k1 + (uint32_t)r * kW1));
  }
  for (int64_t i = 0; i < len; i += 8) {  // len is a multiple of 8 (padded block)
    __m256i x0 = _mm256_set1_epi32((int)c0);
    __m256i x1 = _mm256_add_epi32(_mm256_set1_epi32((int)(row0 + (uint32_t)i)), lane);
    __m256i x2 = _mm256_set1_epi32((int)stream);
    __m256i x3 = _mm256_setzero_si256();
    for (int r = 0; r < 10; r++) {
      __m256i hi0, lo0, hi1, lo1;
      mulhilo8(x0, m0, hi0, lo0);
      mulhilo8(x2, m1, hi1, lo1);
      x0 = _mm256_xor_si256(_mm256_xor_si256(hi1, x1), key0[r]);
      x2 = _mm256_xor_si256(_mm256_xor_si256(hi0, x3), key1[r]);
      x1 = lo1;
      x3 = lo0;
    }
    _mm256_storeu_si256((__m256i*)(o0 + i), x0);
    _mm256_storeu_si256((__m256i*)(o1 + i), x1);
    _mm256_storeu_si256((__m256i*)(o2 + i), x2);
    _mm256_storeu_si256((__m256i*)(o3 + i), x3);
  }
}
#else
inline void philox_block(int64_t len, uint32_t c0, uint32_t row0, uint32_t stream, uint32_t k0, uint32_t k1,
                         uint32_t* __restrict o0, uint32_t* __restrict o1, uint32_t* __restrict o2,
                         uint32_t* __restrict o3) {
  for (int64_t i = 0; i < len; i++) {
    uint32_t x0 = c0, x1 = row0 + (uint32_t)i, x2 = stream, x3 = 0, key0 = k0, key1 = k1;
    for (int r = 0; r < 10; r++) {
      const uint64_t p0 = (uint64_t)kM0 * x0;
      const uint64_t p1 = (uint64_t)kM1 * x2;
      const uint32_t y0 = (uint32_t)(p1 >> 32) ^ x1 ^ key0;
      const uint32_t y2 = (uint32_t)(p0 >> 32) ^ x3 ^ key1;
      x1 = (uint32_t)p1;
      x3 = (uint32_t)p0;
      x0 = y0;
      x2 = y2;
      key0 += kW0;
      key1 += kW1;
    }
    o0[i] = x0;
    o1[i] = x1;
    o2[i] = x2;
    o3[i] = x3;
  }
}
#endif

// 8-lane vectors (GCC/Clang vector extensions): one AVX2 register, or two SSE2/NEON registers.
typedef float vf __attribute__((vector_size(32)));
typedef int32_t vi __attribute__((vector_size(32)));
typedef uint32_t vu __attribute__((vector_size(32)));
constexpr int kW = 8;
// Vectors advanced together through the recording (kG per pass): independent dependency chains
// that hide the latency of each step's chain (exponential, leak, reset). Measured best on AVX2:
// 2 in ideal mode, 4 in hardware mode (whose noise work fills more of the pipeline).
constexpr int kGIdeal = 2, kGHardware = 4;
static_assert(kBlock % (kW * kGIdeal) == 0 && kBlock % (kW * kGHardware) == 0, "a block holds whole passes");

inline vf vload(const float* p) {
  vf r;
  std::memcpy(&r, p, sizeof r);
  return r;
}
inline void vstore(float* p, vf x) { std::memcpy(p, &x, sizeof x); }
inline vu uload(const uint32_t* p) {
  vu r;
  std::memcpy(&r, p, sizeof r);
  return r;
}
inline vf splat(float x) {
  vf r;
  for (int j = 0; j < kW; j++) r[j] = x;
  return r;
}

// 2^y per lane as two factors: the polynomial p(f) in [0.7, 1.42] and the exact power 2^n, where
// y is clamped to ±80 log2(e), n = round-half-even(y) and f = y - n in [-0.5, 0.5]. Returning 2^n
// on its own lets the caller fold a gain into it exactly (a power of two times a float is exact
// unless it leaves the normal range), which takes a product off the step's dependency chain.
// Same values as fastExp2Parts in main/emulator/kernel.ts. On AVX2 the clamp is one min and one
// max (the same NaN rule as the comparisons: y itself when it is NaN) and the rounding one
// vroundps, which gives the same n as the x + 1.5*2^23 - 1.5*2^23 of the portable build.
inline void vexp2_parts(vf y, vf& p, vf& pow2n) {
  const vf hi = splat(kYClamp), lo = splat(-kYClamp);
#if defined(__AVX2__)
  __m256 ym;
  std::memcpy(&ym, &y, sizeof ym);
  __m256 hm, lm;
  std::memcpy(&hm, &hi, sizeof hm);
  std::memcpy(&lm, &lo, sizeof lm);
  ym = _mm256_max_ps(lm, _mm256_min_ps(hm, ym));  // min(hi, y) = hi < y ? hi : y
  const __m256 nm = _mm256_round_ps(ym, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m256i bm = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(nm), _mm256_set1_epi32(127)), 23);
  vf n;
  std::memcpy(&y, &ym, sizeof y);
  std::memcpy(&n, &nm, sizeof n);
  std::memcpy(&pow2n, &bm, sizeof pow2n);
#else
  y = y > hi ? hi : y;
  y = y < lo ? lo : y;
  const vf t = y + kRoundMagic;
  const vf n = t - kRoundMagic;
  const vi bits = ((vi)t - (0x4B400000 - 127)) << 23;  // integer n sits in the low mantissa bits of t
  pow2n = (vf)bits;
#endif
  const vf f = y - n;
  const vf f2 = f * f;
  const vf f4 = f2 * f2;
  const vf pa = kP1 * f + 1.0f;
  const vf pb = kP3 * f + kP2;
  const vf pc = kP5 * f + kP4;
  p = f4 * pc + (f2 * pb + pa);
}

// Readout noise: approximate standard normal from the 16-bit half (shift 0 or 16) of each word,
// the Irwin-Hall sum of its four 4-bit uniforms (0..60, mean 30, variance 85), centred and scaled to
// unit variance (bounded at 30 / sqrt(85) = 3.25). Nibble pairs are summed in parallel within bytes.
inline vf vreadout_normal(vu u, int shift) {
  const vu h = (u >> shift) & 0xFFFFu;
  const vu t = (h & 0x0F0Fu) + ((h >> 4) & 0x0F0Fu);
  const vu s = (t & 0xFFu) + (t >> 8);
  return (__builtin_convertvector(s, vf) - 30.0f) * kInvSqrt85;
}

// Membrane-noise kick code from the 2-bit field of each word selected by shift = 30 - 2 * index:
// the field as a signed integer n in -2..1. The kick is n + 0.5 (uniform on -1.5, -0.5, 0.5, 1.5,
// variance 1.25); its offset 0.5 sigma is in the C_EL lane, so the step adds sigma * n.
inline vf vkick(vu u, int shift) {
  const vi n = (vi)(u << shift) >> 30;
  return __builtin_convertvector(n, vf);
}

// True when any lane of the mask is set (one vptest / movemask, not a round trip through GPRs).
inline bool any_lane(vi m) {
#if defined(__AVX2__)
  __m256i x;
  std::memcpy(&x, &m, sizeof x);
  return !_mm256_testz_si256(x, x);
#elif defined(__SSE2__)
  __m128 h[2];
  std::memcpy(h, &m, sizeof h);
  return _mm_movemask_ps(_mm_or_ps(h[0], h[1])) != 0;
#else
  uint64_t w[kW / 2];
  std::memcpy(w, &m, sizeof w);
  uint64_t acc = 0;
  for (int j = 0; j < kW / 2; j++) acc |= w[j];
  return acc != 0;
#endif
}

// One block for all steps, kLanesPerPass lanes at a time: kG vectors of 8 lanes whose state
// stays in registers for the whole recording. HW selects hardware mode at compile time, so the
// ideal-mode loop carries no noise loads or arithmetic (the noise term is exactly zero there).
template <bool HW, int kG>
void run_block(const Config& cfg, const Batch& b, int64_t b0, int64_t b1, std::vector<Spike>& out) {
  constexpr int kLanesPerPass = kW * kG;
  const int64_t len = b1 - b0;
  const int64_t padded = (len + kLanesPerPass - 1) / kLanesPerPass * kLanesPerPass;
  // Block coefficients, copied into padded local rows (padding lanes hold zeros and are never output).
  alignas(64) float P[kLaneFields][kBlock];
  for (int f = 0; f < kLaneFields; f++) {
    const float* src = b.lanes + (int64_t)f * b.stride + b0;
    for (int64_t i = 0; i < kBlock; i++) P[f][i] = i < len ? src[i] : 0.0f;
  }
  alignas(64) uint32_t U[4][kLanesPerPass], Q[4][kLanesPerPass];
  const float mv0 = cfg.mv_at_zero, lpm = cfg.lsb_per_mv, rsig = cfg.readout_noise;
  const float dt = cfg.dt;
  const int64_t samples = cfg.samples, sps = cfg.steps_per_sample, steps = cfg.steps;
  const float* __restrict current = b.current;
  const float* __restrict current_on = b.current_on;

  for (int64_t i0 = 0; i0 < padded; i0 += kLanesPerPass) {
    const uint32_t row0 = cfg.row_start + (uint32_t)(b0 + i0);
    const int64_t nl = std::min<int64_t>(kLanesPerPass, len - i0);  // real lanes in this pass
    int16_t* codes = b.codes + (b0 + i0) * samples;
    vf v[kG], w[kG], ref[kG], cur[kG];
#pragma GCC unroll 8
    for (int g = 0; g < kG; g++) {
      v[g] = vload(P[kEl] + i0 + g * kW);
      w[g] = ref[g] = splat(0.0f);
    }
    // The stimulus is piecewise constant: the per-lane current is recomputed only where it changes.
    float cur_prev = 0.0f, on_prev = 0.0f;
    bool cur_valid = false;
    for (int64_t s = 0, k = 0, next = 0; s < steps; s++) {
      if (s == next) {
        // MADC sample k of the membrane before this step's update.
        // One Philox block gives the readout noise of eight consecutive samples (16 bits each).
        if (HW && (k & 7) == 0)
          philox_block(kLanesPerPass, (uint32_t)(k >> 3), row0, 1, cfg.key0, cfg.key1, Q[0], Q[1], Q[2], Q[3]);
        const int readout_shift = 16 * (int)(k & 1);
        alignas(64) int32_t C[kLanesPerPass];
#pragma GCC unroll 8
        for (int g = 0; g < kG; g++) {
          vf x = (v[g] - mv0) * lpm;
          if (HW) x = x + vreadout_normal(uload(Q[(k >> 1) & 3] + g * kW), readout_shift) * rsig;
          vf xh = x + 0.5f;
          xh = xh < -1.0f ? splat(-1.0f) : xh;
          xh = xh > 1024.0f ? splat(1024.0f) : xh;
          vi c = __builtin_convertvector(xh, vi);
          c += (__builtin_convertvector(c, vf) > xh);
          c = c < 0 ? 0 : c;
          c = c > 1023 ? 1023 : c;
          std::memcpy(C + g * kW, &c, sizeof c);
        }
        for (int64_t j = 0; j < nl; j++) codes[j * samples + k] = (int16_t)C[j];
        k++;
        next += sps;
      }
      // One Philox block gives the membrane noise of 64 consecutive steps (two bits each).
      if (HW && (s & 63) == 0)
        philox_block(kLanesPerPass, (uint32_t)(s >> 6), row0, 0, cfg.key0, cfg.key1, U[0], U[1], U[2], U[3]);
      const int kick_shift = 30 - 2 * (int)(s & 15);
      const float cur_s = current[s], on_s = current_on[s];
      if (__builtin_expect(!cur_valid || cur_s != cur_prev || on_s != on_prev, 0)) {
#pragma GCC unroll 8
        for (int g = 0; g < kG; g++)
          cur[g] = vload(P[kIGain] + i0 + g * kW) * cur_s + vload(P[kIOff] + i0 + g * kW) * on_s;
        cur_prev = cur_s;
        on_prev = on_s;
        cur_valid = true;
      }
#pragma GCC unroll 8
      for (int g = 0; g < kG; g++) {
        const int64_t i = i0 + g * kW;
        const vf vg = v[g], wg = w[g], rg = ref[g];
        const vf el = vload(P[kEl] + i), vs = vload(P[kVSpike] + i), vr = vload(P[kVReset] + i);
        vf ep, e2n;  // exp((V - VT) / DeltaT) = ep * e2n
        vexp2_parts((vg - vload(P[kVt] + i)) * vload(P[kExpScale] + i), ep, e2n);
        // dm*V + (1-dm)*V_inf, split so the exponential's result passes through few operations.
        vf v_lin = vg * vload(P[kDm] + i) + vload(P[kCEl] + i);
        if (HW) v_lin = v_lin + vkick(uload(U[(s >> 4) & 3] + g * kW), kick_shift) * vload(P[kSigma] + i);
        const vf wt = vload(P[kA] + i) * (vg - el);
        const vf w_free = wt + (wg - wt) * vload(P[kDw] + i);
        // The polynomial passes through one product and one sum (short dependency chain); the gain
        // is folded into the power of two off the chain.
        const vf v_free = ep * (e2n * vload(P[kEGain] + i)) + (vload(P[kKLeak] + i) * (cur[g] - wg) + v_lin);
        const vf v_ref = vr + (vg - vr) * vload(P[kDrst] + i);
        const vf w_ref = vload(P[kPause] + i) != 0.0f ? wg : w_free;
        const vi refractory = rg > 0.0f;
        const vi spiked = ~refractory & (v_free >= vs);
        if (__builtin_expect(any_lane(spiked), 0)) {
          // Rare: interpolate the threshold crossing of each lane that fired.
          for (int j = 0; j < kW && g * kW + j < nl; j++) {
            if (spiked[j] == 0) continue;
            const float den = v_free[j] - vg[j];
            float frac = den > 0.0f ? (vs[j] - vg[j]) / den : 0.0f;
            frac = frac < 0.0f ? 0.0f : (frac > 1.0f ? 1.0f : frac);
            out.push_back({(uint32_t)(b0 + i + j), ((float)s + frac) * dt});
          }
          const vf v_live = spiked ? vload(P[kVAfter] + i) : v_free;
          const vf w_live = spiked ? w_free + vload(P[kB] + i) : w_free;
          const vf r_live = spiked ? vload(P[kRefSteps] + i) : splat(0.0f);
          v[g] = refractory ? v_ref : v_live;
          w[g] = refractory ? w_ref : w_live;
          ref[g] = refractory ? rg - 1.0f : r_live;
        } else {
          v[g] = refractory ? v_ref : v_free;
          w[g] = refractory ? w_ref : w_free;
          ref[g] = refractory ? rg - 1.0f : splat(0.0f);
        }
      }
    }
  }
}

}  // namespace

void ADEX_BLOCK_FN(const Config& cfg, const Batch& b, int64_t b0, int64_t b1, std::vector<Spike>& out) {
  if (cfg.hardware) {
    run_block<true, kGHardware>(cfg, b, b0, b1, out);
  } else {
    run_block<false, kGIdeal>(cfg, b, b0, b1, out);
  }
}

}  // namespace adex
