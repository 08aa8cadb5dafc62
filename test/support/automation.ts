/**
 * The built extension set up as an automation user sets it up: a temporary copy with
 * caprelay.json beside the manifest (tests write no tracked file), with its own Chrome key or
 * add-on id where a machine policy is written for it (so the policy reaches no other run of
 * CapRelay on this machine), and the policy itself, removed again whatever the test's outcome.
 */
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Worker } from 'playwright';
import type { CapRelayControl } from '../../src/background/control';
import { chromeExtensionId } from '../../vite.config';

export interface ExtensionCopy {
  dir: string;
  remove(): void;
}

export interface CopyOptions {
  /** caprelay.json: an object (written as JSON) or the file's text as is. */
  setupFile?: unknown;
  /** A manifest `key` (Chrome) for an id of the copy's own. */
  chromeKey?: string;
  /** An add-on id (Firefox) of the copy's own. */
  geckoId?: string;
}

export function copyExtension(source: string, options: CopyOptions = {}): ExtensionCopy {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'caprelay-copy-'));
  fs.cpSync(source, dir, { recursive: true });
  if (options.setupFile !== undefined) {
    const text = typeof options.setupFile === 'string' ? options.setupFile : JSON.stringify(options.setupFile, null, 2);
    fs.writeFileSync(path.join(dir, 'caprelay.json'), text);
  }
  if (options.chromeKey || options.geckoId) {
    const file = path.join(dir, 'manifest.json');
    const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown> & { browser_specific_settings?: { gecko: { id: string } } };
    if (options.chromeKey) manifest.key = options.chromeKey;
    if (options.geckoId && manifest.browser_specific_settings) manifest.browser_specific_settings.gecko.id = options.geckoId;
    fs.writeFileSync(file, JSON.stringify(manifest, null, 2));
  }
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** A new Chrome manifest key (public half) and the extension id it gives. */
export function freshChromeKey(): { key: string; id: string } {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const key = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  return { key, id: chromeExtensionId(key) };
}

/** Where Debian's Chromium reads machine policies (any *.json in it). */
const CHROMIUM_POLICY_DIR = '/etc/chromium/policies/managed';
/** Where Firefox on Linux reads machine policies (this one file). */
const FIREFOX_POLICY_FILE = '/etc/firefox/policies/policies.json';

export type Written = { remove(): void } | { skip: string };

/** Creates `dir` (and missing parents) and returns the ones it created, deepest first. */
function makeDirs(dir: string): string[] {
  const created: string[] = [];
  for (let d = dir; !fs.existsSync(d); d = path.dirname(d)) created.push(d);
  fs.mkdirSync(dir, { recursive: true });
  return created;
}

function write(file: string, content: unknown, what: string): Written {
  let created: string[] = [];
  try {
    created = makeDirs(path.dirname(file));
    fs.writeFileSync(file, JSON.stringify(content, null, 2), { flag: 'wx' });
  } catch (error) {
    for (const dir of created) fs.rmSync(dir, { recursive: true, force: true });
    return { skip: `cannot write the ${what} policy ${file} (${(error as Error).message}): run this test as root, or let .ci/run write it` };
  }
  return {
    remove: () => {
      fs.rmSync(file, { force: true });
      for (const dir of created) if (fs.existsSync(dir) && fs.readdirSync(dir).length === 0) fs.rmdirSync(dir);
    },
  };
}

/** A Chromium machine policy for one extension id (`3rdparty.extensions.<id>`), as an administrator writes it. */
export function writeChromiumPolicy(extensionId: string, values: Record<string, unknown>): Written {
  return write(path.join(CHROMIUM_POLICY_DIR, `caprelay-e2e-${extensionId}.json`), { '3rdparty': { extensions: { [extensionId]: values } } }, 'Chromium');
}

/**
 * A Firefox machine policy for one add-on id (`policies.3rdparty.Extensions.<id>`). Firefox
 * reads one policies.json: an existing one (someone's own) is never replaced, the test skips.
 */
export function writeFirefoxPolicy(geckoId: string, values: Record<string, unknown>): Written {
  if (fs.existsSync(FIREFOX_POLICY_FILE)) return { skip: `${FIREFOX_POLICY_FILE} exists already and is not the test's to replace` };
  return write(FIREFOX_POLICY_FILE, { policies: { '3rdparty': { Extensions: { [geckoId]: values } } } }, 'Firefox');
}

/** A context where `caprelay` is a global: Chromium's service worker, or the control page. */
type WithControl = { caprelay: CapRelayControl };

/** Runs a function with one argument in that context (Playwright's and puppeteer's evaluate both fit). */
export type Evaluate = <A, R>(fn: (arg: A) => Promise<R>, arg: A) => Promise<R>;

/** The control API as a driver calls it, each call evaluated in the context that has it. */
export function controlVia(evaluate: Evaluate): CapRelayControl {
  return {
    configure: (input) => evaluate((i) => (globalThis as unknown as WithControl).caprelay.configure(i), input),
    status: () => evaluate(() => (globalThis as unknown as WithControl).caprelay.status(), null),
    tabs: () => evaluate(() => (globalThis as unknown as WithControl).caprelay.tabs(), null),
    captchas: (target = {}) => evaluate((t) => (globalThis as unknown as WithControl).caprelay.captchas(t), target),
    solve: (target = {}) => evaluate((t) => (globalThis as unknown as WithControl).caprelay.solve(t), target),
    waitForSolved: (target = {}) => evaluate((t) => (globalThis as unknown as WithControl).caprelay.waitForSolved(t), target),
  };
}

/**
 * Chromium's service worker once the control API is on its global: a driver can reach the
 * worker a moment before its script has run (then not even setTimeout exists there yet).
 */
async function readyWorker(browser: { worker(): Promise<Worker> }): Promise<Worker> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const worker = await browser.worker();
    if (await worker.evaluate(() => 'caprelay' in globalThis).catch(() => false)) return worker;
    if (Date.now() > deadline) throw new Error('the control API did not appear on the service worker');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The control API of Chromium's running service worker, as Playwright's serviceWorker.evaluate reaches it. */
export function chromiumControl(browser: { worker(): Promise<Worker> }): CapRelayControl {
  // Playwright types a function's argument as it arrives (unboxed); these are plain data both ways.
  return controlVia(async (fn, arg) => (await readyWorker(browser)).evaluate(fn as (arg: unknown) => Promise<never>, arg));
}
