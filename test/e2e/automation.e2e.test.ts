/**
 * CapRelay in an automated Chromium (headless, as every e2e test here): set up by caprelay.json
 * in a copy of the unpacked folder, by a machine policy, or by the control API on the service
 * worker's global; auto-solve delays, auto-submit and the page signal as set; and the trust
 * rules (site lists, spending guard, the confirmed count past 3) holding for all of it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CapRelayControl } from '../../src/background/control';
import { chromiumControl, copyExtension, freshChromeKey, writeChromiumPolicy, type ExtensionCopy } from '../support/automation';
import { CHROME_EXTENSION_DIR, launchChromium, type ChromiumSession, type LaunchOptions } from '../support/chromium';
import { startFixtureServer, type FixtureServer } from '../support/fixture-server';
import { MockSolver } from '../support/mock-solver';
import { CHROME_EXTENSION_ID } from '../../vite.config';

const API_KEY = 'auto5e2f8a1c9d3b7e6f0a4c8d2b5e9f1a3c7';
const SITE_KEY = '6LeIxAcTAAAAAJcZVRqyHh71UMIEGNQ_MXjiZKhI';

type Page_ = Window & { __captchaTokens: string[]; __clicks: string[]; __signals: { target: string; detail: string }[] };

let fixtures: FixtureServer;
let solver: MockSolver;

beforeAll(async () => {
  [fixtures, solver] = await Promise.all([startFixtureServer(), new MockSolver({ apiKey: API_KEY, balance: 7.5, solveAfterMs: 500 }).start()]);
});

/** Policies written by a test, removed again here too: a test that hangs never reaches its finally. */
const policies: { remove(): void }[] = [];

afterAll(async () => {
  for (const policy of policies) policy.remove();
  await Promise.all([fixtures?.close(), solver?.stop()]);
});

const tokensOf = (page: Page): Promise<string[]> => page.evaluate(() => (window as unknown as Page_).__captchaTokens);

async function withBrowser<T>(copy: ExtensionCopy | null, options: LaunchOptions, run: (browser: ChromiumSession) => Promise<T>): Promise<T> {
  const browser = await launchChromium({ ...(copy && { extensionDir: copy.dir }), ...options });
  try {
    return await run(browser);
  } finally {
    await browser.close();
    copy?.remove();
  }
}

describe('Chromium: caprelay.json in the unpacked folder', () => {
  it('sets CapRelay up (key, service, auto-solve): the page is solved with no click, and the popup says where the settings came from', async () => {
    const copy = copyExtension(CHROME_EXTENSION_DIR, {
      setupFile: { apiKey: API_KEY, service: 'custom', customUrl: solver.url, families: { recaptchaV2: { mode: 'auto' } }, maxTasksPerHour: 20 },
    });
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'caprelay-profile-'));
    try {
      const first = await withBrowser(null, { extensionDir: copy.dir, userDataDir: profile }, async (browser) => {
        expect(browser.extensionId).toBe(CHROME_EXTENSION_ID);
        const before = solver.calls('createTask').length;
        const page = await browser.context.newPage();
        await page.goto(`${fixtures.origin}/pages/recaptcha-v2-checkbox.html`);
        await page.waitForFunction(() => (window as unknown as Page_).__captchaTokens.length > 0, null, { timeout: 45_000 });
        const creates = solver.calls('createTask').slice(before);
        expect(creates).toHaveLength(1);
        expect(creates[0]!.body).toMatchObject({ clientKey: API_KEY, task: { type: 'RecaptchaV2Task', websiteKey: SITE_KEY } });
        const taskId = (await solver.waitFor('getTaskResult'))[0]!.body.taskId as number;
        expect(await tokensOf(page)).toEqual([solver.tokenFor(taskId)]);

        const popup = await browser.openPopup(await browser.tabIdOf(page));
        await popup.getByRole('tab', { name: 'Settings' }).click();
        await expect.poll(() => popup.getByTestId('setup-file').textContent()).toContain('Set up from caprelay.json (5 settings)');
        expect(await popup.getByTestId('setup-problem').count()).toBe(0);

        // A change in the UI stays: the file applies again only when it changes, not at each start.
        const perHour = popup.getByLabel('Max tasks per hour', { exact: false });
        await perHour.fill('9');
        await perHour.press('Tab');
        await expect.poll(async () => (await chromiumControl(browser).status()).settings.maxTasksPerHour).toBe(9);
        const applied = (await chromiumControl(browser).status()).setupFile;
        expect(applied?.applied).toEqual(['service', 'customUrl', 'families.recaptchaV2.mode', 'maxTasksPerHour', 'apiKey']);
        await Promise.all([popup.close(), page.close()]);
        return applied;
      });
      // The browser starts again on the same profile: the file is read, found unchanged, and not applied again.
      const restarted = await launchChromium({ extensionDir: copy.dir, userDataDir: profile });
      try {
        const status = await chromiumControl(restarted).status();
        expect(status.settings.maxTasksPerHour).toBe(9);
        expect(status.setupFile?.appliedAt).toBe(first?.appliedAt);
      } finally {
        await restarted.close();
      }
    } finally {
      copy.remove();
      fs.rmSync(profile, { recursive: true, force: true });
    }
  });

  it('a bad file: the popup and the settings page name each field and the reason, and the rest applies', async () => {
    const copy = copyExtension(CHROME_EXTENSION_DIR, {
      setupFile: { apiKey: API_KEY, service: 'custom', customUrl: solver.url, maxTasksPerHour: -1, families: { recaptchaV2: { mode: 'sometimes' } }, autoSolveEverything: true },
    });
    await withBrowser(copy, {}, async (browser) => {
      const status = await chromiumControl(browser).status();
      expect(status).toMatchObject({ ready: true, keySet: true, serviceUrl: solver.url });
      expect(status.settings.maxTasksPerHour).toBe(30);
      expect(status.settings.families.recaptchaV2.mode).toBe('click');
      expect(status.setupFile?.problems.map((p) => p.field)).toEqual(['maxTasksPerHour', 'families.recaptchaV2.mode', 'autoSolveEverything']);

      const popup = await browser.openPopup(-1);
      // The page view says so at once; the settings view lists each one.
      await expect.poll(() => popup.getByTestId('setup-file-short').textContent()).toContain('3 settings in caprelay.json were not applied');
      await popup.getByRole('tab', { name: 'Settings' }).click();
      const problems = popup.getByTestId('setup-problem');
      await expect
        .poll(() => problems.allTextContents())
        .toEqual(['maxTasksPerHour must be a whole number from 0 to 10000.', 'families.recaptchaV2.mode must be one of: click, auto.', 'autoSolveEverything is not a CapRelay setting.']);
      expect(await popup.getByTestId('setup-file').textContent()).toContain('3 settings applied, 3 not');
      await expect.poll(() => popup.getByTestId('balance').textContent()).toContain('7.5');

      const options = await browser.context.newPage();
      await options.goto(`chrome-extension://${browser.extensionId}/src/options/index.html`);
      await expect.poll(() => options.getByTestId('setup-problem').allTextContents()).toHaveLength(3);
      expect(await options.getByRole('alert').filter({ hasText: 'caprelay.json' }).count()).toBe(1);
      // Nothing of the file's values is shown: the key least of all.
      expect(await popup.locator('body').textContent()).not.toContain(API_KEY);
      await Promise.all([popup.close(), options.close()]);
    });
  });
});

describe('Chromium: a machine policy', () => {
  it('a policy value wins over the UI, the file and the control API; the popup shows it as set by the administrator, and the guard it sets bounds API work', async (context) => {
    // A key of the test's own: the policy names only this copy, no other CapRelay on the machine.
    const { key, id } = freshChromeKey();
    const copy = copyExtension(CHROME_EXTENSION_DIR, {
      chromeKey: key,
      setupFile: { apiKey: API_KEY, service: 'custom', customUrl: solver.url, maxTasksPerHour: 50 },
    });
    const policy = writeChromiumPolicy(id, { maxTasksPerHour: 2, families: { recaptchaV2: { mode: 'click' } }, pageSignal: false });
    if ('skip' in policy) {
      copy.remove();
      context.skip(policy.skip);
      return;
    }
    policies.push(policy);
    try {
      await withBrowser(copy, {}, async (browser) => {
        expect(browser.extensionId).toBe(id);
        const api = chromiumControl(browser);
        let status = await api.status();
        expect(status.settings.maxTasksPerHour).toBe(2);
        expect(status.managed).toEqual(expect.arrayContaining(['maxTasksPerHour', 'families.recaptchaV2.mode', 'pageSignal']));
        // The file's value is stored (the user's own), the policy's applies.
        expect(status.setupFile?.applied).toContain('maxTasksPerHour');

        const configured = await api.configure({ maxTasksPerHour: 100, families: { recaptchaV2: { mode: 'auto' as const } } });
        expect(configured.managed).toEqual(['maxTasksPerHour', 'families.recaptchaV2.mode']);
        status = await api.status();
        expect(status.settings.maxTasksPerHour).toBe(2);
        expect(status.settings.families.recaptchaV2.mode).toBe('click');

        const popup = await browser.openPopup(-1);
        await popup.getByRole('tab', { name: 'Settings' }).click();
        await expect.poll(() => popup.getByTestId('managed-notice').textContent()).toContain('set by your administrator');
        const perHour = popup.getByLabel('Max tasks per hour', { exact: false });
        expect(await perHour.isDisabled()).toBe(true);
        expect(await perHour.inputValue()).toBe('2');
        expect(await popup.getByRole('combobox', { name: 'Mode for reCAPTCHA v2', exact: true }).isDisabled()).toBe(true);
        expect(await popup.getByTestId('managed-mark').count()).toBeGreaterThanOrEqual(3);
        expect(await popup.getByLabel('Service', { exact: true }).isDisabled()).toBe(false);

        // Three widgets, a policy limit of 2: the API's solve starts 2, as Solve all would.
        const page = await browser.context.newPage();
        const url = `${fixtures.origin}/hostile/widgets50.html?n=3`;
        await page.goto(url);
        await expect.poll(async () => (await api.captchas({ url }).catch(() => ({ captchas: [] }))).captchas.length).toBe(3);
        const before = solver.calls('createTask').length;
        const reply = await api.solve({ url });
        expect(reply.started).toBe(2);
        expect(reply.errors.map((e) => e.code)).toEqual(['SPENDING_LIMIT']);
        await solver.waitFor('createTask', before + 2);
        expect(solver.calls('createTask').length).toBe(before + 2);
        await Promise.all([popup.close(), page.close()]);
      });
    } finally {
      policy.remove();
    }
  });
});

describe('Chromium: the control API on the service worker', () => {
  it('configures, solves and waits, with the rules of a click: past 3 only the confirmed count, never on a blocked site', async () => {
    await withBrowser(null, {}, async (browser) => {
      const api = chromiumControl(browser);
      const configured = await api.configure({ service: 'custom' as const, customUrl: solver.url, apiKey: API_KEY, maxTasksPerHour: 40 });
      expect(configured).toEqual({ applied: ['service', 'customUrl', 'maxTasksPerHour', 'apiKey'], problems: [], managed: [] });
      expect(await api.status()).toMatchObject({ ready: true, keySet: true, balance: { ok: true, balance: 7.5 } });

      const page = await browser.context.newPage();
      const url = `${fixtures.origin}/hostile/widgets50.html?n=5`;
      await page.goto(url);
      const listed = async (): Promise<number> => (await api.captchas({ url }).catch(() => ({ captchas: [] }))).captchas.length;
      await expect.poll(listed).toBe(5);
      const tabId = await browser.tabIdOf(page);
      expect(await api.tabs()).toContainEqual({ tabId, url });

      const before = solver.calls('createTask').length;
      expect(await api.solve({ url })).toEqual({ tabId, started: 0, errors: [], confirm: 5 });
      expect(await api.solve({ url, confirmed: 4 })).toMatchObject({ started: 0, confirm: 5 });
      expect(solver.calls('createTask').length).toBe(before);
      expect(await api.solve({ tabId, confirmed: 5 })).toEqual({ tabId, started: 5, errors: [] });
      const solved = await api.waitForSolved({ tabId, timeoutMs: 60_000 });
      expect(solved).toMatchObject({ solved: true, tabId, captchas: 5 });
      expect(solved.tasks.map((t) => t.state)).toEqual(Array(5).fill('delivered'));
      expect(solver.calls('createTask').length).toBe(before + 5);
      // Auto-submit and the page signal are off unless set.
      expect(await page.locator('[data-caprelay-solved]').count()).toBe(0);
      expect(JSON.stringify(solved)).not.toContain(API_KEY);

      await api.configure({ blockedSites: ['127.0.0.1'] });
      const blocked = await browser.context.newPage();
      const blockedUrl = `${fixtures.origin}/hostile/widgets50.html?n=2`;
      await blocked.goto(blockedUrl);
      await expect.poll(async () => (await api.tabs()).some((t) => t.url === blockedUrl)).toBe(true);
      expect(await api.solve({ url: blockedUrl, confirmed: 2 })).toMatchObject({ started: 0, errors: [] });
      expect((await api.captchas({ url: blockedUrl })).siteAllowed).toBe(false);
      expect(solver.calls('createTask').length).toBe(before + 5);
      await Promise.all([page.close(), blocked.close()]);
    });
  });

  it("auto-solve waits its delay, then auto-submit posts the form or clicks the site's selector, and the page signal marks the widget", async () => {
    await withBrowser(null, {}, async (browser) => {
      const api = chromiumControl(browser);
      await api.configure({
        service: 'custom' as const,
        customUrl: solver.url,
        apiKey: API_KEY,
        families: { recaptchaV2: { mode: 'auto' as const } },
        delays: { recaptchaV2: { minMs: 1_500, maxMs: 2_500 } },
        autoSubmit: true,
        pageSignal: true,
      });
      const formUrl = `${fixtures.origin}/automation/submit-form.html`;
      const page = await browser.context.newPage();
      const openedAt = Date.now();
      await page.goto(formUrl);
      // The start waits for a time drawn from the range, counted from when the widget was listed.
      let scheduled: Awaited<ReturnType<CapRelayControl['status']>>['scheduled'] = [];
      await expect.poll(async () => (scheduled = (await api.status()).scheduled).length).toBe(1);
      const seenAt = Date.now();
      expect(scheduled[0]!.at).toBeGreaterThanOrEqual(openedAt + 1_500);
      expect(scheduled[0]!.at).toBeLessThanOrEqual(seenAt + 2_500);

      // The token goes in, then the widget's form is submitted with it.
      await expect.poll(() => fixtures.posts.filter((p) => p.path === '/signup').length, { timeout: 45_000 }).toBe(1);
      const task = (await api.status()).tasks[0]!;
      expect(task.createdAt).toBeGreaterThanOrEqual(scheduled[0]!.at);
      const taskId = Number(task.serviceTaskId);
      const posted = new URLSearchParams(fixtures.posts.find((p) => p.path === '/signup')!.body);
      expect(posted.get('g-recaptcha-response')).toBe(solver.tokenFor(taskId));
      expect(posted.get('email')).toBe('user@example.test');

      // With a rule for the site, its selector is clicked instead: no post, and the page hears the signal.
      await api.configure({ delays: { recaptchaV2: { minMs: 0, maxMs: 0 } }, submitRules: [{ site: '127.0.0.1', selector: '#next' }] });
      const second = await browser.context.newPage();
      await second.goto(formUrl);
      await second.waitForFunction(() => (window as unknown as Page_).__clicks.length > 0, null, { timeout: 45_000 });
      expect(await second.evaluate(() => (window as unknown as Page_).__clicks)).toEqual(['next']);
      expect(await second.evaluate(() => (window as unknown as Page_).__signals)).toEqual([{ target: 'widget', detail: 'none' }]);
      expect(await second.locator('#widget').getAttribute('data-caprelay-solved')).toBe('');
      expect(fixtures.posts.filter((p) => p.path === '/signup')).toHaveLength(1);
      await Promise.all([page.close(), second.close()]);
    });
  });
});
