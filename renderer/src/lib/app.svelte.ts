/**
 * Application-wide UI state: the current view, theme, error messages and live job statuses.
 * Views read it through getters; only its methods change it.
 */
import type { JobStatus } from '../../../main/jobs/types.ts';
import type { AppInfo, Theme } from '../../../main/api/contract.ts';
import { api, call } from './api.ts';

export const VIEWS = [
  { id: 'project', label: 'Project', key: '1' },
  { id: 'simulate', label: 'Simulate', key: '2' },
  { id: 'train', label: 'Train', key: '3' },
  { id: 'infer', label: 'Infer', key: '4' },
  { id: 'compare', label: 'Compare', key: '5' },
  { id: 'diagnostics', label: 'Diagnostics', key: '6' },
  { id: 'hardware', label: 'Hardware', key: '7' },
  { id: 'reports', label: 'Reports', key: '8' },
] as const;

export type ViewId = (typeof VIEWS)[number]['id'];

export interface UiError {
  id: number;
  context: string;
  message: string;
}

export class AppState {
  #view = $state<ViewId>('project');
  #theme = $state<Theme>('system');
  #errors = $state<UiError[]>([]);
  #jobs = $state<Record<string, JobStatus>>({});
  #info = $state<AppInfo | undefined>();
  #nextErrorId = 0;

  get view() {
    return this.#view;
  }
  get theme() {
    return this.#theme;
  }
  get errors() {
    return this.#errors;
  }
  get info() {
    return this.#info;
  }
  /** Jobs, running first, newest first. */
  get jobs(): JobStatus[] {
    return Object.values(this.#jobs).sort(
      (a, b) => Number(b.state === 'running') - Number(a.state === 'running') || b.startedAt - a.startedAt,
    );
  }

  /** Resolved theme after applying the system preference. */
  get effectiveTheme(): 'light' | 'dark' {
    if (this.#theme !== 'system') return this.#theme;
    return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
  }

  async start(): Promise<void> {
    api.onEvent((event) => {
      if (event.type === 'job') this.#jobs[event.status.id] = event.status;
      else if (event.type === 'log' && event.level === 'error')
        this.report('workbench', new Error(event.message));
    });
    try {
      const [info, settings, jobs] = await Promise.all([
        call('app:info', {}),
        call('settings:get', {}),
        call('jobs:list', {}),
      ]);
      this.#info = info;
      this.#theme = settings.theme;
      for (const j of jobs) this.#jobs[j.id] = j;
    } catch (err) {
      this.report('starting', err);
    }
  }

  go(view: ViewId): void {
    this.#view = view;
  }

  async setTheme(theme: Theme): Promise<void> {
    this.#theme = theme;
    try {
      await call('settings:set', { theme });
    } catch (err) {
      this.report('saving the theme', err);
    }
  }

  /** Show an error with the API's message; `context` says what the user was doing. */
  report(context: string, err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    this.#errors = [...this.#errors, { id: this.#nextErrorId++, context, message }].slice(-5);
  }

  dismiss(id: number): void {
    this.#errors = this.#errors.filter((e) => e.id !== id);
  }

  /** Run an API call, reporting a failure in the error area; returns undefined on failure. */
  async attempt<T>(context: string, fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (err) {
      this.report(context, err);
      return undefined;
    }
  }
}

export const app = new AppState();
