/** Launches Debian's Chromium (headless) with the built extension, off the network. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page, type Worker } from 'playwright';
import type { VendorAnswer } from './vendor-frames';

export const CHROME_EXTENSION_DIR = path.resolve(process.env.CAPRELAY_DIST ?? 'dist', 'chrome');
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface ChromiumSession {
  context: BrowserContext;
  extensionId: string;
  worker(): Promise<Worker>;
  /** Opens the popup page in a tab, pointed at `tabId`. */
  openPopup(tabId: number): Promise<Page>;
  /** The browser's id of the tab showing `page`. */
  tabIdOf(page: Page): Promise<number>;
  /** Writes settings and key straight into extension storage (the popup path has its own test). */
  configure(serviceUrl: string, apiKey: string): Promise<void>;
  /**
   * Stops the extension's service worker as the browser does when it is idle. Returns once that
   * instance has stopped (a new one may already be running: see StopMarked).
   */
  stopWorker(): Promise<void>;
  /** CDP target ids of the extension's running service worker (empty while it is stopped). */
  workerTargets(): Promise<string[]>;
  close(): Promise<void>;
}

/** The global stopWorker() sets in the running worker, to tell it from one started afterwards. */
export type StopMarked = typeof globalThis & { __caprelayStopMark?: string };

export interface LaunchOptions {
  /** Browser UI language (what extension i18n follows), e.g. 'ru'. */
  language?: string;
  /** Another build of the extension (a temporary copy with caprelay.json, or with another key). */
  extensionDir?: string;
  /** Other extensions to load beside it. */
  others?: string[];
  /** A profile to start with (a browser restart); it is the caller's, and stays after close. */
  userDataDir?: string;
}

/**
 * Answers the https requests of a page (or of every page of a context) the way the vendors would,
 * offline (`FixtureServer.vendor`); any other https request fails as it would with no network.
 */
export async function routeVendors(target: Page | BrowserContext, vendor: (url: URL) => VendorAnswer | null): Promise<void> {
  await target.route(
    (url) => url.protocol === 'https:',
    async (route) => {
      const answer = vendor(new URL(route.request().url()));
      if (answer) await route.fulfill({ status: 200, contentType: answer.contentType, body: answer.body });
      else await route.abort('internetdisconnected');
    },
  );
}

export async function launchChromium(options: LaunchOptions = {}): Promise<ChromiumSession> {
  const extensionDir = options.extensionDir ?? CHROME_EXTENSION_DIR;
  const loaded = [extensionDir, ...(options.others ?? [])].join(',');
  if (!fs.existsSync(path.join(extensionDir, 'manifest.json'))) throw new Error(`${extensionDir} is missing: run npm run build`);
  const userDataDir = options.userDataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'caprelay-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      `--disable-extensions-except=${loaded}`,
      `--load-extension=${loaded}`,
      // Loopback only: 127.0.0.2 stands for a second site in some tests.
      '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE 127.0.0.2',
      ...(options.language ? [`--lang=${options.language}`] : []),
    ],
    // On Linux, Chromium takes its UI language from the environment.
    ...(options.language ? { env: { ...process.env, LANGUAGE: options.language, LANG: `${options.language}_RU.UTF-8` } } : {}),
  });
  // CapRelay's worker is the one crxjs names; other extensions loaded beside it have their own.
  const isCapRelay = (w: Worker): boolean => w.url().startsWith('chrome-extension://') && w.url().endsWith('/service-worker-loader.js');
  const worker = async (): Promise<Worker> => {
    const found = context.serviceWorkers().find(isCapRelay);
    // A hang guard: the worker's first start beside other browsers can take a while.
    return found ?? (await context.waitForEvent('serviceworker', { predicate: isCapRelay, timeout: 60_000 }));
  };
  const extensionId = new URL((await worker()).url()).host;
  const cdp = async () => {
    const browser = context.browser();
    if (!browser) throw new Error('no browser-level CDP session');
    return browser.newBrowserCDPSession();
  };
  const workerTargets = async (): Promise<string[]> => {
    const session = await cdp();
    const { targetInfos } = await session.send('Target.getTargets');
    await session.detach();
    return targetInfos.filter((t) => t.type === 'service_worker' && t.url.startsWith(`chrome-extension://${extensionId}/`)).map((t) => t.targetId);
  };
  // An extension page for evaluating chrome.* calls: unlike Playwright's Worker handle, it stays
  // valid when the service worker is stopped and started again.
  let helperPage: Page | undefined;
  const extensionPage = async (): Promise<Page> => {
    if (!helperPage || helperPage.isClosed()) {
      helperPage = await context.newPage();
      await helperPage.goto(`chrome-extension://${extensionId}/src/popup/index.html?tabId=-1`);
    }
    return helperPage;
  };
  return {
    context,
    extensionId,
    worker,
    async openPopup(tabId: number) {
      const popup = await context.newPage();
      await popup.goto(`chrome-extension://${extensionId}/src/popup/index.html?tabId=${tabId}`);
      return popup;
    },
    async tabIdOf(page: Page) {
      // The page's tab is the active one of the browser window while the page is in front; its
      // address (readable for web pages: the host permissions) tells it from a tab the browser
      // has not switched away from yet. The toolbar popup's window is no browser window.
      const helper = await extensionPage();
      const url = page.url();
      for (let attempt = 0; attempt < 100; attempt++) {
        await page.bringToFront();
        const id = await helper.evaluate(async (address) => {
          const tabs = await chrome.tabs.query({ active: true, windowType: 'normal' });
          const mine = /^https?:/.test(address) ? tabs.filter((t) => t.url === address || t.pendingUrl === address) : tabs;
          return mine.length === 1 ? mine[0]!.id : undefined;
        }, url);
        if (id !== undefined) return id;
        await page.waitForTimeout(50);
      }
      throw new Error(`no tab shows ${url}`);
    },
    async configure(serviceUrl: string, apiKey: string) {
      const helper = await extensionPage();
      await helper.evaluate(
        async ([url, key]) => {
          await chrome.storage.local.set({
            settings: { version: 2, service: 'custom', customUrl: url },
            apiKey: key,
          });
        },
        [serviceUrl, apiKey] as const,
      );
    },
    workerTargets,
    async stopWorker() {
      const [target] = await workerTargets();
      if (!target) throw new Error('extension service worker not running');
      // Marks this instance: a worker started again comes back under the same target id, and on a
      // busy machine its alarm can start it within the stop, so "target still listed" may be a new one.
      const running = await worker();
      const mark = `${Date.now()}-${Math.random()}`;
      await running.evaluate((m) => void ((globalThis as StopMarked).__caprelayStopMark = m), mark);
      const session = await cdp();
      await session.send('Target.closeTarget', { targetId: target });
      await session.detach();
      const deadline = Date.now() + 30_000;
      for (;;) {
        if (!(await workerTargets()).includes(target)) return;
        const seen = running.evaluate(() => (globalThis as StopMarked).__caprelayStopMark ?? null).catch(() => 'unknown');
        const late = new Promise<string>((resolve) => setTimeout(resolve, 1_000, 'unknown'));
        if ((await Promise.race([seen, late])) === null) return;
        if (Date.now() > deadline) throw new Error('service worker did not stop');
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async close() {
      await context.close();
      if (!options.userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
