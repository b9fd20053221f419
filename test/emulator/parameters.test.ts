import { describe, expect, it } from 'vitest';
import {
  ALL_PARAMETERS,
  capmemToModel,
  codesToMillivolts,
  codesToVolts,
  createChip,
  DEFAULT_EXPERIMENT,
  INFERRED_PARAMETERS,
  MADC_USABLE_RANGE,
  madcSampleRate,
  millivoltsToLsb,
  modelToCapmem,
} from '../../main/emulator/index.ts';
import { CALIBRATED_SPREAD, UNCALIBRATED_SPREAD } from '../../main/emulator/chip.ts';
import { samplePrior } from '../../main/emulator/prior.ts';

describe('parameter definitions', () => {
  it('lists seven inferred parameters whose CapMem range ends map to the model range ends', () => {
    expect(INFERRED_PARAMETERS.map((p) => p.name)).toEqual([
      'tau_mem',
      'v_reset',
      'v_t',
      'delta_t',
      'a',
      'b',
      'tau_w',
    ]);
    for (const p of INFERRED_PARAMETERS) {
      const ends = p.capmemRange.map((c) => capmemToModel(p.name, c)).sort((x, y) => x - y);
      expect(ends[0]).toBeCloseTo(p.modelRange[0], 9);
      expect(ends[1]).toBeCloseTo(p.modelRange[1], 9);
      expect(p.capmemRange[0]).toBeGreaterThanOrEqual(0);
      expect(p.capmemRange[1]).toBeLessThanOrEqual(1022);
    }
  });

  it('inverts the nominal transfer functions and makes time constants reciprocal in the bias code', () => {
    for (const p of ALL_PARAMETERS) {
      for (const code of [p.capmemRange[0], (p.capmemRange[0] + p.capmemRange[1]) / 2, p.capmemRange[1]]) {
        if (code === 0 && p.transfer === 'reciprocal') continue;
        expect(modelToCapmem(p.name, capmemToModel(p.name, code))).toBeCloseTo(code, 9);
      }
    }
    expect(capmemToModel('tau_mem', 100) / capmemToModel('tau_mem', 200)).toBeCloseTo(2, 12);
    expect(() => capmemToModel('nope', 1)).toThrow("unknown parameter 'nope'");
  });

  it('defines a default experiment with 1000 samples, a baseline before the step and the comparator above VT', () => {
    expect(DEFAULT_EXPERIMENT.sampleRate).toBe(madcSampleRate(DEFAULT_EXPERIMENT.madcAdjust));
    expect(DEFAULT_EXPERIMENT.sampleRate).toBe(5e6);
    expect(Math.round((DEFAULT_EXPERIMENT.duration * DEFAULT_EXPERIMENT.sampleRate) / 1e6)).toBe(
      DEFAULT_EXPERIMENT.samples,
    );
    const { onset, duration } = DEFAULT_EXPERIMENT.stimulus;
    expect(onset).toBeGreaterThan(0);
    expect(onset + duration).toBeLessThan(DEFAULT_EXPERIMENT.duration);
    const vt = INFERRED_PARAMETERS.find((p) => p.name === 'v_t')!;
    expect(DEFAULT_EXPERIMENT.fixed.v_spike).toBeGreaterThan(vt.modelRange[1]);
    for (const [k, v] of Object.entries(DEFAULT_EXPERIMENT.fixedCapmem)) {
      expect(capmemToModel(k, v)).toBeCloseTo(DEFAULT_EXPERIMENT.fixed[k], 9);
    }
  });
});

describe('MADC readout mapping', () => {
  it('maps the usable code range to -80..-30 mV and codes to volts', () => {
    expect(millivoltsToLsb(-80)).toBeCloseTo(MADC_USABLE_RANGE[0], 9);
    expect(millivoltsToLsb(-30)).toBeCloseTo(MADC_USABLE_RANGE[1], 9);
    expect(Array.from(codesToMillivolts([200, 680]))).toEqual([Math.fround(-80), Math.fround(-30)]);
    expect(codesToVolts([0, 512, 1023])[1]).toBeCloseTo(0.6, 6);
  });
});

describe('chips', () => {
  it('draws per-circuit deviations with the documented spreads, deterministic per seed', () => {
    const chip = createChip(11);
    const stat = (name: string) => {
      const g = Array.from({ length: 512 }, (_, c) => chip.gain(name, c));
      const o = Array.from({ length: 512 }, (_, c) => chip.offset(name, c));
      const sd = (x: number[]) => {
        const m = x.reduce((s, v) => s + v, 0) / x.length;
        return Math.sqrt(x.reduce((s, v) => s + (v - m) ** 2, 0) / x.length);
      };
      return { g: sd(g), o: sd(o) };
    };
    const cal = stat('v_reset');
    const unc = stat('v_t');
    expect(cal.g).toBeGreaterThan(0.8 * CALIBRATED_SPREAD.gain);
    expect(cal.g).toBeLessThan(1.2 * CALIBRATED_SPREAD.gain);
    expect(unc.o).toBeGreaterThan(0.8 * UNCALIBRATED_SPREAD.offset);
    expect(unc.o).toBeLessThan(1.2 * UNCALIBRATED_SPREAD.offset);
    expect(stat('t_ref')).toEqual({ g: 0, o: 0 });
    expect(createChip(11).capmemToModel('a', 5, 150)).toBe(chip.capmemToModel('a', 5, 150));
    expect(chip.realize('v_t', 5, -50)).not.toBe(-50);
    expect(() => chip.gain('a', 512)).toThrow('circuit must be an integer in 0..511, got 512');
    expect(() => createChip(-1)).toThrow('chipSeed must be an integer');
  });
});

describe('prior', () => {
  it('draws reproducible rows inside the box, independent of the batch split', () => {
    const a = samplePrior(50, 'capmem', 9);
    const b = samplePrior(20, 'capmem', 9, 30);
    expect(Array.from(b)).toEqual(Array.from(a.subarray(30 * 7)));
    INFERRED_PARAMETERS.forEach((p, j) => {
      for (let i = 0; i < 50; i++) {
        expect(a[i * 7 + j]).toBeGreaterThanOrEqual(p.capmemRange[0]);
        expect(a[i * 7 + j]).toBeLessThanOrEqual(p.capmemRange[1]);
      }
    });
    expect(Array.from(samplePrior(5, 'model', 1))).not.toEqual(Array.from(samplePrior(5, 'model', 2)));
  });
});
