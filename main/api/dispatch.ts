import type { z } from 'zod';
import {
  ApiError,
  calls,
  MAX_PAYLOAD_BYTES,
  type CallName,
  type CallResult,
  type Envelope,
  type ParsedArgs,
} from './contract.ts';

/** One implementation function per call, receiving already-validated arguments. */
export type Handlers = { [K in CallName]: (args: ParsedArgs<K>) => Promise<CallResult<K>> };

/** Turn zod issues into one line a person can act on, naming each offending field. */
export function describeIssues(call: string, error: z.ZodError): string {
  const parts = error.issues.slice(0, 5).map((i) => {
    const where = i.path.length ? i.path.map(String).join('.') : 'arguments';
    if (i.code === 'unrecognized_keys')
      return `unknown field${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `'${k}'`).join(', ')}`;
    return `${where}: ${i.message}`;
  });
  const more = error.issues.length > 5 ? ` (and ${error.issues.length - 5} more)` : '';
  return `invalid arguments for '${call}': ${parts.join('; ')}${more}`;
}

/**
 * Validate and run one call. Never throws: every outcome is an envelope, errors carry a code and a
 * message. Unknown calls and invalid payloads are rejected before any handler runs.
 */
export async function dispatch(
  handlers: Handlers,
  name: unknown,
  payload: unknown,
): Promise<Envelope<unknown>> {
  try {
    if (typeof name !== 'string' || !Object.prototype.hasOwnProperty.call(calls, name)) {
      throw new ApiError('unknown_call', `unknown API call '${String(name).slice(0, 100)}'`);
    }
    const call = name as CallName;
    const parsed = calls[call].args.safeParse(payload ?? {});
    if (!parsed.success) throw new ApiError('invalid_argument', describeIssues(call, parsed.error));
    const handler = handlers[call] as (args: unknown) => Promise<unknown>;
    return { ok: true, value: await handler(parsed.data) };
  } catch (err) {
    if (err instanceof ApiError) return { ok: false, error: { code: err.code, message: err.message } };
    const e = err as Error;
    const cancelled = e?.name === 'JobCancelled';
    return {
      ok: false,
      error: { code: cancelled ? 'cancelled' : 'failed', message: e?.message ?? String(err) },
    };
  }
}

/** Parse a JSON request body with the payload size limit; errors are ApiErrors. */
export function parsePayload(text: string): unknown {
  if (Buffer.byteLength(text) > MAX_PAYLOAD_BYTES) {
    throw new ApiError('invalid_argument', `payload too large (limit ${MAX_PAYLOAD_BYTES} bytes)`);
  }
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError('invalid_argument', 'payload is not valid JSON');
  }
}
