/**
 * `adexwb project new|info|import|export|backup`: create a project file, show what is inside,
 * import observations or simulation sets from NumPy/CSV files, export results, copy it safely.
 */
import { existsSync } from 'node:fs';
import { extname } from 'node:path';
import { UsageError, type CliArgs, type CliCommand } from '../cli/command.ts';
import { openProject, type OpenProjectOptions, type Project, type ProjectOverview } from './index.ts';
import {
  exportObservation,
  exportPosterior,
  exportSimulations,
  importObservation,
  importSimulations,
  type ExportFormat,
} from './transfer.ts';

function fileArg(args: CliArgs, cmd: string): string {
  const file = (args._ as string[])[0];
  if (!file) throw new UsageError(`missing the project FILE (see 'adexwb project ${cmd} --help')`);
  return file;
}

function withProject<T>(file: string, opts: OpenProjectOptions, fn: (p: Project) => T): T {
  const p = openProject(file, opts);
  try {
    return fn(p);
  } finally {
    p.close();
  }
}

function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

function showOverview(o: ProjectOverview): string {
  const lines = [
    `${o.name}  (${o.path}, ${humanBytes(o.fileBytes)}, schema v${o.schemaVersion}, created ${o.createdAt || 'unknown'})`,
    ...Object.entries(o.counts).map(([k, v]) => `  ${k.padEnd(16)} ${v}`),
    '  stored data:',
    ...Object.entries(o.dataBytes).map(([k, v]) => `    ${k.padEnd(14)} ${humanBytes(v)}`),
  ];
  if (o.simulationSets.length) {
    lines.push('  simulation sets:');
    for (const s of o.simulationSets)
      lines.push(
        `    #${s.id} ${s.name} (${s.source}): ${s.rows} traces x ${s.samplesPerTrace} samples, ${s.params} parameters`,
      );
  }
  return lines.join('\n');
}

const newCommand: CliCommand = {
  name: 'project new',
  summary: 'Create an empty project file',
  positionals: ['FILE'],
  options: { name: { type: 'string', description: 'project name (default: the file name)' } },
  async run(args, io) {
    const file = fileArg(args, 'new');
    if (existsSync(file)) throw new UsageError(`${file} already exists`);
    const o = withProject(file, { create: true, name: args.name as string | undefined }, (p) => p.overview());
    io.result(
      { path: file, name: o.name, schemaVersion: o.schemaVersion },
      (v: { path: string; name: string }) => `created project '${v.name}' in ${v.path}`,
    );
    return 0;
  },
};

const infoCommand: CliCommand = {
  name: 'project info',
  summary: 'Show what a project holds: counts, sizes, schema version, simulation sets',
  positionals: ['FILE'],
  options: {},
  async run(args, io) {
    const file = fileArg(args, 'info');
    io.result(
      withProject(file, { readonly: true }, (p) => p.overview()),
      showOverview,
    );
    return 0;
  },
};

const importCommand: CliCommand = {
  name: 'project import',
  summary: 'Import observations (.npy/.npz/.csv) or a simulation set (theta + traces .npy) into a project',
  positionals: ['FILE', 'TRACES'],
  details: [
    'Examples:',
    '  adexwb project import lab.adexproj --observations rec.npy --sample-rate 29.4e6 --name cell-3',
    '  adexwb project import lab.adexproj --simulations theta.npy x.npy --sample-rate 29.4e6',
    'Observations: .npy (samples or traces x samples), .npz (traces/codes/volts/x + optional sample_rate,',
    'true_theta, circuit_id) or .csv (one column per trace, optional time column t_s/t_ms/t_us).',
    'Integer data are MADC codes, floating-point data volts (override with --unit).',
    'Simulations: theta (.npy rows x params, or .csv with parameter names as header) and traces',
    '(.npy rows x samples of MADC codes, given as TRACES or --traces); imported in one transaction.',
  ].join('\n'),
  options: {
    observations: { type: 'string', description: 'observation file to import (.npy, .npz, .csv)' },
    simulations: { type: 'string', description: 'theta file of a simulation set to import (.npy, .csv)' },
    traces: { type: 'string', description: 'traces file (.npy) of the simulation set' },
    'sample-rate': { type: 'number', description: 'samples per second (required unless the file states it)' },
    name: { type: 'string', description: 'name of the imported observation or set' },
    unit: {
      type: 'string',
      description: 'how to read observation values',
      choices: ['auto', 'codes', 'volts'],
      default: 'auto',
    },
    circuit: { type: 'integer', description: 'circuit id of the observation' },
    experiment: { type: 'integer', description: 'id of the experiment the data belong to' },
    'param-names': {
      type: 'string',
      multiple: true,
      description: 'parameter names (comma-separated) of theta / true parameters',
    },
  },
  async run(args, io) {
    const file = fileArg(args, 'import');
    const obs = args.observations as string | undefined;
    const sims = args.simulations as string | undefined;
    if (!obs === !sims)
      throw new UsageError('give exactly one of --observations FILE and --simulations THETA TRACES');
    const rate = args['sample-rate'] as number | undefined;
    if (rate !== undefined && !(rate > 0))
      throw new UsageError(`--sample-rate must be positive, got ${rate}`);
    const paramNames = args['param-names'] as string[] | undefined;
    if (obs) {
      if (!existsSync(obs)) throw new UsageError(`no such file: ${obs}`);
      const o = withProject(file, {}, (p) =>
        importObservation(p, obs, {
          name: args.name as string | undefined,
          sampleRate: rate,
          unit: args.unit as 'auto' | 'codes' | 'volts',
          circuitId: args.circuit as number | undefined,
          experimentId: args.experiment as number | undefined,
          paramNames,
        }),
      );
      const v = {
        kind: 'observation',
        id: o.id,
        name: o.name,
        traces: o.traces,
        samples: o.samples,
        unit: o.unit,
        sampleRate: o.sampleRate,
        contentHash: o.contentHash,
      };
      io.result(
        v,
        () =>
          `imported observation #${o.id} '${o.name}': ${o.traces} trace(s) x ${o.samples} samples (${o.unit}) at ${o.sampleRate} Sa/s`,
      );
      return 0;
    }
    const traces = (args.traces as string | undefined) ?? (args._ as string[])[1];
    if (!traces)
      throw new UsageError(
        '--simulations needs a traces file: --simulations THETA TRACES (or --traces TRACES)',
      );
    if (rate === undefined) throw new UsageError('--sample-rate is required for a simulation set');
    for (const f of [sims!, traces]) if (!existsSync(f)) throw new UsageError(`no such file: ${f}`);
    const set = withProject(file, {}, (p) =>
      importSimulations(p, sims!, traces, {
        name: args.name as string | undefined,
        sampleRate: rate,
        paramNames,
        experimentId: args.experiment as number | undefined,
        onProgress: (d, t) => {
          if (d === t || d % (4096 * 25) === 0) io.info(`imported ${d} / ${t} rows`);
        },
      }),
    );
    const v = {
      kind: 'simulationSet',
      id: set.id,
      name: set.name,
      rows: set.rows,
      samplesPerTrace: set.samplesPerTrace,
      paramNames: set.paramNames,
      contentHash: set.contentHash,
    };
    io.result(
      v,
      () =>
        `imported simulation set #${set.id} '${set.name}': ${set.rows} traces x ${set.samplesPerTrace} samples, parameters ${set.paramNames.join(', ')}`,
    );
    return 0;
  },
};

const exportCommand: CliCommand = {
  name: 'project export',
  summary: 'Export a posterior, simulation set or observation as .npy, .npz or .csv',
  positionals: ['FILE'],
  details: [
    'posterior: samples (n x params); csv has the parameter names as header.',
    'simulations: npz with theta, codes, spike_counts, spike_times; npy writes a directory of .npy files;',
    '  csv writes theta columns and spike_count (no traces).',
    'observation: traces (traces x samples); npz adds sample_rate, true_theta, circuit_id; csv has time_us + one column per trace.',
  ].join('\n'),
  options: {
    what: {
      type: 'string',
      required: true,
      choices: ['posterior', 'simulations', 'observation'],
      description: 'what to export',
    },
    id: {
      type: 'integer',
      required: true,
      description: 'id of the posterior, simulation set or observation',
    },
    out: {
      type: 'string',
      required: true,
      description: 'output path (a new directory for simulations in npy format)',
    },
    format: {
      type: 'string',
      choices: ['npy', 'npz', 'csv'],
      description: 'file format (default: from the --out extension, else npz for simulations, npy otherwise)',
    },
  },
  async run(args, io) {
    const file = fileArg(args, 'export');
    const out = String(args.out);
    const what = args.what as 'posterior' | 'simulations' | 'observation';
    const byExt = extname(out).slice(1).toLowerCase();
    const format = (args.format ??
      (['npy', 'npz', 'csv'].includes(byExt)
        ? byExt
        : what === 'simulations'
          ? 'npz'
          : 'npy')) as ExportFormat;
    const id = args.id as number;
    withProject(file, { readonly: true }, (p) => {
      if (what === 'posterior') exportPosterior(p, id, out, format);
      else if (what === 'observation') exportObservation(p, id, out, format);
      else exportSimulations(p, id, out, format);
    });
    io.result({ what, id, out, format }, () => `wrote ${what} #${id} to ${out} (${format})`);
    return 0;
  },
};

const backupCommand: CliCommand = {
  name: 'project backup',
  summary: 'Copy a project, safely even while another process works on it (SQLite online backup)',
  positionals: ['FILE'],
  options: { out: { type: 'string', required: true, description: 'path of the copy (must not exist)' } },
  async run(args, io) {
    const file = fileArg(args, 'backup');
    const out = String(args.out);
    if (existsSync(out)) throw new UsageError(`${out} already exists`);
    const p = openProject(file, { readonly: true });
    try {
      await p.backup(out);
    } finally {
      p.close();
    }
    io.result({ path: file, copy: out }, () => `copied ${file} to ${out}`);
    return 0;
  },
};

/** The `project` subcommands, registered in main/cli/commands.ts. */
export const projectCommands: CliCommand[] = [
  newCommand,
  infoCommand,
  importCommand,
  exportCommand,
  backupCommand,
];
