import { UsageError, type CliCommand } from '../cli/command.ts';
import { VirtualDevice } from './virtual-device.ts';
import { createPtyPair, type PtyPair } from './pty.ts';
import { MAX_CHUNK_SAMPLES } from './messages.ts';
import { checkFaultOptions } from './faults.ts';
import { createEmulator, type KernelChoice } from '../emulator/index.ts';

/**
 * `adexwb virtual-device`: serve the bridge protocol on a serial device, backed by the emulator
 * (hardware mode, a seeded chip), with optional fault injection. Runs until Ctrl-C.
 */
export const virtualDeviceCommand: CliCommand = {
  name: 'virtual-device',
  summary: 'Emulate a bridge board on a serial device or a new pty pair',
  details: [
    'Give --port PATH (e.g. one end of `socat -d -d pty,raw,echo=0,link=/tmp/a pty,raw,echo=0,link=/tmp/b`)',
    'or --pty to create a pty pair with socat and print the path the host should open.',
    'Fault rates are per frame, in both directions. Runs until Ctrl-C.',
  ].join('\n'),
  options: {
    port: { type: 'string', description: 'Serial device to serve on' },
    pty: {
      type: 'boolean',
      description: 'Create a socat pty pair and print the host-side path',
      default: false,
    },
    'chip-seed': {
      type: 'integer',
      description: 'Seed of the emulated chip (fixed-pattern mismatch)',
      default: 1,
    },
    kernel: {
      type: 'string',
      description: 'Emulator kernel (auto: native when built)',
      choices: ['auto', 'native', 'typescript'],
      default: 'auto',
    },
    'device-id': {
      type: 'string',
      description: 'Device id announced in the handshake (default virtual-<chip-seed>)',
    },
    'chunk-samples': {
      type: 'integer',
      description: 'MADC samples per TRACE_CHUNK frame',
      default: MAX_CHUNK_SAMPLES,
    },
    'corrupt-rate': {
      type: 'number',
      description: 'Probability that a frame gets a flipped byte',
      default: 0,
    },
    'drop-rate': { type: 'number', description: 'Probability that a frame is lost', default: 0 },
    'delay-ms': { type: 'number', description: 'Delay before each outgoing frame, ms', default: 0 },
    'disconnect-after': {
      type: 'integer',
      description: 'Disconnect after sending this many frames (0: never)',
      default: 0,
    },
    seed: { type: 'integer', description: 'Seed of the fault pattern', default: 1 },
  },
  async run(args, io) {
    const port = args.port as string | undefined;
    if (!port === !args.pty) throw new UsageError('give either --port PATH or --pty');
    let faults;
    try {
      faults = checkFaultOptions({
        corruptRate: args['corrupt-rate'] as number,
        dropRate: args['drop-rate'] as number,
        delayMs: args['delay-ms'] as number,
        disconnectAfter: args['disconnect-after'] as number,
        seed: args.seed as number,
      });
    } catch (err) {
      throw new UsageError(
        `--${(err as Error).message.replace(/^(\w+)/, (k) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`))}`,
      );
    }
    const chunkSamples = args['chunk-samples'] as number;
    if (chunkSamples < 1 || chunkSamples > MAX_CHUNK_SAMPLES) {
      throw new UsageError(`--chunk-samples must be in 1..${MAX_CHUNK_SAMPLES}, got ${chunkSamples}`);
    }
    let pair: PtyPair | undefined;
    const stop = new AbortController();
    const onStop = () => stop.abort();
    io.signal.addEventListener('abort', onStop, { once: true });
    try {
      if (args.pty) pair = await createPtyPair();
      const path = pair ? pair.devicePath : port!;
      const backend = createEmulator({ kernel: args.kernel as KernelChoice, warn: (m) => io.warn(m) });
      const device = await VirtualDevice.open(path, {
        backend,
        chipSeed: args['chip-seed'] as number,
        deviceId: args['device-id'] as string | undefined,
        chunkSamples,
        faults,
        onDisconnect: () => {
          io.info(`disconnecting after ${faults.disconnectAfter} frames (--disconnect-after)`);
          if (pair) void pair.close().then(onStop);
          else void device.close().then(onStop);
        },
      });
      device.on('warn', (m) => io.warn(m));
      device.once('close', onStop);
      pair?.process.once('close', onStop);
      // With --port the host side is the other end of the link, which this process does not know.
      const hostPath = pair ? pair.hostPath : null;
      io.result(
        {
          hostPath,
          devicePath: path,
          deviceId: device.deviceId,
          chipSeed: device.chipSeed,
          pid: process.pid,
        },
        (v: { hostPath: string | null; devicePath: string }) => v.hostPath ?? v.devicePath,
      );
      io.info(
        `virtual device ${device.deviceId} serving on ${path}; connect the host to ${hostPath ?? 'the other end of this link'}; Ctrl-C to stop`,
      );
      await new Promise<void>((resolve) =>
        stop.signal.aborted ? resolve() : stop.signal.addEventListener('abort', () => resolve()),
      );
      await device.close();
      const s = device.stats;
      io.info(
        `served ${s.runs} runs, ${s.framesReceived} frames in, ${s.framesSent} out, ${s.resends} resends, ${s.corrupted} corrupted, ${s.dropped} dropped`,
      );
      return 0;
    } finally {
      io.signal.removeEventListener('abort', onStop);
      await pair?.close();
    }
  },
};
