/**
 * `npm run demo`: the demo site and the sandbox service on 127.0.0.1, and Chromium with the
 * built CapRelay already pointed at the sandbox. With a display it opens a window and waits for
 * you; without one it solves every page once, prints what happened and saves screenshots.
 */
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { launchDemoBrowser, type DemoBrowser } from './browser';
import { DEMO_PAGES } from './pages';
import { DEMO_KEY, KEY_VARIANTS, Sandbox } from './sandbox';
import { startDemoSite, type DemoSite } from './site';
import { solvePages, summaryScreenshot, type PageResult } from './solve-pages';

const USAGE = `Usage: npm run demo [-- options]

  --headless         solve every page once, print the results and exit (the default without a display)
  --headed           open a browser window and wait (the default when DISPLAY or WAYLAND_DISPLAY is set)
  --auto             with --headed, also solve every page once
  --solve-ms <ms>    average time the sandbox takes to solve a task (default 4000)
  --fail <CODE>      make the first task fail with this service error, e.g. ERROR_ZERO_BALANCE
  --port <n>         port of the demo site (default: any free one)
  --sandbox-port <n> port of the sandbox service (default: any free one)
  --out <dir>        where screenshots go (default: <tmp>/caprelay-demo)
  --extension <dir>  the built Chrome extension (default: $CAPRELAY_DIST/chrome or dist/chrome)
`;

export interface DemoOptions {
  headless: boolean;
  auto: boolean;
  solveMs: number;
  fail?: string;
  port: number;
  sandboxPort: number;
  outDir: string;
  extensionDir: string;
  /** Where lines are printed (tests collect them). */
  log: (line: string) => void;
}

export interface HeadlessOutcome {
  results: PageResult[];
  summary: string | null;
  /** Protocol problems the sandbox saw in what the extension sent (expected: none). */
  violations: string[];
  ok: boolean;
}

export function defaultOptions(): DemoOptions {
  return {
    headless: !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY,
    auto: false,
    solveMs: 4_000,
    port: 0,
    sandboxPort: 0,
    outDir: path.join(os.tmpdir(), 'caprelay-demo'),
    extensionDir: path.resolve(process.env.CAPRELAY_DIST ?? 'dist', 'chrome'),
    log: (line) => console.log(line),
  };
}

interface Running {
  sandbox: Sandbox;
  site: DemoSite;
  browser: DemoBrowser;
  stop(): Promise<void>;
}

async function startAll(options: DemoOptions): Promise<Running> {
  const sandbox = await new Sandbox({ solveMs: options.solveMs }).start(options.sandboxPort);
  let site: DemoSite | undefined;
  try {
    site = await startDemoSite(sandbox, options.port);
    const browser = await launchDemoBrowser({ extensionDir: options.extensionDir, headless: options.headless });
    await browser.configure(sandbox.url, DEMO_KEY);
    const s = site;
    return {
      sandbox,
      site,
      browser,
      stop: async () => {
        await Promise.all([browser.close(), s.close(), sandbox.stop()]);
      },
    };
  } catch (error) {
    await Promise.all([site?.close(), sandbox.stop()]);
    throw error;
  }
}

/** The unattended run: solve each page once and report. */
export async function runHeadless(options: DemoOptions): Promise<HeadlessOutcome> {
  const running = await startAll(options);
  try {
    banner(options, running);
    return await solveAndReport(options, running);
  } finally {
    await running.stop();
  }
}

async function solveAndReport(options: DemoOptions, running: Running): Promise<HeadlessOutcome> {
  const { log } = options;
  if (options.fail) {
    const done = running.sandbox.failNext({ errorCode: options.fail });
    log(`The sandbox will answer the first ${done.method} with ${done.errorCode}.`);
  }
  log(`Solving ${DEMO_PAGES.length} pages (the sandbox takes about ${(options.solveMs / 1000).toFixed(1)} s per task)…`);
  log('');
  const results = await solvePages({
    browser: running.browser,
    sandbox: running.sandbox,
    origin: running.site.origin,
    pages: DEMO_PAGES,
    outDir: options.outDir,
    timeoutMs: options.solveMs * 2 + 45_000,
  });
  for (const line of formatResults(results)) log(line);
  const summary = await summaryScreenshot(running.browser, results, path.join(options.outDir, 'summary.png')).catch(() => null);
  const violations = [...running.sandbox.solver.violations];
  // With --fail, the page that got the error is the expected outcome, not a failure of the demo.
  const failedAsAsked = (r: PageResult): boolean => options.fail !== undefined && r.status.startsWith(options.fail);
  const ok = results.every((r) => r.solved || failedAsAsked(r)) && violations.length === 0;
  log('');
  const solved = results.filter((r) => r.solved).length;
  log(`${solved} of ${results.length} pages solved; the token reached each page's own code${solved === results.length ? '' : ' where solved'}.`);
  if (violations.length) log(`The sandbox saw protocol problems:\n  ${violations.join('\n  ')}`);
  if (summary) log(`Screenshot: ${summary}`);
  log(`Popup of each page: ${path.join(options.outDir, '<page>.png')}`);
  return { results, summary, violations, ok };
}

export function formatResults(results: PageResult[]): string[] {
  const lines: string[] = [];
  for (const r of results) {
    const mark = r.solved ? '✔' : '✘';
    lines.push(`${mark} ${r.page.title}  ${r.url}`);
    lines.push(`    detected   ${r.detected ?? '—'}`);
    if (r.task) lines.push(`    sent       ${describeTask(r.task)}`);
    const id = r.serviceTaskId !== null ? `task #${r.serviceTaskId}, ` : '';
    lines.push(`    result     ${r.state}: ${id}${r.status || '—'} (${r.seconds.toFixed(1)} s)`);
    if (r.pageToken) lines.push(`    page got   ${r.pageToken.slice(0, 40)}… (${r.pageToken.length} characters)`);
    for (const problem of r.problems) lines.push(`    problem    ${problem}`);
  }
  return lines;
}

/** The task as sent, minus the URL and key every task carries. */
function describeTask(task: Record<string, unknown>): string {
  const extras = Object.entries(task)
    .filter(([k]) => !['type', 'websiteURL', 'websiteKey', 'websitePublicKey'].includes(k))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  const key = task.websiteKey ?? task.websitePublicKey;
  return [String(task.type), `key=${String(key)}`, ...extras].join(' ');
}

function banner(options: DemoOptions, running: Running): void {
  const { log } = options;
  log('CapRelay demo — everything runs on 127.0.0.1, the browser has no other network.');
  log(`  demo site  ${running.site.origin}/`);
  log(`  sandbox    ${running.sandbox.url}  key ${DEMO_KEY}`);
  log(`  extension  ${options.extensionDir}`);
  log('');
}

/** Headed: a window with the demo site; runs until the window is closed or Ctrl+C. */
async function runHeaded(options: DemoOptions): Promise<number> {
  const running = await startAll(options);
  const { log } = options;
  banner(options, running);
  const [first] = running.browser.context.pages();
  const tab = first ?? (await running.browser.context.newPage());
  await tab.goto(`${running.site.origin}/`);
  log('A Chromium window shows the demo site. Open a page, click the CapRelay button (puzzle piece → CapRelay),');
  log('then Solve. Other keys to try in the popup:');
  for (const [key, v] of Object.entries(KEY_VARIANTS)) log(`  ${key}  ${v.description}`);
  log(`Make the next task fail: curl -X POST ${running.sandbox.url}/demo/fail-next -d '{"errorCode":"ERROR_ZERO_BALANCE"}'`);
  log('Close the window or press Ctrl+C to stop.');
  log('');
  let ok = true;
  if (options.auto) ok = (await solveAndReport(options, running)).ok;
  await new Promise<void>((resolve) => {
    running.browser.context.once('close', () => resolve());
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await running.stop();
  return ok ? 0 : 1;
}

export function parseOptions(argv: string[]): DemoOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      headless: { type: 'boolean' },
      headed: { type: 'boolean' },
      auto: { type: 'boolean' },
      'solve-ms': { type: 'string' },
      fail: { type: 'string' },
      port: { type: 'string' },
      'sandbox-port': { type: 'string' },
      out: { type: 'string' },
      extension: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const options = defaultOptions();
  if (values.headless) options.headless = true;
  else if (values.headed) options.headless = false;
  options.auto = values.auto ?? false;
  const number = (name: string, raw: string | undefined, fallback: number): number => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} takes a whole number, not ${raw}`);
    return n;
  };
  options.solveMs = number('solve-ms', values['solve-ms'], options.solveMs);
  options.port = number('port', values.port, 0);
  options.sandboxPort = number('sandbox-port', values['sandbox-port'], 0);
  if (values.fail !== undefined) options.fail = values.fail;
  if (values.out) options.outDir = path.resolve(values.out);
  if (values.extension) options.extensionDir = path.resolve(values.extension);
  return options;
}

/** Entry point (scripts/run.mjs calls it); returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  let options: DemoOptions | 'help';
  try {
    options = parseOptions(argv);
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (options === 'help') {
    console.log(USAGE);
    return 0;
  }
  if (!options.headless) return runHeaded(options);
  const outcome = await runHeadless(options);
  return outcome.ok ? 0 : 1;
}
