/**
 * Consistent Overhead Byte Stuffing (Cheshire & Baker 1999): removes every 0x00 from a block so
 * 0x00 can delimit frames on the wire. Overhead is at most one byte per 254 bytes plus one.
 *
 * Encoding: the block is cut at each zero; each piece of up to 254 non-zero bytes is preceded by a
 * code byte = piece length + 1. A code of 0xFF means "254 data bytes, no zero follows".
 *
 *   raw     11 22 00 33          encoded  03 11 22 02 33
 *   raw     00                   encoded  01 01
 */

/** Largest COBS encoding of `n` raw bytes (without the 0x00 delimiter). */
export function cobsMaxEncodedLength(n: number): number {
  return n + Math.floor(n / 254) + 1;
}

/**
 * COBS-encode `src[start..end)` into `dst` at `dstOffset`; returns the number of bytes written.
 * `dst` must have room for `cobsMaxEncodedLength(end - start)` bytes. No delimiter is written.
 */
export function cobsEncodeInto(
  src: Uint8Array,
  dst: Uint8Array,
  dstOffset = 0,
  start = 0,
  end = src.length,
): number {
  let codeIndex = dstOffset;
  let out = dstOffset + 1;
  let code = 1;
  for (let i = start; i < end; i++) {
    const b = src[i];
    if (b === 0) {
      dst[codeIndex] = code;
      codeIndex = out++;
      code = 1;
    } else {
      dst[out++] = b;
      code++;
      if (code === 0xff) {
        dst[codeIndex] = code;
        codeIndex = out++;
        code = 1;
      }
    }
  }
  dst[codeIndex] = code;
  return out - dstOffset;
}

/**
 * COBS-decode `src[start..end)` (one frame, delimiter removed) into `dst`; returns the decoded
 * length, or -1 if the block is not valid COBS (a zero byte inside, or a code running past the end)
 * or does not fit in `dst`.
 */
export function cobsDecodeInto(src: Uint8Array, dst: Uint8Array, start = 0, end = src.length): number {
  let out = 0;
  let i = start;
  while (i < end) {
    const code = src[i++];
    if (code === 0) return -1;
    const stop = i + code - 1;
    if (stop > end || out + (code - 1) > dst.length) return -1;
    for (; i < stop; i++) {
      const b = src[i];
      if (b === 0) return -1;
      dst[out++] = b;
    }
    // A zero follows every piece except a full 254-byte piece and the last piece of the block.
    if (code !== 0xff && i < end) {
      if (out >= dst.length) return -1;
      dst[out++] = 0;
    }
  }
  return out;
}

/** Convenience: COBS-encode a whole block into a new Buffer (no delimiter). */
export function cobsEncode(src: Uint8Array): Buffer {
  const dst = Buffer.allocUnsafe(cobsMaxEncodedLength(src.length));
  return dst.subarray(0, cobsEncodeInto(src, dst));
}

/** Convenience: COBS-decode a whole block into a new Buffer; throws on invalid input. */
export function cobsDecode(src: Uint8Array): Buffer {
  const dst = Buffer.allocUnsafe(src.length);
  const n = cobsDecodeInto(src, dst);
  if (n < 0) throw new RangeError('invalid COBS block');
  return dst.subarray(0, n);
}
