/** Chromium with the built extension, kept off the network, headed or headless. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright';
import { DEFAULT_SETTINGS, STORAGE_KEYS, type Settings } from '../src/shared/settings';

export interface DemoBrowser {
  context: BrowserContext;
  extensionId: string;
  /** Points CapRelay at a service: Custom, this URL, this key. */
  configure(serviceUrl: string, apiKey: string): Promise<void>;
  /** The browser's id of the tab showing `page` (the popup takes it as ?tabId=). */
  tabIdOf(page: Page): Promise<number>;
  /** The popup page in a tab of its own, about the tab `tabId`. */
  openPopup(tabId: number): Promise<Page>;
  close(): Promise<void>;
}

export interface LaunchOptions {
  extensionDir: string;
  headless: boolean;
  executablePath?: string;
}

export async function launchDemoBrowser(options: LaunchOptions): Promise<DemoBrowser> {
  const extensionDir = path.resolve(options.extensionDir);
  if (!fs.existsSync(path.join(extensionDir, 'manifest.json'))) throw new Error(`${extensionDir} has no manifest.json: build the extension first (npm run build)`);
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'caprelay-demo-profile-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: options.executablePath ?? process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: options.headless,
    // Headed: let the window decide its size, as a person's browser would.
    ...(options.headless ? {} : { viewport: null }),
    args: [
      `--disable-extensions-except=${extensionDir}`,
      `--load-extension=${extensionDir}`,
      // Nothing but 127.0.0.1: the demo needs no network and must not touch any.
      '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
    ],
  });
  try {
    const worker = context.serviceWorkers().find((w) => w.url().startsWith('chrome-extension://')) ?? (await context.waitForEvent('serviceworker', { timeout: 15_000 }));
    const extensionId = new URL(worker.url()).host;

    // An extension page to run chrome.* calls in; it stays valid when the worker sleeps.
    let extensionTab: Page | undefined;
    const extensionPage = async (): Promise<Page> => {
      if (!extensionTab || extensionTab.isClosed()) {
        extensionTab = await context.newPage();
        await extensionTab.goto(`chrome-extension://${extensionId}/src/popup/index.html?tabId=-1`);
      }
      return extensionTab;
    };

    return {
      context,
      extensionId,
      async configure(serviceUrl, apiKey) {
        const settings: Settings = { ...DEFAULT_SETTINGS, service: 'custom', customUrl: serviceUrl };
        const page = await extensionPage();
        await page.evaluate(
          async ({ items }) => {
            await chrome.storage.local.set(items);
          },
          { items: { [STORAGE_KEYS.settings]: settings, [STORAGE_KEYS.apiKey]: apiKey } },
        );
        await page.close();
      },
      async tabIdOf(page) {
        // Without the "tabs" permission tab URLs are hidden: ask for the active tab with the page in front.
        const ext = await extensionPage();
        await page.bringToFront();
        return ext.evaluate(async () => {
          const [tab] = await chrome.tabs.query({ active: true, lastFocusedWindow: true });
          if (tab?.id === undefined) throw new Error('no active tab');
          return tab.id;
        });
      },
      async openPopup(tabId) {
        const popup = await context.newPage();
        await popup.goto(`chrome-extension://${extensionId}/src/popup/index.html?tabId=${tabId}`);
        return popup;
      },
      async close() {
        await context.close().catch(() => undefined);
        fs.rmSync(userDataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await context.close().catch(() => undefined);
    fs.rmSync(userDataDir, { recursive: true, force: true });
    throw error;
  }
}
