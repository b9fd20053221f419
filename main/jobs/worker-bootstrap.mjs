// Entry of every job worker thread: makes the TypeScript sources importable, then runs the job host.
import { register } from 'tsx/esm/api';

register();
await import('./job.worker.ts');
