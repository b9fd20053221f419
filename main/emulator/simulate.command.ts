/**
 * `adexwb simulate`: simulate prior draws (or given parameter rows) on the embedded emulator and
 * write `theta.npy` (float32 [n, 7]), `x.npy` (int16 MADC codes [n, samples]) and
 * `simulation.json` (spike counts and the exact configuration). Everything is written into a
 * temporary directory next to `--out` and renamed into place at the end, so an error or Ctrl-C
 * never leaves partial output. Traces are streamed to disk batch by batch (bounded memory).
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmdirSync,
  rmSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { UsageError, type CliArgs, type CliCommand, type CliIO } from '../cli/command.ts';
import { projectOption, withProjectOption } from '../store/project-option.ts';
import type { Project } from '../store/index.ts';
import { readNpyFile, toFloat32, writeFileAtomic, writeNpyFile } from '../io/npy.ts';
import { WORKBENCH_VERSION } from '../version.ts';
import {
  createEmulator,
  DEFAULT_EXPERIMENT,
  INFERRED_PARAMETERS,
  traceBuffer,
  type KernelChoice,
  type SimulationRequest,
} from './index.ts';
import { samplePrior } from './prior.ts';

/** Rows simulated and written per batch (x.npy is streamed; 64 Ki rows = 128 MB of codes). */
const BATCH_ROWS = 65536;

/** The bytes of a version-1.0 .npy header for a C-order array. */
function npyHeader(descr: string, shape: number[]): Buffer {
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const unpadded = 10 + dict.length + 1;
  const total = Math.ceil(unpadded / 64) * 64;
  const head = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(head);
  head.writeUInt16LE(total - 10, 8);
  return Buffer.concat([head, Buffer.from(dict + ' '.repeat(total - unpadded) + '\n', 'latin1')]);
}

function loadParams(file: string): Float32Array {
  const arr = readNpyFile(file);
  const P = INFERRED_PARAMETERS.length;
  if (arr.shape.length !== 2 || arr.shape[1] !== P) {
    throw new UsageError(
      `${file}: expected shape [n, ${P}] (${INFERRED_PARAMETERS.map((p) => p.name).join(', ')}), got [${arr.shape.join(', ')}]`,
    );
  }
  if (arr.dtype !== 'float32' && arr.dtype !== 'float64')
    throw new UsageError(`${file}: expected float32 or float64, got ${arr.dtype}`);
  return toFloat32(arr);
}

export const simulateCommand: CliCommand = {
  name: 'simulate',
  summary: 'Simulate AdEx neuron traces on the embedded BrainScaleS-2 emulator',
  details:
    'Draws --n rows from the uniform prior of the seven inferred parameters (or reads --params FILE.npy, ' +
    'shape [n, 7] in the order ' +
    INFERRED_PARAMETERS.map((p) => p.name).join(', ') +
    '), simulates the default step-current experiment and writes theta.npy, x.npy and simulation.json into --out.',
  options: {
    n: { type: 'integer', description: 'number of prior draws (not with --params)' },
    seed: { type: 'integer', description: 'seed of the prior draws and the temporal noise', required: true },
    mode: {
      type: 'string',
      description: 'ideal (no mismatch, no noise) or hardware',
      default: 'hardware',
      choices: ['ideal', 'hardware'],
    },
    space: {
      type: 'string',
      description: 'parameter space of theta',
      default: 'model',
      choices: ['model', 'capmem'],
    },
    out: {
      type: 'string',
      description: 'output directory (must not exist or be empty)',
      default: 'simulation',
    },
    params: {
      type: 'string',
      description: 'simulate these parameter rows (.npy, [n, 7]) instead of prior draws',
    },
    'chip-seed': {
      type: 'integer',
      description: 'chip instance (fixed-pattern mismatch) in hardware mode',
      default: 0,
    },
    circuit: { type: 'integer', description: 'neuron circuit 0..511 used for every row', default: 0 },
    kernel: {
      type: 'string',
      description: 'simulation kernel',
      default: 'auto',
      choices: ['auto', 'native', 'typescript'],
    },
    threads: { type: 'integer', description: 'threads of the native kernel (default: all cores)' },
    project: projectOption,
  },
  async run(args, io) {
    return withProjectOption(args, (project) => simulate(args, io, project));
  },
};

async function simulate(args: CliArgs, io: CliIO, project: Project | undefined): Promise<number> {
  {
    const seed = args.seed as number;
    const space = args.space as 'model' | 'capmem';
    const mode = args.mode as 'ideal' | 'hardware';
    if (seed < 0 || !Number.isSafeInteger(seed))
      throw new UsageError(`--seed must be an integer in 0..2^53-1, got ${seed}`);
    let theta: Float32Array;
    if (args.params !== undefined) {
      if (args.n !== undefined) throw new UsageError('give either --n or --params, not both');
      theta = loadParams(args.params as string);
    } else {
      const n = args.n as number | undefined;
      if (n === undefined) throw new UsageError('missing --n (number of prior draws) or --params FILE.npy');
      if (n < 1 || n > 1e8) throw new UsageError(`--n must be in 1..100000000, got ${n}`);
      theta = samplePrior(n, space, seed);
    }
    const circuit = args.circuit as number;
    if (circuit < 0 || circuit > 511) throw new UsageError(`--circuit must be in 0..511, got ${circuit}`);
    const P = INFERRED_PARAMETERS.length;
    const n = theta.length / P;
    if (n === 0) throw new UsageError('no parameter rows to simulate');

    const out = path.resolve(args.out as string);
    if (existsSync(out) && readdirSync(out).length > 0)
      throw new UsageError(`--out ${out} exists and is not empty`);
    const emu = createEmulator({
      kernel: args.kernel as KernelChoice,
      threads: args.threads as number | undefined,
      warn: (m) => io.warn(m),
    });
    const base: Omit<SimulationRequest, 'theta'> = {
      paramNames: INFERRED_PARAMETERS.map((p) => p.name),
      space,
      mode,
      fixed: space === 'capmem' ? DEFAULT_EXPERIMENT.fixedCapmem : DEFAULT_EXPERIMENT.fixed,
      stimulus:
        space === 'capmem'
          ? { ...DEFAULT_EXPERIMENT.stimulus, amplitude: DEFAULT_EXPERIMENT.stimulusCapmem }
          : DEFAULT_EXPERIMENT.stimulus,
      duration: DEFAULT_EXPERIMENT.duration,
      dt: DEFAULT_EXPERIMENT.dt,
      seed,
      chipSeed: args['chip-seed'] as number,
    };

    const tmp = `${out}.tmp-${process.pid}-${Date.now()}`;
    mkdirSync(tmp, { recursive: true });
    let fd: number | undefined;
    let setId: number | undefined;
    let experimentId: number | undefined;
    try {
      if (project) {
        const names = INFERRED_PARAMETERS.map((p) => p.name);
        const experiment = project.experiments.create({
          name: `adexwb simulate (${space}, ${mode})`,
          stimulus: base.stimulus,
          fixed: { ...base.fixed },
          prior: {
            names,
            units: INFERRED_PARAMETERS.map((p) => (space === 'capmem' ? 'LSB' : p.unit)),
            low: INFERRED_PARAMETERS.map((p) => (space === 'capmem' ? p.capmemRange[0] : p.modelRange[0])),
            high: INFERRED_PARAMETERS.map((p) => (space === 'capmem' ? p.capmemRange[1] : p.modelRange[1])),
          },
          backend: { kind: 'emulator', mode, chipSeed: base.chipSeed },
          space,
          duration: base.duration,
          notes: `circuit ${circuit}`,
        });
        experimentId = experiment.id;
        setId = project.simulations.create({
          name:
            args.params !== undefined
              ? `simulated ${path.basename(args.params as string)}`
              : `prior draws, seed ${seed}`,
          source: 'emulator',
          experimentId: experiment.id,
          paramNames: names,
          samplesPerTrace: DEFAULT_EXPERIMENT.samples,
          sampleRate: DEFAULT_EXPERIMENT.sampleRate,
          meta: { mode, space, seed, chipSeed: base.chipSeed, circuit, out },
        }).id;
      }
      const spikeCounts = new Int32Array(n);
      const samples = DEFAULT_EXPERIMENT.samples;
      fd = openSync(path.join(tmp, 'x.npy'), 'w');
      writeSync(fd, npyHeader('<i2', [n, samples]));
      const t0 = Date.now();
      let lastReport = 0;
      // One trace buffer for all batches: each batch's traces are written out before the next.
      const codes = traceBuffer(Math.min(n, BATCH_ROWS), samples);
      for (let start = 0; start < n; start += BATCH_ROWS) {
        const end = Math.min(n, start + BATCH_ROWS);
        const res = await emu.simulate(
          {
            ...base,
            theta: theta.subarray(start * P, end * P),
            rowOffset: start,
            circuits: new Int32Array(end - start).fill(circuit),
          },
          {
            signal: io.signal,
            codes,
            onProgress: ({ done }) => {
              const now = Date.now();
              if (now - lastReport > 1000 || start + done === n) {
                lastReport = now;
                io.info(`simulated ${start + done}/${n} rows (${((now - t0) / 1000).toFixed(1)} s)`);
              }
            },
          },
        );
        if (res.samples !== samples)
          throw new Error(`internal: expected ${samples} samples, got ${res.samples}`);
        const bytes = new Uint8Array(res.codes.buffer, res.codes.byteOffset, res.codes.byteLength);
        for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off, bytes.length - off);
        spikeCounts.set(res.spikeCounts, start);
        if (project && setId !== undefined) {
          project.simulations.append(setId, { ...res, theta: theta.slice(start * P, end * P), seed });
        }
      }
      fsyncSync(fd);
      closeSync(fd);
      fd = undefined;
      writeNpyFile(path.join(tmp, 'theta.npy'), { dtype: 'float32', shape: [n, P], data: theta });
      const info = emu.info();
      const summary = {
        workbench: WORKBENCH_VERSION,
        backend: info.id,
        kernel: info.details,
        n,
        samples,
        sampleRate: DEFAULT_EXPERIMENT.sampleRate,
        source:
          args.params !== undefined
            ? { params: path.resolve(args.params as string) }
            : { prior: 'uniform box', seed },
        config: { ...base, circuit, parameters: INFERRED_PARAMETERS },
        files: { theta: 'theta.npy', x: 'x.npy' },
        spikeCounts: Array.from(spikeCounts),
      };
      writeFileAtomic(
        path.join(tmp, 'simulation.json'),
        Buffer.from(JSON.stringify(summary, null, 1) + '\n'),
      );
      if (existsSync(out)) rmdirSync(out); // checked empty above
      renameSync(tmp, out);
      const total = spikeCounts.reduce((a, b) => a + b, 0);
      io.result(
        {
          out,
          n,
          samples,
          meanSpikes: total / n,
          silent: spikeCounts.filter((c) => c === 0).length,
          backend: info.id,
        },
        (v: { out: string; n: number; meanSpikes: number; silent: number }) =>
          `wrote ${v.n} traces to ${v.out} (mean ${v.meanSpikes.toFixed(1)} spikes, ${v.silent} silent)`,
      );
      return 0;
    } catch (err) {
      if (fd !== undefined) closeSync(fd);
      rmSync(tmp, { recursive: true, force: true });
      // Nothing half-written: a set whose run did not finish is removed from the project again.
      if (project && setId !== undefined) project.simulations.delete(setId);
      if (project && experimentId !== undefined) project.experiments.delete(experimentId);
      if ((err as Error).name === 'AbortError') {
        io.warn('simulation cancelled; no output written');
        return 130;
      }
      throw err;
    }
  }
}
