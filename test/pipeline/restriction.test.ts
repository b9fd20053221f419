import { describe, expect, it } from 'vitest';
import { createEmulator } from '../../main/emulator/index.ts';
import { defaultExperiment, simulateAndSummarize } from '../../main/pipeline/experiment.ts';
import { restrictPrior, sampleRestricted } from '../../main/pipeline/restriction.ts';
import { labelRegime, regimeFraction } from '../../main/pipeline/regime.ts';
import { Rng } from '../../main/sbi/rng.ts';

describe('prior restriction on the emulator', () => {
  it('raises the fraction of useful simulations on fresh draws from the restricted prior', async () => {
    const backend = createEmulator({ warn: () => {} });
    const exp = defaultExperiment();
    const regime = { minSpikes: 8, maxSpikes: 16 };
    const stages = new Set<string>();
    const r = await restrictPrior(
      backend,
      exp,
      { initialSims: 4000, regime, falseNegativeRate: 0.05, classifier: { epochs: 30 } },
      { onProgress: (p) => stages.add(p.stage) },
    );
    expect(stages.has('restriction: simulate') && stages.has('restriction: classifier')).toBe(true);
    expect(r.usefulBefore).toBeGreaterThan(0.2);
    expect(r.usefulBefore).toBeLessThan(0.8);
    expect(r.prior.acceptanceRate).toBeLessThan(0.95);
    expect(r.usefulAfterEstimate).toBeGreaterThan(r.usefulBefore + 0.1);
    const { theta, draws } = await sampleRestricted(r.prior, 1500, new Rng(9));
    expect(draws).toBeGreaterThan(1500);
    const fresh = await simulateAndSummarize(backend, exp, theta, { seed: 77 });
    const after = regimeFraction(labelRegime(fresh.summaries, regime));
    expect(after).toBeGreaterThan(r.usefulBefore + 0.1);
    await r.prior.classifier.release();
  });

  it('refuses a regime that no simulation reaches', async () => {
    await expect(
      restrictPrior(createEmulator({ warn: () => {} }), defaultExperiment(), {
        initialSims: 200,
        regime: { minSpikes: 500, maxSpikes: 600 },
      }),
    ).rejects.toThrow(/no simulation lies in the regime 500..600/);
  });
});
