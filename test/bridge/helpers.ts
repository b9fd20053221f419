/** Shared fixtures of the bridge tests: requests in CapMem space and a frame-filtering cable. */

import type { Duplex } from 'node:stream';
import {
  DEFAULT_EXPERIMENT,
  INFERRED_PARAMETERS,
  type SimulationRequest,
} from '../../main/emulator/index.ts';
import { FrameSplitter } from '../../main/bridge/splitter.ts';
import { decodeRawFrame, type Frame } from '../../main/bridge/frame.ts';
import { cobsEncode } from '../../main/bridge/cobs.ts';
import { duplexPair } from './pair.ts';

/** `n` rows of the seven inferred parameters as integer CapMem codes spread over their prior ranges. */
export function capmemRequest(n: number, overrides: Partial<SimulationRequest> = {}): SimulationRequest {
  const names = INFERRED_PARAMETERS.map((p) => p.name);
  const theta = new Float32Array(n * names.length);
  for (let i = 0; i < n; i++) {
    INFERRED_PARAMETERS.forEach((p, j) => {
      const [lo, hi] = p.capmemRange;
      theta[i * names.length + j] = Math.round(lo + ((hi - lo) * ((i * 7 + j * 3) % 10)) / 10) || 1;
    });
  }
  return {
    theta,
    paramNames: names,
    space: 'capmem',
    mode: 'hardware',
    stimulus: { ...DEFAULT_EXPERIMENT.stimulus, amplitude: DEFAULT_EXPERIMENT.stimulusCapmem },
    duration: DEFAULT_EXPERIMENT.duration,
    seed: 11,
    ...overrides,
  };
}

/**
 * A cable between host and device that lets `filter` drop frames travelling to the host (the
 * device side is untouched). Returns [hostEnd, deviceEnd].
 */
export function filteringCable(filter: (f: Frame) => boolean): [Duplex, Duplex] {
  const [host, hostMid] = duplexPair();
  const [devMid, device] = duplexPair();
  hostMid.on('data', (b: Buffer) => devMid.write(b));
  const splitter = new FrameSplitter();
  devMid.on('data', (b: Buffer) =>
    splitter.push(b, (raw) => {
      if (!raw) return;
      const f = decodeRawFrame(raw);
      if (typeof f !== 'string' && !filter(f)) return;
      hostMid.write(reencode(raw));
    }),
  );
  hostMid.on('close', () => devMid.destroy());
  devMid.on('close', () => hostMid.destroy());
  return [host, device];
}

function reencode(raw: Buffer): Buffer {
  return Buffer.concat([cobsEncode(raw), Buffer.from([0])]);
}
