/**
 * Training checkpoints of pipeline runs, so a cancelled or failed run can be resumed. Each run
 * keeps a folder next to the project file, `<project>.checkpoints/<run id>/`, holding `run.json`
 * (the run's settings, the last saved epoch per estimator member, why it stopped) and one
 * checkpoint file per estimator member (main/sbi/checkpoint.ts). The folder goes when the run's
 * results are stored in the project.
 *
 * @example
 * const dir = runDir('/lab/chip42.adexproj', runId); // /lab/chip42.adexproj.checkpoints/<runId>
 * for (const r of listStoppedRuns('/lab/chip42.adexproj', running)) console.log(r.runId, r.epochs);
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../io/npy.ts';

/** What `run.json` records about a run. */
export interface RunManifest {
  runId: string;
  createdAt: string;
  /** The pipeline job's settings (without the project path and the resume flag). */
  params: Record<string, unknown>;
  /** Last saved epoch per estimator member, e.g. `{ 'handcrafted-member0': 4 }`. */
  epochs: Record<string, number>;
  /** Set when the run stopped without storing its results. */
  stoppedAt?: string;
  stopReason?: 'cancelled' | 'failed';
  error?: string;
}

/** The folder holding the checkpoints of all runs of a project. */
export function checkpointsRoot(projectPath: string): string {
  return `${projectPath}.checkpoints`;
}

/** The checkpoint folder of one run. */
export function runDir(projectPath: string, runId: string): string {
  if (!/^[\w-]{1,64}$/.test(runId)) throw new RangeError(`not a run id: ${runId}`);
  return path.join(checkpointsRoot(projectPath), runId);
}

/** Create a run's folder and its manifest. */
export function createRun(dir: string, manifest: RunManifest): void {
  mkdirSync(dir, { recursive: true });
  writeManifest(dir, manifest);
}

export function writeManifest(dir: string, manifest: RunManifest): void {
  writeFileAtomic(path.join(dir, 'run.json'), Buffer.from(JSON.stringify(manifest, null, 2)));
}

/** Read a run's manifest. @throws Error saying the run cannot be resumed when it is missing or corrupt. */
export function readManifest(dir: string): RunManifest {
  const file = path.join(dir, 'run.json');
  if (!existsSync(file))
    throw new Error(`run ${path.basename(dir)} cannot be resumed: its checkpoints are gone (${dir})`);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as RunManifest;
  } catch {
    throw new Error(`run ${path.basename(dir)} cannot be resumed: ${file} is corrupt`);
  }
}

/** The checkpoint file name of a member key (`handcrafted-member0` -> `handcrafted-member0.ckpt`). */
export function checkpointName(key: string): string {
  return `${key}.ckpt`;
}

/**
 * Check that every checkpoint the manifest counts on is there.
 * @throws Error naming the missing file and the epoch it held.
 */
export function checkCheckpoints(dir: string, manifest: RunManifest): void {
  for (const [key, epoch] of Object.entries(manifest.epochs)) {
    const file = path.join(dir, checkpointName(key));
    if (epoch > 0 && !existsSync(file))
      throw new Error(
        `run ${manifest.runId} cannot be resumed: the checkpoint of ${key.replace('-member', ' member ')} (epoch ${epoch}) is missing: ${file}; start a new run`,
      );
  }
}

/** Remove a run's folder (and the project's checkpoints folder once it is empty). */
export function removeRun(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  const root = path.dirname(dir);
  try {
    if (existsSync(root) && readdirSync(root).length === 0) rmdirSync(root);
  } catch {
    // Another run created its folder meanwhile.
  }
}

/** Runs of a project that stopped with checkpoints left, newest first; `running` run ids are left out. */
export function listStoppedRuns(projectPath: string, running: ReadonlySet<string>): RunManifest[] {
  const root = checkpointsRoot(projectPath);
  if (!existsSync(root)) return [];
  const out: RunManifest[] = [];
  for (const name of readdirSync(root)) {
    if (running.has(name)) continue;
    try {
      out.push(readManifest(path.join(root, name)));
    } catch {
      // A folder without a readable manifest cannot be resumed; it is not listed.
    }
  }
  return out.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}
