#!/usr/bin/env node
/**
 * `npm test`: builds both extensions, then runs the static checks (type check; ESLint, Prettier
 * and knip; web-ext lint of the Firefox build) beside vitest (unit, then end-to-end tests). Most
 * of an end-to-end test waits on the service's poll rules, so the checks add little wall time
 * there. Their output is held and printed after vitest's, with a line per step; any failure
 * fails the run.
 */
import { spawn } from 'node:child_process';

const CHECKS = ['typecheck', 'lint', 'lint:firefox'];

/** Runs a command; its output goes to the terminal, or is collected when `hold` is set. */
function run(name, command, args, hold) {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: hold ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
    let output = '';
    if (hold) for (const stream of [child.stdout, child.stderr]) stream.on('data', (chunk) => (output += chunk));
    child.on('close', (code, signal) => resolve({ script: name, ok: code === 0, code: code ?? signal, output, seconds: (Date.now() - started) / 1000 }));
  });
}

const npmRun = (script, hold) => run(script, 'npm', ['run', '--silent', script], hold);

const build = await npmRun('build', false);
if (!build.ok) {
  console.error(`npm test: the build failed (exit ${build.code})`);
  process.exit(1);
}
const checksDone = (async () => {
  const results = [];
  for (const script of CHECKS) results.push(await npmRun(script, true));
  return results;
})();
const tests = await run('vitest run', 'npx', ['vitest', 'run', ...process.argv.slice(2)], false);
const checks = await checksDone;

for (const check of checks) {
  const output = check.output.trim();
  if (output) process.stdout.write(`\n── npm run ${check.script} ──\n${output}\n`);
}
const steps = [build, ...checks, tests];
process.stdout.write(`\n${steps.map((s) => `${s.ok ? 'ok  ' : 'FAIL'} ${s.script} (${s.seconds.toFixed(0)} s${s.ok ? '' : `, exit ${s.code}`})`).join('\n')}\n`);
process.exit(steps.every((s) => s.ok) ? 0 : 1);
