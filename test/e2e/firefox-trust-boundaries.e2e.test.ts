/**
 * Site lists hold for the whole tab, in real Firefox ESR (where sender.origin and about: frames
 * behave their own way): the same pages as trust-boundaries.e2e.test.ts. A second loopback
 * address (127.0.0.2) stands for a second site.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SolveAllReply, TabStateReply } from '../../src/shared/messages';
import { launchFirefox, type FirefoxSession } from '../support/firefox';
import { FIXTURES_DIR, startFixtureServer, type FixtureServer } from '../support/fixture-server';
import { MockSolver } from '../support/mock-solver';

const API_KEY = 'fftrust6a0c3e9b7d2f5a8c1e3f7a9b5d8';

let firefox: FirefoxSession;
let fixtures: FixtureServer;
let other: FixtureServer;
let solver: MockSolver;

beforeAll(async () => {
  [firefox, fixtures, other, solver] = await Promise.all([
    launchFirefox(),
    startFixtureServer(),
    startFixtureServer(FIXTURES_DIR, '127.0.0.2'),
    new MockSolver({ apiKey: API_KEY, solveAfterMs: 500 }).start(),
  ]);
});

afterAll(async () => {
  await Promise.all([firefox?.close(), fixtures?.close(), other?.close(), solver?.stop()]);
});

async function setSettings(patch: Record<string, unknown>): Promise<void> {
  const page = await firefox.extensionPage();
  await page.evaluate(
    async (url, key, extra) => {
      const { browser } = window as unknown as { browser: { storage: { local: { set(items: object): Promise<void> } } } };
      await browser.storage.local.set({ settings: { version: 2, service: 'custom', customUrl: url, ...extra }, apiKey: key, spend: [] });
    },
    solver.url,
    API_KEY,
    patch,
  );
}

beforeEach(async () => {
  await setSettings({});
});

const tabState = (tabId: number) => firefox.sendMessage<TabStateReply>({ type: 'tab-state', tabId });

async function poll<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('Firefox: site lists hold for the whole tab', () => {
  it('on a blocked site, a cross-site frame and a srcdoc frame with a foreign <base> are not listed, not auto-solved, get no button', async () => {
    await setSettings({ blockedSites: ['127.0.0.1'], inPageButton: true, families: { recaptchaV2: { enabled: true, mode: 'auto' } } });
    const before = solver.calls('createTask').length;
    const page = await firefox.newPage();
    await page.goto(`${fixtures.origin}/hostile/blocked-site-frames.html?other=${other.origin}`);
    const tabId = await firefox.tabIdOf(page);
    // Both widgets are found and held back: the srcdoc frame belongs to the blocked page.
    const state = await poll(
      'hidden widgets',
      () => tabState(tabId),
      (s) => s.hiddenCount === 2,
    );
    expect(state.siteAllowed).toBe(false);
    expect(state.captchas).toEqual([]);
    for (const frame of page.frames()) expect(await frame.$$eval('caprelay-solve', (els) => els.length)).toBe(0);
    expect(await firefox.sendMessage<SolveAllReply>({ type: 'solve-all', tabId })).toEqual({ started: 0, errors: [] });
    expect(
      solver
        .calls('createTask')
        .slice(before)
        .map((c) => c.body.task),
    ).toEqual([]);
    await page.close();
  });

  it('allowed, the srcdoc frame is listed with the address it belongs to, never about:srcdoc', async () => {
    const page = await firefox.newPage();
    const top = `${fixtures.origin}/hostile/blocked-site-frames.html?other=${other.origin}`;
    await page.goto(top);
    const tabId = await firefox.tabIdOf(page);
    const state = await poll(
      'both widgets',
      () => tabState(tabId),
      (s) => s.captchas.length === 2,
    );
    expect(state.captchas.map((c) => c.url).sort()).toEqual([top, `${other.origin}/hostile/widgets50.html?one=1&i=7`].sort());
    const srcdoc = state.captchas.find((c) => c.url === top)!;
    const before = solver.calls('createTask').length;
    expect(await firefox.sendMessage({ type: 'solve', tabId, frameId: srcdoc.frameId, captchaId: srcdoc.captcha.id })).toMatchObject({ ok: true });
    const [call] = (await solver.waitFor('createTask', before + 1)).slice(before);
    expect((call!.body.task as { websiteURL: string }).websiteURL).toBe(top);
    await page.close();
  });
});
