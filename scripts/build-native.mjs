#!/usr/bin/env node
// Builds the emulator's C++ addon (native/) with node-gyp during `npm install`.
// A failed build does not fail the install: the workbench then runs the TypeScript kernel and says so.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = path.join(root, 'native');
if (!existsSync(path.join(nativeDir, 'binding.gyp'))) process.exit(0);

// npm exposes its bundled node-gyp; fall back to a node-gyp on PATH.
let gyp = process.env.npm_config_node_gyp;
if (!gyp) {
  try {
    gyp = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
  } catch {
    gyp = undefined;
  }
}
const cmd = gyp ? process.execPath : 'node-gyp';
// Offline machines: build against the Node headers installed with Node itself when npm names none.
const nodedir =
  !process.env.npm_config_nodedir && existsSync('/usr/include/node/node_api.h') ? ['--nodedir=/usr'] : [];
const args = gyp ? [gyp, 'rebuild', ...nodedir] : ['rebuild', ...nodedir];
const res = spawnSync(cmd, args, { cwd: nativeDir, stdio: 'inherit' });
if (res.status !== 0) {
  console.warn(
    '\nadex-workbench: the native emulator kernel did not build; the slower TypeScript kernel will be used.\n' +
      'Install a C++17 compiler, python3 and make, then run `npm rebuild` or `node scripts/build-native.mjs`.\n',
  );
}
process.exit(0);
