import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FrameSplitter } from '../../main/bridge/splitter.ts';
import { MAX_ENCODED_FRAME, decodeRawFrame } from '../../main/bridge/frame.ts';
import { encodeMessage, type Message } from '../../main/bridge/messages.ts';
import { receivePipeline, toEvent, type LinkEvent } from '../../main/bridge/streams.ts';

const ping = (id: number, data = `p${id}`) =>
  encodeMessage({ kind: 'ping', data: Buffer.from(data) }, { requestId: id });

/** Feed chunks through a splitter + CRC check; collect request ids of valid frames and fault names. */
function decodeAll(chunks: Buffer[], splitter = new FrameSplitter()): { ids: number[]; faults: string[] } {
  const ids: number[] = [];
  const faults: string[] = [];
  for (const c of chunks) {
    splitter.push(c, (raw, fault) => {
      if (!raw) return void faults.push(fault!);
      const f = decodeRawFrame(raw);
      if (typeof f === 'string') faults.push(f);
      else ids.push(f.requestId);
    });
  }
  return { ids, faults };
}

describe('FrameSplitter', () => {
  it('decodes a frame split at every possible position', () => {
    const wire = Buffer.concat([ping(1), ping(2)]);
    for (let cut = 0; cut <= wire.length; cut++) {
      expect(decodeAll([wire.subarray(0, cut), wire.subarray(cut)]).ids).toEqual([1, 2]);
    }
  });

  it('decodes frames delivered one byte at a time', () => {
    const wire = Buffer.concat([ping(1), ping(2), ping(3)]);
    expect(decodeAll([...wire].map((b) => Buffer.from([b]))).ids).toEqual([1, 2, 3]);
  });

  it('rejects a frame with a corrupted byte and resynchronizes on the next one', () => {
    const bad = Buffer.from(ping(2));
    bad[5] ^= 0x40;
    const { ids, faults } = decodeAll([Buffer.concat([ping(1), bad, ping(3)])]);
    expect(ids).toEqual([1, 3]);
    expect(faults).toHaveLength(1);
    expect(['crc', 'cobs', 'length']).toContain(faults[0]);
  });

  it('treats consecutive delimiters as idle fill', () => {
    const { ids, faults } = decodeAll([Buffer.from([0, 0, 0]), ping(1), Buffer.from([0, 0]), ping(2)]);
    expect(ids).toEqual([1, 2]);
    expect(faults).toEqual([]);
  });

  it('discards an overlong run without a delimiter, holding at most the maximum frame size', () => {
    const splitter = new FrameSplitter();
    const garbage = Buffer.alloc(3 * MAX_ENCODED_FRAME, 0x55);
    const { ids, faults } = decodeAll([garbage.subarray(0, 5000), garbage.subarray(5000)], splitter);
    expect(splitter.buffered).toBe(0);
    expect(ids).toEqual([]);
    const after = decodeAll([Buffer.from([0]), ping(9)], splitter);
    expect(faults.concat(after.faults)).toEqual(['overflow']);
    expect(after.ids).toEqual([9]);
    expect(splitter.stats.discardedBytes).toBe(garbage.length);
  });

  it('loses a frame that was cut off by garbage but recovers the following frame', () => {
    const first = ping(1);
    const { ids } = decodeAll([first.subarray(0, 6), Buffer.from([0x12, 0x34, 0]), ping(2)]);
    expect(ids).toEqual([2]);
  });
});

describe('receive pipeline (CobsFramer → FrameChecker → MessageDecoder)', () => {
  async function collect(chunks: Buffer[]): Promise<LinkEvent[]> {
    const out: LinkEvent[] = [];
    const events = receivePipeline(Readable.from(chunks));
    for await (const e of events) out.push(e as LinkEvent);
    return out;
  }

  it('emits typed messages in order across arbitrary chunking', async () => {
    const msgs: Message[] = [
      { kind: 'ack', ackedType: 3 },
      { kind: 'traceChunk', offset: 0, codes: Int16Array.from({ length: 1500 }, (_, i) => i % 1024) },
      { kind: 'runDone', samples: 1500, chunks: 1, spikeFrames: 0, spikes: 0, traceCrc: 1 },
    ];
    const wire = Buffer.concat(msgs.map((m, i) => encodeMessage(m, { requestId: 10, seq: i })));
    const chunks: Buffer[] = [];
    for (let i = 0; i < wire.length; i += 333) chunks.push(wire.subarray(i, i + 333));
    const events = await collect(chunks);
    expect(events.map((e) => (e.kind === 'message' ? e.message : e))).toEqual(msgs);
  });

  it('passes faults on as events instead of ending the stream', async () => {
    const bad = Buffer.from(ping(2));
    bad[3] ^= 1;
    const events = await collect([ping(1), bad, Buffer.from([1, 2, 3, 0]), ping(3)]);
    expect(events.map((e) => (e.kind === 'message' ? `msg ${e.frame.requestId}` : e.kind))).toEqual([
      'msg 1',
      'fault',
      'fault',
      'msg 3',
    ]);
  });

  it('reports a frame of another protocol version without decoding its payload', () => {
    const e = toEvent({
      version: 2,
      type: 0x81,
      flags: 0,
      requestId: 5,
      seq: 0,
      payload: Buffer.from([2, 9, 9]),
    });
    expect(e).toMatchObject({
      kind: 'fault',
      fault: 'version',
      detail: 'HELLO_REPLY frame of protocol version 2',
    });
    const e2 = toEvent({ version: 1, type: 0x81, flags: 0, requestId: 5, seq: 0, payload: Buffer.from([3]) });
    expect(e2).toMatchObject({
      kind: 'fault',
      fault: 'version',
      detail: 'HELLO_REPLY frame of protocol version 3',
    });
  });

  it('reports an undecodable payload as a payload fault carrying the frame', () => {
    const e = toEvent({ version: 1, type: 0x05, flags: 0, requestId: 5, seq: 0, payload: Buffer.from([1]) });
    expect(e).toMatchObject({ kind: 'fault', fault: 'payload', detail: 'RUN payload too short (1 bytes)' });
  });
});
