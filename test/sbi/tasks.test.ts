import { describe, expect, it } from 'vitest';
import { defaultReferenceRoot, getTask, loadReference } from '../../main/sbi/tasks.ts';
import { Rng } from '../../main/sbi/rng.ts';

describe('sbibm tasks', () => {
  it('two_moons simulates the crescent: x sits at distance ~0.1 from (0.25 - |z0|, z1)', () => {
    const task = getTask('two_moons');
    const rng = new Rng(0);
    const theta = task.samplePrior(2000, rng);
    for (const v of theta) expect(Math.abs(v)).toBeLessThanOrEqual(1);
    const x = task.simulate(theta, rng);
    const c = Math.cos(-Math.PI / 4);
    const s = Math.sin(-Math.PI / 4);
    let meanR = 0;
    for (let i = 0; i < 2000; i++) {
      const z0 = c * theta[2 * i] - s * theta[2 * i + 1];
      const z1 = s * theta[2 * i] + c * theta[2 * i + 1];
      const px = x[2 * i] + Math.abs(z0) - 0.25;
      const py = x[2 * i + 1] - z1;
      expect(px).toBeGreaterThan(-0.02); // a in (-pi/2, pi/2) puts p on the right half circle
      meanR += Math.hypot(px, py) / 2000;
    }
    expect(meanR).toBeCloseTo(0.1, 2);
  });

  it('gaussian_linear has prior and noise variance 0.1', () => {
    const task = getTask('gaussian_linear');
    const rng = new Rng(1);
    const theta = task.samplePrior(20_000, rng);
    const x = task.simulate(theta, rng);
    let vt = 0;
    let vn = 0;
    for (let i = 0; i < theta.length; i++) {
      vt += theta[i] ** 2 / theta.length;
      vn += (x[i] - theta[i]) ** 2 / theta.length;
    }
    expect(vt).toBeCloseTo(0.1, 2);
    expect(vn).toBeCloseTo(0.1, 2);
  });

  it('loads the shipped reference: gaussian_linear samples have the exact posterior mean x/2', () => {
    const ref = loadReference('gaussian_linear', 1, defaultReferenceRoot());
    expect(ref.rows).toBe(10_000);
    for (let d = 0; d < 10; d++) {
      let m = 0;
      for (let r = 0; r < ref.rows; r++) m += ref.samples[r * 10 + d] / ref.rows;
      expect(Math.abs(m - ref.observation[d] / 2)).toBeLessThan(0.01);
    }
  });

  it('names the missing directory for a bad reference path', () => {
    expect(() => loadReference('two_moons', 1, '/nonexistent/ref')).toThrow(
      /\/nonexistent\/ref\/two_moons\/obs1/,
    );
  });

  it('rejects an unknown task name', () => {
    expect(() => getTask('slcp')).toThrow(/unknown task 'slcp'/);
  });
});
