#!/usr/bin/env node
// adexwb: the workbench's command-line program. Runs the TypeScript sources under main/ directly.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../main/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
