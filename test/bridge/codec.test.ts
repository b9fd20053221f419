import { describe, expect, it } from 'vitest';
import { crc32 } from '../../main/bridge/crc32.ts';
import { cobsDecode, cobsDecodeInto, cobsEncode, cobsMaxEncodedLength } from '../../main/bridge/cobs.ts';
import {
  FrameType,
  HEADER_SIZE,
  MAX_PAYLOAD,
  decodeRawFrame,
  encodeFrame,
  type Frame,
} from '../../main/bridge/frame.ts';
import {
  ErrorCode,
  PayloadError,
  decodeMessage,
  encodeMessage,
  encodePayload,
  KIND_TYPE,
  type Message,
} from '../../main/bridge/messages.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Decode the wire bytes of one frame (COBS + delimiter) into a Frame, failing the test otherwise. */
function unwire(wire: Buffer): Frame {
  expect(wire[wire.length - 1]).toBe(0);
  const f = decodeRawFrame(cobsDecode(wire.subarray(0, wire.length - 1)));
  if (typeof f === 'string') throw new Error(`frame rejected: ${f}`);
  return f;
}

describe('crc32', () => {
  it('gives the standard check value for "123456789"', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });
  it('covers only the given range', () => {
    const b = Buffer.from('xx123456789yy');
    expect(crc32(b, 2, 11)).toBe(0xcbf43926);
  });
});

describe('COBS', () => {
  it('encodes the reference examples', () => {
    expect(cobsEncode(hex('00'))).toEqual(hex('01 01'));
    expect(cobsEncode(hex('00 00'))).toEqual(hex('01 01 01'));
    expect(cobsEncode(hex('11 22 00 33'))).toEqual(hex('03 11 22 02 33'));
    expect(cobsEncode(hex('11 22 33 44'))).toEqual(hex('05 11 22 33 44'));
    expect(cobsEncode(hex('11 00 00 00'))).toEqual(hex('02 11 01 01 01'));
  });

  it('round-trips blocks around the 254-byte group boundary without zeros in the output', () => {
    for (const n of [0, 1, 253, 254, 255, 508, 509, 1000]) {
      for (const fill of [0x00, 0x01, 0xff]) {
        const raw = Buffer.alloc(n, fill);
        if (n > 3) raw[3] = 0;
        const enc = cobsEncode(raw);
        expect(enc.includes(0)).toBe(false);
        expect(enc.length).toBeLessThanOrEqual(cobsMaxEncodedLength(n));
        expect(cobsDecode(enc)).toEqual(raw);
      }
    }
  });

  it('rejects a block with a zero byte or a code running past the end', () => {
    const out = Buffer.alloc(16);
    expect(cobsDecodeInto(hex('03 11 00'), out)).toBe(-1);
    expect(cobsDecodeInto(hex('05 11 22'), out)).toBe(-1);
    expect(cobsDecodeInto(hex('00'), out)).toBe(-1);
  });

  it('refuses to write past the destination buffer', () => {
    expect(cobsDecodeInto(cobsEncode(Buffer.alloc(20, 7)), Buffer.alloc(10))).toBe(-1);
  });
});

describe('frames', () => {
  it('encodes the worked example of docs/bridge-protocol.md byte for byte', () => {
    const wire = encodeMessage(
      { kind: 'configure', circuit: 5, ids: Uint8Array.of(1, 2), values: Uint16Array.of(300, 700) },
      { requestId: 0x0102 },
    );
    expect(wire).toEqual(hex('03 01 03 03 02 01 01 02 09 02 05 0c 02 01 2c 01 02 bc 02 1f 3a 34 9a 00'));
    expect(cobsDecode(wire.subarray(0, -1))).toEqual(
      hex('01 03 00 02 01 00 00 09 00 05 00 02 01 2c 01 02 bc 02 1f 3a 34 9a'),
    );
  });

  it('round-trips header fields and payload', () => {
    const payload = Buffer.from([0, 1, 2, 0, 255]);
    const f = unwire(
      encodeFrame({ type: FrameType.TRACE_CHUNK, flags: 1, requestId: 0xbeef, seq: 513 }, payload),
    );
    expect(f).toEqual({
      version: 1,
      type: FrameType.TRACE_CHUNK,
      flags: 1,
      requestId: 0xbeef,
      seq: 513,
      payload,
    });
  });

  it('rejects a frame whose CRC does not match, whatever single byte is flipped', () => {
    const raw = cobsDecode(
      encodeFrame({ type: FrameType.PING, requestId: 9 }, Buffer.from('hello')).subarray(0, -1),
    );
    for (let i = 0; i < raw.length; i++) {
      const bad = Buffer.from(raw);
      bad[i] ^= 0x10;
      expect(['crc', 'length']).toContain(decodeRawFrame(bad));
    }
  });

  it('rejects short frames and frames whose length field disagrees', () => {
    expect(decodeRawFrame(Buffer.alloc(HEADER_SIZE))).toBe('short');
    const raw = cobsDecode(
      encodeFrame({ type: FrameType.PING, requestId: 1 }, Buffer.from('ab')).subarray(0, -1),
    );
    expect(decodeRawFrame(Buffer.concat([raw, Buffer.from([1])]))).toBe('length');
  });

  it('refuses to encode a payload above MAX_PAYLOAD', () => {
    expect(() => encodeFrame({ type: FrameType.PING, requestId: 1 }, Buffer.alloc(MAX_PAYLOAD + 1))).toThrow(
      /exceeds the maximum of 4096/,
    );
    expect(() =>
      encodeFrame({ type: FrameType.PING, requestId: 1 }, Buffer.alloc(MAX_PAYLOAD)),
    ).not.toThrow();
  });
});

describe('messages', () => {
  const samples: Message[] = [
    { kind: 'hello', minVersion: 1, maxVersion: 1 },
    { kind: 'getInfo' },
    { kind: 'configure', circuit: 511, ids: Uint8Array.of(1, 7, 13), values: Uint16Array.of(0, 1022, 63) },
    {
      kind: 'setStimulus',
      segments: [
        { start: 0, amplitude: 0 },
        { start: 20, amplitude: 500 },
        { start: 180, amplitude: 0 },
      ],
    },
    {
      kind: 'run',
      circuit: 3,
      duration: 200,
      seed: 0xffffffff,
      row: 123456,
      ids: Uint8Array.of(1, 2),
      values: Uint16Array.of(275, 1022),
    },
    {
      kind: 'run',
      circuit: 0,
      duration: 0.5,
      seed: 0,
      row: 0,
      ids: new Uint8Array(0),
      values: new Uint16Array(0),
    },
    { kind: 'resend', seqs: [0, 5, 65535] },
    { kind: 'abort' },
    { kind: 'ping', data: Buffer.from('adexwb') },
    {
      kind: 'helloReply',
      protocolVersion: 1,
      firmware: '2.10.3',
      circuits: 512,
      sampleRate: 29411765,
      maxSamples: 65535,
      maxPayload: 4096,
      chunkSamples: 2046,
      window: 8,
      capabilities: 7,
      deviceId: 'bridge-ß-01',
    },
    {
      kind: 'infoReply',
      chipId: 'W66F3',
      calibrated: true,
      calibration: 'calix 2026-11-01',
      params: [{ id: 1, name: 'tau_mem', minValue: 1, maxValue: 1022, defaultValue: 275 }],
    },
    { kind: 'ack', ackedType: FrameType.CONFIGURE },
    { kind: 'nack', fault: 5 },
    { kind: 'traceChunk', offset: 2046, codes: Int16Array.of(0, 1023, 512, -1) },
    { kind: 'spikes', times: Float32Array.of(20.5, 33.25) },
    { kind: 'runDone', samples: 1000, chunks: 1, spikeFrames: 1, spikes: 2, traceCrc: 0xdeadbeef },
    { kind: 'pong', data: Buffer.alloc(0) },
    { kind: 'error', code: ErrorCode.BAD_CIRCUIT, detail: 600, message: 'circuit 600 outside 0..511' },
  ];

  it('covers every message kind in this test', () => {
    expect(new Set(samples.map((m) => m.kind))).toEqual(new Set(Object.keys(KIND_TYPE)));
  });

  for (const m of samples) {
    it(`round-trips ${m.kind}`, () => {
      const f = unwire(encodeMessage(m, { requestId: 77, seq: 4 }));
      expect(f.type).toBe(KIND_TYPE[m.kind]);
      expect(decodeMessage(f)).toEqual(m);
    });
  }

  it('names the frame type when a payload is truncated or has trailing bytes', () => {
    const payload = encodePayload({
      kind: 'configure',
      circuit: 1,
      ids: Uint8Array.of(1),
      values: Uint16Array.of(5),
    });
    const frame = (p: Buffer): Frame => ({
      version: 1,
      type: FrameType.CONFIGURE,
      flags: 0,
      requestId: 1,
      seq: 0,
      payload: p,
    });
    expect(() => decodeMessage(frame(payload.subarray(0, 5)))).toThrow(
      new PayloadError('CONFIGURE payload too short (5 bytes)'),
    );
    expect(() => decodeMessage(frame(Buffer.concat([payload, Buffer.from([0])])))).toThrow(
      /CONFIGURE payload has 1 unexpected trailing bytes/,
    );
  });

  it('rejects an unknown frame type and a SPIKES frame whose count disagrees with its size', () => {
    expect(() =>
      decodeMessage({ version: 1, type: 0x3c, flags: 0, requestId: 1, seq: 0, payload: Buffer.alloc(0) }),
    ).toThrow('unknown frame type 0x3C');
    const bad = Buffer.from([3, 0, 0, 0, 0, 0]);
    expect(() =>
      decodeMessage({ version: 1, type: FrameType.SPIKES, flags: 0, requestId: 1, seq: 0, payload: bad }),
    ).toThrow(/announces 3 spikes but carries 4 bytes/);
  });
});
