/**
 * 9. Widgets that appear after load: corpus fixtures with a `setup` step (a single-page app opens
 * a dialog with a widget in it). From the page's action to the widget listed by the background
 * (tab-state, as the popup asks), in Chromium and in Firefox. Budget 1 s, the bound the corpus
 * e2e tests used to assert; they now only require that the widget is listed.
 */
import type { Page as ChromiumPage } from 'playwright';
import type { Page as FirefoxPage } from 'puppeteer-core';
import type { TabStateReply } from '../../src/shared/messages';
import { canonical, loadCorpus, withoutId, type Fixture } from '../../test/fixtures/corpus';
import type { ChromiumSession } from '../../test/support/chromium';
import { startFixtureServer } from '../../test/support/fixture-server';
import { launchFirefox, serveHttps } from '../../test/support/firefox';
import { vendorFrame } from '../../test/support/vendor-frames';
import { median, ms, type PhaseResult, type Row } from '../lib/stats';

const LATE_BUDGET_MS = 1_000;
/** Give up on one run after this long (then the figure is over budget, not missing). */
const GIVE_UP_MS = 15_000;

export interface LateOptions {
  session: ChromiumSession;
  /** Runs per fixture and browser. */
  runs: number;
  log: (message: string) => void;
}

/** The listed captchas, ignoring ids and frames, comparable with the fixture's expectation. */
const shown = (state: TabStateReply): string => JSON.stringify(state.captchas.map((c) => canonical(withoutId(c.captcha))).sort());
const expected = (fixture: Fixture): string => JSON.stringify(fixture.captchas.map((c) => canonical(c.captcha)).sort());

/** Calls the fixture's setup, then asks for the tab's list every 5 ms until it is the expected one. */
async function timeToListed(fixture: Fixture, act: () => Promise<unknown>, tabState: () => Promise<TabStateReply>): Promise<number> {
  const want = expected(fixture);
  const started = Date.now();
  await act();
  while (shown(await tabState()) !== want) {
    if (Date.now() - started > GIVE_UP_MS) return Infinity;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return Date.now() - started;
}

export async function latePhase({ session, runs, log }: LateOptions): Promise<PhaseResult> {
  const late = loadCorpus().filter((f) => f.setup);
  log(`late widgets: ${late.map((f) => f.name).join(', ')}, ${runs} run(s) each in Chromium and Firefox`);
  const fixtures = await startFixtureServer();
  const samples: Record<string, { chromium: number[]; firefox: number[] }> = {};
  try {
    // Chromium: the bench's browser; the widgets' own frames served as in the corpus tests.
    const ui = await session.openPopup(-1);
    try {
      for (const fixture of late) {
        const times: number[] = [];
        for (let i = 0; i < runs; i++) {
          const page: ChromiumPage = await session.context.newPage();
          try {
            await page.route(
              (url) => url.protocol === 'https:',
              async (route) => {
                const html = vendorFrame(new URL(route.request().url()));
                await (html ? route.fulfill({ status: 200, contentType: 'text/html', body: html }) : route.abort('internetdisconnected'));
              },
            );
            await page.goto(`${fixtures.origin}${fixture.urlPath}`, { waitUntil: 'load' });
            const tabId = await session.tabIdOf(page);
            const tabState = (): Promise<TabStateReply> => ui.evaluate((id) => chrome.runtime.sendMessage<unknown, TabStateReply>({ type: 'tab-state', tabId: id }), tabId);
            times.push(await timeToListed(fixture, () => page.evaluate((fn) => (window as unknown as Record<string, () => unknown>)[fn]!(), fixture.setup!), tabState));
          } finally {
            await page.close();
          }
        }
        (samples[fixture.name] ??= { chromium: [], firefox: [] }).chromium = times;
      }
    } finally {
      await ui.close();
    }

    const firefox = await launchFirefox();
    try {
      for (const fixture of late) {
        const times: number[] = [];
        for (let i = 0; i < runs; i++) {
          const page: FirefoxPage = await firefox.newPage();
          try {
            await serveHttps(page, vendorFrame);
            await page.goto(`${fixtures.origin}${fixture.urlPath}`);
            // One tab per run, closed after it: the tab is found by its URL.
            const tabId = await firefox.tabIdOf(page);
            const tabState = (): Promise<TabStateReply> => firefox.sendMessage<TabStateReply>({ type: 'tab-state', tabId });
            times.push(await timeToListed(fixture, () => page.evaluate((fn: string) => (window as unknown as Record<string, () => unknown>)[fn]!(), fixture.setup!), tabState));
          } finally {
            await page.close();
          }
        }
        samples[fixture.name]!.firefox = times;
      }
    } finally {
      await firefox.close();
    }
  } finally {
    await fixtures.close();
  }

  const rows: Row[] = [];
  let n = 0;
  for (const [name, { chromium, firefox }] of Object.entries(samples)) {
    for (const [browser, times] of [
      ['Chromium', chromium],
      ['Firefox', firefox],
    ] as const) {
      const max = Math.max(...times);
      rows.push({
        id: `9${String.fromCharCode(97 + n++)}`,
        figure: `Late widget (${name}), ${browser}: page action → listed by the background, median / max (n=${times.length})`,
        value: `${ms(median(times))} / ${ms(max)}`,
        budget: `max ≤ ${LATE_BUDGET_MS} ms`,
        pass: max <= LATE_BUDGET_MS,
      });
    }
  }
  return { rows, data: samples };
}
