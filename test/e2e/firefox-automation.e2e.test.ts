/**
 * CapRelay in an automated Firefox ESR (headless, puppeteer-core over WebDriver BiDi): set up
 * by caprelay.json in a copy of the add-on's folder, by the `3rdparty` section of a machine
 * policies.json, or by the control API, which a driver reaches in Firefox through the
 * extension's control page (window.caprelay); and the rules of a click holding for all of it.
 */
import { randomUUID } from 'node:crypto';
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CapRelayControl } from '../../src/background/control';
import { controlVia, copyExtension, writeFirefoxPolicy, type ExtensionCopy } from '../support/automation';
import { FIREFOX_EXTENSION_DIR, launchFirefox, type FirefoxLaunchOptions, type FirefoxSession } from '../support/firefox';
import { startFixtureServer, type FixtureServer } from '../support/fixture-server';
import { MockSolver } from '../support/mock-solver';

const API_KEY = 'ffauto3c9e1a7d5b2f8c4e6a0d9b3f7c1e5a8';
const SITE_KEY = '6LeIxAcTAAAAAJcZVRqyHh71UMIEGNQ_MXjiZKhI';

type FormPage = Window & { __captchaTokens: string[] };

let fixtures: FixtureServer;
let solver: MockSolver;

beforeAll(async () => {
  [fixtures, solver] = await Promise.all([startFixtureServer(), new MockSolver({ apiKey: API_KEY, balance: 3.25, solveAfterMs: 500 }).start()]);
});

/** Policies written by a test, removed again here too: a test that hangs never reaches its finally. */
const policies: { remove(): void }[] = [];

afterAll(async () => {
  for (const policy of policies) policy.remove();
  await Promise.all([fixtures?.close(), solver?.stop()]);
});

async function withFirefox(copy: ExtensionCopy | null, options: FirefoxLaunchOptions, run: (firefox: FirefoxSession) => Promise<void>): Promise<void> {
  const firefox = await launchFirefox({ ...(copy && { extensionDir: copy.dir }), ...options });
  try {
    await run(firefox);
  } finally {
    await firefox.close();
    copy?.remove();
  }
}

/** The control API as a Firefox driver reaches it: window.caprelay on the extension's control page. */
async function apiOf(firefox: FirefoxSession): Promise<CapRelayControl> {
  const page = await firefox.openExtensionPage('src/control/index.html');
  // puppeteer types a function's argument as it arrives (flattened); these are plain data both ways.
  return controlVia((fn, arg) => page.evaluate(fn as (arg: unknown) => Promise<never>, arg));
}

const texts = (page: Page, testId: string): Promise<string[]> => page.$$eval(`[data-testid="${testId}"]`, (elements) => elements.map((element) => (element.textContent ?? '').trim())).catch(() => []);

async function openSettings(firefox: FirefoxSession): Promise<Page> {
  const popup = await firefox.openPopup(-1);
  await popup.waitForSelector('::-p-aria([name="Settings"][role="tab"])');
  await (await popup.$('::-p-aria([name="Settings"][role="tab"])'))!.click();
  return popup;
}

describe('Firefox: caprelay.json in the add-on folder', () => {
  it('sets CapRelay up (key, service, auto-solve): the page is solved with no click, and the popup says where the settings came from', async () => {
    const copy = copyExtension(FIREFOX_EXTENSION_DIR, {
      setupFile: { apiKey: API_KEY, service: 'custom', customUrl: solver.url, families: { recaptchaV2: { mode: 'auto' } } },
    });
    await withFirefox(copy, {}, async (firefox) => {
      const before = solver.calls('createTask').length;
      const page = await firefox.newPage();
      await page.goto(`${fixtures.origin}/pages/recaptcha-v2-checkbox.html`);
      await page.waitForFunction(() => (window as unknown as FormPage).__captchaTokens.length > 0, { timeout: 45_000 });
      const creates = solver.calls('createTask').slice(before);
      expect(creates).toHaveLength(1);
      expect(creates[0]!.body).toMatchObject({ clientKey: API_KEY, task: { type: 'RecaptchaV2Task', websiteKey: SITE_KEY } });

      const popup = await openSettings(firefox);
      await expect.poll(() => texts(popup, 'setup-file')).toEqual([expect.stringContaining('Set up from caprelay.json (4 settings)')]);
      await Promise.all([popup.close(), page.close()]);
    });
  });

  it('a bad file: the popup names each field and the reason, and the rest applies', async () => {
    const copy = copyExtension(FIREFOX_EXTENSION_DIR, {
      setupFile: { apiKey: API_KEY, service: 'custom', customUrl: solver.url, maxTasksPerDay: 1e9, blockedSites: ['ads.example', 'http://'] },
    });
    await withFirefox(copy, {}, async (firefox) => {
      const popup = await openSettings(firefox);
      await expect
        .poll(() => texts(popup, 'setup-problem'))
        .toEqual(['maxTasksPerDay must be a whole number from 0 to 100000.', 'blockedSites[1] is not a site name such as example.com or *.example.com.']);
      await expect.poll(() => texts(popup, 'balance')).toEqual([expect.stringContaining('3.25')]);
      const status = await (await apiOf(firefox)).status();
      expect(status.settings).toMatchObject({ service: 'custom', customUrl: solver.url, maxTasksPerDay: 200, blockedSites: ['ads.example'] });
      await popup.close();
    });
  });
});

describe('Firefox: a machine policy', () => {
  it('the 3rdparty policy wins over the file and the control API, and the popup shows it as set by the administrator', async (context) => {
    // An add-on id of the test's own: the policy names only this copy.
    const geckoId = `caprelay-e2e-${randomUUID().slice(0, 8)}@caprelay.dev`;
    const copy = copyExtension(FIREFOX_EXTENSION_DIR, { geckoId, setupFile: { apiKey: API_KEY, service: 'custom', customUrl: solver.url, maxTasksPerHour: 50 } });
    const policy = writeFirefoxPolicy(geckoId, { maxTasksPerHour: 2, inPageButton: true });
    if ('skip' in policy) {
      copy.remove();
      context.skip(policy.skip);
      return;
    }
    policies.push(policy);
    try {
      await withFirefox(copy, { geckoId }, async (firefox) => {
        const api = await apiOf(firefox);
        expect((await api.configure({ maxTasksPerHour: 100 })).managed).toEqual(['maxTasksPerHour']);
        const status = await api.status();
        expect(status.settings).toMatchObject({ maxTasksPerHour: 2, inPageButton: true, customUrl: solver.url });
        expect(status.managed).toEqual(['maxTasksPerHour', 'inPageButton']);

        const popup = await openSettings(firefox);
        await expect.poll(() => texts(popup, 'managed-notice')).toEqual([expect.stringContaining('set by your administrator')]);
        const perHour = await popup.waitForSelector('::-p-aria([name="Max tasks per hour"])');
        expect(await perHour!.evaluate((input) => [(input as HTMLInputElement).disabled, (input as HTMLInputElement).value])).toEqual([true, '2']);

        // Three widgets, a policy limit of 2: the API's solve starts 2.
        const page = await firefox.newPage();
        const url = `${fixtures.origin}/hostile/widgets50.html?n=3`;
        await page.goto(url);
        await expect.poll(async () => (await api.captchas({ url }).catch(() => ({ captchas: [] }))).captchas.length).toBe(3);
        const before = solver.calls('createTask').length;
        const reply = await api.solve({ url });
        expect(reply.started).toBe(2);
        expect(reply.errors.map((e) => e.code)).toEqual(['SPENDING_LIMIT']);
        await solver.waitFor('createTask', before + 2);
        await Promise.all([popup.close(), page.close()]);
      });
    } finally {
      policy.remove();
    }
  });
});

describe('Firefox: the control API on the control page', () => {
  it('configures, solves and waits with the rules of a click, and auto-submit posts the form', async () => {
    await withFirefox(null, {}, async (firefox) => {
      const api = await apiOf(firefox);
      expect(await api.configure({ service: 'custom', customUrl: solver.url, apiKey: API_KEY })).toEqual({ applied: ['service', 'customUrl', 'apiKey'], problems: [], managed: [] });
      expect(await api.status()).toMatchObject({ ready: true, balance: { ok: true, balance: 3.25 } });

      const page = await firefox.newPage();
      const url = `${fixtures.origin}/hostile/widgets50.html?n=4`;
      await page.goto(url);
      await expect.poll(async () => (await api.captchas({ url }).catch(() => ({ captchas: [] }))).captchas.length).toBe(4);
      const before = solver.calls('createTask').length;
      expect(await api.solve({ url })).toMatchObject({ started: 0, confirm: 4 });
      expect(solver.calls('createTask').length).toBe(before);
      expect(await api.solve({ url, confirmed: 4 })).toMatchObject({ started: 4, errors: [] });
      const solved = await api.waitForSolved({ url, timeoutMs: 60_000 });
      expect(solved).toMatchObject({ solved: true, captchas: 4 });
      expect(solver.calls('createTask').length).toBe(before + 4);

      await api.configure({ families: { recaptchaV2: { mode: 'auto' } }, autoSubmit: true, delays: { recaptchaV2: { minMs: 200, maxMs: 400 } } });
      const form = await firefox.newPage();
      await form.goto(`${fixtures.origin}/automation/submit-form.html`);
      await expect.poll(() => fixtures.posts.filter((p) => p.path === '/signup').length, { timeout: 45_000 }).toBeGreaterThanOrEqual(1);
      const posted = new URLSearchParams(fixtures.posts.filter((p) => p.path === '/signup').at(-1)!.body);
      const task = (await api.status()).tasks.find((t) => t.websiteURL.endsWith('/automation/submit-form.html'))!;
      expect(posted.get('g-recaptcha-response')).toBe(solver.tokenFor(Number(task.serviceTaskId)));
      await Promise.all([page.close(), form.close()]);
    });
  });
});
