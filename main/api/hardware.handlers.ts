/**
 * The hardware area of the API: serial ports, connecting to a bridge board, its info, and a test
 * recording that can be kept in the open project as an observation.
 */
import {
  BridgeError,
  connectDevice,
  currentDevice,
  disconnectDevice,
  listPorts,
  recordTestTrace,
  type DeviceInfo,
  type PortInfo,
} from '../bridge/index.ts';
import type { Project } from '../store/index.ts';
import { ApiError } from './contract.ts';

export interface RecordedTrace {
  deviceId: string;
  circuit: number;
  sampleRate: number;
  codes: number[];
  spikeTimes: number[];
  params: Record<string, number>;
  /** Id of the stored observation when `save` was asked for. */
  observationId: number | null;
}

function bridgeError(err: unknown): never {
  if (err instanceof BridgeError) throw new ApiError('failed', err.message);
  throw err;
}

export async function hwPorts(): Promise<PortInfo[]> {
  return listPorts().catch(bridgeError);
}

export async function hwConnect(path: string): Promise<DeviceInfo> {
  return connectDevice(path).catch(bridgeError);
}

export async function hwDisconnect(): Promise<{ disconnected: boolean }> {
  const was = currentDevice() !== null;
  await disconnectDevice().catch(bridgeError);
  return { disconnected: was };
}

export async function hwRecord(
  opts: {
    circuit?: number;
    params?: Record<string, number>;
    duration?: number;
    seed?: number;
    save?: boolean;
    name?: string;
  },
  project: () => Project,
): Promise<RecordedTrace> {
  if (!currentDevice()) throw new ApiError('conflict', 'no bridge device is connected: connect one first');
  const target = opts.save ? project() : undefined; // fail before recording when there is nowhere to keep it
  const t = await recordTestTrace(opts).catch(bridgeError);
  let observationId: number | null = null;
  if (target) {
    const names = Object.keys(t.params);
    const obs = target.observations.create({
      name: opts.name ?? `${t.deviceId} circuit ${t.circuit} test trace`,
      source: 'recorded',
      sampleRate: t.sampleRate,
      traces: 1,
      samples: t.codes.length,
      data: t.codes,
      circuitId: t.circuit,
      paramNames: names,
      meta: { deviceId: t.deviceId, capmem: t.params, spikeTimes: Array.from(t.spikeTimes) },
    });
    observationId = obs.id;
  }
  return {
    deviceId: t.deviceId,
    circuit: t.circuit,
    sampleRate: t.sampleRate,
    codes: Array.from(t.codes),
    spikeTimes: Array.from(t.spikeTimes),
    params: t.params,
    observationId,
  };
}
