/**
 * Model space → CapMem space for the hardware bridge, with the nominal transfer functions of the
 * emulator's parameter definitions. A real chip maps codes to model values differently per
 * circuit (fixed-pattern mismatch): converted requests run the codes the nominal transfer gives,
 * which is what an uncalibrated experiment on silicon does.
 */

import type { SimulationRequest, StimulusProtocol } from '../emulator/backend.ts';
import { STIMULUS_TRANSFER, modelToCapmem } from '../emulator/index.ts';

/** The same request with theta, fixed values and stimulus amplitudes as (real-valued) CapMem codes. */
export function toCapmemRequest(request: SimulationRequest): SimulationRequest {
  if (request.space === 'capmem') return request;
  const names = request.paramNames;
  const np = names.length;
  const theta = new Float32Array(request.theta.length);
  for (let i = 0; i < theta.length; i++) theta[i] = modelToCapmem(names[i % np], request.theta[i]);
  const fixed = Object.fromEntries(
    Object.entries(request.fixed ?? {}).map(([k, v]) => [k, modelToCapmem(k, v)]),
  );
  const lsb = (pA: number) => pA / STIMULUS_TRANSFER.pAPerLsb;
  const s = request.stimulus;
  const stimulus: StimulusProtocol =
    s.kind === 'step'
      ? { ...s, amplitude: lsb(s.amplitude) }
      : {
          kind: 'piecewise',
          segments: s.segments.map((g) => ({ start: g.start, amplitude: lsb(g.amplitude) })),
        };
  return { ...request, theta, fixed, stimulus, space: 'capmem' };
}
