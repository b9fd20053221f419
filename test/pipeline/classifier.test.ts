import { describe, expect, it } from 'vitest';
import {
  classifierFromWeights,
  thresholdForFalseNegativeRate,
  trainRegimeClassifier,
} from '../../main/pipeline/classifier.ts';
import { Rng } from '../../main/sbi/rng.ts';

// Synthetic regime: inside a disc of radius 0.6 around (0.2, 0) in a box [-1, 1] x [0, 10] (second axis scaled).
function dataset(n: number, seed: number) {
  const rng = new Rng(seed);
  const theta = new Float32Array(n * 2);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const a = rng.uniform() * 2 - 1;
    const b = rng.uniform() * 10;
    theta[2 * i] = a;
    theta[2 * i + 1] = b;
    labels[i] = (a - 0.2) ** 2 + ((b - 5) / 5) ** 2 < 0.36 ? 1 : 0;
  }
  return { theta, labels };
}
const box = { low: [-1, 0], high: [1, 10] };

describe('regime classifier', () => {
  it('learns a disc-shaped regime and meets the false-negative target on fresh data', async () => {
    const { theta, labels } = dataset(6000, 1);
    const epochs: number[] = [];
    const clf = await trainRegimeClassifier(
      theta,
      labels,
      box,
      { epochs: 25, seed: 3 },
      { onProgress: (p) => epochs.push(p.epoch) },
    );
    expect(epochs.length).toBeGreaterThan(3);
    const t = thresholdForFalseNegativeRate(clf.validation.probabilities, clf.validation.labels, 0.02);
    const test = dataset(4000, 2);
    const p = await clf.predict(test.theta);
    let pos = 0;
    let missed = 0;
    let accepted = 0;
    let acceptedPos = 0;
    for (let i = 0; i < 4000; i++) {
      if (test.labels[i]) {
        pos++;
        if (p[i] < t) missed++;
      }
      if (p[i] >= t) {
        accepted++;
        acceptedPos += test.labels[i];
      }
    }
    expect(missed / pos).toBeLessThan(0.06);
    // The disc covers ~28% of the box; after restriction most accepted sets are inside it.
    expect(acceptedPos / accepted).toBeGreaterThan(0.7);
    // The exported model gives the same probabilities when rebuilt from the weights.
    const again = await classifierFromWeights(2, box, clf.hidden, clf.blocks, clf.weights);
    const q = await again.predict(test.theta.subarray(0, 20));
    for (let i = 0; i < 10; i++) expect(q[i]).toBeCloseTo(p[i], 5);
    expect(clf.onnx().length).toBeGreaterThan(1000);
    await clf.release();
    await again.release();
  });

  it('refuses labels of a single class and mismatched shapes', async () => {
    await expect(trainRegimeClassifier(new Float32Array(8), new Uint8Array(4), box)).rejects.toThrow(
      /both classes/,
    );
    await expect(
      trainRegimeClassifier(new Float32Array(7), Uint8Array.from([1, 0, 1, 0]), box),
    ).rejects.toThrow(/4 labels x 2/);
  });

  it('puts the threshold at the requested quantile of positive probabilities', () => {
    const probs = Float32Array.from([0.1, 0.2, 0.3, 0.4, 0.9, 0.05]);
    const labels = Uint8Array.from([1, 1, 1, 1, 1, 0]);
    expect(thresholdForFalseNegativeRate(probs, labels, 0.2)).toBeCloseTo(0.15, 6);
    expect(thresholdForFalseNegativeRate(probs, labels, 0)).toBeCloseTo(0.1, 6);
    expect(() => thresholdForFalseNegativeRate(probs, labels, 1)).toThrow(/\[0, 1\)/);
  });
});
