import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../io/npy.ts';
import type { Settings } from './contract.ts';
import { settingsPatch } from './contract.ts';

const DEFAULTS: Settings = { theme: 'system', recentProjects: [] };

/** User settings in `<dataDir>/settings.json`, written atomically; a damaged file falls back to defaults. */
export class SettingsStore {
  private readonly file: string;
  private value: Settings;

  constructor(dataDir: string) {
    this.file = path.join(dataDir, 'settings.json');
    this.value = this.load();
  }

  get(): Settings {
    return structuredClone(this.value);
  }

  /** Apply a validated patch and persist it. */
  set(patch: Partial<Settings>): Settings {
    const next = { ...this.value, ...patch };
    mkdirSync(path.dirname(this.file), { recursive: true });
    writeFileAtomic(this.file, Buffer.from(JSON.stringify(next, null, 2)));
    this.value = next;
    return this.get();
  }

  /** Put a project path first in the recent list (max 10). */
  touchRecent(file: string): Settings {
    const recent = [file, ...this.value.recentProjects.filter((p) => p !== file)].slice(0, 10);
    return this.set({ recentProjects: recent });
  }

  private load(): Settings {
    if (!existsSync(this.file)) return { ...DEFAULTS };
    try {
      const parsed = settingsPatch.parse(JSON.parse(readFileSync(this.file, 'utf8')));
      return { ...DEFAULTS, ...parsed };
    } catch {
      return { ...DEFAULTS };
    }
  }
}

/** Default folder for settings: $ADEXWB_HOME, else $XDG_CONFIG_HOME/adex-workbench, else ~/.config/adex-workbench. */
export function defaultDataDir(): string {
  if (process.env.ADEXWB_HOME) return process.env.ADEXWB_HOME;
  const base = process.env.XDG_CONFIG_HOME ?? path.join(process.env.HOME ?? process.cwd(), '.config');
  return path.join(base, 'adex-workbench');
}
