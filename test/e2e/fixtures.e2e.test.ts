/**
 * The whole fixture corpus in Chromium with the built extension: for every page, exactly the
 * expected captchas are listed (each once, in the right frame), each is solved through the
 * background's solve message from an extension page, the local mock service receives the
 * expected createTask task, and the token reaches the page where the expect block says
 * (callbacks, response fields, the page's next execute()). One browser; pages run in parallel.
 *
 * The widgets' own frames (anchor, bframe, Arkose enforcement and game core, the Turnstile
 * widget) are served by a route with their real URL shapes and markup that would count as a
 * captcha if the content script scanned them, and so are GeeTest's JSONP endpoints and the
 * fixture frames' cross-origin host (FixtureServer.vendor); every other https request fails, as
 * it would offline.
 */
import type { Frame, Page } from 'playwright';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { FrameCaptcha, FrameCaptchasMessage, SolveReply, TabStateReply } from '../../src/shared/messages';
import { canonical, expectedUrl, loadCorpus, resolveExpected, withoutId, type ExpectedCaptcha, type Fixture } from '../fixtures/corpus';
import { BackgroundProbe } from '../support/background-probe';
import { launchChromium, routeVendors, type ChromiumSession } from '../support/chromium';
import { startFixtureServer, type FixtureServer } from '../support/fixture-server';
import { ContentWorlds } from '../support/key-leak';
import { MockSolver } from '../support/mock-solver';
import { corpusSolution, solveExpected, until, type CorpusFrame, type Delivered } from '../support/corpus-solve';

const API_KEY = 'e2e0123456789abcdef0123456789abc';
const corpus = loadCorpus();

let browser: ChromiumSession;
let fixtures: FixtureServer;
let solver: MockSolver;
let messenger: Page;
let probe: BackgroundProbe;
/** What the page must receive for each createTask `task` object (the token the mock handed out). */
const tokens = new Map<object, Delivered>();

/* ---------------- helpers ---------------- */

function send<T>(message: unknown): Promise<T> {
  return messenger.evaluate((m) => chrome.runtime.sendMessage<unknown, T>(m), message);
}

/**
 * A new tab and its id, one at a time: the id is read from the active tab, and opening a tab
 * makes that one active.
 */
let tabLock: Promise<unknown> = Promise.resolve();
function openTab(): Promise<{ page: Page; tabId: number }> {
  const next = tabLock.then(async () => {
    const page = await browser.context.newPage();
    return { page, tabId: await browser.tabIdOf(page) };
  });
  tabLock = next.catch(() => undefined);
  return next;
}

function frameUrl(fixture: Fixture, expected: ExpectedCaptcha): string {
  return expectedUrl(fixtures.origin, fixture, expected);
}

/** The entry with the values only this run knows (the GeeTest challenge issued to the page). */
function resolved(fixture: Fixture, expected: ExpectedCaptcha): ExpectedCaptcha {
  return resolveExpected(expected, { challenge: fixtures.geetest.issuedTo(frameUrl(fixture, expected)) });
}

/** The listed captchas as comparable strings: frame URL + captcha without its id. */
function listed(state: TabStateReply): string[] {
  return state.captchas.map((c) => `${c.url} ${canonical(withoutId(c.captcha))}`).sort();
}

function wanted(fixture: Fixture): string[] {
  return fixture.captchas.map((c) => `${frameUrl(fixture, c)} ${canonical(resolved(fixture, c).captcha)}`).sort();
}

/**
 * Every frame of the page has loaded, and a round trip from each frame's content-script world has
 * proved that all it sent before has reached the background.
 */
async function allReported(page: Page): Promise<void> {
  // A frame that went away meanwhile has nothing more to send.
  await Promise.all(page.frames().map((frame) => frame.waitForLoadState('load').catch((error: unknown) => (frame.isDetached() ? undefined : Promise.reject(error)))));
  const worlds = await ContentWorlds.attach(page, browser.extensionId);
  try {
    await probe.barrierAll(worlds);
  } finally {
    await worlds.detach();
  }
}

/** The captchas the tab's frames last reported to the background (what it lists once it has read them all). */
async function lastReported(tabId: number): Promise<string[]> {
  const last = new Map<number, FrameCaptchasMessage>();
  for (const received of await probe.receivedOfType('frame-captchas', tabId)) last.set(received.frameId, received.message as FrameCaptchasMessage);
  return [...last.values()].flatMap((m) => m.captchas.map((c) => canonical(withoutId(c)))).sort();
}

function frameOf(page: Page, url: string): Frame {
  const frame = page.frames().find((f) => f.url() === url);
  if (!frame) throw new Error(`no frame ${url}`);
  return frame;
}

function callPage(frame: Frame, name: string): Promise<unknown> {
  return frame.evaluate((fn) => (window as unknown as Record<string, () => unknown>)[fn]!(), name);
}

function corpusFrame(frame: Frame): CorpusFrame {
  return {
    delivered: () => frame.evaluate(() => (window as unknown as { __delivered: { via: string; value: unknown }[] }).__delivered),
    value: (selector: string) => frame.$eval(selector, (el) => (el as HTMLInputElement).value),
    call: (name: string) => callPage(frame, name),
  };
}

/* ---------------- the corpus ---------------- */

beforeAll(async () => {
  [browser, fixtures, solver] = await Promise.all([
    launchChromium(),
    startFixtureServer(),
    new MockSolver({
      apiKey: API_KEY,
      solveAfterMs: 0,
      solution: corpusSolution(tokens),
    }).start(),
  ]);
  // The widgets' own frames and vendor endpoints, offline.
  await routeVendors(browser.context, (url) => fixtures.vendor(url));
  await browser.configure(solver.url, API_KEY);
  messenger = await browser.openPopup(-1);
  probe = await BackgroundProbe.install(() => browser.worker());
});

afterAll(async () => {
  await Promise.all([browser?.close(), fixtures?.close(), solver?.stop()]);
});

describe.concurrent('fixture corpus in Chromium', () => {
  it.for(corpus.map((f) => [f.name, f] as const))('%s', async ([, fixture], { expect }) => {
    const { page, tabId } = await openTab();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    try {
      await page.goto(`${fixtures.origin}${fixture.urlPath}`);
      const tabState = (): Promise<TabStateReply> => send<TabStateReply>({ type: 'tab-state', tabId });
      const isExpected = (s: TabStateReply): boolean => JSON.stringify(listed(s)) === JSON.stringify(wanted(fixture));
      if (fixture.setup) {
        // Nothing before the user acts: once the page has loaded, no frame has reported a captcha.
        // (How soon the widget is listed after the action is measured by npm run bench, phase late.)
        await page.waitForLoadState('load');
        await allReported(page);
        expect(await lastReported(tabId)).toEqual([]);
        expect(listed(await tabState())).toEqual([]);
        await callPage(page.mainFrame(), fixture.setup);
      }

      // Exactly the expected captchas, each once, in the frames they live in.
      const state = await until('the expected captchas', tabState, isExpected).catch(async () => tabState());
      expect(listed(state)).toEqual(wanted(fixture));
      // And nothing more on its way (duplicates from frames, probe echoes): what every loaded frame
      // last sent is exactly that.
      await allReported(page);
      expect(await lastReported(tabId)).toEqual(fixture.captchas.map((c) => canonical(resolved(fixture, c).captcha)).sort());
      expect(listed(await tabState())).toEqual(wanted(fixture));

      // Identical expectations match detected captchas in document order.
      const unmatched: FrameCaptcha[] = [...state.captchas];
      for (const expected of fixture.captchas) {
        const url = frameUrl(fixture, expected);
        const index = unmatched.findIndex((c) => c.url === url && canonical(withoutId(c.captcha)) === canonical(resolved(fixture, expected).captcha));
        const item = unmatched.splice(index, 1)[0]!;
        if (expected.frame) expect(item.frameId).not.toBe(0);

        await solveExpected({
          expect,
          solver,
          tokens,
          geetest: fixtures.geetest,
          tabId,
          url,
          item,
          expected,
          solve: (message) => send<SolveReply>(message),
          tabState,
          frame: () => corpusFrame(frameOf(page, url)),
        });
      }
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});

describe('fixture corpus: afterwards', () => {
  it('the service saw only well-formed requests', ({ expect }) => {
    expect(solver.violations).toEqual([]);
  });
});
