/** Types of run-gate.mjs (see there). */
export function createRunGate(): SharedArrayBuffer;
export function useRunGate(buffer: SharedArrayBuffer | null | undefined): void;
export function runGateBuffer(): SharedArrayBuffer | null;
export function gated<T>(call: () => Promise<T>): Promise<T>;
export function closeRunGate(buffer: SharedArrayBuffer): boolean;
