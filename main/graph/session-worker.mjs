// A worker thread of a SessionPool (pool.ts). It creates the onnxruntime session of a model, from
// the bytes and options in workerData, when the model is first run, and runs one at a time, in
// the order the runs arrive. Plain JavaScript that imports onnxruntime (and the run gate) alone,
// so it starts fast.
import { parentPort, workerData } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import { gated, useRunGate } from './run-gate.mjs';

// The run gate of the job thread that started this worker, if any: it stops the job only between runs.
useRunGate(workerData.gate);

/** Sessions by model name (promises, created on first use). */
const sessions = new Map();

function session(model) {
  let s = sessions.get(model);
  if (!s) {
    const bytes = workerData.models[model];
    if (!bytes) throw new Error(`no model named ${model} in this worker`);
    s = gated(() => ort.InferenceSession.create(bytes, workerData.options));
    sessions.set(model, s);
  }
  return s;
}

async function handle({ id, model, feeds }) {
  try {
    const tensors = {};
    for (const [name, f] of Object.entries(feeds)) tensors[name] = new ort.Tensor(f.type, f.data, f.dims);
    const s = await session(model);
    const results = await gated(() => s.run(tensors));
    const outputs = {};
    const transfer = [];
    for (const [name, t] of Object.entries(results)) {
      // A copy the worker owns, handed over without another copy.
      const data = t.data.slice();
      outputs[name] = { type: t.type, data, dims: [...t.dims] };
      transfer.push(data.buffer);
    }
    parentPort.postMessage({ type: 'result', id, outputs }, transfer);
  } catch (err) {
    parentPort.postMessage({ type: 'result', id, error: err instanceof Error ? err.message : String(err) });
  }
}

let queue = Promise.resolve();
parentPort.on('message', (msg) => {
  queue = queue.then(() => handle(msg));
});
parentPort.postMessage({ type: 'ready' });
