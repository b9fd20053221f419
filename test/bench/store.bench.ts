/**
 * Project store benchmark (`npm run bench:store`): append 100,000 traces of 1,000 samples in
 * batches, then stream them back in random mini-batches of 200 (random row indices over a shuffled
 * epoch, cold and warm chunk cache, and with a cache far smaller than the set), and the chunk-window
 * epoch iterator. Prints one JSON document. Rates are given per wall-clock second (what a user sees,
 * disturbed by whatever else the machine runs; the load average is printed) and per CPU second of
 * this process (closer to what an idle machine would show, ignoring I/O waits).
 *
 * Environment: BENCH_TRACES (default 100000), BENCH_SAMPLES (1000), BENCH_BATCH (2000), BENCH_DIR (os tmpdir).
 * BENCH_EPOCH_ONLY=1 skips the random-index runs (for the memory check on a 1,000,000-trace set:
 * `BENCH_TRACES=1000000 BENCH_EPOCH_ONLY=1 npm run bench:store`, peak RSS while appending and
 * streaming one shuffled epoch with the default 512 MiB cache).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openProject, seededRandom } from '../../main/store/index.ts';

const TRACES = Number(process.env.BENCH_TRACES ?? 100_000);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 1000);
const BATCH = Number(process.env.BENCH_BATCH ?? 2000);
const PARAMS = 8;
const MINI = 200;

const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'adexwb-bench-store-'));
const path = join(dir, 'bench.adexproj');
const peakMiB = () => Math.round(process.resourceUsage().maxRSS / 1024);
/** CPU seconds (user + system) of this process: less sensitive than wall time to other work on the machine. */
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

function batchData(tag: number) {
  const rnd = seededRandom(tag);
  const theta = new Float32Array(BATCH * PARAMS);
  for (let i = 0; i < theta.length; i++) theta[i] = rnd();
  const codes = new Int16Array(BATCH * SAMPLES);
  for (let i = 0; i < codes.length; i++) codes[i] = 200 + ((rnd() * 480) | 0);
  const spikeCounts = new Int32Array(BATCH);
  return { theta, codes, spikeCounts, spikeTimes: new Float32Array(0), seed: tag };
}

function epochIndices(seed: number): Uint32Array {
  const rnd = seededRandom(seed);
  const idx = new Uint32Array(TRACES);
  for (let i = 0; i < TRACES; i++) idx[i] = i;
  for (let i = TRACES - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx;
}

try {
  // Batches are generated before timing (4 distinct ones, reused), so only the store is measured.
  const batches = [0, 1, 2, 3].map(batchData);
  const project = openProject(path, { create: true });
  const set = project.simulations.create({
    name: 'bench',
    source: 'emulator',
    paramNames: Array.from({ length: PARAMS }, (_, i) => `p${i}`),
    samplesPerTrace: SAMPLES,
    sampleRate: 29.4e6,
  });
  let t0 = performance.now();
  const c0 = cpu();
  for (let done = 0, k = 0; done < TRACES; done += BATCH, k++) {
    const b = batches[k % batches.length];
    const n = Math.min(BATCH, TRACES - done);
    project.simulations.append(
      set.id,
      n === BATCH
        ? b
        : {
            ...b,
            theta: b.theta.subarray(0, n * PARAMS),
            codes: b.codes.subarray(0, n * SAMPLES),
            spikeCounts: b.spikeCounts.subarray(0, n),
          },
    );
  }
  const appendSec = (performance.now() - t0) / 1000;
  const appendCpu = cpu() - c0;
  t0 = performance.now();
  project.close(); // includes the final WAL checkpoint into the database file
  const closeSec = (performance.now() - t0) / 1000;
  const fileBytes = statSync(path).size;

  const ro = openProject(path, { readonly: true });
  const stream = (cacheBytes: number, epochs: number, rows = TRACES) => {
    const reader = ro.simulations.openReader(set.id, { cacheBytes });
    const out = { theta: new Float32Array(MINI * PARAMS), codes: new Int16Array(MINI * SAMPLES) };
    const rates: number[] = [];
    const cpuRates: number[] = [];
    for (let e = 0; e < epochs; e++) {
      const idx = epochIndices(e + 1);
      const t = performance.now();
      const c = cpu();
      for (let b = 0; b < rows; b += MINI) reader.read(idx.subarray(b, Math.min(b + MINI, rows)), out);
      rates.push(Math.round(rows / ((performance.now() - t) / 1000)));
      cpuRates.push(Math.round(rows / (cpu() - c)));
    }
    const loads = reader.chunkLoads;
    reader.close();
    return {
      cacheMiB: Math.round(cacheBytes / 2 ** 20),
      rowsPerEpoch: rows,
      tracesPerSecondPerEpoch: rates,
      tracesPerCpuSecondPerEpoch: cpuRates,
      chunkLoads: loads,
    };
  };
  const epochOnly = process.env.BENCH_EPOCH_ONLY === '1';
  const randomDefault = epochOnly ? undefined : stream(512 * 2 ** 20, 2);
  const randomSmallCache = epochOnly ? undefined : stream(32 * 2 ** 20, 1, Math.min(TRACES, 10_000));
  const windowCache = epochOnly ? 512 : 64;
  const windowed = (() => {
    const reader = ro.simulations.openReader(set.id, { cacheBytes: windowCache * 2 ** 20 });
    const t = performance.now();
    const c = cpu();
    let n = 0;
    for (const b of reader.epoch(MINI, { seed: 1 })) n += b.indices.length;
    const rate = Math.round(n / ((performance.now() - t) / 1000));
    const cpuRate = Math.round(n / (cpu() - c));
    reader.close();
    return { cacheMiB: windowCache, tracesPerSecond: rate, tracesPerCpuSecond: cpuRate, rows: n };
  })();
  ro.close();

  const appendRate = Math.round(TRACES / appendSec);
  const streamRate = randomDefault?.tracesPerSecondPerEpoch[0] ?? 0;
  process.stdout.write(
    JSON.stringify(
      {
        benchmark: 'store',
        traces: TRACES,
        samplesPerTrace: SAMPLES,
        params: PARAMS,
        appendBatchRows: BATCH,
        miniBatch: MINI,
        loadAverage: loadavg().map((v) => +v.toFixed(2)),
        append: {
          seconds: +appendSec.toFixed(3),
          cpuSeconds: +appendCpu.toFixed(3),
          tracesPerSecond: appendRate,
          tracesPerCpuSecond: Math.round(TRACES / appendCpu),
          target: 50_000,
          met: appendRate >= 50_000,
          closeCheckpointSeconds: +closeSec.toFixed(3),
        },
        fileMiB: +(fileBytes / 2 ** 20).toFixed(1),
        randomMiniBatches: randomDefault && {
          ...randomDefault,
          target: 200_000,
          met: streamRate >= 200_000,
          note: 'first epoch starts with a cold chunk cache',
        },
        randomMiniBatchesSmallCache: randomSmallCache,
        shuffledWindowEpoch: windowed,
        peakRssMiB: peakMiB(),
        node: process.version,
        note: 'wall-clock on a shared 2-core machine; other work running at the same time makes these numbers noisy',
      },
      null,
      2,
    ) + '\n',
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
