/**
 * The key goes only where the user typed it, in real Firefox ESR with the built extension: the
 * same cases as service-boundary.e2e.test.ts (Chromium). An imported file that points at another
 * service waits for the user's yes, a redirecting service is not followed, and a task id or token
 * carrying the key is never shown, stored or put into the page. Every server is a local one.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ElementHandle, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSettings, type Settings } from '../../src/shared/settings';
import { launchFirefox, type FirefoxSession } from '../support/firefox';
import { startFixtureServer, type FixtureServer } from '../support/fixture-server';
import { describeLeaks, findKey, type Observation } from '../support/key-leak';
import { MockSolver } from '../support/mock-solver';

const API_KEY = 'ffsb3a1c9e5b2d8a4f6c0e9b3d7a2f5c';
const DIALOG = 'Apply these imported settings?';

type ExtensionWindow = Window & { browser: { storage: { local: { get(keys: null): Promise<Record<string, unknown>> }; session: { get(keys: null): Promise<Record<string, unknown>> } } } };
type CaptchaPage = Window & { __captchaTokens: string[] };

let firefox: FirefoxSession;
let fixtures: FixtureServer;
let fileDir: string;
const solvers: MockSolver[] = [];

beforeAll(async () => {
  [firefox, fixtures] = await Promise.all([launchFirefox(), startFixtureServer()]);
  fileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'caprelay-import-'));
});

afterAll(async () => {
  await Promise.all([firefox?.close(), fixtures?.close(), ...solvers.map((s) => s.stop())]);
  if (fileDir) fs.rmSync(fileDir, { recursive: true, force: true });
});

async function mock(options: Omit<ConstructorParameters<typeof MockSolver>[0], 'apiKey'> = {}): Promise<MockSolver> {
  const solver = await new MockSolver({ apiKey: API_KEY, ...options }).start();
  solvers.push(solver);
  return solver;
}

async function storage(): Promise<{ local: Record<string, unknown>; session: Record<string, unknown> }> {
  return (await firefox.extensionPage()).evaluate(async () => {
    const { browser } = window as unknown as ExtensionWindow;
    return { local: await browser.storage.local.get(null), session: await browser.storage.session.get(null) };
  });
}

const storedSettings = async (): Promise<Settings> => parseSettings((await storage()).local.settings);

/** Every storage entry but the key's own, for the key search. */
async function storageObservations(): Promise<Observation[]> {
  const { local, session } = await storage();
  return [
    ...Object.entries(local)
      .filter(([name]) => name !== 'apiKey')
      .map(([name, value]) => ({ where: `storage.local ${name}`, text: JSON.stringify(value) })),
    ...Object.entries(session).map(([name, value]) => ({ where: `storage.session ${name}`, text: JSON.stringify(value) })),
  ];
}

/** What the page itself can read: its DOM, its fields and the tokens its callback got. */
async function pageObservations(page: Page): Promise<Observation[]> {
  return page.evaluate(() => [
    { where: 'dom', text: document.documentElement.outerHTML },
    ...Array.from(document.querySelectorAll('input, textarea'), (field) => ({ where: `field ${field.id}`, text: (field as HTMLInputElement).value })),
    { where: 'tokens', text: JSON.stringify((window as unknown as CaptchaPage).__captchaTokens) },
    { where: 'url', text: location.href },
  ]);
}

function textOf(page: Page, testId: string): Promise<string> {
  return page.$eval(`[data-testid="${testId}"]`, (el) => el.textContent ?? '').catch(() => '');
}

function byRole(page: Page, role: string, name: string): Promise<ElementHandle> {
  return page.waitForSelector(`::-p-aria([name="${name}"][role="${role}"])`) as Promise<ElementHandle>;
}

const activeText = (page: Page): Promise<string | null> => page.evaluate(() => document.activeElement?.textContent ?? null);
const dialogOpen = (page: Page): Promise<boolean> => page.evaluate(() => document.querySelector('dialog')?.open === true);

/** Writes a settings file where only this test reads it (the system's temporary folder). */
function settingsFile(name: string, settings: Record<string, unknown>): string {
  const file = path.join(fileDir, name);
  fs.writeFileSync(file, JSON.stringify({ caprelaySettings: { version: 2, ...settings } }));
  return file;
}

/** Chooses `file` in the options page's import control, as the file picker would. */
async function chooseFile(options: Page, file: string): Promise<void> {
  const input = (await options.waitForSelector('input[type="file"]')) as ElementHandle<HTMLInputElement>;
  await input.uploadFile(file);
}

let opened = 0;

async function openFixture(): Promise<{ page: Page; tabId: number }> {
  const page = await firefox.newPage();
  // A URL of its own: tabIdOf finds the tab by URL, even if a failed test left one open.
  await page.goto(`${fixtures.origin}/pages/recaptcha-v2-checkbox.html?run=${++opened}`);
  await page.waitForSelector('#g-recaptcha-response');
  return { page, tabId: await firefox.tabIdOf(page) };
}

/** Clicks Solve in the popup and waits for the task to end in `state`; returns its status text. */
async function solveInPopup(popup: Page, state: string): Promise<string> {
  const solve = await byRole(popup, 'button', 'Solve reCAPTCHA v2');
  await expect.poll(() => solve.evaluate((el) => (el as HTMLButtonElement).disabled)).toBe(false);
  await solve.click();
  await expect.poll(() => popup.$eval('[data-testid="task"]', (task) => task.getAttribute('data-state')).catch(() => null), { timeout: 45_000 }).toBe(state);
  return textOf(popup, 'task-status');
}

async function historyHas(errorCode: string): Promise<void> {
  await expect.poll(async () => ((await storage()).local.history as { errorCode?: string }[] | undefined)?.some((e) => e.errorCode === errorCode) ?? false).toBe(true);
}

describe('Firefox: an imported settings file', () => {
  it('that moves the service: nothing reaches the new host until the user confirms; cancel keeps the old settings', async () => {
    const [current, incoming] = await Promise.all([mock({ balance: 7.5 }), mock({ balance: 3.25 })]);
    await firefox.configure(current.url, API_KEY);
    const options = await firefox.openExtensionPage('src/options/index.html');
    await expect.poll(() => textOf(options, 'balance')).toContain('$7.50');
    const file = settingsFile('move-service.json', {
      service: 'custom',
      customUrl: incoming.url,
      maxTasksPerHour: 0,
      families: { funcaptcha: { enabled: true, mode: 'auto' } },
    });

    await chooseFile(options, file);
    await byRole(options, 'dialog', DIALOG);
    expect(await textOf(options, 'import-key-host')).toBe(`Your API key will be sent to: ${new URL(incoming.url).host}`);
    expect(await options.$$eval('[data-testid="import-change"]', (rows) => rows.map((row) => row.textContent))).toEqual([
      `API URL${current.url}${incoming.url}`,
      'Max tasks per hour30no limit',
      'Mode for FunCaptcha (Arkose Labs)On clickAuto-solve when found',
    ]);
    expect(await activeText(options)).toBe('Cancel');

    // Another extension page asks the background for the balance from what is stored: still the old service's.
    const popup = await firefox.openPopup(-1);
    await expect.poll(() => textOf(popup, 'balance')).toContain('$7.50');
    await popup.close();
    expect(await storedSettings()).toMatchObject({ customUrl: current.url, maxTasksPerHour: 30 });
    expect(incoming.requests).toEqual([]);

    // Esc cancels and keeps everything.
    await options.keyboard.press('Escape');
    await expect.poll(() => dialogOpen(options)).toBe(false);
    expect(await options.$eval('[role="status"]', (el) => el.textContent)).toBe('Import cancelled. Your settings are unchanged.');
    expect(await storedSettings()).toMatchObject({ customUrl: current.url, maxTasksPerHour: 30 });
    expect((await storedSettings()).families.funcaptcha.mode).toBe('click');
    expect(incoming.requests).toEqual([]);

    // The same file again, confirmed from the keyboard: only now does the new host hear anything.
    await chooseFile(options, file);
    await byRole(options, 'dialog', DIALOG);
    await options.keyboard.press('Tab');
    expect(await activeText(options)).toBe('Apply the file');
    expect(incoming.requests).toEqual([]);
    await options.keyboard.press('Enter');
    await expect.poll(() => dialogOpen(options)).toBe(false);
    const [first] = await incoming.waitFor('getBalance');
    expect(first!.body).toEqual({ clientKey: API_KEY });
    await expect.poll(() => textOf(options, 'balance')).toContain('$3.25');
    expect(await storedSettings()).toMatchObject({ customUrl: incoming.url, maxTasksPerHour: 0, families: { funcaptcha: { enabled: true, mode: 'auto' } } });
    expect(incoming.requests.every((r) => r.method === 'getBalance')).toBe(true);
    await options.close();
  });
});

describe('Firefox: a service that redirects', () => {
  it('307 to another local server: that server receives nothing, and the user sees SERVICE_REDIRECT', async () => {
    const elsewhere = await mock();
    const relay = await mock({ redirect: { to: elsewhere.url, status: 307 } });
    await firefox.configure(relay.url, API_KEY);
    const { page, tabId } = await openFixture();
    const popup = await firefox.openPopup(tabId);
    await expect.poll(() => textOf(popup, 'balance')).toContain('SERVICE_REDIRECT');
    const status = await solveInPopup(popup, 'failed');
    expect(status).toContain('CREATE_UNCONFIRMED');
    expect(status).toContain('redirect');
    expect(relay.calls('createTask')).toHaveLength(1);
    expect(elsewhere.requests).toEqual([]);
    expect(await page.evaluate(() => (window as unknown as CaptchaPage).__captchaTokens)).toEqual([]);
    await Promise.all([popup.close(), page.close()]);
  });
});

describe('Firefox: what the service sends back never carries the key', () => {
  it('a task id equal to the key is never shown in the popup or stored', async () => {
    const solver = await mock();
    solver.script('createTask', { json: { errorId: 0, taskId: API_KEY } });
    await firefox.configure(solver.url, API_KEY);
    const { page, tabId } = await openFixture();
    const popup = await firefox.openPopup(tabId);
    const status = await solveInPopup(popup, 'failed');
    expect(status).toContain('CREATE_UNCONFIRMED');
    expect(status).toContain('contained your API key');
    await historyHas('CREATE_UNCONFIRMED');
    expect(solver.calls('createTask')).toHaveLength(1);
    const observed = [{ where: 'popup', text: await popup.evaluate(() => document.documentElement.outerHTML) }, ...(await storageObservations()), ...(await pageObservations(page))];
    expect(describeLeaks(findKey(observed, API_KEY), API_KEY)).toEqual([]);
    await Promise.all([popup.close(), page.close()]);
  });

  it('a token carrying the key is refused: nothing reaches the page, the popup or storage', async () => {
    const solver = await mock({ solveAfterMs: 0, solution: (_task, id) => ({ gRecaptchaResponse: `03AFcWeA-${id}-${API_KEY}-x` }) });
    await firefox.configure(solver.url, API_KEY);
    const { page, tabId } = await openFixture();
    const popup = await firefox.openPopup(tabId);
    expect(await solveInPopup(popup, 'failed')).toContain('KEY_IN_ANSWER');
    await historyHas('KEY_IN_ANSWER');
    expect(await page.evaluate(() => (window as unknown as CaptchaPage).__captchaTokens)).toEqual([]);
    const observed = [{ where: 'popup', text: await popup.evaluate(() => document.documentElement.outerHTML) }, ...(await storageObservations()), ...(await pageObservations(page))];
    expect(describeLeaks(findKey(observed, API_KEY), API_KEY)).toEqual([]);
    expect(solver.violations).toEqual([]);
    await Promise.all([popup.close(), page.close()]);
  });
});
