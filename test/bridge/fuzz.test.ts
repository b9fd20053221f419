import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameSplitter } from '../../main/bridge/splitter.ts';
import { MAX_ENCODED_FRAME, decodeRawFrame } from '../../main/bridge/frame.ts';
import { cobsDecode, cobsEncode } from '../../main/bridge/cobs.ts';
import { decodeMessage, encodeMessage } from '../../main/bridge/messages.ts';
import { toEvent } from '../../main/bridge/streams.ts';

/** The full receive path on one splitter: never throws, returns decoded request ids of valid frames. */
function feed(splitter: FrameSplitter, chunks: Uint8Array[]): number[] {
  const ids: number[] = [];
  for (const c of chunks) {
    splitter.push(c, (raw) => {
      if (!raw) return;
      const f = decodeRawFrame(raw);
      if (typeof f === 'string') return;
      const e = toEvent(f);
      if (e.kind === 'message') ids.push(f.requestId);
    });
    expect(splitter.buffered).toBeLessThanOrEqual(MAX_ENCODED_FRAME);
  }
  return ids;
}

const bytes = (max: number) => fc.uint8Array({ maxLength: max });
/** Garbage biased towards bytes that look like protocol structure. */
const adversarial = fc
  .array(fc.oneof(fc.constantFrom(0x00, 0x01, 0xff, 0x81, 0x85), fc.integer({ min: 0, max: 255 })), {
    maxLength: 600,
  })
  .map((a) => Uint8Array.from(a));
const validFrame = fc
  .record({ id: fc.integer({ min: 1, max: 0xffff }), data: bytes(64) })
  .map(({ id, data }) => ({
    id,
    wire: encodeMessage({ kind: 'ping', data: Buffer.from(data) }, { requestId: id }),
  }));

describe('frame decoder under arbitrary input (property-based)', () => {
  it('never throws and keeps its buffer bounded on random bytes in random chunks', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(bytes(200), adversarial, bytes(9000)), { maxLength: 12 }), (chunks) => {
        feed(new FrameSplitter(), chunks);
      }),
      { numRuns: 300 },
    );
  });

  it('decodes the next valid frame after any garbage once a delimiter passes', () => {
    fc.assert(
      fc.property(
        fc.oneof(bytes(300), adversarial, bytes(10000)),
        validFrame,
        fc.integer({ min: 1, max: 64 }),
        (garbage, frame, step) => {
          const stream = Buffer.concat([garbage, Buffer.from([0]), frame.wire]);
          const chunks: Uint8Array[] = [];
          for (let i = 0; i < stream.length; i += step) chunks.push(stream.subarray(i, i + step));
          const ids = feed(new FrameSplitter(), chunks);
          expect(ids[ids.length - 1]).toBe(frame.id);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('recovers every intact frame of a stream in which random frames were damaged', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            validFrame,
            fc.option(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { nil: undefined }),
          ),
          {
            minLength: 1,
            maxLength: 20,
          },
        ),
        (items) => {
          const intact: number[] = [];
          const parts = items.map(([f, damage]) => {
            if (!damage) {
              intact.push(f.id);
              return f.wire;
            }
            const w = Buffer.from(f.wire);
            w[damage[0] % (w.length - 1)] ^= damage[1]; // never the delimiter
            return w;
          });
          const ids = feed(new FrameSplitter(), [Buffer.concat(parts)]);
          // Every intact frame must arrive whatever happened to its neighbours.
          for (const id of intact) expect(ids).toContain(id);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('decodeMessage throws only PayloadError on random payloads of every frame type', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), bytes(64), (type, payload) => {
        try {
          decodeMessage({ version: 1, type, flags: 0, requestId: 1, seq: 0, payload: Buffer.from(payload) });
        } catch (err) {
          expect((err as Error).name).toBe('PayloadError');
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('COBS round-trips any block', () => {
    fc.assert(
      fc.property(bytes(2000), (raw) => {
        const enc = cobsEncode(raw);
        expect(enc.includes(0)).toBe(false);
        expect(cobsDecode(enc)).toEqual(Buffer.from(raw));
      }),
      { numRuns: 300 },
    );
  });
});
