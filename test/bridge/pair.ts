/** An in-memory byte duplex pair for bridge tests: what one end writes, the other reads. */

import { Duplex } from 'node:stream';

/** Two connected duplex streams; destroying one ends the other (like an unplugged cable). */
export function duplexPair(): [Duplex, Duplex] {
  const ends: Duplex[] = [];
  const make = (peer: () => Duplex) =>
    new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        const p = peer();
        if (!p.destroyed) p.push(Buffer.from(chunk));
        cb();
      },
      destroy(err, cb) {
        const p = peer();
        setImmediate(() => p.destroy());
        cb(err);
      },
    });
  ends.push(
    make(() => ends[1]),
    make(() => ends[0]),
  );
  return [ends[0], ends[1]];
}
