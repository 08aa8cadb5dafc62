/**
 * The main job in real Chromium: the built extension on a local page with a reCAPTCHA v2
 * widget, configured through the popup (Custom service → the local mock), one click on
 * Solve, and the token arrives in the page's callback and response field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type ChromiumSession } from '../support/chromium';
import { startFixtureServer, type FixtureServer } from '../support/fixture-server';
import { MockSolver } from '../support/mock-solver';
import { screenshotPath } from '../support/screenshots';

const API_KEY = 'e2e0123456789abcdef0123456789abc';
const SITE_KEY = '6LeIxAcTAAAAAJcZVRqyHh71UMIEGNQ_MXjiZKhI';

let browser: ChromiumSession;
let fixtures: FixtureServer;
let solver: MockSolver;

beforeAll(async () => {
  [browser, fixtures, solver] = await Promise.all([launchChromium(), startFixtureServer(), new MockSolver({ apiKey: API_KEY, balance: 12.3456, solveAfterMs: 1_000 }).start()]);
});

afterAll(async () => {
  await Promise.all([browser?.close(), fixtures?.close(), solver?.stop()]);
});

describe('Chromium: detect, solve from the popup, deliver', () => {
  it('solves a reCAPTCHA v2 checkbox and the page callback receives the token', async () => {
    const page = await browser.context.newPage();
    const pageUrl = `${fixtures.origin}/pages/recaptcha-v2-checkbox.html`;
    await page.goto(pageUrl);
    await page.waitForSelector('#g-recaptcha-response', { state: 'attached' });
    const tabId = await browser.tabIdOf(page);

    const popup = await browser.openPopup(tabId);
    // Before a key: no balance, and the popup opens on the settings.
    await expect.poll(() => popup.getByTestId('balance').textContent()).toContain('Set your API key');

    await popup.getByLabel('Service', { exact: true }).selectOption({ label: 'Custom' });
    await popup.getByLabel('API URL', { exact: true }).fill(solver.url);
    // A wrong key first: the service's error shows where the key is set.
    await popup.getByLabel('API key', { exact: true }).fill('wrong-key-000000');
    await expect.poll(() => popup.getByTestId('balance').textContent()).toContain('ERROR_KEY_DOES_NOT_EXIST');
    await popup.getByLabel('API key', { exact: true }).fill(API_KEY);
    await expect.poll(() => popup.getByTestId('balance').textContent()).toContain('12.3456');
    // The key field is masked unless shown.
    expect(await popup.getByLabel('API key', { exact: true }).getAttribute('type')).toBe('password');

    await popup.locator('main').screenshot({ path: screenshotPath('popup-settings.png') });
    await popup.getByRole('tab', { name: 'This page' }).click();
    const solve = popup.getByRole('button', { name: /^Solve reCAPTCHA v2/ });
    await expect.poll(() => solve.count()).toBe(1);
    await popup.locator('main').screenshot({ path: screenshotPath('popup.png') });
    await solve.click();

    const [create] = await solver.waitFor('createTask');
    expect(create!.body).toEqual({
      clientKey: API_KEY,
      task: { type: 'RecaptchaV2Task', websiteURL: pageUrl, websiteKey: SITE_KEY },
    });

    // The token reaches the page's own callback and the response field.
    await page.waitForFunction(() => (window as unknown as { __captchaTokens: string[] }).__captchaTokens.length > 0, null, { timeout: 45_000 });
    const taskId = (await solver.waitFor('getTaskResult'))[0]!.body.taskId as number;
    const tokens = await page.evaluate(() => (window as unknown as { __captchaTokens: string[] }).__captchaTokens);
    expect(tokens).toEqual([solver.tokenFor(taskId)]);
    expect(await page.inputValue('#g-recaptcha-response')).toBe(solver.tokenFor(taskId));
    expect(await page.isEnabled('#submit')).toBe(true);

    // The popup shows the task as solved, with the service's task id; and still does after reopening.
    await expect.poll(() => popup.getByTestId('task').first().getAttribute('data-state')).toBe('delivered');
    expect(await popup.getByTestId('task').first().textContent()).toContain(`#${taskId}`);
    await popup.locator('main').screenshot({ path: screenshotPath('popup-solved.png') });
    await popup.close();
    const reopened = await browser.openPopup(tabId);
    await expect.poll(() => reopened.getByTestId('task-status').first().textContent()).toContain('Solved');
    await reopened.close();

    expect(solver.calls('createTask')).toHaveLength(1);
    expect(solver.violations).toEqual([]);
    await page.close();
  });
});
