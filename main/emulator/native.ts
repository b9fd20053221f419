/**
 * Loader and thin wrapper for the native kernel (native/, built by node-gyp into
 * native/build/Release/adex_emulator.node). The wrapper passes only inputs that prepare.ts has
 * validated; the C++ trusts them.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gated } from '../graph/run-gate.mjs';
import type { ChunkSpikes } from './kernel.ts';
import { READOUT, type ResolvedRequest } from './prepare.ts';

/** What the addon exports (see native/addon.cc). */
export interface NativeAddon {
  /** Simulate m lanes on `threads` threads off the JS thread; resolves when the codes are written. */
  simulate(
    lanes: Float32Array,
    config: {
      steps: number;
      stepsPerSample: number;
      samples: number;
      dt: number;
      rowStart: number;
      /** First lane of the chunk within `lanes` and the number of lanes. */
      laneOffset: number;
      laneCount: number;
      key0: number;
      key1: number;
      hardware: boolean;
      mvAtZero: number;
      lsbPerMv: number;
      readoutNoise: number;
      threads: number;
      /** Run the portable kernel build even where AVX2 is available. */
      forceGeneric?: boolean;
    },
    current: Float32Array,
    currentOn: Float32Array,
    codes: Int16Array,
  ): Promise<{ counts: Int32Array; times: Float32Array }>;
  /** Instruction set the kernel dispatches to at run time, e.g. 'avx2+fma' or 'generic'. */
  isa(): string;
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Where node-gyp puts the addon. */
export const NATIVE_ADDON_PATH = path.join(root, 'native', 'build', 'Release', 'adex_emulator.node');

let cached: { addon?: NativeAddon; error?: string } | undefined;

/** Load the addon once; returns the reason when it is not available. */
export function loadNative(): { addon?: NativeAddon; error?: string } {
  if (!cached) {
    try {
      cached = { addon: createRequire(import.meta.url)(NATIVE_ADDON_PATH) as NativeAddon };
    } catch (err) {
      cached = { error: `native emulator kernel not available (${(err as Error).message.split('\n')[0]})` };
    }
  }
  return cached;
}

/** Run rows [start, start + count) of the request, whose coefficients `lanes` holds, on the native kernel. */
export async function simulateLanesNative(
  addon: NativeAddon,
  threads: number,
  forceGeneric: boolean,
  r: ResolvedRequest,
  lanes: Float32Array,
  start: number,
  count: number,
  codes: Int16Array,
): Promise<ChunkSpikes> {
  // Counted in the run gate of a job's thread, which is stopped only between native calls.
  return gated(() =>
    addon.simulate(
      lanes,
      {
        steps: r.steps,
        stepsPerSample: r.stepsPerSample,
        samples: r.samples,
        dt: r.dt,
        rowStart: r.rowOffset + start,
        laneOffset: 0,
        laneCount: count,
        key0: r.seedKey[0],
        key1: r.seedKey[1],
        hardware: r.hardware,
        mvAtZero: READOUT.mvAtZero,
        lsbPerMv: READOUT.lsbPerMv,
        readoutNoise: READOUT.noiseLsb,
        threads,
        forceGeneric,
      },
      r.current,
      r.currentOn,
      codes,
    ),
  );
}
