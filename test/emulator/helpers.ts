/** Shared fixtures for the emulator tests: prior draws and a default request. */
import {
  DEFAULT_EXPERIMENT,
  INFERRED_PARAMETERS,
  type ParamSpace,
  type SimulationRequest,
} from '../../main/emulator/index.ts';

/** Deterministic uniform draws over the documented prior box (model or CapMem ranges). */
export function priorDraws(n: number, space: ParamSpace = 'model', seed = 1): Float32Array {
  const P = INFERRED_PARAMETERS.length;
  const theta = new Float32Array(n * P);
  let s = seed >>> 0 || 1;
  const rnd = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
  for (let i = 0; i < n; i++) {
    INFERRED_PARAMETERS.forEach((p, j) => {
      const [lo, hi] = space === 'model' ? p.modelRange : p.capmemRange;
      theta[i * P + j] = lo + (hi - lo) * rnd();
    });
  }
  return theta;
}

/** A default-experiment request for prior draws. */
export function defaultRequest(
  theta: Float32Array,
  over: Partial<SimulationRequest> = {},
): SimulationRequest {
  const space = over.space ?? 'model';
  return {
    theta,
    paramNames: INFERRED_PARAMETERS.map((p) => p.name),
    space,
    mode: 'hardware',
    stimulus:
      space === 'capmem'
        ? { ...DEFAULT_EXPERIMENT.stimulus, amplitude: DEFAULT_EXPERIMENT.stimulusCapmem }
        : DEFAULT_EXPERIMENT.stimulus,
    duration: DEFAULT_EXPERIMENT.duration,
    seed: 42,
    chipSeed: 7,
    ...over,
  };
}
