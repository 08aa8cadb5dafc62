/**
 * CapRelay in Playwright (Chromium), set up by a settings file: a copy of the built extension
 * with caprelay.json beside its manifest (key, service, auto-solve, the page signal), loaded
 * into a persistent context. The script then only watches the page: the widget gets the
 * data-caprelay-solved attribute once its token is in.
 *
 *   npm run build && node scripts/run.mjs examples/playwright.ts [--headed]
 *
 * With no options it starts the demo site and the sandbox service (npm run demo's) on 127.0.0.1
 * and solves the demo's reCAPTCHA v2 page with the demo key: no account, no network.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright';
import type { CapRelayControl } from '../src/background/control';
import { startDemo } from './demo-services';

/** The unpacked Chrome build's id (fixed by the manifest key); a policy or a script can name it. */
export const CAPRELAY_ID = 'dcobggcpcpmknahbkciencdhfkhpnmbh';

export interface PlaywrightExample {
  /** dist/chrome, as npm run build makes it. */
  extensionDir: string;
  /** A CapMonster-compatible service, and a key for it. */
  serviceUrl: string;
  apiKey: string;
  /** A page with a reCAPTCHA v2 widget. */
  pageUrl: string;
  headless: boolean;
  chromiumPath?: string;
  log?: (line: string) => void;
}

export interface ExampleResult {
  /** What the page's own callback received. */
  pageToken: string;
  /** The task, as CapRelay's status reports it (no token: that goes only into the page). */
  task: { state: string; serviceTaskId?: number | string };
}

export async function runPlaywright(options: PlaywrightExample): Promise<ExampleResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  // 1. A copy of the unpacked extension with the settings file beside its manifest.
  const extensionDir = fs.mkdtempSync(path.join(os.tmpdir(), 'caprelay-example-'));
  const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'caprelay-example-profile-'));
  fs.cpSync(options.extensionDir, extensionDir, { recursive: true });
  fs.writeFileSync(
    path.join(extensionDir, 'caprelay.json'),
    JSON.stringify({
      apiKey: options.apiKey,
      service: 'custom',
      customUrl: options.serviceUrl,
      families: { recaptchaV2: { mode: 'auto' } },
      delays: { recaptchaV2: { minMs: 500, maxMs: 1_500 } },
      pageSignal: true,
    }),
  );
  // 2. Chromium with it loaded (Playwright's `chromium` works headless with extensions).
  const context = await chromium.launchPersistentContext(profileDir, {
    headless: options.headless,
    ...(options.chromiumPath && { executablePath: options.chromiumPath }),
    args: [`--disable-extensions-except=${extensionDir}`, `--load-extension=${extensionDir}`, '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1'],
  });
  try {
    const worker =
      context.serviceWorkers().find((w) => w.url().startsWith(`chrome-extension://${CAPRELAY_ID}/`)) ??
      (await context.waitForEvent('serviceworker', { predicate: (w) => w.url().startsWith(`chrome-extension://${CAPRELAY_ID}/`) }));
    // A driver can reach the worker a moment before its script has run: ask until the API is there.
    for (let tries = 0; !(await worker.evaluate(() => 'caprelay' in globalThis).catch(() => false)); tries++) {
      if (tries === 100) throw new Error('CapRelay did not start');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const setup = await worker.evaluate(() => (globalThis as unknown as { caprelay: CapRelayControl }).caprelay.status());
    log(`CapRelay ${CAPRELAY_ID}: ${setup.ready ? 'ready' : 'not ready'}, set up from caprelay.json (${setup.setupFile?.applied.join(', ')})`);
    if (setup.setupFile?.problems.length) throw new Error(`caprelay.json: ${JSON.stringify(setup.setupFile.problems)}`);

    // 3. Open the page; auto-solve does the rest. The page signal is all a page-only script needs.
    const page = await context.newPage();
    await page.goto(options.pageUrl);
    await page.locator('.g-recaptcha[data-caprelay-solved]').waitFor({ state: 'attached', timeout: 120_000 });
    const pageToken = await page.locator('#g-recaptcha-response').inputValue();
    const status = await worker.evaluate(() => (globalThis as unknown as { caprelay: CapRelayControl }).caprelay.status());
    const task = status.tasks[0];
    if (!task) throw new Error('no task');
    log(`solved: task #${String(task.serviceTaskId)} ${task.state}, the page has a token of ${pageToken.length} characters`);
    return { pageToken, task: { state: task.state, ...(task.serviceTaskId !== undefined && { serviceTaskId: task.serviceTaskId }) } };
  } finally {
    await context.close();
    fs.rmSync(extensionDir, { recursive: true, force: true });
    fs.rmSync(profileDir, { recursive: true, force: true });
  }
}

/** Entry point for scripts/run.mjs: the demo's sandbox and site, then the example against them. */
export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { headed: { type: 'boolean' } } });
  const demo = await startDemo();
  try {
    await runPlaywright({
      extensionDir: path.resolve(process.env.CAPRELAY_DIST ?? 'dist', 'chrome'),
      serviceUrl: demo.serviceUrl,
      apiKey: demo.apiKey,
      pageUrl: `${demo.siteOrigin}/recaptcha-v2-checkbox.html`,
      headless: !values.headed,
      chromiumPath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    });
    return 0;
  } finally {
    await demo.stop();
  }
}
