/** Errors of the hardware bridge; `code` says what went wrong so callers can react (reconnect, retry). */

/**
 * - `disconnected`: the port closed or failed (unplugged, pty closed); reconnect to resume.
 * - `not-connected`: no device is connected.
 * - `timeout`: the device did not answer within the retry budget.
 * - `version`: the device speaks a protocol version this workbench does not.
 * - `device`: the device reported an error (see `deviceCode`).
 * - `incomplete`: a run could not be completed (chunks missing after all retransmissions).
 * - `protocol`: the device sent something inconsistent (wrong sizes, checksum of the whole trace).
 * - `invalid-request`: the request cannot be run on hardware (model space, bad values, unknown parameter).
 */
export type BridgeErrorCode =
  | 'disconnected'
  | 'not-connected'
  | 'timeout'
  | 'version'
  | 'device'
  | 'incomplete'
  | 'protocol'
  | 'invalid-request';

/** An error of the hardware bridge, with a message a person can act on. */
export class BridgeError extends Error {
  constructor(
    readonly code: BridgeErrorCode,
    message: string,
    /** For `device` errors: the protocol error code name, e.g. 'BAD_CIRCUIT'. */
    readonly deviceCode?: string,
  ) {
    super(message);
    this.name = 'BridgeError';
  }
}
