#!/usr/bin/env node
/**
 * `npm test`: builds both extensions, then runs the static checks (type check; ESLint, Prettier
 * and knip; web-ext lint of the Firefox build) and the unit tests beside the end-to-end tests.
 * Most of an end-to-end test waits on the service's poll rules, so the rest adds little wall
 * time there. Their output is held and printed after the end-to-end tests', then the failed
 * tests by name and a line per step; any failure fails the run.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

const npmRun = (script, hold) => run(`npm run ${script}`, 'npm', ['run', '--silent', script], hold);

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
// vitest's own report scrolls away behind the other output; its JSON report lets the last
// lines name what failed. It goes to a temporary folder: a test run writes no tracked file.
const reportFolder = mkdtempSync(join(tmpdir(), 'caprelay-test-'));
const vitest = (name, args, hold) => {
  const report = join(reportFolder, `${name.replace(/\W+/g, '-')}.json`);
  return run(name, 'npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...args], hold).then((result) => ({ ...result, report }));
};
// The unit tests use the CPU for the half minute in which the first browsers start; they run
// beside the end-to-end tests, their output held like the checks'. Files named on the command
// line go to one vitest run, whichever project they belong to.
const filters = process.argv.slice(2);
const suites = filters.length ? [vitest('vitest run', filters, false)] : [vitest('vitest unit', ['--project', 'unit'], true), vitest('vitest e2e', ['--project', 'e2e'], false)];
const tests = await Promise.all(suites);
const checks = await checksDone;
const failures = tests.flatMap(failedTests);
rmSync(reportFolder, { recursive: true, force: true });

/** `file › test: first line of the error` for each failed test (and each file that failed to run). */
function failedTests(result) {
  let report;
  try {
    report = JSON.parse(readFileSync(result.report, 'utf8'));
  } catch {
    return result.ok ? [] : [`${result.script}: no report (exit ${result.code})`];
  }
  const lines = [];
  for (const suite of report.testResults ?? []) {
    const name = String(suite.name ?? '').replace(`${process.cwd()}/`, '');
    const failed = (suite.assertionResults ?? []).filter((t) => t.status === 'failed');
    for (const t of failed) lines.push(`${name} › ${t.fullName}: ${firstLine(t.failureMessages?.[0])}`);
    if (!failed.length && suite.status === 'failed') lines.push(`${name}: ${firstLine(suite.message)}`);
  }
  return lines;
}

function firstLine(text) {
  return (
    String(text ?? '')
      .split('\n')
      .find((line) => line.trim()) ?? ''
  );
}

for (const step of [...tests, ...checks]) {
  const output = step.output.trim();
  if (output) process.stdout.write(`\n── ${step.script} ──\n${output}\n`);
}
if (failures.length) process.stdout.write(`\n── failed tests ──\n${failures.join('\n')}\n`);
const steps = [build, ...checks, ...tests];
process.stdout.write(`\n${steps.map((s) => `${s.ok ? 'ok  ' : 'FAIL'} ${s.script} (${s.seconds.toFixed(0)} s${s.ok ? '' : `, exit ${s.code}`})`).join('\n')}\n`);
process.exit(steps.every((s) => s.ok) ? 0 : 1);
