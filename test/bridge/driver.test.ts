import { describe, expect, it } from 'vitest';
import {
  DEFAULT_EXPERIMENT,
  INFERRED_PARAMETERS,
  createEmulator,
  modelToCapmem,
} from '../../main/emulator/index.ts';
import { BridgeDriver, type BridgeDriverOptions } from '../../main/bridge/driver.ts';
import { BridgeError } from '../../main/bridge/errors.ts';
import { VirtualDevice, type VirtualDeviceOptions } from '../../main/bridge/virtual-device.ts';
import { FrameType } from '../../main/bridge/frame.ts';
import { FrameLink } from '../../main/bridge/link.ts';
import { Session, type RunData } from '../../main/bridge/session.ts';
import { virtualParameterTable } from '../../main/bridge/virtual-device.ts';
import { duplexPair } from './pair.ts';
import { capmemRequest, filteringCable } from './helpers.ts';

// The TypeScript kernel is bit-identical to the native one and does not depend on a native build.
const emulator = createEmulator({ kernel: 'typescript' });
const FAST = { requestTimeoutMs: 150, runTimeoutMs: 400, maxAttempts: 8, maxRunRetries: 30 };

async function connected(device: VirtualDeviceOptions = {}, driver: BridgeDriverOptions = FAST) {
  const [h, d] = duplexPair();
  const dev = new VirtualDevice({ backend: emulator, chipSeed: 5, ...device });
  dev.serve(d);
  const drv = new BridgeDriver(driver);
  await drv.attach(h, 'memory');
  return { dev, drv };
}

async function expectBridgeError(p: Promise<unknown>, code: string, message: RegExp): Promise<BridgeError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BridgeError);
  expect((err as BridgeError).code).toBe(code);
  expect((err as BridgeError).message).toMatch(message);
  return err as BridgeError;
}

describe('BridgeDriver against the virtual device (in-memory link)', () => {
  it('handshakes, reports device and chip info, and answers ping', async () => {
    const { drv } = await connected({ deviceId: 'bench-board-1' });
    const info = drv.deviceInfo();
    expect(info).toMatchObject({
      deviceId: 'bench-board-1',
      protocolVersion: 1,
      circuits: 512,
      sampleRate: 5e6,
      maxSamples: 65535,
    });
    expect(info.capabilities).toEqual(['abort', 'calibration', 'spike_events']);
    expect(info.chipId).toBe('emulated-chip-5');
    expect(info.parameters.map((p) => p.name)).toContain('tau_w');
    expect(drv.info()).toMatchObject({ kind: 'hardware', id: 'bench-board-1', circuits: 512 });
    expect(await drv.ping()).toBeGreaterThan(0);
    await drv.disconnect();
    expect(drv.connected).toBe(false);
  });

  it('returns exactly the emulator traces and spikes for the same request, seed and chip', async () => {
    const { drv } = await connected({ chunkSamples: 300 });
    const request = capmemRequest(6, {
      circuits: Int32Array.of(0, 17, 511, 3, 3, 100),
      rowOffset: 40,
      fixed: { e_l: 690, c_mem: 60 },
      stimulus: {
        kind: 'piecewise',
        segments: [
          { start: 0, amplitude: 0 },
          { start: 30, amplitude: 450 },
          { start: 150, amplitude: 100 },
        ],
      },
    });
    const progress: number[] = [];
    const got = await drv.simulate(request, { onProgress: (p) => progress.push(p.done) });
    const want = await emulator.simulate({ ...request, chipSeed: 5 });
    expect(got.samples).toBe(1000);
    expect(got.sampleRate).toBe(want.sampleRate);
    expect(got.codes).toEqual(want.codes);
    expect(got.spikeCounts).toEqual(want.spikeCounts);
    expect(got.spikeOffsets).toEqual(want.spikeOffsets);
    expect(got.spikeTimes).toEqual(want.spikeTimes);
    expect(Array.from(got.spikeCounts).some((c) => c > 0)).toBe(true);
    expect(progress).toEqual([1, 2, 3, 4, 5, 6]);
    await drv.disconnect();
  });

  it('refuses requests the hardware cannot run, naming the problem', async () => {
    const { drv } = await connected();
    const r = capmemRequest(2);
    await expectBridgeError(
      drv.simulate({ ...r, space: 'model' }),
      'invalid-request',
      /takes CapMem codes.*'model'/,
    );
    await expectBridgeError(drv.simulate({ ...r, mode: 'ideal' }), 'invalid-request', /'hardware' mode only/);
    const theta = Float32Array.from(r.theta);
    theta[7 + 2] = 1500;
    await expectBridgeError(
      drv.simulate({ ...r, theta }),
      'invalid-request',
      /row 1, parameter 'v_t': CapMem value 1500 outside 0\.\.1022/,
    );
    await expectBridgeError(
      drv.simulate({ ...r, paramNames: [...r.paramNames.slice(0, 6), 'g_x'] }),
      'invalid-request',
      /parameter 'g_x' is not accepted/,
    );
    await expectBridgeError(
      drv.simulate({ ...r, circuits: Int32Array.of(0, 512) }),
      'invalid-request',
      /row 1: circuit 512 outside 0\.\.511/,
    );
    await expectBridgeError(
      drv.simulate({ ...r, duration: 20000 }),
      'invalid-request',
      /needs 100000 samples, the device records at most 65535/,
    );
    // The device itself rejects a stimulus amplitude outside the CapMem range.
    await expectBridgeError(
      drv.simulate({ ...r, stimulus: { kind: 'step', onset: 10, duration: 50, amplitude: 5000 } }),
      'device',
      /rejected SET_STIMULUS: VALUE_OUT_OF_RANGE/,
    );
    await drv.disconnect();
  });

  it('runs model-space requests through the nominal CapMem transfer when asked to', async () => {
    const { drv } = await connected({}, { ...FAST, convertModelSpace: true });
    const names = INFERRED_PARAMETERS.map((p) => p.name);
    const theta = Float32Array.from(INFERRED_PARAMETERS.map((p) => (p.modelRange[0] + p.modelRange[1]) / 2));
    const request = {
      ...capmemRequest(1),
      theta,
      paramNames: names,
      space: 'model' as const,
      stimulus: DEFAULT_EXPERIMENT.stimulus,
      fixed: { e_l: -65 },
    };
    const got = await drv.simulate(request);
    const codes = Float32Array.from(names.map((n, j) => Math.round(modelToCapmem(n, theta[j]))));
    const want = await emulator.simulate({
      ...request,
      theta: codes,
      space: 'capmem',
      fixed: { e_l: Math.round(modelToCapmem('e_l', -65)) },
      stimulus: { ...DEFAULT_EXPERIMENT.stimulus, amplitude: DEFAULT_EXPERIMENT.stimulusCapmem },
      chipSeed: 5,
    });
    expect(got.codes).toEqual(want.codes);
    await drv.disconnect();
  });

  it('recovers corrupted and dropped frames in both directions by retransmission', async () => {
    const { drv, dev } = await connected({
      chunkSamples: 128,
      faults: { corruptRate: 0.1, dropRate: 0.1, seed: 3 },
    });
    const request = capmemRequest(8);
    const got = await drv.simulate(request);
    const want = await emulator.simulate({ ...request, chipSeed: 5 });
    expect(got.codes).toEqual(want.codes);
    expect(got.spikeTimes).toEqual(want.spikeTimes);
    expect(dev.stats.corrupted).toBeGreaterThan(0);
    expect(dev.stats.dropped).toBeGreaterThan(0);
    expect(dev.stats.resends).toBeGreaterThan(0);
    expect(drv.stats().retransmissions).toBeGreaterThan(0);
    await drv.disconnect();
  });

  it('fails a run whose chunk never arrives with an error naming it, and returns nothing partial', async () => {
    const [h, d] = filteringCable((f) => !(f.type === FrameType.TRACE_CHUNK && f.seq === 2));
    new VirtualDevice({ backend: emulator, chipSeed: 5, chunkSamples: 100 }).serve(d);
    const drv = new BridgeDriver({ ...FAST, maxRunRetries: 4 });
    await drv.attach(h, 'memory');
    let progress = 0;
    await expectBridgeError(
      drv.simulate(capmemRequest(3), { onProgress: () => progress++ }),
      'incomplete',
      /run of row 0 on circuit 0 could not be completed: frames 2 missing after 4 retransmission requests/,
    );
    expect(progress).toBe(0);
    await drv.disconnect();
  });

  it('recovers a lost RUN_DONE from the order of the replies, without waiting for the idle timeout', async () => {
    let runDones = 0;
    const [h, d] = filteringCable(
      (f) => !(f.type === FrameType.RUN_DONE && (f.flags & 1) === 0 && ++runDones === 2),
    );
    new VirtualDevice({ backend: emulator, chipSeed: 5 }).serve(d);
    // An idle timeout longer than the test's own timeout: only the ordering rule can recover.
    const drv = new BridgeDriver({ ...FAST, runTimeoutMs: 60_000 });
    await drv.attach(h, 'memory');
    const request = capmemRequest(4);
    const got = await drv.simulate(request);
    expect(runDones).toBeGreaterThanOrEqual(4);
    expect(got.codes).toEqual((await emulator.simulate({ ...request, chipSeed: 5 })).codes);
    expect(drv.stats().retransmissions).toBe(1);
    await drv.disconnect();
  }, 20_000);

  it('refuses a device that announces an unknown protocol version, naming both versions', async () => {
    const [h, d] = duplexPair();
    new VirtualDevice({ protocolVersion: 2 }).serve(d);
    const drv = new BridgeDriver(FAST);
    await expectBridgeError(
      drv.attach(h, 'memory'),
      'version',
      /device on memory speaks bridge protocol version 2, this workbench speaks version 1/,
    );
    expect(drv.connected).toBe(false);
  });

  it('gives up on a silent device with a timeout naming the request and the attempts', async () => {
    const [h] = duplexPair();
    const drv = new BridgeDriver({ requestTimeoutMs: 30, maxAttempts: 3 });
    await expectBridgeError(
      drv.attach(h, 'memory'),
      'timeout',
      /no reply from the device on memory to HELLO after 3 attempts \(30 ms each\)/,
    );
  });

  it('reports a disconnect mid-run and resumes work after reconnecting', async () => {
    const [h, d] = duplexPair();
    new VirtualDevice({ backend: emulator, chipSeed: 5 }).serve(d);
    const drv = new BridgeDriver(FAST);
    await drv.attach(h, 'memory');
    const request = capmemRequest(6);
    await expectBridgeError(
      drv.simulate(request, { onProgress: (p) => p.done === 2 && d.destroy() }),
      'disconnected',
      /device disconnected \(memory/,
    );
    expect(drv.connected).toBe(false);
    await expectBridgeError(drv.simulate(request), 'disconnected', /connect again to resume/);
    const [h2, d2] = duplexPair();
    new VirtualDevice({ backend: emulator, chipSeed: 5 }).serve(d2);
    await drv.attach(h2, 'memory');
    const got = await drv.simulate(request);
    expect(got.codes).toEqual((await emulator.simulate({ ...request, chipSeed: 5 })).codes);
    await drv.disconnect();
  });

  it('aborts a run when the caller cancels and stays usable', async () => {
    const { drv } = await connected({ faults: { delayMs: 20 } });
    const ctl = new AbortController();
    const request = capmemRequest(5);
    const p = drv.simulate(request, {
      signal: ctl.signal,
      onProgress: (q) => q.done === 1 && ctl.abort(new Error('cancelled by the user')),
    });
    await expect(p).rejects.toThrow('cancelled by the user');
    const got = await drv.simulate(capmemRequest(1));
    expect(got.n).toBe(1);
    await drv.disconnect();
  });

  it('runs concurrent simulate calls one after the other without mixing rows', async () => {
    const { drv } = await connected();
    const a = capmemRequest(2, { seed: 1 });
    const b = capmemRequest(2, { seed: 2 });
    const [ra, rb] = await Promise.all([drv.simulate(a), drv.simulate(b)]);
    expect(ra.codes).toEqual((await emulator.simulate({ ...a, chipSeed: 5 })).codes);
    expect(rb.codes).toEqual((await emulator.simulate({ ...b, chipSeed: 5 })).codes);
    await drv.disconnect();
  });

  it('passes the device error naming the cause when the device cannot run a request', async () => {
    const { drv } = await connected();
    await expectBridgeError(
      drv.simulate(capmemRequest(3, { duration: 200.1 })),
      'device',
      /device on memory rejected RUN: VALUE_OUT_OF_RANGE \(duration 200.1 us is not a whole number of MADC samples/,
    );
    expect((await drv.simulate(capmemRequest(1))).n).toBe(1);
    await drv.disconnect();
  });
});

describe('protocol session against the virtual device', () => {
  it('CONFIGURE replaces the circuit configuration and a RUN without inline values uses it', async () => {
    const [h, d] = duplexPair();
    new VirtualDevice({ backend: emulator, chipSeed: 2 }).serve(d);
    const session = new Session(new FrameLink(h), 'memory', FAST);
    await session.handshake();
    const id = (name: string) => virtualParameterTable().find((p) => p.name === name)!.id;
    const ack = await session.request(
      {
        kind: 'configure',
        circuit: 7,
        ids: Uint8Array.of(id('tau_mem'), id('b')),
        values: Uint16Array.of(120, 400),
      },
      'ack',
    );
    expect(ack.ackedType).toBe(FrameType.CONFIGURE);
    await session.request(
      {
        kind: 'setStimulus',
        segments: [
          { start: 0, amplitude: 0 },
          { start: 20, amplitude: 500 },
        ],
      },
      'ack',
    );
    const got: RunData[] = [];
    const run = {
      circuit: 7,
      duration: 100,
      seed: 4,
      row: 0,
      ids: new Uint8Array(0),
      values: new Uint16Array(0),
    };
    await session.runMany([run, { ...run, row: 1 }], (_i, data) => got.push(data));
    const want = await emulator.simulate({
      theta: Float32Array.of(120, 400, 120, 400),
      paramNames: ['tau_mem', 'b'],
      space: 'capmem',
      mode: 'hardware',
      chipSeed: 2,
      circuits: Int32Array.of(7, 7),
      stimulus: {
        kind: 'piecewise',
        segments: [
          { start: 0, amplitude: 0 },
          { start: 20, amplitude: 500 },
        ],
      },
      duration: 100,
      seed: 4,
    });
    expect(got.map((g) => Array.from(g.codes))).toEqual([
      Array.from(want.codes.subarray(0, 500)),
      Array.from(want.codes.subarray(500)),
    ]);
    await expect(
      session.request(
        { kind: 'configure', circuit: 7, ids: Uint8Array.of(99), values: Uint16Array.of(1) },
        'ack',
      ),
    ).rejects.toThrow(/rejected CONFIGURE: UNKNOWN_PARAMETER \(no parameter with id 99\)/);
    h.destroy();
  });

  it('answers a RUN without a stimulus with NO_STIMULUS', async () => {
    const [h, d] = duplexPair();
    new VirtualDevice({ backend: emulator }).serve(d);
    const session = new Session(new FrameLink(h), 'memory', FAST);
    await session.handshake();
    const run = {
      circuit: 0,
      duration: 100,
      seed: 1,
      row: 0,
      ids: new Uint8Array(0),
      values: new Uint16Array(0),
    };
    await expect(session.runMany([run], () => {})).rejects.toThrow(/rejected RUN: NO_STIMULUS/);
    h.destroy();
  });
});
