#!/usr/bin/env node
/**
 * Runs a TypeScript entry point that exports `main(argv): Promise<number>` (demo/main.ts,
 * scripts/package.ts). Node 20 cannot run TypeScript itself; Vite's module runner transforms
 * the project's files, and packages load from node_modules as usual.
 *   node scripts/run.mjs demo/main.ts --headless
 */
import path from 'node:path';
import { runnerImport } from 'vite';

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node scripts/run.mjs <file.ts> [args…]');
  process.exit(2);
}
// Loading the entry resolves a dev-server config, which sets NODE_ENV to development for the
// rest of the process and its children: the builds the entry starts (store packages, the bench's
// extension) would then be development builds. Put back what the caller had.
const nodeEnv = process.env.NODE_ENV;
const { module } = await runnerImport(path.resolve(entry), { configFile: false, logLevel: 'warn' });
if (nodeEnv === undefined) delete process.env.NODE_ENV;
else process.env.NODE_ENV = nodeEnv;
if (typeof module.main !== 'function') {
  console.error(`${entry} exports no main()`);
  process.exit(2);
}
try {
  process.exitCode = await module.main(args);
} catch (error) {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
}
