/**
 * The channel names of the API as a plain list (no schemas), for the preload and the browser
 * client, which must stay tiny. A test checks it matches `calls` in contract.ts.
 */
export const CHANNELS = [
  'app:info',
  'settings:get',
  'settings:set',
  'jobs:list',
  'jobs:cancel',
  'project:create',
  'project:open',
  'project:close',
  'project:summary',
  'observation:get',
  'observation:preview',
  'observation:import',
  'hw:ports',
  'hw:connect',
  'hw:disconnect',
  'hw:device',
  'hw:record',
  'sim:start',
  'sim:stats',
  'sim:defaults',
  'pipeline:start',
  'pipeline:runs',
  'pipeline:resume',
  'pipeline:discard',
  'restriction:start',
  'infer:start',
  'report:start',
  'report:html',
  'results:estimators',
  'results:restriction',
  'results:comparison',
  'results:diagnostics',
] as const;

/** The IPC/WebSocket channel that carries ApiEvents. */
export const EVENT_CHANNEL = 'adexwb:event';
