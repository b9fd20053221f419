#!/usr/bin/env node
// `npm start`: build the app, make sure better-sqlite3 exists in a build for Electron's ABI (kept
// apart from the Node build the CLI and tests use), then launch Electron. Electron fetches its own
// binary on first launch; both steps need a network connection once.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const fail = (msg) => {
  console.error(`adex-workbench: ${msg}`);
  process.exit(1);
};

const build = spawnSync(bin('electron-vite'), ['build'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) fail('the build failed (see above)');

const electronVersion = JSON.parse(
  readFileSync(path.join(root, 'node_modules', 'electron', 'package.json'), 'utf8'),
).version;
const target = path.join(root, '.electron-native', `better-sqlite3-electron-${electronVersion}`);
const binding = path.join(target, 'build', 'Release', 'better_sqlite3.node');
if (!existsSync(binding)) {
  console.log(`building better-sqlite3 for Electron ${electronVersion} (once)…`);
  rmSync(target, { recursive: true, force: true });
  cpSync(path.join(root, 'node_modules', 'better-sqlite3'), target, {
    recursive: true,
    filter: (src) => !src.includes(`${path.sep}build${path.sep}`) && !src.endsWith(`${path.sep}build`),
  });
  let gyp = process.env.npm_config_node_gyp;
  if (!gyp) {
    try {
      gyp = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
    } catch {
      gyp = undefined;
    }
  }
  const args = [
    'rebuild',
    `--target=${electronVersion}`,
    '--runtime=electron',
    '--dist-url=https://electronjs.org/headers',
  ];
  const res = gyp
    ? spawnSync(process.execPath, [gyp, ...args], { cwd: target, stdio: 'inherit' })
    : spawnSync('node-gyp', args, { cwd: target, stdio: 'inherit' });
  if (res.status !== 0 || !existsSync(binding)) {
    rmSync(target, { recursive: true, force: true });
    fail(
      'could not build better-sqlite3 for Electron (needs the Electron headers from the network once, a C++ compiler, python3 and make).\n' +
        'The browser mode works without it: npx adexwb serve',
    );
  }
}

const res = spawnSync(bin('electron'), ['.'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, ADEXWB_SQLITE_BINDING: binding, ADEXWB_ROOT: root },
});
process.exit(res.status ?? 0);
