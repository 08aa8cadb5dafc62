/**
 * The popup and settings as a daily user meets them, in real Chromium: accessibility (axe-core,
 * light and dark), auto-solve on and off, the site list, the spending guard, and Russian.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright';
import { axeViolations } from '../support/axe';
import type { FrameCaptchasMessage } from '../../src/shared/messages';
import { BackgroundProbe } from '../support/background-probe';
import { launchChromium, type ChromiumSession } from '../support/chromium';
import { startFixtureServer, type FixtureServer } from '../support/fixture-server';
import { ContentWorlds } from '../support/key-leak';
import { MockSolver } from '../support/mock-solver';
import { screenshotPath } from '../support/screenshots';

const API_KEY = 'ui0123456789abcdef0123456789abcd';
const FIXTURE = '/pages/recaptcha-v2-checkbox.html';

let browser: ChromiumSession;
let fixtures: FixtureServer;
let solver: MockSolver;
let probe: BackgroundProbe;

beforeAll(async () => {
  [browser, fixtures, solver] = await Promise.all([launchChromium(), startFixtureServer(), new MockSolver({ apiKey: API_KEY, balance: 7.5, solveAfterMs: 200 }).start()]);
  probe = await BackgroundProbe.install(() => browser.worker());
});

afterAll(async () => {
  await Promise.all([browser?.close(), fixtures?.close(), solver?.stop()]);
});

/** Writes settings the way the settings page does (stored record + key). */
async function setSettings(patch: Record<string, unknown>): Promise<void> {
  const popup = await browser.openPopup(-1);
  await popup.evaluate(
    async ([url, key, extra]) => {
      await chrome.storage.local.set({ settings: { version: 2, service: 'custom', customUrl: url, ...extra }, apiKey: key, spend: [] });
    },
    [solver.url, API_KEY, patch] as const,
  );
  await popup.close();
}

async function openFixture(): Promise<{ page: Page; tabId: number }> {
  const page = await browser.context.newPage();
  await page.goto(`${fixtures.origin}${FIXTURE}`);
  await page.waitForSelector('#g-recaptcha-response', { state: 'attached' });
  return { page, tabId: await browser.tabIdOf(page) };
}

/**
 * The page's widget has been reported to the background, and the background has received and
 * acted on everything the page's content scripts sent (auto-solve included): "no task" then
 * means none is coming from what the page showed.
 */
async function settled({ page, tabId }: { page: Page; tabId: number }): Promise<void> {
  const widgetReported = async (): Promise<boolean> => (await probe.receivedOfType('frame-captchas', tabId)).some((m) => (m.message as FrameCaptchasMessage).captchas.length > 0);
  await expect.poll(widgetReported).toBe(true);
  const worlds = await ContentWorlds.attach(page, browser.extensionId);
  try {
    await probe.settled(worlds);
  } finally {
    await worlds.detach();
  }
}

/** Shows one of the popup's views and waits until it shows what axe is to look at. */
async function showView(popup: Page, view: 'This page' | 'History' | 'Settings'): Promise<void> {
  const tab = popup.getByRole('tab', { name: view });
  await tab.click();
  await expect.poll(() => tab.getAttribute('aria-selected')).toBe('true');
  const panel = popup.getByRole('tabpanel');
  if (view === 'This page') await expect.poll(() => popup.getByTestId('captcha').count()).toBe(1);
  // The history view renders once it has read the history.
  if (view === 'History') await panel.locator(':scope > *').first().waitFor({ timeout: 30_000 });
  if (view === 'Settings') {
    await panel.locator('.settings').waitFor({ timeout: 30_000 });
    // The custom host's grant button appears only after the browser said the host is not granted.
    const origin = new URL(solver.url).origin;
    const granted = await popup.evaluate((o) => chrome.permissions.contains({ origins: [`${o}/*`] }), origin);
    if (!granted) await panel.locator('button.secondary').first().waitFor({ timeout: 30_000 });
  }
}

const tokens = (page: Page): Promise<string[]> => page.evaluate(() => (window as unknown as { __captchaTokens: string[] }).__captchaTokens);

describe('Chromium: popup and settings', () => {
  it('has no axe violations in the popup views and the options page, light and dark', async () => {
    await setSettings({});
    const { page, tabId } = await openFixture();
    const popup = await browser.openPopup(tabId);
    // The balance line is asked for after a short pause; axe looks at it in every view.
    await expect.poll(() => popup.getByTestId('balance').textContent()).toContain('7.5');
    const problems: string[] = [];
    for (const scheme of ['light', 'dark'] as const) {
      await popup.emulateMedia({ colorScheme: scheme });
      for (const view of ['This page', 'History', 'Settings'] as const) {
        await showView(popup, view);
        problems.push(...(await axeViolations(popup)).map((p) => `popup/${view}/${scheme}: ${p}`));
      }
    }
    await popup.getByRole('tab', { name: 'This page' }).click();
    await expect.poll(() => popup.getByTestId('captcha').count()).toBe(1);
    await popup.emulateMedia({ colorScheme: 'dark' });
    await popup.locator('main').screenshot({ path: screenshotPath('popup-dark.png') });
    await popup.emulateMedia({ colorScheme: 'light' });

    const options = await browser.context.newPage();
    await options.setViewportSize({ width: 900, height: 1400 });
    await options.goto(`chrome-extension://${browser.extensionId}/src/options/index.html`);
    await options.getByText('Captcha types').waitFor();
    for (const scheme of ['light', 'dark'] as const) {
      await options.emulateMedia({ colorScheme: scheme });
      problems.push(...(await axeViolations(options)).map((p) => `options/${scheme}: ${p}`));
    }
    await options.emulateMedia({ colorScheme: 'light' });
    await options.screenshot({ path: screenshotPath('options.png'), fullPage: true });
    expect(problems).toEqual([]);

    // Keyboard only: the tabs move with the arrow keys and the Solve button is reachable.
    await popup.getByRole('tab', { name: 'This page' }).focus();
    await popup.keyboard.press('ArrowRight');
    expect(await popup.evaluate(() => document.activeElement?.textContent)).toBe('History');
    await popup.keyboard.press('ArrowLeft');
    await popup.keyboard.press('Tab');
    expect(await popup.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toMatch(/^Solve reCAPTCHA v2/);
    await Promise.all([popup.close(), options.close(), page.close()]);
  });

  it('auto-solves only when switched on, and never on a blocked site', async () => {
    // Default: on click. Opening the page creates no task.
    await setSettings({});
    const before = solver.calls('createTask').length;
    const manual = await openFixture();
    await settled(manual);
    expect(solver.calls('createTask').length).toBe(before);
    await manual.page.close();

    // Auto for reCAPTCHA v2, but the site is on the block list: still nothing, and the popup says why.
    await setSettings({ families: { recaptchaV2: { enabled: true, mode: 'auto' } }, blockedSites: ['127.0.0.1'] });
    const blocked = await openFixture();
    await settled(blocked);
    expect(solver.calls('createTask').length).toBe(before);
    const popup = await browser.openPopup(blocked.tabId);
    await popup.getByRole('tab', { name: 'This page' }).click();
    await expect.poll(() => popup.getByText('switched off for this site').count()).toBe(1);
    expect(await popup.getByTestId('captcha').count()).toBe(0);
    await Promise.all([popup.close(), blocked.page.close()]);

    // Auto and allowed: the token arrives with no click at all.
    await setSettings({ families: { recaptchaV2: { enabled: true, mode: 'auto' } } });
    const auto = await openFixture();
    await auto.page.waitForFunction(() => (window as unknown as { __captchaTokens: string[] }).__captchaTokens.length === 1, null, { timeout: 45_000 });
    expect(solver.calls('createTask').length).toBe(before + 1);
    // Once per widget: nothing more while the page stays (its reports after the token included).
    await settled(auto);
    expect(solver.calls('createTask').length).toBe(before + 1);
    await auto.page.close();
  });

  it('pauses auto-solve at the spending limit and says so', async () => {
    await setSettings({ families: { recaptchaV2: { enabled: true, mode: 'auto' } }, maxTasksPerHour: 2 });
    const before = solver.calls('createTask').length;
    for (let i = 0; i < 2; i++) {
      const { page } = await openFixture();
      await page.waitForFunction(() => (window as unknown as { __captchaTokens: string[] }).__captchaTokens.length === 1, null, { timeout: 45_000 });
      await page.close();
    }
    expect(solver.calls('createTask').length).toBe(before + 2);
    const third = await openFixture();
    await settled(third);
    expect(solver.calls('createTask').length).toBe(before + 2);
    expect(await tokens(third.page)).toEqual([]);
    const popup = await browser.openPopup(third.tabId);
    await popup.getByRole('tab', { name: 'This page' }).click();
    await expect.poll(() => popup.getByTestId('guard-paused').textContent()).toContain('2 tasks in the last hour');
    // A click still works: the guard limits auto-solve, not the user.
    await popup.getByRole('button', { name: /^Solve reCAPTCHA v2/ }).click();
    await third.page.waitForFunction(() => (window as unknown as { __captchaTokens: string[] }).__captchaTokens.length === 1, null, { timeout: 45_000 });
    await Promise.all([popup.close(), third.page.close()]);
  });
});

describe('Chromium: browser UI entry points', () => {
  it('the badge counts the captchas; the page context menu and the shortcut solve the page', async () => {
    await setSettings({});
    const before = solver.calls('createTask').length;
    const { page, tabId } = await openFixture();
    const popup = await browser.openPopup(-1);
    await expect.poll(() => popup.evaluate((id) => chrome.action.getBadgeText({ tabId: id }), tabId)).toBe('1');

    // Headless Chromium shows no menus and takes no global shortcuts: run their handlers with what
    // the browser would pass.
    const worker = await browser.worker();
    await worker.evaluate((id) => {
      const onClicked = chrome.contextMenus.onClicked as unknown as { dispatch(info: object, tab: object): void };
      onClicked.dispatch({ menuItemId: 'caprelay-solve-page', frameId: 0, editable: false }, { id });
    }, tabId);
    await page.waitForFunction(() => (window as unknown as { __captchaTokens: string[] }).__captchaTokens.length === 1, null, { timeout: 45_000 });
    expect(solver.calls('createTask').length).toBe(before + 1);
    await page.close();

    const second = await openFixture();
    await worker.evaluate((id) => {
      const onCommand = chrome.commands.onCommand as unknown as { dispatch(command: string, tab: object): void };
      onCommand.dispatch('solve-page', { id });
    }, second.tabId);
    await second.page.waitForFunction(() => (window as unknown as { __captchaTokens: string[] }).__captchaTokens.length === 1, null, { timeout: 45_000 });
    expect(solver.calls('createTask').length).toBe(before + 2);
    await Promise.all([popup.close(), second.page.close()]);
  });
});

describe('Chromium: Russian', () => {
  let russian: ChromiumSession;
  afterAll(async () => russian?.close());

  it('shows the popup and settings in Russian when the browser speaks Russian', async () => {
    russian = await launchChromium({ language: 'ru' });
    const popup = await russian.openPopup(-1);
    await expect.poll(() => popup.getByRole('tab', { selected: true }).textContent()).toBe('Настройки');
    // The Settings tab's code loads when the tab first shows.
    await expect.poll(() => popup.getByText('API-ключ', { exact: true }).count()).toBe(1);
    expect(await popup.getByText('Ограничение расходов').count()).toBe(1);
    expect(await popup.getByTestId('balance').textContent()).toContain('Укажите API-ключ');
    await popup.locator('main').screenshot({ path: screenshotPath('popup-ru.png') });
  });
});
