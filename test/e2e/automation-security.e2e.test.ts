/**
 * The automation channels are closed to everyone but the extension itself and whoever drives
 * the browser (SECURITY.md, "Whoever drives the browser"): a web page sees no `caprelay`
 * global and cannot tell caprelay.json or the control page exist; a content script has no
 * `caprelay` and its control messages are refused; another extension, even one with the
 * debugger, scripting and every site, cannot call, debug, script or read any of it. The key the
 * file sets reaches no page and no content script.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumControl, controlVia, copyExtension } from '../support/automation';
import { CHROME_EXTENSION_DIR, launchChromium, type ChromiumSession } from '../support/chromium';
import { FIREFOX_EXTENSION_DIR, launchFirefox } from '../support/firefox';
import { startFixtureServer, type FixtureServer } from '../support/fixture-server';
import { ContentWorlds, describeLeaks, findKey, instrumentPage, pageObservations } from '../support/key-leak';
import { MockSolver } from '../support/mock-solver';

/** Distinctive, so a search for it cannot match anything else. */
const API_KEY = 'ctl9d4e7a2c6f1b8e3d5a0c7f2b9e4d1a6c3';
const PROBER = path.resolve('test/fixtures/hostile/control-prober');
const PROBER_FIREFOX = path.resolve('test/fixtures/hostile/control-prober-firefox');

let fixtures: FixtureServer;
let solver: MockSolver;

beforeAll(async () => {
  [fixtures, solver] = await Promise.all([startFixtureServer(), new MockSolver({ apiKey: API_KEY, solveAfterMs: 300 }).start()]);
});

afterAll(async () => {
  await Promise.all([fixtures?.close(), solver?.stop()]);
});

/** A file that sets everything up, auto-solve after a short wait (time to start recording the content script). */
const setupFile = (): Record<string, unknown> => ({
  apiKey: API_KEY,
  service: 'custom',
  customUrl: solver.url,
  families: { recaptchaV2: { mode: 'auto' } },
  delays: { recaptchaV2: { minMs: 2_000, maxMs: 2_000 } },
  maxTasksPerHour: 25,
});

/** What a page gets when it asks for each address: the same for files that exist and files that do not. */
function probeAddresses(page: Page, urls: string[]): Promise<string[]> {
  return page.evaluate(
    (list) =>
      Promise.all(
        list.map(async (url) => {
          const fetched = await fetch(url).then(
            (r) => `fetched ${r.status}`,
            (e: unknown) => `fetch failed: ${(e as Error).name} ${(e as Error).message}`,
          );
          const script = await new Promise<string>((resolve) => {
            const element = document.createElement('script');
            element.src = url;
            element.onload = () => resolve('script loaded');
            element.onerror = () => resolve('script failed');
            document.head.append(element);
          });
          return `${fetched}; ${script}`;
        }),
      ),
    urls,
  );
}

describe('Chromium: the control API and caprelay.json are closed to pages, content scripts and other extensions', () => {
  let browser: ChromiumSession;
  let copy: ReturnType<typeof copyExtension>;

  beforeAll(async () => {
    copy = copyExtension(CHROME_EXTENSION_DIR, { setupFile: setupFile() });
    browser = await launchChromium({ extensionDir: copy.dir, others: [PROBER] });
  });

  afterAll(async () => {
    await browser?.close();
    copy?.remove();
  });

  it('a page sees no caprelay global and cannot tell caprelay.json or the control page exist; the key from the file reaches neither the page nor the content script', async () => {
    const page = await browser.context.newPage();
    await instrumentPage(page, copy.dir);
    const before = solver.calls('createTask').length;
    await page.goto(`${fixtures.origin}/pages/recaptcha-v2-checkbox.html`);
    const worlds = await ContentWorlds.attach(page, browser.extensionId);
    await worlds.record();
    await page.waitForFunction(() => (window as unknown as { __captchaTokens: string[] }).__captchaTokens.length > 0, null, { timeout: 45_000 });
    expect(solver.calls('createTask').length).toBe(before + 1);

    expect(await page.evaluate(() => [typeof (window as unknown as { caprelay?: unknown }).caprelay, 'caprelay' in window])).toEqual(['undefined', false]);
    const origin = `chrome-extension://${browser.extensionId}`;
    const [file, control, missing] = await probeAddresses(page, [`${origin}/caprelay.json`, `${origin}/src/control/index.html`, `${origin}/no-such-file-${randomUUID()}.json`]);
    expect(file).toMatch(/^fetch failed/);
    expect(file).toBe(missing);
    expect(control).toBe(missing);

    expect(await worlds.evaluate<string>('typeof globalThis.caprelay')).toBe('undefined');
    const readByContentScript = await worlds.evaluate<string>(`fetch(chrome.runtime.getURL('caprelay.json')).then((r) => r.text(), (e) => 'refused: ' + e.message)`);
    expect(readByContentScript).toMatch(/^refused/);
    const leaks = findKey([...(await pageObservations(page)), ...(await worlds.observations())], API_KEY);
    expect(describeLeaks(leaks, API_KEY)).toEqual([]);
    await worlds.detach();
    await page.close();
  });

  it("a content script's control messages are refused: no configure, no status, no solve", async () => {
    const page = await browser.context.newPage();
    await page.goto(`${fixtures.origin}/hostile/widgets50.html?n=2`);
    const tabId = await browser.tabIdOf(page);
    const worlds = await ContentWorlds.attach(page, browser.extensionId);
    const replies = await worlds.evaluate<unknown[]>(`Promise.all([
      { type: 'control', method: 'configure', params: { maxTasksPerHour: 0, apiKey: 'attacker-key-0000', blockedSites: [] } },
      { type: 'control', method: 'status' },
      { type: 'control', method: 'solve', params: { tabId: ${tabId}, confirmed: 2 } },
      { type: 'control', method: 'waitForSolved', params: { tabId: ${tabId}, timeoutMs: 100 } },
    ].map((m) => chrome.runtime.sendMessage(m).then((r) => r === undefined ? 'no answer' : r, (e) => 'error: ' + e.message)))`);
    for (const reply of replies) expect(reply === 'no answer' || (typeof reply === 'string' && reply.startsWith('error:')), JSON.stringify(reply)).toBe(true);
    const status = await chromiumControl(browser).status();
    expect(status.settings.maxTasksPerHour).toBe(25);
    expect(status.tasks.filter((t) => t.tabId === tabId)).toEqual([]);
    await worlds.detach();
    await page.close();
  });

  it('another extension with the debugger, scripting and every site cannot call, debug, script or read any of it', async () => {
    const other = browser.context.serviceWorkers().find((w) => w.url().endsWith('/background.js'));
    expect(other, 'the prober extension is loaded').toBeDefined();
    const before = solver.calls('createTask').length;
    type Result = { type: string; reply?: unknown; error?: string };
    const results = await other!.evaluate(([id, configure]) => (globalThis as unknown as { probeControl(id: string, configure: unknown): Promise<Result[]> }).probeControl(id, configure), [
      browser.extensionId,
      { maxTasksPerHour: 0, apiKey: 'attacker-key-0000' },
    ] as const);
    const byType = new Map(results.map((r) => [r.type, r]));
    for (const method of ['configure', 'status', 'solve', 'waitForSolved']) expect(byType.get(`message ${method}`)?.error).toMatch(/Receiving end does not exist|Could not establish connection/);
    expect(byType.get('port')?.reply).toMatchObject({ answered: false });
    // It can see that the worker (and any open page of CapRelay) exists, but not attach to any of them.
    expect(byType.get('debugger targets')?.reply).toContain(`worker chrome-extension://${browser.extensionId}/service-worker-loader.js`);
    const attaches = results.filter((r) => r.type.startsWith('debugger attach'));
    expect(attaches.length).toBe((byType.get('debugger targets')?.reply as string[]).length);
    for (const attach of attaches) expect(attach.error, attach.type).toMatch(/Cannot access a chrome-extension:\/\/ URL of different extension/);
    expect(byType.get('fetch caprelay.json')?.error).toMatch(/Failed to fetch/);
    // It may open the control page in a tab (which does nothing by itself), but not script or debug it.
    expect(byType.get('script control page')?.error).toMatch(/Cannot access a chrome-extension:\/\/ URL of different extension/);
    expect(byType.get('debugger control page')?.error).toMatch(/Cannot access a chrome-extension:\/\/ URL of different extension/);

    const status = await chromiumControl(browser).status();
    expect(status.settings.maxTasksPerHour).toBe(25);
    expect(JSON.stringify(results)).not.toContain(API_KEY);
    expect(solver.calls('createTask').length).toBe(before);
  });
});

describe('Firefox: the control API and caprelay.json are closed to pages and other add-ons', () => {
  it('a page sees no caprelay global and cannot tell caprelay.json exists, a content script cannot read it, and another add-on cannot call the control API, frame its page or read the file', async () => {
    const copy = copyExtension(FIREFOX_EXTENSION_DIR, { setupFile: setupFile() });
    // A content script of CapRelay's own (with its rights, as a taken-over content process would
    // have) that tries to read the file; Firefox has no other way in for the test to run code there.
    fs.writeFileSync(
      path.join(copy.dir, 'test-read-file.js'),
      `fetch(browser.runtime.getURL('caprelay.json')).then((r) => r.text(), (e) => 'refused: ' + e.message).then((t) => document.documentElement.setAttribute('data-test-read', t));`,
    );
    const manifestFile = path.join(copy.dir, 'manifest.json');
    const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as { content_scripts: unknown[] };
    manifest.content_scripts.push({ matches: ['<all_urls>'], js: ['test-read-file.js'], run_at: 'document_end' });
    fs.writeFileSync(manifestFile, JSON.stringify(manifest));
    const proberUuid = randomUUID();
    const firefox = await launchFirefox({ extensionDir: copy.dir, others: [{ dir: PROBER_FIREFOX, id: 'control-prober@caprelay.test', uuid: proberUuid }] });
    try {
      const page = await firefox.newPage();
      await page.goto(`${fixtures.origin}/pages/recaptcha-v2-checkbox.html`);
      await page.waitForFunction(() => (window as unknown as { __captchaTokens: string[] }).__captchaTokens.length > 0, { timeout: 45_000 });
      expect(await page.evaluate(() => [typeof (window as unknown as { caprelay?: unknown }).caprelay, 'caprelay' in window])).toEqual(['undefined', false]);
      const results = await page.evaluate(
        (urls: string[]) =>
          Promise.all(
            urls.map((url) =>
              fetch(url).then(
                (r) => `fetched ${r.status}`,
                (e: unknown) => `fetch failed: ${(e as Error).name}`,
              ),
            ),
          ),
        [`${firefox.origin}/caprelay.json`, `${firefox.origin}/src/control/index.html`, `${firefox.origin}/no-such-file.json`],
      );
      expect(results[0]).toMatch(/^fetch failed/);
      expect(new Set(results).size).toBe(1);
      await page.waitForSelector('html[data-test-read]');
      expect(await page.evaluate(() => document.documentElement.getAttribute('data-test-read'))).toMatch(/^refused/);
      const html = await page.content();
      expect(html).not.toContain(API_KEY);

      const prober = await firefox.openExtensionPage('probe.html', `moz-extension://${proberUuid}`);
      type Result = { type: string; reply?: unknown; error?: string };
      const probed = await prober.evaluate(
        (id: string, origin: string) => (window as unknown as { probeControl(id: string, origin: string, configure: unknown): Promise<Result[]> }).probeControl(id, origin, { maxTasksPerHour: 0 }),
        'caprelay@caprelay.dev',
        firefox.origin,
      );
      const byType = new Map(probed.map((r) => [r.type, r]));
      for (const method of ['configure', 'status', 'solve', 'waitForSolved']) expect(byType.get(`message ${method}`)?.error).toMatch(/Receiving end does not exist|Could not establish connection/);
      expect(byType.get('port')?.reply).toMatchObject({ answered: false });
      expect(byType.get('fetch caprelay.json')?.error).toBeDefined();
      expect(byType.get('frame the control page')?.reply).not.toMatchObject({ caprelay: 'object' });
      expect(JSON.stringify(probed)).not.toContain(API_KEY);

      const control = await firefox.openExtensionPage('src/control/index.html');
      const status = await controlVia((fn, arg) => control.evaluate(fn as (arg: unknown) => Promise<never>, arg)).status();
      expect(status.settings.maxTasksPerHour).toBe(25);
      await Promise.all([page.close(), prober.close(), control.close()]);
    } finally {
      await firefox.close();
      copy.remove();
    }
  });
});
