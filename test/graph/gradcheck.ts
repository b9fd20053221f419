/**
 * Finite-difference gradient checks executed by onnxruntime: the analytic gradient graph and the
 * perturbed forward graphs are both emitted to ONNX and run, so the check covers the rules, the
 * emitters and onnxruntime's kernels together.
 */
import * as G from '../../main/graph/index.ts';

/** One gradient check case. */
export interface GradCase {
  /** Input shapes; each input gets random values unless `values` is given. */
  shapes: number[][];
  build: (xs: G.Tensor[]) => G.Tensor;
  values?: (Float64Array | number[])[];
  dtype?: 'float64' | 'float32';
  /** Finite-difference step (default 1e-6 in float64, 1e-2 in float32). */
  eps?: number;
  /** Allowed |analytic - numeric| <= tol * (1 + |numeric|) (default 1e-6 / 2e-3). */
  tol?: number;
  seed?: number;
}

/** Result: the largest error and the ops that were differentiated. */
export interface GradCheckResult {
  maxError: number;
  ops: Set<G.PrimitiveOp>;
  worst: string;
}

type Arr = Float32Array | Float64Array;

/** Runs the check; returns the worst error (the caller asserts on it). */
export async function gradCheck(c: GradCase): Promise<GradCheckResult> {
  const dtype = c.dtype ?? 'float64';
  const eps = c.eps ?? (dtype === 'float64' ? 1e-6 : 1e-2);
  const tol = c.tol ?? (dtype === 'float64' ? 1e-6 : 2e-3);
  const rng = new G.Rng(c.seed ?? 7);
  const g = new G.Graph();
  const xs = c.shapes.map((s, i) => g.input(`x${i}`, s, dtype));
  const y = c.build(xs);
  const n = y.size;
  const Ctor = dtype === 'float64' ? Float64Array : Float32Array;
  // Random output weights so every output element contributes to the scalar.
  const w = g.constant(rng.fillUniform(new Float64Array(n), 0.5, 1.5), y.shape, dtype);
  const loss = G.sum(G.mul(y, w));
  const grads = G.grad(loss, xs);
  const ops = new Set(g.nodes.filter((nd) => nd.id <= y.node.id).map((nd) => nd.op));

  const values: Arr[] = c.shapes.map((s, i) => {
    const size = s.reduce((p, d) => p * d, 1);
    const given = c.values?.[i];
    return given ? Ctor.from(given) : rng.fillNormal(new Ctor(size));
  });
  const outputs: Record<string, G.Tensor> = { loss };
  grads.forEach((t, i) => (outputs[`g${i}`] = t));
  const full = await G.Session.create(G.emitModel({ outputs }));
  const lossOnly = await G.Session.create(G.emitModel({ outputs: { loss } }));
  const feedsFor = (s: G.Session, vals: Arr[]): Record<string, Arr> => {
    const f: Record<string, Arr> = {};
    for (const spec of s.inputs) f[spec.name] = vals[Number(spec.name.slice(1))];
    return f;
  };
  const res = await full.run(feedsFor(full, values));
  let maxError = 0;
  let worst = '';
  for (let i = 0; i < xs.length; i++) {
    const analytic = res[`g${i}`].data as Arr;
    for (let j = 0; j < values[i].length; j++) {
      const orig = values[i][j];
      values[i][j] = orig + eps;
      const up = ((await lossOnly.run(feedsFor(lossOnly, values))).loss.data as Arr)[0];
      values[i][j] = orig - eps;
      const down = ((await lossOnly.run(feedsFor(lossOnly, values))).loss.data as Arr)[0];
      values[i][j] = orig;
      const numeric = (up - down) / (2 * eps);
      const err = Math.abs(analytic[j] - numeric) / (tol * (1 + Math.abs(numeric)));
      if (err > maxError) {
        maxError = err;
        worst = `input ${i} element ${j}: analytic ${analytic[j]}, numeric ${numeric}`;
      }
    }
  }
  await full.release();
  await lossOnly.release();
  // maxError is in units of the tolerance: <= 1 passes.
  return { maxError, ops, worst };
}
