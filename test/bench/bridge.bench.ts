/**
 * Bridge benchmark: traces per second from the host driver through a socat pty pair to a virtual
 * device and back, and the protocol overhead relative to the raw payload bytes (MADC codes and
 * spike times). Prints one JSON document.
 *
 * Two device backends:
 * - `emulator`: the virtual device as shipped, running the emulator for every RUN (end to end;
 *   bounded by the emulator kernel when it is slower than the link);
 * - `replay`: the same virtual device serving traces the emulator computed beforehand, so the
 *   figure is what the protocol, the pty and both stacks sustain.
 *
 * Usage: npm run bench:bridge [-- --traces 500]
 */

import { parseArgs } from 'node:util';
import os from 'node:os';
import { createEmulator, DEFAULT_EXPERIMENT } from '../../main/emulator/index.ts';
import type { SimulationBackend, SimulationRequest, SimulationResult } from '../../main/emulator/backend.ts';
import { BridgeDriver } from '../../main/bridge/driver.ts';
import { VirtualDevice } from '../../main/bridge/virtual-device.ts';
import { createPtyPair } from '../../main/bridge/pty.ts';
import type { FaultOptions } from '../../main/bridge/faults.ts';
import { capmemRequest } from '../bridge/helpers.ts';

const { values } = parseArgs({ options: { traces: { type: 'string', default: '400' } } });
const traces = Number(values.traces);
const emulator = createEmulator({ warn: () => {} });
const CHIP = 3;

/** Serves, for RUN of row r, row r of a batch the emulator computed up front. */
function replayBackend(table: SimulationResult): SimulationBackend {
  return {
    info: () => ({ ...emulator.info(), id: 'replay of emulator traces' }),
    simulate: async (req: SimulationRequest) => {
      const row = (req.rowOffset ?? 0) % table.n;
      const s = table.samples;
      const a = table.spikeOffsets[row];
      const b = table.spikeOffsets[row + 1];
      return {
        n: 1,
        samples: s,
        sampleRate: table.sampleRate,
        codes: table.codes.slice(row * s, (row + 1) * s),
        spikeCounts: Int32Array.of(b - a),
        spikeTimes: table.spikeTimes.slice(a, b),
        spikeOffsets: Int32Array.of(0, b - a),
      };
    },
  };
}

async function measure(backend: SimulationBackend | undefined, n: number, faults: FaultOptions = {}) {
  const pair = await createPtyPair();
  const device = await VirtualDevice.open(pair.devicePath, { chipSeed: CHIP, backend, faults });
  const driver = new BridgeDriver();
  try {
    await driver.connect(pair.hostPath);
    await driver.simulate(capmemRequest(Math.min(n, 100), { seed: 99 })); // warm-up (JIT)
    const request = capmemRequest(n);
    const before = driver.stats();
    const t0 = performance.now();
    const result = await driver.simulate(request);
    const seconds = (performance.now() - t0) / 1000;
    const after = driver.stats();
    const wire = after.bytesSent - before.bytesSent + (after.bytesReceived - before.bytesReceived);
    const payload = result.codes.byteLength + result.spikeTimes.byteLength;
    return {
      traces: n,
      samplesPerTrace: result.samples,
      seconds: round(seconds, 3),
      tracesPerSecond: round(n / seconds, 1),
      payloadBytes: payload,
      wireBytes: wire,
      overheadPercent: round((100 * (wire - payload)) / payload, 2),
      wireBytesPerTrace: round(wire / n, 1),
      retransmissions: after.retransmissions - before.retransmissions,
    };
  } finally {
    await driver.disconnect();
    await device.close();
    await pair.close();
  }
}

function round(x: number, d: number): number {
  return Math.round(x * 10 ** d) / 10 ** d;
}

const table = await emulator.simulate({ ...capmemRequest(Math.min(traces, 200)), chipSeed: CHIP });
const replay = await measure(replayBackend(table), traces);
const faulty = await measure(replayBackend(table), traces, { corruptRate: 0.01, dropRate: 0.01, seed: 5 });
const endToEnd = await measure(undefined, Math.min(traces, 200));
const t0 = performance.now();
await emulator.simulate({ ...capmemRequest(50), chipSeed: CHIP });
const emulatorAlone = round(50 / ((performance.now() - t0) / 1000), 1);

process.stdout.write(
  JSON.stringify(
    {
      benchmark: 'bridge',
      protocol: 'adexwb bridge protocol v1, COBS + CRC-32, 2046 samples per chunk',
      link: 'socat pty pair (no baud-rate limit), driver and device in one Node process',
      recording: { samples: DEFAULT_EXPERIMENT.samples, durationUs: DEFAULT_EXPERIMENT.duration },
      replay,
      replayWithFaults: { corruptRate: 0.01, dropRate: 0.01, ...faulty },
      emulator: { ...endToEnd, emulatorAloneTracesPerSecond: emulatorAlone, kernel: emulator.info().id },
      machine: {
        cpus: os.cpus().length,
        node: process.versions.node,
        note: 'shared machine; timings are noisy',
      },
    },
    null,
    2,
  ) + '\n',
);
