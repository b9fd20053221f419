// Body of the block kernel, included once per instruction set (kernel_generic.cc, kernel_avx2.cc).
// Define ADEX_BLOCK_FN before including. Loops over lanes are written branch-free so the compiler
// vectorizes them across neurons.
#include <cstring>
#if defined(__AVX2__)
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
const float kInv1024 = (float)(1.0 / 1024.0);
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
  const __m256i w0 = _mm256_set1_epi32((int)kW0), w1 = _mm256_set1_epi32((int)kW1);
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  for (int64_t i = 0; i < len; i += 8) {  // len is a multiple of 8 (padded block)
    __m256i x0 = _mm256_set1_epi32((int)c0);
    __m256i x1 = _mm256_add_epi32(_mm256_set1_epi32((int)(row0 + (uint32_t)i)), lane);
    __m256i x2 = _mm256_set1_epi32((int)stream);
    __m256i x3 = _mm256_setzero_si256();
    __m256i key0 = _mm256_set1_epi32((int)k0), key1 = _mm256_set1_epi32((int)k1);
    for (int r = 0; r < 10; r++) {
      __m256i hi0, lo0, hi1, lo1;
      mulhilo8(x0, m0, hi0, lo0);
      mulhilo8(x2, m1, hi1, lo1);
      x0 = _mm256_xor_si256(_mm256_xor_si256(hi1, x1), key0);
      x2 = _mm256_xor_si256(_mm256_xor_si256(hi0, x3), key1);
      x1 = lo1;
      x3 = lo0;
      key0 = _mm256_add_epi32(key0, w0);
      key1 = _mm256_add_epi32(key1, w1);
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
inline vf splat(float x) { return vf{x, x, x, x, x, x, x, x}; }

// 2^y for 8 lanes: clamp to ±80 log2(e), 2^y = 2^n * 2^f with n = round(y), f in [-0.5, 0.5].
// Same operations, in the same order, as fastExp2 in main/emulator/kernel.ts.
inline vf vexp2(vf y) {
  const vf hi = splat(kYClamp), lo = splat(-kYClamp);
  y = y > hi ? hi : y;
  y = y < lo ? lo : y;
  const vf t = y + kRoundMagic;
  const vf n = t - kRoundMagic;
  const vf f = y - n;
  const vf f2 = f * f;
  const vf f4 = f2 * f2;
  const vf pa = kP1 * f + 1.0f;
  const vf pb = kP3 * f + kP2;
  const vf pc = kP5 * f + kP4;
  const vf p = f4 * pc + (f2 * pb + pa);
  const vi bits = ((vi)t - (0x4B400000 - 127)) << 23;  // integer n sits in the low mantissa bits of t
  return p * (vf)bits;
}

// Approximate standard normal from one 32-bit word: Irwin-Hall sum of three 10-bit uniforms,
// centred and scaled to unit variance (bounded at ±3).
inline vf virwin_hall(vu u) {
  const vu s = (u & 0x3FFu) + ((u >> 10) & 0x3FFu) + ((u >> 20) & 0x3FFu);
  return (((__builtin_convertvector(s, vf) + 1.5f) * kInv1024) - 1.5f) * 2.0f;
}

}  // namespace

void ADEX_BLOCK_FN(const Config& cfg, const Batch& b, int64_t b0, int64_t b1, std::vector<Spike>& out) {
  const int64_t len = b1 - b0;
  const int64_t padded = (len + kW - 1) / kW * kW;
  // Block coefficients, copied into padded local rows (padding lanes hold zeros and are never output).
  alignas(64) float P[kLaneFields][kBlock];
  for (int f = 0; f < kLaneFields; f++) {
    const float* src = b.lanes + (int64_t)f * b.stride + b0;
    for (int64_t i = 0; i < kBlock; i++) P[f][i] = i < len ? src[i] : 0.0f;
  }
  alignas(64) float V[kBlock], W[kBlock], R[kBlock], VP[kBlock], VF[kBlock], NZ[kBlock];
  alignas(64) int32_t SP[kBlock];  // spike mask of the current step (-1 where a lane spiked)
  alignas(64) uint32_t U0[kBlock], U1[kBlock], U2[kBlock], U3[kBlock];
  alignas(64) uint32_t Q0[kBlock], Q1[kBlock], Q2[kBlock], Q3[kBlock];
  for (int64_t i = 0; i < kBlock; i++) {
    V[i] = P[kEl][i];
    W[i] = R[i] = NZ[i] = 0.0f;
  }
  const uint32_t row0 = cfg.row_start + (uint32_t)b0;
  const float mv0 = cfg.mv_at_zero, lpm = cfg.lsb_per_mv, rsig = cfg.hardware ? cfg.readout_noise : 0.0f;
  const float dt = cfg.dt;
  const int64_t samples = cfg.samples, sps = cfg.steps_per_sample;
  int16_t* codes = b.codes + b0 * samples;
  alignas(64) int32_t C[kBlock];

  for (int64_t s = 0, k = 0, next = 0; s < cfg.steps; s++) {
    if (s == next) {
      // MADC sample k of the membrane before this step's update.
      // One Philox block gives the readout noise of four consecutive samples.
      if (cfg.hardware && (k & 3) == 0) philox_block(padded, (uint32_t)(k >> 2), row0, 1, cfg.key0, cfg.key1, Q0, Q1, Q2, Q3);
      const uint32_t* q = (k & 3) == 0 ? Q0 : (k & 3) == 1 ? Q1 : (k & 3) == 2 ? Q2 : Q3;
      for (int64_t i = 0; i < padded; i += kW) {
        vf x = (vload(V + i) - mv0) * lpm;
        if (cfg.hardware) {
          x = x + virwin_hall(uload(q + i)) * rsig;
        }
        vf xh = x + 0.5f;
        xh = xh < -1.0f ? splat(-1.0f) : xh;
        xh = xh > 1024.0f ? splat(1024.0f) : xh;
        vi c = __builtin_convertvector(xh, vi);
        c += (__builtin_convertvector(c, vf) > xh);
        c = c < 0 ? 0 : c;
        c = c > 1023 ? 1023 : c;
        std::memcpy(C + i, &c, sizeof c);
      }
      for (int64_t i = 0; i < len; i++) codes[i * samples + k] = (int16_t)C[i];
      k++;
      next += sps;
    }
    if (cfg.hardware) {
      // One Philox block gives the membrane noise of four consecutive steps.
      if ((s & 3) == 0) philox_block(padded, (uint32_t)(s >> 2), row0, 0, cfg.key0, cfg.key1, U0, U1, U2, U3);
      const uint32_t* u = (s & 3) == 0 ? U0 : (s & 3) == 1 ? U1 : (s & 3) == 2 ? U2 : U3;
      for (int64_t i = 0; i < padded; i += kW) vstore(NZ + i, virwin_hall(uload(u + i)));
    }
    const float cur_s = b.current[s], on_s = b.current_on[s];
    vi any = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int64_t i = 0; i < padded; i += kW) {
      const vf v = vload(V + i), w = vload(W + i), ref = vload(R + i);
      const vf el = vload(P[kEl] + i), vs = vload(P[kVSpike] + i), vr = vload(P[kVReset] + i);
      const vf rs = vload(P[kRefSteps] + i);
      const vf cur = vload(P[kIGain] + i) * cur_s + vload(P[kIOff] + i) * on_s;
      const vf e = vexp2((v - vload(P[kVt] + i)) * vload(P[kExpScale] + i));
      // dm*V + (1-dm)*V_inf, split so the exponential's result passes through few operations.
      const vf v_lin = (v * vload(P[kDm] + i) + vload(P[kCEl] + i)) + vload(NZ + i) * vload(P[kSigma] + i);
      const vf drive = vload(P[kGlDt] + i) * e + (cur - w);
      const vf wt = vload(P[kA] + i) * (v - el);
      const vf w_free = wt + (w - wt) * vload(P[kDw] + i);
      const vf v_free = vload(P[kKLeak] + i) * drive + v_lin;
      const vf v_ref = vr + (v - vr) * vload(P[kDrst] + i);
      const vf w_ref = vload(P[kPause] + i) != 0.0f ? w : w_free;
      const vi refractory = ref > 0.0f;
      const vi spiked = ~refractory & (v_free >= vs);
      const vf v_live = spiked ? vload(P[kVAfter] + i) : v_free;
      const vf w_live = spiked ? w_free + vload(P[kB] + i) : w_free;
      const vf r_live = spiked ? rs : splat(0.0f);
      vstore(V + i, refractory ? v_ref : v_live);
      vstore(W + i, refractory ? w_ref : w_live);
      vstore(R + i, refractory ? ref - 1.0f : r_live);
      vstore(VP + i, v);
      vstore(VF + i, v_free);
      std::memcpy(SP + i, &spiked, sizeof spiked);
      any |= spiked;
    }
    bool fired = false;
    for (int j = 0; j < kW; j++) fired |= any[j] != 0;
    if (fired) {
      // Visit only the 8-lane groups that contain a spike, then their lanes (in lane order).
      for (int64_t g = 0; g < padded; g += kW) {
        uint64_t word[kW / 2];
        std::memcpy(word, SP + g, sizeof word);
        uint64_t acc = 0;
        for (int j = 0; j < kW / 2; j++) acc |= word[j];
        if (acc == 0) continue;
        for (int64_t i = g; i < g + kW && i < len; i++) {
          if (SP[i] == 0) continue;
          const float den = VF[i] - VP[i];
          float frac = den > 0.0f ? (P[kVSpike][i] - VP[i]) / den : 0.0f;
          frac = frac < 0.0f ? 0.0f : (frac > 1.0f ? 1.0f : frac);
          out.push_back({(uint32_t)(b0 + i), ((float)s + frac) * dt});
        }
      }
    }
  }
}

}  // namespace adex
