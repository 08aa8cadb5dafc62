/**
 * The main job in real Firefox ESR: the built extension (temporary add-on) on a local page with
 * a reCAPTCHA v2 widget, configured through the popup (Custom service → the local mock), one
 * click on Solve, and the token arrives in the page's callback and response field.
 */
import type { ElementHandle, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchFirefox, type FirefoxSession } from '../support/firefox';
import { startFixtureServer, type FixtureServer } from '../support/fixture-server';
import { MockSolver } from '../support/mock-solver';

const API_KEY = 'e2e0123456789abcdef0123456789abc';
const SITE_KEY = '6LeIxAcTAAAAAJcZVRqyHh71UMIEGNQ_MXjiZKhI';

type CaptchaPage = Window & { __captchaTokens: string[] };

let firefox: FirefoxSession;
let fixtures: FixtureServer;
let solver: MockSolver;

beforeAll(async () => {
  [firefox, fixtures, solver] = await Promise.all([launchFirefox(), startFixtureServer(), new MockSolver({ apiKey: API_KEY, balance: 12.3456, solveAfterMs: 1_000 }).start()]);
});

afterAll(async () => {
  await Promise.all([firefox?.close(), fixtures?.close(), solver?.stop()]);
});

/** The element with this accessible name and role, as the accessibility tree sees it. */
function byRole(page: Page, role: string, name: string): Promise<ElementHandle> {
  return page.waitForSelector(`::-p-aria([name="${name}"][role="${role}"])`) as Promise<ElementHandle>;
}
const button = (page: Page, name: string) => byRole(page, 'button', name);
const tab = (page: Page, name: string) => byRole(page, 'tab', name);

/**
 * The form field with this accessible name. Matched by name only, as Firefox computes no
 * "textbox" role for password inputs; the accessibility tree also names the <label> itself.
 */
async function field(page: Page, name: string): Promise<ElementHandle> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    for (const candidate of await page.$$(`::-p-aria(${name})`)) {
      if (await candidate.evaluate((el) => el.matches('input, select, textarea'))) return candidate;
    }
    if (Date.now() > deadline) throw new Error(`no form field named ${name}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function textOf(page: Page, testId: string): Promise<string> {
  return page.$eval(`[data-testid="${testId}"]`, (el) => el.textContent ?? '').catch(() => '');
}

/** Replaces a text field's content by typing, so the page gets real key and input events. */
async function retype(input: ElementHandle, text: string): Promise<void> {
  await input.click({ count: 3 }); // selects what is there, so typing replaces it
  await input.press('Backspace');
  await input.type(text);
}

describe('Firefox: detect, solve from the popup, deliver', () => {
  it('solves a reCAPTCHA v2 checkbox and the page callback receives the token', async () => {
    const page = await firefox.newPage();
    const pageUrl = `${fixtures.origin}/pages/recaptcha-v2-checkbox.html`;
    await page.goto(pageUrl);
    await page.waitForSelector('#g-recaptcha-response');
    const tabId = await firefox.tabIdOf(page);

    const popup = await firefox.openPopup(tabId);
    // Before a key: no balance, and the popup opens on the settings.
    await expect.poll(() => textOf(popup, 'balance')).toContain('Set your API key');
    expect(await (await tab(popup, 'Settings')).evaluate((el) => el.getAttribute('aria-selected'))).toBe('true');

    const service = await field(popup, 'Service');
    const customValue = await service.evaluate((select) => Array.from((select as HTMLSelectElement).options).find((option) => option.label === 'Custom')?.value);
    expect(customValue).toBeDefined();
    await service.select(customValue!);
    await retype(await field(popup, 'API URL'), solver.url);
    // A wrong key first: the service's error shows where the key is set.
    const apiKey = await field(popup, 'API key');
    await retype(apiKey, 'wrong-key-000000');
    await expect.poll(() => textOf(popup, 'balance')).toContain('ERROR_KEY_DOES_NOT_EXIST');
    await retype(apiKey, API_KEY);
    await expect.poll(() => textOf(popup, 'balance')).toContain('12.3456');
    // The key field is masked unless shown.
    expect(await apiKey.evaluate((input) => input.getAttribute('type'))).toBe('password');

    await (await tab(popup, 'This page')).click();
    const solve = await button(popup, 'Solve reCAPTCHA v2');
    await expect.poll(() => solve.evaluate((el) => (el as HTMLButtonElement).disabled)).toBe(false);
    await solve.click();

    const [create] = await solver.waitFor('createTask');
    expect(create!.body).toEqual({
      clientKey: API_KEY,
      task: { type: 'RecaptchaV2Task', websiteURL: pageUrl, websiteKey: SITE_KEY },
    });

    // The token reaches the page's own callback and the response field.
    await page.waitForFunction(() => (window as unknown as CaptchaPage).__captchaTokens.length > 0, { timeout: 45_000 });
    const taskId = (await solver.waitFor('getTaskResult'))[0]!.body.taskId as number;
    const tokens = await page.evaluate(() => (window as unknown as CaptchaPage).__captchaTokens);
    expect(tokens).toEqual([solver.tokenFor(taskId)]);
    expect(await page.$eval('#g-recaptcha-response', (field) => (field as HTMLTextAreaElement).value)).toBe(solver.tokenFor(taskId));
    expect(await page.$eval('#submit', (button) => (button as HTMLButtonElement).disabled)).toBe(false);

    // The popup shows the task as solved, with the service's task id; and still does after reopening.
    await expect.poll(() => popup.$eval('[data-testid="task"]', (task) => task.getAttribute('data-state')).catch(() => null)).toBe('delivered');
    expect(await textOf(popup, 'task')).toContain(`#${taskId}`);
    await popup.close();
    const reopened = await firefox.openPopup(tabId);
    await expect.poll(() => textOf(reopened, 'task-status')).toContain('Solved');
    await reopened.close();

    expect(solver.calls('createTask')).toHaveLength(1);
    expect(solver.violations).toEqual([]);
    await page.close();
  });
});
