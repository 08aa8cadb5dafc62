/**
 * Launches Debian's Firefox ESR (headless) with the built extension as a temporary add-on,
 * driven by puppeteer-core over WebDriver BiDi, off the network.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import type { Browser as WebExtensionApi } from 'webextension-polyfill';
import { GECKO_ID } from '../../vite.config';

export const FIREFOX_EXTENSION_DIR = path.resolve(process.env.CAPRELAY_DIST ?? 'dist', 'firefox');
export const FIREFOX_PATH = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';

/** The popup page, relative to the extension's root. */
const POPUP_PATH = 'src/popup/index.html';

export interface FirefoxSession {
  browser: Browser;
  /** The moz-extension:// host, fixed per launch so pages can be opened by URL. */
  uuid: string;
  /** `moz-extension://<uuid>`. */
  origin: string;
  newPage(): Promise<Page>;
  /** Opens an extension page (path relative to the extension root; of another add-on at `origin`) in a new tab, once its document has loaded. */
  openExtensionPage(pagePath: string, origin?: string): Promise<Page>;
  /**
   * An extension page kept open for running WebExtension APIs from tests (`browser.tabs`,
   * `browser.storage`, …) with `evaluate`; opened on first use.
   */
  extensionPage(): Promise<Page>;
  /** Opens the popup page in a tab, pointed at `tabId`. */
  openPopup(tabId: number): Promise<Page>;
  /** The WebExtension tab id of the tab showing `page` (its URL must be open in no other tab). */
  tabIdOf(page: Page): Promise<number>;
  /** Writes settings and key straight into extension storage (the popup path has its own test). */
  configure(serviceUrl: string, apiKey: string): Promise<void>;
  /** Sends a runtime message from an extension page, as the popup does, and returns the reply. */
  sendMessage<T>(message: unknown): Promise<T>;
  close(): Promise<void>;
}

/**
 * What `serveHttps` does with an https request: answer it with this HTML (or this body and
 * content type), or (null) fail it as an offline browser would.
 */
export type HttpsAnswer = (url: URL) => string | { contentType: string; body: string } | null;

/**
 * Answers the https requests of `page` (and its frames) with `answer`; other requests (the local
 * fixture server, extension resources) go through untouched.
 */
export async function serveHttps(page: Page, answer: HttpsAnswer): Promise<void> {
  await page.setRequestInterception(true);
  page.on('request', (request) => {
    if (request.isInterceptResolutionHandled()) return;
    const url = new URL(request.url());
    const settle = (): Promise<void> => {
      if (url.protocol !== 'https:') return request.continue();
      const found = answer(url);
      if (found === null) return request.abort('internetdisconnected');
      const { contentType, body } = typeof found === 'string' ? { contentType: 'text/html', body: found } : found;
      return request.respond({ status: 200, contentType, body });
    };
    // A request of a frame or page that went away meanwhile can no longer be settled.
    settle().catch(() => undefined);
  });
}

/** The extension API as seen from inside an extension page's realm. */
type ExtensionGlobal = typeof globalThis & { browser: WebExtensionApi };

export interface FirefoxLaunchOptions {
  /** Another build of the extension (a temporary copy with caprelay.json, or with another id). */
  extensionDir?: string;
  /** Its add-on id, when the copy has another. */
  geckoId?: string;
  /** More add-ons to install beside it, each at a fixed moz-extension:// host. */
  others?: { dir: string; id: string; uuid: string }[];
}

export async function launchFirefox(options: FirefoxLaunchOptions = {}): Promise<FirefoxSession> {
  const extensionDir = options.extensionDir ?? FIREFOX_EXTENSION_DIR;
  const geckoId = options.geckoId ?? GECKO_ID;
  if (!fs.existsSync(path.join(extensionDir, 'manifest.json'))) {
    throw new Error(`${extensionDir} is missing: run npm run build`);
  }
  const uuid = randomUUID();
  const origin = `moz-extension://${uuid}`;
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX_PATH,
    headless: true,
    // A hang guard, not a budget: a first start with a fresh profile, beside the other test files'
    // browsers and the static checks, has taken over puppeteer's default 30 s.
    timeout: 120_000,
    // Without it, BiDi refuses to navigate a tab to moz-extension:// ("not allowed in this context").
    args: ['--remote-allow-system-access'],
    // Keeps Firefox's own services (remote settings, telemetry, …) off the network.
    env: { ...process.env, MOZ_DISABLE_NONLOCAL_CONNECTIONS: '1' },
    extraPrefsFirefox: {
      'extensions.webextensions.uuids': JSON.stringify({ [geckoId]: uuid, ...Object.fromEntries((options.others ?? []).map((other) => [other.id, other.uuid])) }),
      // Honoured only together with MOZ_DISABLE_NONLOCAL_CONNECTIONS; points remote settings nowhere.
      'services.settings.server': 'data:,#remote-settings-dummy/v1',
      // The env variable blocks connections but not lookups: pages naming real hosts (fixtures load
      // www.google.com/recaptcha/api.js like real sites) would still query DNS. Every name resolves
      // to localhost, and no HTTPS-record lookups (those bypass the first pref).
      'network.dns.native-is-localhost': true,
      'network.dns.native_https_query': false,
    },
  });

  // Pages opened by URL whose navigation puppeteer never sees finish (see openExtensionPage).
  const pendingNavigations: Promise<unknown>[] = [];
  let helperPage: Promise<Page> | undefined;

  // Opening tabs while other tests close theirs, Firefox sometimes discards the new tab before
  // WebDriver BiDi hands it over ("no such frame: DiscardedBrowsingContextError"): open another.
  const newPage = async (): Promise<Page> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await browser.newPage();
      } catch (error) {
        if (attempt >= 3 || !String(error).includes('DiscardedBrowsingContextError')) throw error;
      }
    }
  };

  const openExtensionPage = async (pagePath: string, at = origin): Promise<Page> => {
    const url = `${at}/${pagePath.replace(/^\//, '')}`;
    const page = await newPage();
    // Firefox loads moz-extension:// pages, but puppeteer never sees the navigation end, so an
    // awaited goto times out. Start it, and wait for the document instead.
    pendingNavigations.push(page.goto(url).catch(() => undefined));
    await waitForDocument(page, url);
    return page;
  };

  const session: FirefoxSession = {
    browser,
    uuid,
    origin,
    newPage,
    openExtensionPage,
    // Any extension page will do; the popup is the only one, and without a tab id it acts on nothing.
    extensionPage: () => (helperPage ??= openExtensionPage(POPUP_PATH)),
    openPopup: (tabId: number) => openExtensionPage(`${POPUP_PATH}?tabId=${tabId}`),
    async tabIdOf(page: Page) {
      // Tab ids exist only inside the extension: ask from one of its pages.
      const ids = await (
        await session.extensionPage()
      ).evaluate(async (pageUrl: string) => {
        const tabs = await (globalThis as ExtensionGlobal).browser.tabs.query({});
        return tabs.filter((tab) => tab.url === pageUrl).map((tab) => tab.id);
      }, page.url());
      const [id] = ids;
      if (ids.length !== 1 || typeof id !== 'number') throw new Error(`expected one tab showing ${page.url()}, found ${ids.length}`);
      return id;
    },
    async configure(serviceUrl: string, apiKey: string) {
      await (
        await session.extensionPage()
      ).evaluate(
        async (url: string, key: string) => {
          await (globalThis as ExtensionGlobal).browser.storage.local.set({
            settings: { version: 2, service: 'custom', customUrl: url },
            apiKey: key,
          });
        },
        serviceUrl,
        apiKey,
      );
    },
    async sendMessage<T>(message: unknown) {
      return (await (await session.extensionPage()).evaluate((m: unknown) => (globalThis as ExtensionGlobal).browser.runtime.sendMessage(m), message)) as T;
    },
    async close() {
      await browser.close();
      await Promise.all(pendingNavigations);
    },
  };

  try {
    const installed = await browser.installExtension(extensionDir);
    if (installed !== geckoId) throw new Error(`installed add-on id ${installed}, expected ${geckoId}`);
    for (const other of options.others ?? []) await browser.installExtension(other.dir);
  } catch (error) {
    await browser.close();
    throw error;
  }
  return session;
}

/**
 * Polls until `page` shows a fully loaded document at `url`. Not waitForFunction: an evaluation
 * that races the document's replacement can fail inside Firefox ("right-hand side of 'in' should
 * be an object, got null" from script.evaluate), which puppeteer treats as fatal, not as a reason
 * to retry.
 */
async function waitForDocument(page: Page, url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    const attempt = page.evaluate((expected: string) => location.href === expected && document.readyState === 'complete', url);
    attempt.catch(() => undefined); // a late failure of an abandoned attempt is not news
    let timer: ReturnType<typeof setTimeout> | undefined;
    const abandoned = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), 2_000)));
    try {
      if (await Promise.race([attempt, abandoned])) return;
    } catch (error) {
      lastError = error;
    } finally {
      clearTimeout(timer);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${url} did not load within ${timeoutMs} ms`, { cause: lastError });
}
