/**
 * CapRelay in Puppeteer, set up and driven by the control API: configure the service and key,
 * open a page, solve its captchas (the same rules as Solve all in the popup: past 3 the count
 * must be confirmed) and wait until each token is in the page.
 *
 * Chromium: the API is `caprelay` on the service worker's global, reached through its worker
 * target. Firefox (--firefox): the background is an event page no driver can evaluate in, so the
 * API is `window.caprelay` on the extension's control page, src/control/index.html.
 *
 *   npm run build && node scripts/run.mjs examples/puppeteer.ts [--firefox] [--headed]
 *
 * With no options it starts the demo site and the sandbox service (npm run demo's) on 127.0.0.1
 * and solves the demo's reCAPTCHA v2 page with the demo key: no account, no network.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { parseArgs } from 'node:util';
import puppeteer, { TargetType, type Browser, type Page, type WebWorker } from 'puppeteer-core';
import type { CapRelayControl } from '../src/background/control';
import { startDemo } from './demo-services';

/** The unpacked Chrome build's id (fixed by the manifest key). */
export const CAPRELAY_ID = 'dcobggcpcpmknahbkciencdhfkhpnmbh';
/** The Firefox add-on id. */
export const CAPRELAY_GECKO_ID = 'caprelay@caprelay.dev';

export interface PuppeteerExample {
  browser: 'chrome' | 'firefox';
  /** dist/chrome or dist/firefox, as npm run build makes them. */
  extensionDir: string;
  executablePath: string;
  serviceUrl: string;
  apiKey: string;
  /** A page with a reCAPTCHA v2 widget. */
  pageUrl: string;
  headless: boolean;
  log?: (line: string) => void;
}

export interface ExampleResult {
  pageToken: string;
  task: { state: string; serviceTaskId?: number | string };
}

type WithControl = { caprelay: CapRelayControl };
type Call = <K extends keyof CapRelayControl>(method: K, ...args: Parameters<CapRelayControl[K]>) => ReturnType<CapRelayControl[K]>;

/** Chromium: the service worker's global, through its target. */
async function chromeControl(browser: Browser): Promise<Call> {
  const target = await browser.waitForTarget((t) => t.type() === TargetType.SERVICE_WORKER && t.url().startsWith(`chrome-extension://${CAPRELAY_ID}/`));
  const worker = (await target.worker()) as WebWorker;
  // A driver can reach the worker a moment before its script has run: ask until the API is there.
  for (let tries = 0; !(await worker.evaluate(() => 'caprelay' in globalThis).catch(() => false)); tries++) {
    if (tries === 100) throw new Error('CapRelay did not start');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return ((method: string, ...args: unknown[]) =>
    worker.evaluate((m, a) => ((globalThis as unknown as WithControl).caprelay[m as keyof CapRelayControl] as (...x: unknown[]) => Promise<unknown>)(...a), method, args)) as Call;
}

/** Firefox: the control page, at the moz-extension:// host this profile gives the add-on. */
async function firefoxControl(browser: Browser, uuid: string): Promise<Call> {
  const page = await browser.newPage();
  // Puppeteer never sees a moz-extension:// navigation end, so it is not awaited: the page is.
  void page.goto(`moz-extension://${uuid}/src/control/index.html`).catch(() => undefined);
  await page.waitForFunction(() => 'caprelay' in window, { polling: 100, timeout: 30_000 });
  return ((method: string, ...args: unknown[]) =>
    page.evaluate((m, a) => ((window as unknown as WithControl).caprelay[m as keyof CapRelayControl] as (...x: unknown[]) => Promise<unknown>)(...a), method, args)) as Call;
}

export async function runPuppeteer(options: PuppeteerExample): Promise<ExampleResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const uuid = randomUUID();
  const browser =
    options.browser === 'chrome'
      ? await puppeteer.launch({
          browser: 'chrome',
          executablePath: options.executablePath,
          headless: options.headless,
          // Puppeteer loads unpacked extensions over the pipe connection.
          pipe: true,
          enableExtensions: [options.extensionDir],
          // Chromium refuses its sandbox to root (containers, CI), as Playwright knows; the demo needs no network.
          args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1'],
        })
      : await puppeteer.launch({
          browser: 'firefox',
          executablePath: options.executablePath,
          headless: options.headless,
          // Lets BiDi open moz-extension:// pages; the uuids pref fixes the add-on's host.
          args: ['--remote-allow-system-access'],
          env: { ...process.env, MOZ_DISABLE_NONLOCAL_CONNECTIONS: '1' },
          extraPrefsFirefox: { 'extensions.webextensions.uuids': JSON.stringify({ [CAPRELAY_GECKO_ID]: uuid }), 'network.dns.native-is-localhost': true },
        });
  try {
    if (options.browser === 'firefox') await browser.installExtension(options.extensionDir);
    const call = options.browser === 'chrome' ? await chromeControl(browser) : await firefoxControl(browser, uuid);

    const configured = await call('configure', { service: 'custom', customUrl: options.serviceUrl, apiKey: options.apiKey });
    if (configured.problems.length) throw new Error(`configure: ${JSON.stringify(configured.problems)}`);
    const status = await call('status');
    log(`CapRelay (${options.browser}) configured: ${status.ready ? 'ready' : 'not ready'}, balance ${status.balance?.ok ? `$${status.balance.balance}` : JSON.stringify(status.balance)}`);

    const page: Page = await browser.newPage();
    await page.goto(options.pageUrl);
    // The page reports its captchas as it loads: ask until CapRelay lists them.
    let listed = 0;
    for (let tries = 0; listed === 0 && tries < 100; tries++) {
      listed = (await call('captchas', { url: options.pageUrl }).catch(() => ({ captchas: [] }))).captchas.length;
      if (listed === 0) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    let reply = await call('solve', { url: options.pageUrl });
    // More than 3 at once: nothing started yet; confirm the count, as a user would in the popup.
    if (reply.confirm !== undefined) reply = await call('solve', { url: options.pageUrl, confirmed: reply.confirm });
    log(`solve: ${reply.started} started${reply.errors.length ? `, ${reply.errors.map((e) => e.code).join(', ')}` : ''}`);
    const done = await call('waitForSolved', { url: options.pageUrl, timeoutMs: 120_000 });
    if (!done.solved) throw new Error(`not solved: ${done.error?.code ?? '?'} ${done.error?.message ?? ''}`);
    const task = done.tasks[0]!;
    const pageToken = await page.$eval('#g-recaptcha-response', (field) => (field as HTMLTextAreaElement).value);
    log(`solved: task #${String(task.serviceTaskId)} ${task.state}, the page has a token of ${pageToken.length} characters`);
    return { pageToken, task: { state: task.state, ...(task.serviceTaskId !== undefined && { serviceTaskId: task.serviceTaskId }) } };
  } finally {
    await browser.close();
  }
}

/** Entry point for scripts/run.mjs: the demo's sandbox and site, then the example against them. */
export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { firefox: { type: 'boolean' }, headed: { type: 'boolean' } } });
  const target = values.firefox ? 'firefox' : 'chrome';
  const demo = await startDemo();
  try {
    await runPuppeteer({
      browser: target,
      extensionDir: path.resolve(process.env.CAPRELAY_DIST ?? 'dist', target),
      executablePath: target === 'chrome' ? (process.env.CHROMIUM_PATH ?? '/usr/bin/chromium') : (process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr'),
      serviceUrl: demo.serviceUrl,
      apiKey: demo.apiKey,
      pageUrl: `${demo.siteOrigin}/recaptcha-v2-checkbox.html`,
      headless: !values.headed,
    });
    return 0;
  } finally {
    await demo.stop();
  }
}
