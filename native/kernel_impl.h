// Body of the block kernel, included once per instruction set (kernel_generic.cc, kernel_avx2.cc).
// Define ADEX_BLOCK_FN before including. Loops over lanes are written branch-free so the compiler
// vectorizes them across neurons.
#include <cstring>

#include "kernel.h"

namespace adex {
namespace {

constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u, kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
// Constants go decimal -> double -> float, exactly as Math.fround(double) does in TypeScript.
const float kP1 = (float)0.6931513628656081, kP2 = (float)0.24016415351263434, kP3 = (float)0.055800447061520125,
            kP4 = (float)0.009016687624480324, kP5 = (float)0.001867182864130859;
const float kLog2e = (float)1.4426950408889634;
const float kInv65536 = (float)(1.0 / 65536.0);
const float kSqrt3 = (float)1.7320508075688772;
constexpr float kExpClamp = 80.0f;

inline float fast_exp(float x) {
  x = x > kExpClamp ? kExpClamp : x;
  x = x < -kExpClamp ? -kExpClamp : x;
  const float y = x * kLog2e;
  int32_t n = (int32_t)y;
  n -= (int32_t)((float)n > y);  // floor (branch-free, so loops stay vectorizable)
  const float f = y - (float)n;
  float p = kP5 * f;
  p = (p + kP4) * f;
  p = (p + kP3) * f;
  p = (p + kP2) * f;
  p = (p + kP1) * f;
  p = p + 1.0f;
  const int32_t bits = (n + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, 4);
  return p * scale;
}

inline float irwin_hall(uint32_t u, uint32_t v) {
  const uint32_t s = (u & 0xFFFFu) + (u >> 16) + (v & 0xFFFFu) + (v >> 16);
  return ((((float)s + 2.0f) * kInv65536) - 2.0f) * kSqrt3;
}

// Philox4x32-10 for every lane of a block: counter (c0, row_start + b0 + i, stream, 0).
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

}  // namespace

void ADEX_BLOCK_FN(const Config& cfg, const Batch& b, int64_t b0, int64_t b1, std::vector<Spike>& out) {
  const int64_t len = b1 - b0;
  const int64_t m = b.m;
  auto col = [&](int f) { return b.lanes + (int64_t)f * m + b0; };
  const float *__restrict el = col(kEl), *__restrict vt = col(kVt), *__restrict inv_dt = col(kInvDt);
  const float *__restrict gl_dt = col(kGlDt), *__restrict inv_gl = col(kInvGl), *__restrict dm = col(kDm);
  const float *__restrict dw = col(kDw), *__restrict pa = col(kA), *__restrict pb = col(kB);
  const float *__restrict v_reset = col(kVReset), *__restrict v_spike = col(kVSpike), *__restrict drst = col(kDrst);
  const float *__restrict ref_steps = col(kRefSteps), *__restrict pause = col(kPause), *__restrict sigma = col(kSigma);
  const float *__restrict igain = col(kIGain), *__restrict ioff = col(kIOff);

  alignas(64) float V[kBlock], W[kBlock], R[kBlock], VP[kBlock], VF[kBlock], NZ[kBlock], SP[kBlock];
  alignas(64) uint32_t U0[kBlock], U1[kBlock], U2[kBlock], U3[kBlock];
  alignas(64) uint32_t Q0[kBlock], Q1[kBlock], Q2[kBlock], Q3[kBlock];
  for (int64_t i = 0; i < len; i++) {
    V[i] = el[i];
    W[i] = 0.0f;
    R[i] = 0.0f;
    NZ[i] = 0.0f;
  }
  const uint32_t row0 = cfg.row_start + (uint32_t)b0;
  const float mv0 = cfg.mv_at_zero, lpm = cfg.lsb_per_mv, rsig = cfg.hardware ? cfg.readout_noise : 0.0f;
  const float dt = cfg.dt;
  const int64_t samples = cfg.samples, sps = cfg.steps_per_sample;
  int16_t* codes = b.codes + b0 * samples;

  for (int64_t s = 0, k = 0; s < cfg.steps; s++) {
    if (s % sps == 0) {
      // MADC sample k of the membrane before this step's update.
      if (cfg.hardware && (k & 1) == 0) philox_block(len, (uint32_t)(k >> 1), row0, 1, cfg.key0, cfg.key1, Q0, Q1, Q2, Q3);
      const bool odd = (k & 1) != 0;
      for (int64_t i = 0; i < len; i++) {
        float x = (V[i] - mv0) * lpm;
        if (cfg.hardware) x = x + (odd ? irwin_hall(Q2[i], Q3[i]) : irwin_hall(Q0[i], Q1[i])) * rsig;
        float xh = x + 0.5f;
        xh = xh < -1.0f ? -1.0f : xh;
        xh = xh > 1024.0f ? 1024.0f : xh;
        int32_t c = (int32_t)xh;
        c -= (int32_t)((float)c > xh);
        c = c < 0 ? 0 : c;
        c = c > 1023 ? 1023 : c;
        codes[i * samples + k] = (int16_t)c;
      }
      k++;
    }
    if (cfg.hardware) {
      if ((s & 1) == 0) {
        philox_block(len, (uint32_t)(s >> 1), row0, 0, cfg.key0, cfg.key1, U0, U1, U2, U3);
        for (int64_t i = 0; i < len; i++) NZ[i] = irwin_hall(U0[i], U1[i]);
      } else {
        for (int64_t i = 0; i < len; i++) NZ[i] = irwin_hall(U2[i], U3[i]);
      }
    }
    const float cur_s = b.current[s], on_s = b.current_on[s];
    int32_t any = 0;
    for (int64_t i = 0; i < len; i++) {
      // Every load is unconditional and every branch a select, so this loop vectorizes across lanes.
      const float v = V[i], w = W[i], ref = R[i];
      const float vs = v_spike[i], vr = v_reset[i], rs = ref_steps[i], pz = pause[i], bb = pb[i];
      const float cur = igain[i] * cur_s + ioff[i] * on_s;
      const float e = fast_exp((v - vt[i]) * inv_dt[i]);
      const float vinf = el[i] + (((gl_dt[i] * e) - w) + cur) * inv_gl[i];
      const float wt = pa[i] * (v - el[i]);
      const float w_free = wt + (w - wt) * dw[i];
      const float v_free = (vinf + (v - vinf) * dm[i]) + NZ[i] * sigma[i];
      const float v_ref = vr + (v - vr) * drst[i];
      const float w_spk = w_free + bb;
      const float w_ref = pz != 0.0f ? w : w_free;
      const float v_after = rs > 0.0f ? vs : vr;
      const int32_t refractory = ref > 0.0f;
      const int32_t spiked = (1 - refractory) & (v_free >= vs);
      const float v_live = spiked ? v_after : v_free;
      const float w_live = spiked ? w_spk : w_free;
      const float r_live = spiked ? rs : 0.0f;
      V[i] = refractory ? v_ref : v_live;
      W[i] = refractory ? w_ref : w_live;
      R[i] = refractory ? ref - 1.0f : r_live;
      VP[i] = v;
      VF[i] = v_free;
      SP[i] = spiked ? 1.0f : 0.0f;
      any |= spiked;
    }
    if (any != 0) {
      for (int64_t i = 0; i < len; i++) {
        if (SP[i] == 0.0f) continue;
        const float den = VF[i] - VP[i];
        float frac = den > 0.0f ? (v_spike[i] - VP[i]) / den : 0.0f;
        frac = frac < 0.0f ? 0.0f : (frac > 1.0f ? 1.0f : frac);
        out.push_back({(uint32_t)(b0 + i), ((float)s + frac) * dt});
      }
    }
  }
}

}  // namespace adex
