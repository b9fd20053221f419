/** An in-memory byte duplex pair for bridge tests: what one end writes, the other reads. */

import { Duplex } from 'node:stream';

/** Two connected duplex streams; destroying one ends the other (like an unplugged cable). */
export function duplexPair(): [Duplex, Duplex] {
  let a!: Duplex;
  let b!: Duplex;
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
  a = make(() => b);
  b = make(() => a);
  return [a, b];
}
