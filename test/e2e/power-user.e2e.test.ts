/**
 * The power-user features in Chromium with the built extension, against strict mocks on
 * 127.0.0.1: a proxy set on the options page (a bad one refused beside its field, a good one
 * sent with the task), the proxy password and the fallback key nowhere a page can see nor in an
 * export, a wrong answer reported once from the history, a task the first service refused going
 * to the fallback (and the popup naming it), and statistics and a CSV that add up.
 */
import fs from 'node:fs';
import type { Page } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TabStateReply } from '../../src/shared/messages';
import { CSV_COLUMNS } from '../../src/shared/history-csv';
import { CHROME_EXTENSION_DIR, launchChromium, type ChromiumSession } from '../support/chromium';
import { startFixtureServer, type FixtureServer } from '../support/fixture-server';
import { ContentWorlds, extensionStorage, findSecrets, instrumentPage, pageObservations } from '../support/key-leak';
import { MockSolver } from '../support/mock-solver';

/** Distinctive, so a search for them cannot match anything else. */
const API_KEY = 'pwr4c1e9b7d2f5a8c3e6b9d1f4a7c0e2b5';
const FALLBACK_KEY = 'fbk8e2a6c4f1b9d3e7a5c2f8b6d4e1a9c3';
const PROXY_PASSWORD = 'pxp-7Qm2Zr9Lw4Tn';
const COST = 0.0025;

let browser: ChromiumSession;
let fixtures: FixtureServer;
let first: MockSolver;
let second: MockSolver;
/** An extension page kept open to read storage and speak to the background as the popup does. */
let ui: Page;

beforeAll(async () => {
  [browser, fixtures, first, second] = await Promise.all([
    launchChromium(),
    startFixtureServer(),
    new MockSolver({ apiKey: API_KEY, solveAfterMs: 300, cost: COST }).start(),
    new MockSolver({ apiKey: FALLBACK_KEY, solveAfterMs: 300, cost: COST }).start(),
  ]);
  await browser.configure(first.url, API_KEY);
  ui = await browser.openPopup(-1);
  await ui.evaluate(() => chrome.storage.local.remove(['history', 'spend']));
});

afterAll(async () => {
  await Promise.all([browser?.close(), fixtures?.close(), first?.stop(), second?.stop()]);
});

type TokenWindow = { __captchaTokens: string[] };

async function openFixture(instrument = false): Promise<{ page: Page; tabId: number }> {
  const page = await browser.context.newPage();
  if (instrument) await instrumentPage(page, CHROME_EXTENSION_DIR);
  await page.goto(`${fixtures.origin}/pages/recaptcha-v2-checkbox.html`);
  await page.waitForSelector('#g-recaptcha-response', { state: 'attached' });
  return { page, tabId: await browser.tabIdOf(page) };
}

/** Click Solve in the popup and wait for the task to end; returns the popup. */
async function solveInPopup(tabId: number, state: string): Promise<Page> {
  const popup = await browser.openPopup(tabId);
  const solve = popup.getByRole('button', { name: /^Solve reCAPTCHA v2/ });
  await expect.poll(() => solve.isEnabled()).toBe(true);
  await solve.click();
  await expect.poll(() => popup.getByTestId('task').first().getAttribute('data-state'), { timeout: 45_000 }).toBe(state);
  return popup;
}

async function openOptions(): Promise<Page> {
  const options = await browser.context.newPage();
  await options.goto(`chrome-extension://${browser.extensionId}/src/options/index.html`);
  await options.getByTestId('proxy-settings').waitFor();
  return options;
}

async function history(): Promise<Array<Record<string, unknown>>> {
  return ui.evaluate(async () => ((await chrome.storage.local.get('history')).history ?? []) as Array<Record<string, unknown>>);
}

describe('Chromium: proxy, report, fallback and spend', () => {
  it('a bad proxy is refused beside its field and sends no task; a good one goes with the task; the password is in no page, message or export', async () => {
    const options = await openOptions();
    await options.selectOption('#proxy-type', 'http');
    await options.fill('#proxy-address', '192.168.1.5');
    await options.fill('#proxy-port', '8080');
    await options.fill('#proxy-login', 'relay');
    await options.fill('#proxy-password', PROXY_PASSWORD);
    const addressError = options.getByTestId('proxy-address-error');
    await expect.poll(() => addressError.textContent()).toContain('local network');
    expect(await options.locator('#proxy-address').getAttribute('aria-invalid')).toBe('true');
    expect(await options.locator('#proxy-address').getAttribute('aria-describedby')).toBe('proxy-address-error');
    await options.fill('#proxy-port', '99999');
    await expect.poll(() => options.getByTestId('proxy-port-error').textContent()).toContain('1 to 65535');

    // Half valid is not used, nor dropped: the click fails as PROXY_INVALID, nothing is sent.
    const refused = await openFixture();
    const refusedPopup = await solveInPopup(refused.tabId, 'failed');
    expect(await refusedPopup.getByTestId('task-status').first().textContent()).toContain('PROXY_INVALID');
    expect(first.calls('createTask')).toEqual([]);
    await Promise.all([refusedPopup.close(), refused.page.close()]);

    await options.fill('#proxy-address', '203.0.113.7');
    await options.fill('#proxy-port', '8080');
    await expect.poll(() => options.locator('.error').count()).toBe(0);

    const { page, tabId } = await openFixture(true);
    const worlds = await ContentWorlds.attach(page, browser.extensionId);
    await worlds.record();
    const popup = await solveInPopup(tabId, 'delivered');
    await page.waitForFunction(() => (window as unknown as TokenWindow).__captchaTokens.length === 1);
    const [create] = first.calls('createTask');
    const task = create!.body.task as Record<string, unknown>;
    expect(task).toMatchObject({ type: 'RecaptchaV2Task', proxyType: 'http', proxyAddress: '203.0.113.7', proxyPort: 8080, proxyLogin: 'relay', proxyPassword: PROXY_PASSWORD });
    expect(task.userAgent).toMatch(/Chrome/);
    expect(first.violations).toEqual([]);

    const [download] = await Promise.all([options.waitForEvent('download'), options.getByRole('button', { name: 'Export settings' }).click()]);
    const exported = fs.readFileSync(await download.path(), 'utf8');
    expect(exported).toContain('203.0.113.7');
    const leaks = findSecrets(
      [
        ...(await pageObservations(page)),
        ...(await worlds.observations()),
        ...(await extensionStorage(ui, ['apiKey', 'proxyPassword', 'fallbackApiKey'])),
        { where: 'exported settings', text: exported },
        { where: 'popup text', text: await popup.evaluate(() => document.body.innerText) },
        { where: 'tab state', text: JSON.stringify(await ui.evaluate((id) => chrome.runtime.sendMessage<unknown, TabStateReply>({ type: 'tab-state', tabId: id }), tabId)) },
      ],
      { 'proxy password': PROXY_PASSWORD, 'API key': API_KEY },
    );
    expect(leaks).toEqual([]);
    // The search sees it where it is by design (its own storage entry), so finding nothing elsewhere means something.
    expect(findSecrets(await extensionStorage(ui, ['apiKey']), { 'proxy password': PROXY_PASSWORD }).map((l) => l.text)).toEqual([expect.stringContaining('storage.local.proxyPassword')]);
    await worlds.detach();
    await Promise.all([popup.close(), page.close(), options.close()]);
  });

  it('a wrong answer is reported once from the history, and the service’s answer shown; a content script cannot report', async () => {
    // Tier 2: a content script (as a page that took over its renderer would use it) is not heard.
    const entryId = (await history()).find((e) => e.outcome === 'delivered')!.id as string;
    const { page } = await openFixture();
    const worlds = await ContentWorlds.attach(page, browser.extensionId);
    const fromContent = await worlds.evaluate<string>(
      `chrome.runtime.sendMessage({ type: 'report-wrong', entryId: ${JSON.stringify(entryId)} }).then((r) => JSON.stringify(r ?? null), (e) => 'error: ' + e.message)`,
    );
    expect(fromContent).not.toContain('"ok"');
    expect(first.calls('reportIncorrectTokenCaptcha')).toEqual([]);
    expect((await history()).find((e) => e.id === entryId)?.reported).toBeUndefined();
    await worlds.detach();
    await page.close();

    const popup = await browser.openPopup(-1);
    await popup.getByRole('tab', { name: 'History' }).click();
    const delivered = popup.getByTestId('history-entry').filter({ hasText: '· solved' }).first();
    await expect.poll(() => delivered.getByTestId('history-service').textContent()).toContain('127.0.0.1');
    const button = delivered.getByRole('button', { name: 'Report wrong answer' });
    await button.click();
    await expect.poll(() => delivered.getByTestId('report-outcome').textContent()).toContain('accepted');
    expect(await button.count()).toBe(0);
    // Asked again anyway (as a second click or another page would): refused, not sent.
    const entry = (await history()).find((e) => e.outcome === 'delivered')!;
    const again = await ui.evaluate((id) => chrome.runtime.sendMessage({ type: 'report-wrong', entryId: id }), entry.id as string);
    expect(again).toMatchObject({ ok: false, error: { code: 'ALREADY_REPORTED' } });
    const reports = first.calls('reportIncorrectTokenCaptcha');
    expect(reports.map((r) => r.body)).toEqual([{ clientKey: API_KEY, taskId: entry.serviceTaskId }]);
    expect(first.violations).toEqual([]);
    await popup.close();
  });

  it('the first service has no money: the same captcha goes to the fallback, once, and the popup says which service solved it', async () => {
    await ui.evaluate(
      async ([url, key]) => {
        const { settings } = await chrome.storage.local.get<{ settings: Record<string, unknown> }>('settings');
        await chrome.storage.local.set({
          settings: { ...settings, proxy: { type: '', address: '', port: 0, login: '', sites: [] }, fallback: { service: 'custom', customUrl: url } },
          fallbackApiKey: key,
        });
        await chrome.storage.local.remove('proxyPassword');
      },
      [second.url, FALLBACK_KEY] as const,
    );
    first.balance = 0;
    const before = first.calls('createTask').length;
    const { page, tabId } = await openFixture();
    const popup = await solveInPopup(tabId, 'delivered');
    await page.waitForFunction(() => (window as unknown as TokenWindow).__captchaTokens.length === 1);
    const [made] = second.calls('createTask');
    expect(made!.body.clientKey).toBe(FALLBACK_KEY);
    const token = (await page.evaluate(() => (window as unknown as TokenWindow).__captchaTokens))[0];
    const taskId = second.calls('getTaskResult')[0]!.body.taskId as number;
    expect(token).toBe(second.tokenFor(taskId));
    expect(first.calls('createTask')).toHaveLength(before + 1);
    expect(second.calls('createTask')).toHaveLength(1);
    expect(await popup.getByTestId('task-service').first().textContent()).toContain(`${new URL(second.url).host} (fallback)`);
    expect([...first.violations, ...second.violations]).toEqual([]);
    // The fallback key is a secret like the first: in no page, message or export.
    const options = await openOptions();
    const [download] = await Promise.all([options.waitForEvent('download'), options.getByRole('button', { name: 'Export settings' }).click()]);
    const exported = fs.readFileSync(await download.path(), 'utf8');
    expect(exported).toContain(second.url);
    const leaks = findSecrets(
      [
        ...(await pageObservations(page)),
        ...(await extensionStorage(ui, ['apiKey', 'proxyPassword', 'fallbackApiKey'])),
        { where: 'exported settings', text: exported },
        { where: 'popup text', text: await popup.evaluate(() => document.body.innerText) },
      ],
      { 'fallback key': FALLBACK_KEY },
    );
    expect(leaks).toEqual([]);
    first.balance = 10;
    await Promise.all([popup.close(), page.close(), options.close()]);
  });

  it('the statistics of these tasks add up, the popup shows today’s spend, and the CSV has the right columns', async () => {
    await expect.poll(async () => (await history()).length).toBe(3);
    const entries = await history();
    const delivered = entries.filter((e) => e.outcome === 'delivered');
    expect(delivered.map((e) => e.cost)).toEqual([COST, COST]);
    const options = await openOptions();
    const total = options.getByTestId('stats-by-day').getByTestId('stats-total');
    await expect.poll(() => total.textContent()).toContain('3');
    const cells = await total.locator('td').allTextContents();
    expect(cells[0]).toBe('3');
    expect(cells[1]).toBe('67%');
    expect(cells[3]).toBe('$0.005');
    expect(await options.getByTestId('stats-by-type').getByTestId('stats-row').count()).toBe(1);
    expect(await options.getByTestId('stats-chart').getAttribute('aria-label')).toContain('$0.005');
    const popup = await browser.openPopup(-1);
    await expect.poll(() => popup.getByTestId('today-spend').textContent()).toContain('$0.005');

    const [download] = await Promise.all([options.waitForEvent('download'), options.getByRole('button', { name: 'Export history as CSV' }).click()]);
    expect(download.suggestedFilename()).toBe('caprelay-history.csv');
    const lines = fs.readFileSync(await download.path(), 'utf8').split('\r\n');
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    expect(lines.filter((l) => l !== '')).toHaveLength(1 + 3);
    const rows = lines.slice(1, -1).map((l) => l.split(','));
    const col = (name: (typeof CSV_COLUMNS)[number]) => rows.map((r) => r[CSV_COLUMNS.indexOf(name)]);
    expect(col('outcome')).toEqual(['failed', 'delivered', 'delivered']);
    expect(col('error code')).toEqual(['PROXY_INVALID', '', '']);
    expect(col('fallback')).toEqual(['no', 'no', 'yes']);
    expect(col('cost usd')).toEqual(['', String(COST), String(COST)]);
    expect(col('reported')).toEqual(['', 'accepted', '']);
    await Promise.all([popup.close(), options.close()]);
  });

  it('a service that sends no cost: the balance change is recorded as the task’s cost, marked as an estimate', async () => {
    const billing = await new MockSolver({ apiKey: API_KEY, solveAfterMs: 300, balance: 5, chargePerTask: 0.003 }).start();
    try {
      await ui.evaluate(async (url) => {
        const { settings } = await chrome.storage.local.get<{ settings: Record<string, unknown> }>('settings');
        await chrome.storage.local.set({ settings: { ...settings, customUrl: url, fallback: { service: 'off', customUrl: '' } } });
      }, billing.url);
      const { page, tabId } = await openFixture();
      const popup = await solveInPopup(tabId, 'delivered');
      await expect.poll(async () => (await history()).find((e) => e.service === billing.url && e.outcome === 'delivered')?.cost).toBe(0.003);
      expect((await history()).find((e) => e.service === billing.url)?.costEstimated).toBe(true);
      await popup.getByRole('tab', { name: 'History' }).click();
      await expect.poll(() => popup.getByTestId('history-entry').first().textContent()).toContain('≈$0.003');
      expect(billing.violations).toEqual([]);
      await Promise.all([popup.close(), page.close()]);
    } finally {
      await billing.stop();
    }
  });
});
