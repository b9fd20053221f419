/**
 * The open project as the views see it: its summary, refreshed after every finished job that may
 * have written to it.
 */
import type { ProjectSummary } from '../../../main/api/contract.ts';
import { api, call } from './api.ts';
import { app } from './app.svelte.ts';

export class ProjectState {
  #summary = $state.raw<ProjectSummary | null>(null);
  #recent = $state<string[]>([]);
  #busy = $state(false);

  get summary() {
    return this.#summary;
  }
  get isOpen() {
    return this.#summary !== null;
  }
  get recent() {
    return this.#recent;
  }
  get busy() {
    return this.#busy;
  }

  async start(): Promise<void> {
    api.onEvent((e) => {
      if (e.type === 'job' && e.status.state === 'done') void this.refresh();
    });
    await this.refresh();
    const s = await app.attempt('reading settings', () => call('settings:get', {}));
    if (s) this.#recent = s.recentProjects;
  }

  async refresh(): Promise<void> {
    const s = await app.attempt('reading the project', () => call('project:summary', {}));
    if (s !== undefined) this.#summary = s;
  }

  async create(path: string, name?: string): Promise<boolean> {
    return this.#run('creating the project', () => call('project:create', { path, name: name || undefined }));
  }

  async open(path: string): Promise<boolean> {
    return this.#run('opening the project', () => call('project:open', { path }));
  }

  async close(): Promise<void> {
    await app.attempt('closing the project', () => call('project:close', {}));
    this.#summary = null;
  }

  async #run(context: string, fn: () => Promise<ProjectSummary>): Promise<boolean> {
    this.#busy = true;
    try {
      const s = await app.attempt(context, fn);
      if (!s) return false;
      this.#summary = s;
      const settings = await app.attempt('reading settings', () => call('settings:get', {}));
      if (settings) this.#recent = settings.recentProjects;
      return true;
    } finally {
      this.#busy = false;
    }
  }
}

export const project = new ProjectState();
