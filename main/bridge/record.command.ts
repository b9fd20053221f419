import { UsageError, type CliCommand } from '../cli/command.ts';
import { writeNpyFile } from '../io/npy.ts';
import { BridgeError, connectDevice, disconnectDevice, recordTestTrace } from './index.ts';

/** `adexwb record`: record one test trace on a bridge board (or a virtual device). */
export const recordCommand: CliCommand = {
  name: 'record',
  summary: 'Record one membrane trace on a bridge board',
  details:
    'Configures one circuit (device defaults, overridden by --param name=code), applies the default step stimulus and records.',
  options: {
    port: { type: 'string', description: 'Serial port of the bridge board', required: true },
    circuit: { type: 'integer', description: 'Neuron circuit', default: 0 },
    param: {
      type: 'string',
      description: 'CapMem code of a parameter, name=code (repeatable)',
      multiple: true,
    },
    duration: {
      type: 'number',
      description: 'Recording length, hardware us (default: the default experiment)',
    },
    seed: { type: 'integer', description: 'Noise seed (virtual devices)', default: 1 },
    out: { type: 'string', description: 'Write the MADC codes to this .npy file (int16)' },
  },
  async run(args, io) {
    const params: Record<string, number> = {};
    for (const kv of (args.param as string[] | undefined) ?? []) {
      const m = /^([A-Za-z_]\w*)=(-?\d+(?:\.\d+)?)$/.exec(kv);
      if (!m) throw new UsageError(`--param must look like name=code, got '${kv}'`);
      params[m[1]] = Number(m[2]);
    }
    try {
      const info = await connectDevice(args.port as string);
      io.info(`connected to ${info.deviceId} (firmware ${info.firmware}, chip ${info.chipId})`);
      const t = await recordTestTrace({
        circuit: args.circuit as number,
        params,
        duration: args.duration as number | undefined,
        seed: args.seed as number,
      });
      if (args.out)
        writeNpyFile(args.out as string, { dtype: 'int16', shape: [t.codes.length], data: t.codes });
      let lo = Infinity;
      let hi = -Infinity;
      for (const c of t.codes) {
        lo = Math.min(lo, c);
        hi = Math.max(hi, c);
      }
      const summary = {
        device: t.deviceId,
        circuit: t.circuit,
        samples: t.codes.length,
        sampleRate: t.sampleRate,
        spikes: t.spikeTimes.length,
        spikeTimes: Array.from(t.spikeTimes, (x) => Math.round(x * 1000) / 1000),
        codeRange: [lo, hi],
        out: args.out ?? null,
      };
      io.result(summary);
      return 0;
    } catch (err) {
      if (err instanceof BridgeError && err.code === 'invalid-request') throw new UsageError(err.message);
      throw err;
    } finally {
      await disconnectDevice();
    }
  },
};
