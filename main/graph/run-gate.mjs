// The run gate of a job's thread. A worker thread stopped while a native call runs for it (an
// onnxruntime-node session run, the emulator kernel) aborts the whole process ("terminate called
// after throwing an instance of 'Napi::Error'"). So the job runner gives each job's thread a gate
// in shared memory that counts the native calls in progress, in that thread and in the session
// workers it starts, and stops the thread only once it has closed the gate (no call starts from
// then on) and the count is zero.
//
// Plain JavaScript, so that the session workers (session-worker.mjs) use it without TypeScript.
// Layout: one Int32, the number of calls in progress, plus CLOSED once the gate is closed.

const CLOSED = 1 << 30;

/** This thread's gate, or null outside jobs (then calls are not counted). */
let gate = null;

/** A new gate's shared memory. */
export function createRunGate() {
  return new SharedArrayBuffer(4);
}

/** Counts this thread's native calls in the gate over `buffer` (null: no gate). */
export function useRunGate(buffer) {
  gate = buffer ? new Int32Array(buffer) : null;
}

/** The shared memory of this thread's gate, for the workers it starts (null when there is none). */
export function runGateBuffer() {
  return gate ? gate.buffer : null;
}

/**
 * Runs `call` (a native call, returning a promise) counted in this thread's gate, from before it
 * starts until its promise settles.
 * @throws Error when the gate is closed: the thread is being stopped.
 */
export async function gated(call) {
  if (!gate) return call();
  for (;;) {
    const v = Atomics.load(gate, 0);
    if (v & CLOSED)
      throw new Error('the job is being stopped: no native call (onnxruntime, emulator) starts any more');
    if (Atomics.compareExchange(gate, 0, v, v + 1) === v) break;
  }
  try {
    return await call();
  } finally {
    Atomics.sub(gate, 0, 1);
  }
}

/**
 * Closes the gate over `buffer` (no native call starts from now on) and tells whether no call is
 * in progress, so that its thread can be stopped safely. Call it again until it returns true.
 */
export function closeRunGate(buffer) {
  const g = new Int32Array(buffer);
  Atomics.or(g, 0, CLOSED);
  return (Atomics.load(g, 0) & ~CLOSED) === 0;
}
