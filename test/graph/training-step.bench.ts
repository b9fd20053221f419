/**
 * Training-step benchmark of the graph engine (run: `npx tsx test/graph/training-step.bench.ts`).
 * Prints one JSON document: per-step time and node counts for
 *  - `probe`: 5 ReLU MLP blocks 27->50->50->14 (the onnxruntime probe's network, 23,320 parameters),
 *  - `mafLike`: 5 affine autoregressive-style transforms, each an MLP on concat(z, x) (27->50->50->14)
 *    producing shift and log-scale for the 7-D z, with a Gaussian base log-density loss,
 * at batch 200, with 1 and 2 intra-op threads, plus the bare per-run overhead of a trivial graph.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as G from '../../main/graph/index.ts';

const B = 200;

function probe(): { loss: G.Tensor; params: G.ParameterSet } {
  const g = new G.Graph();
  const params = new G.ParameterSet(g);
  const x = g.input('x', [B, 27]);
  const y = g.input('y', [B, 14]);
  let total: G.Tensor | null = null;
  for (let b = 0; b < 5; b++) {
    const h = G.relu(G.linear(params, `b${b}.l2`, G.relu(G.linear(params, `b${b}.l1`, x, 50)), 50));
    const o = G.linear(params, `b${b}.l3`, h, 14);
    total = total ? G.add(total, o) : o;
  }
  return { loss: G.mseLoss(total!, y), params };
}

function mafLike(): { loss: G.Tensor; params: G.ParameterSet } {
  const g = new G.Graph();
  const params = new G.ParameterSet(g);
  const theta = g.input('theta', [B, 7]);
  const x = g.input('x', [B, 20]);
  let z = theta;
  let logdet: G.Tensor | null = null;
  for (let b = 0; b < 5; b++) {
    const h1 = G.relu(G.linear(params, `t${b}.l1`, G.concat([z, x], 1), 50));
    const h2 = G.relu(G.linear(params, `t${b}.l2`, h1, 50));
    const [shift, logScale] = G.split(G.linear(params, `t${b}.l3`, h2, 14), 1, [7, 7]);
    z = G.mul(G.sub(z, shift), G.exp(G.neg(logScale)));
    const ld = G.sum(logScale, 1);
    logdet = logdet ? G.add(logdet, ld) : ld;
  }
  const nll = G.add(G.mul(G.sum(G.mul(z, z), 1), 0.5), logdet!);
  return { loss: G.mean(nll), params };
}

async function timeSteps(build: () => { loss: G.Tensor; params: G.ParameterSet }, threads: number) {
  const { loss, params } = build();
  const trainer = await G.Trainer.create({ loss, params }, { initial: params.initialValues(0), threads });
  const rng = new G.Rng(1);
  const batch: Record<string, Float32Array> = {};
  for (const name of trainer.graph.batchInputs) {
    const spec = trainer.session.inputs.find((i) => i.name === name)!;
    batch[name] = rng.fillNormal(new Float32Array(spec.shape.reduce((p, d) => p * d, 1)));
  }
  for (let i = 0; i < 100; i++) await trainer.step(batch, 1e-4);
  const steps = 1000;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await trainer.step(batch, 1e-4);
  const ms = (performance.now() - t0) / steps;
  const cpu = process.cpuUsage(cpu0);
  await trainer.release();
  return {
    msPerStep: +ms.toFixed(3),
    cpuMsPerStep: +((cpu.user + cpu.system) / 1000 / steps).toFixed(3),
    epoch100kSeconds: +((ms * 500) / 1000).toFixed(3),
    onnxNodes: trainer.graph.model.nodeCount,
    nodesAfterOrtOptimization: await optimizedNodeCount(trainer.graph.model.bytes),
    parameters: params.size,
  };
}

/** Node count of the graph onnxruntime actually executes (after its 'all' level fusions). */
async function optimizedNodeCount(bytes: Uint8Array): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'adexwb-graph-'));
  try {
    const path = join(dir, 'opt.onnx');
    const s = await G.ort.InferenceSession.create(bytes, {
      graphOptimizationLevel: 'all',
      optimizedModelFilePath: path,
      logSeverityLevel: 3,
    });
    await s.release();
    return Object.values(G.countOps(new Uint8Array(readFileSync(path)))).reduce((p, n) => p + n, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function overhead() {
  const g = new G.Graph();
  const x = g.input('x', [1]);
  const s = await G.Session.create(G.emitModel({ outputs: { y: G.add(x, 1) } }));
  const t = new G.ort.Tensor('float32', Float32Array.of(1), [1]);
  for (let i = 0; i < 200; i++) await s.runRaw({ x: t });
  const n = 3000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await s.runRaw({ x: t });
  await s.release();
  return { msPerRun: +((performance.now() - t0) / n).toFixed(4) };
}

/**
 * JavaScript overhead of `Trainer.step` (argument checks, scalar tensors, bookkeeping) against a bare
 * `InferenceSession.run` loop on the same step graph, in alternating rounds (CPU ms per step).
 */
async function trainerOverhead() {
  const { loss, params } = probe();
  const trainer = await G.Trainer.create({ loss, params }, { initial: params.initialValues(0) });
  const rng = new G.Rng(1);
  const xs = rng.fillNormal(new Float32Array(B * 27));
  const ys = rng.fillNormal(new Float32Array(B * 14));
  const P = params.size;
  const T = (a: Float32Array, d: number[]) => new G.ort.Tensor('float32', a, d);
  const feeds: Record<string, G.ort.Tensor> = {
    params: T(params.initialValues(0), [P]),
    adam_m: T(new Float32Array(P), [P]),
    adam_v: T(new Float32Array(P), [P]),
    adam_step_size: T(Float32Array.of(G.adamScalars(1, 1e-4).stepSize), []),
    adam_eps: T(Float32Array.of(G.adamScalars(1, 1e-4).eps), []),
    x: T(xs, [B, 27]),
    y: T(ys, [B, 14]),
  };
  const cpuOf = async (f: () => Promise<unknown>, n: number) => {
    const c0 = process.cpuUsage();
    for (let i = 0; i < n; i++) await f();
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / 1000 / n;
  };
  let bare = 0;
  let wrapped = 0;
  for (let round = 0; round < 4; round++) {
    bare += await cpuOf(async () => {
      const r = await trainer.session.ort.run(feeds);
      feeds.params = r.params_next as G.ort.Tensor;
      feeds.adam_m = r.adam_m_next as G.ort.Tensor;
      feeds.adam_v = r.adam_v_next as G.ort.Tensor;
    }, 250);
    wrapped += await cpuOf(() => trainer.step({ x: xs, y: ys }, 1e-4), 250);
  }
  await trainer.release();
  return { bareRunCpuMs: +(bare / 4).toFixed(3), trainerStepCpuMs: +(wrapped / 4).toFixed(3) };
}

const result: Record<string, unknown> = {
  batch: B,
  loadAverage1min: (await import('node:os')).loadavg()[0],
  note: 'msPerStep is wall-clock on a shared 2-core machine (other work adds noise); cpuMsPerStep is process CPU time',
};
result.trivialGraphRun = await overhead();
result.trainerOverhead = await trainerOverhead();
for (const [name, build] of [
  ['probe', probe],
  ['mafLike', mafLike],
] as const) {
  result[name] = { threads1: await timeSteps(build, 1), threads2: await timeSteps(build, 2) };
}
process.stdout.write(JSON.stringify(result, null, 2) + '\n');
