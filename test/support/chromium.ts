/** Launches Debian's Chromium (headless) with the built extension, off the network. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page, type Worker } from 'playwright';

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
  close(): Promise<void>;
}

export async function launchChromium(): Promise<ChromiumSession> {
  if (!fs.existsSync(path.join(CHROME_EXTENSION_DIR, 'manifest.json'))) throw new Error(`${CHROME_EXTENSION_DIR} is missing: run npm run build`);
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'caprelay-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      `--disable-extensions-except=${CHROME_EXTENSION_DIR}`,
      `--load-extension=${CHROME_EXTENSION_DIR}`,
      '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
    ],
  });
  const worker = async (): Promise<Worker> => {
    const found = context.serviceWorkers().find((w) => w.url().startsWith('chrome-extension://'));
    return found ?? (await context.waitForEvent('serviceworker', { timeout: 15_000 }));
  };
  const extensionId = new URL((await worker()).url()).host;
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
      await page.bringToFront();
      const sw = await worker();
      const url = page.url();
      return sw.evaluate(async (pageUrl: string) => {
        const tabs = await chrome.tabs.query({});
        const tab = tabs.find((t) => t.url === pageUrl) ?? (await chrome.tabs.query({ active: true, lastFocusedWindow: true }))[0];
        if (tab?.id === undefined) throw new Error('tab not found');
        return tab.id;
      }, url);
    },
    async close() {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
