/**
 * The key goes only where the user typed it, in real Chromium with the built extension:
 * a settings file that points at another service waits for the user's yes (and nothing reaches
 * the new host before it), a service that redirects is not followed, and nothing the service
 * sends back that carries the key is shown, stored or put into the page. Every server here is
 * a local one the test starts.
 */
import type { Page } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations } from '../support/axe';
import { CHROME_EXTENSION_DIR, launchChromium, type ChromiumSession } from '../support/chromium';
import { startFixtureServer, type FixtureServer } from '../support/fixture-server';
import { describeLeaks, findKey, instrumentPage, pageObservations, type Observation } from '../support/key-leak';
import { MockSolver } from '../support/mock-solver';
import { parseSettings, type Settings } from '../../src/shared/settings';

const API_KEY = 'sb7f3a1c9e5b2d8a4f6c0e9b3d7a2f5c';
const DIALOG = 'Apply these imported settings?';

let browser: ChromiumSession;
let fixtures: FixtureServer;
const solvers: MockSolver[] = [];

beforeAll(async () => {
  [browser, fixtures] = await Promise.all([launchChromium(), startFixtureServer()]);
});

afterAll(async () => {
  await Promise.all([browser?.close(), fixtures?.close(), ...solvers.map((s) => s.stop())]);
});

async function mock(options: Omit<ConstructorParameters<typeof MockSolver>[0], 'apiKey'> = {}): Promise<MockSolver> {
  const solver = await new MockSolver({ apiKey: API_KEY, ...options }).start();
  solvers.push(solver);
  return solver;
}

/** What extension storage holds, read from an extension page. */
async function storage(): Promise<{ local: Record<string, unknown>; session: Record<string, unknown> }> {
  const page = await browser.openPopup(-1);
  try {
    return await page.evaluate(async () => ({ local: await chrome.storage.local.get(null), session: await chrome.storage.session.get(null) }));
  } finally {
    await page.close();
  }
}

/** Every storage entry but the key's own, as observations for the key search. */
async function storageObservations(): Promise<Observation[]> {
  const { local, session } = await storage();
  const entries = [
    ...Object.entries(local)
      .filter(([name]) => name !== 'apiKey')
      .map(([name, value]) => ['local', name, value] as const),
    ...Object.entries(session).map(([name, value]) => ['session', name, value] as const),
  ];
  return entries.map(([area, name, value]) => ({ where: `storage.${area} ${name}`, text: JSON.stringify(value) }));
}

async function popupObservations(popup: Page): Promise<Observation[]> {
  return [{ where: 'popup', text: await popup.evaluate(() => document.documentElement.outerHTML) }];
}

async function openOptions(): Promise<Page> {
  const options = await browser.context.newPage();
  await options.goto(`chrome-extension://${browser.extensionId}/src/options/index.html`);
  return options;
}

/** The settings as the extension reads them from storage. */
const storedSettings = async (): Promise<Settings> => parseSettings((await storage()).local.settings);

const balanceOf = (page: Page): Promise<string | null> => page.getByTestId('balance').textContent();

function settingsFile(settings: Record<string, unknown>): { name: string; mimeType: string; buffer: Buffer } {
  return { name: 'caprelay-settings.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify({ caprelaySettings: { version: 2, ...settings } })) };
}

async function openFixture(): Promise<{ page: Page; tabId: number }> {
  const page = await browser.context.newPage();
  await instrumentPage(page, CHROME_EXTENSION_DIR);
  await page.goto(`${fixtures.origin}/pages/recaptcha-v2-checkbox.html`);
  await page.waitForSelector('#g-recaptcha-response', { state: 'attached' });
  return { page, tabId: await browser.tabIdOf(page) };
}

/** Clicks Solve in a popup for the tab and waits for the task to end in `state`; returns its status text. */
async function solveInPopup(popup: Page, state: string): Promise<string> {
  const solve = popup.getByRole('button', { name: /^Solve reCAPTCHA v2/ });
  await expect.poll(() => solve.isEnabled()).toBe(true);
  await solve.click();
  const task = popup.getByTestId('task').first();
  await expect.poll(() => task.getAttribute('data-state').catch(() => null), { timeout: 45_000 }).toBe(state);
  return (await task.getByTestId('task-status').textContent()) ?? '';
}

const tokens = (page: Page): Promise<string[]> => page.evaluate(() => (window as unknown as { __captchaTokens: string[] }).__captchaTokens);

/** Waits for the finished task's history entry: the last write a task's end makes. */
async function historyHas(errorCode: string): Promise<void> {
  await expect.poll(async () => ((await storage()).local.history as { errorCode?: string }[] | undefined)?.some((e) => e.errorCode === errorCode) ?? false).toBe(true);
}

describe('Chromium: an imported settings file', () => {
  it('that moves the service: nothing reaches the new host until the user confirms; cancel keeps the old settings', async () => {
    const [current, incoming] = await Promise.all([mock({ balance: 7.5 }), mock({ balance: 3.25 })]);
    await browser.configure(current.url, API_KEY);
    const options = await openOptions();
    // Settled on the user's own service: its balance is shown.
    await expect.poll(() => balanceOf(options)).toContain('$7.50');
    const incomingHost = new URL(incoming.url).host;
    const file = settingsFile({
      service: 'custom',
      customUrl: incoming.url,
      maxTasksPerHour: 0,
      maxTasksPerDay: 0,
      families: { recaptchaV2: { enabled: true, mode: 'auto' }, recaptchaV3: { enabled: true, mode: 'auto' } },
    });

    await options.locator('input[type="file"]').setInputFiles(file);
    const dialog = options.getByRole('dialog', { name: DIALOG });
    await dialog.waitFor();
    expect(await dialog.getByTestId('import-key-host').textContent()).toBe(`Your API key will be sent to: ${incomingHost}`);
    expect(await dialog.getByTestId('import-change').allTextContents()).toEqual([
      `API URL${current.url}${incoming.url}`,
      'Max tasks per hour30no limit',
      'Max tasks per day200no limit',
      'Mode for reCAPTCHA v2On clickAuto-solve when found',
      'Mode for reCAPTCHA v3On clickAuto-solve when found',
    ]);
    // Focus starts on the safe answer; the page behind is inert.
    expect(await options.evaluate(() => document.activeElement?.textContent)).toBe('Cancel');
    expect(await axeViolations(options)).toEqual([]);

    // Another extension page asks the background for the balance with whatever is stored: it
    // still gets the old service's, so nothing was stored, and the new host heard nothing.
    const popup = await browser.openPopup(-1);
    await expect.poll(() => balanceOf(popup)).toContain('$7.50');
    await popup.close();
    expect(await storedSettings()).toMatchObject({ customUrl: current.url, maxTasksPerHour: 30 });
    expect(incoming.requests).toEqual([]);

    // Esc cancels: the old settings stay, the page says so.
    await options.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await options.getByRole('status').textContent()).toBe('Import cancelled. Your settings are unchanged.');
    expect(await options.getByLabel('API URL').inputValue()).toBe(current.url);
    await options.reload();
    await expect.poll(() => balanceOf(options)).toContain('$7.50');
    expect(await storedSettings()).toMatchObject({ customUrl: current.url, maxTasksPerHour: 30, maxTasksPerDay: 200 });
    expect(incoming.requests).toEqual([]);

    // The same file again, confirmed from the keyboard: now, and only now, the new host is asked.
    await options.locator('input[type="file"]').setInputFiles(file);
    await dialog.waitFor();
    await options.keyboard.press('Tab');
    expect(await options.evaluate(() => document.activeElement?.textContent)).toBe('Apply the file');
    expect(incoming.requests).toEqual([]);
    await options.keyboard.press('Enter');
    await dialog.waitFor({ state: 'detached' });
    const [first] = await incoming.waitFor('getBalance');
    expect(first!.body).toEqual({ clientKey: API_KEY });
    await expect.poll(() => balanceOf(options)).toContain('$3.25');
    expect(await options.getByRole('status').textContent()).toBe('Settings imported.');
    expect(await storedSettings()).toMatchObject({
      service: 'custom',
      customUrl: incoming.url,
      maxTasksPerHour: 0,
      maxTasksPerDay: 0,
      families: { recaptchaV2: { enabled: true, mode: 'auto' }, recaptchaV3: { enabled: true, mode: 'auto' } },
    });
    expect(incoming.requests.map((r) => r.method).every((m) => m === 'getBalance')).toBe(true);
    await options.close();
  });

  it('that names a callback URL: the dialog names where results would go', async () => {
    const current = await mock({ balance: 1 });
    await browser.configure(current.url, API_KEY);
    const options = await openOptions();
    await expect.poll(() => balanceOf(options)).toContain('$1.00');
    await options.locator('input[type="file"]').setInputFiles(settingsFile({ service: 'custom', customUrl: current.url, callbackUrl: 'https://hooks.results.example/cb' }));
    const dialog = options.getByRole('dialog', { name: DIALOG });
    await dialog.waitFor();
    expect(await dialog.getByTestId('import-results-host').textContent()).toContain('hooks.results.example');
    expect(await dialog.getByTestId('import-key-host').textContent()).toContain(new URL(current.url).host);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect((await storedSettings()).callbackUrl).toBe('');
    await options.close();
  });

  it('that changes only harmless things applies at once, without asking', async () => {
    const current = await mock({ balance: 2 });
    await browser.configure(current.url, API_KEY);
    const options = await openOptions();
    await expect.poll(() => balanceOf(options)).toContain('$2.00');
    await options.locator('input[type="file"]').setInputFiles(settingsFile({ service: 'custom', customUrl: current.url, inPageButton: true, maxTasksPerHour: 5, blockedSites: ['ads.example'] }));
    await expect
      .poll(() =>
        options
          .getByRole('status')
          .textContent()
          .catch(() => null),
      )
      .toBe('Settings imported.');
    expect(await options.getByRole('dialog').count()).toBe(0);
    expect(await storedSettings()).toMatchObject({ inPageButton: true, maxTasksPerHour: 5, blockedSites: ['ads.example'] });
    await options.close();
  });
});

describe('Chromium: a service that redirects', () => {
  it('307 to another local server: that server receives nothing, and the user sees SERVICE_REDIRECT', async () => {
    const elsewhere = await mock();
    const relay = await mock({ redirect: { to: elsewhere.url, status: 307 } });
    await browser.configure(relay.url, API_KEY);
    const { page, tabId } = await openFixture();
    const popup = await browser.openPopup(tabId);
    await expect.poll(() => balanceOf(popup)).toContain('SERVICE_REDIRECT');
    expect(await balanceOf(popup)).toContain('does not follow it');

    // A click: the redirected createTask is in doubt (not re-sent), and says why.
    const status = await solveInPopup(popup, 'failed');
    expect(status).toContain('CREATE_UNCONFIRMED');
    expect(status).toContain('redirect');
    expect(relay.calls('createTask')).toHaveLength(1);
    expect(relay.calls('getBalance').length).toBeGreaterThan(0);
    expect(elsewhere.requests).toEqual([]);
    expect(await tokens(page)).toEqual([]);
    await Promise.all([popup.close(), page.close()]);
  });
});

describe('Chromium: what the service sends back never carries the key', () => {
  it('a task id equal to the key is never shown in the popup or stored', async () => {
    const solver = await mock();
    solver.script('createTask', { json: { errorId: 0, taskId: API_KEY } });
    await browser.configure(solver.url, API_KEY);
    const { page, tabId } = await openFixture();
    const popup = await browser.openPopup(tabId);
    const status = await solveInPopup(popup, 'failed');
    expect(status).toContain('CREATE_UNCONFIRMED');
    expect(status).toContain('contained your API key');
    await historyHas('CREATE_UNCONFIRMED');
    // Sent once: the service may hold a task under that id.
    expect(solver.calls('createTask')).toHaveLength(1);
    expect(solver.calls('getTaskResult')).toEqual([]);
    const leaks = findKey([...(await popupObservations(popup)), ...(await storageObservations()), ...(await pageObservations(page))], API_KEY);
    expect(describeLeaks(leaks, API_KEY)).toEqual([]);
    await Promise.all([popup.close(), page.close()]);
  });

  it('a token carrying the key is refused: nothing reaches the page, the popup or storage', async () => {
    const solver = await mock({ solveAfterMs: 0, solution: (_task, id) => ({ gRecaptchaResponse: `03AFcWeA-${id}-${API_KEY}-x` }) });
    await browser.configure(solver.url, API_KEY);
    const { page, tabId } = await openFixture();
    const popup = await browser.openPopup(tabId);
    const status = await solveInPopup(popup, 'failed');
    expect(status).toContain('KEY_IN_ANSWER');
    await historyHas('KEY_IN_ANSWER');
    expect(await tokens(page)).toEqual([]);
    expect(await page.$eval('#g-recaptcha-response', (field) => (field as HTMLTextAreaElement).value)).toBe('');
    const leaks = findKey([...(await popupObservations(popup)), ...(await storageObservations()), ...(await pageObservations(page))], API_KEY);
    expect(describeLeaks(leaks, API_KEY)).toEqual([]);
    expect(solver.violations).toEqual([]);
    await Promise.all([popup.close(), page.close()]);
  });
});
