import type { JobStatus } from '../../../main/jobs/types.ts';
import { app } from './app.svelte.ts';

/** The newest job of a kind (running first), for views that show their own job's progress. */
export function latestJob(kind: string): JobStatus | undefined {
  return app.jobs.find((j) => j.kind === kind);
}
