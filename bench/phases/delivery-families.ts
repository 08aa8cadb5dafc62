/**
 * 2c–2f. Ready → token for the families besides reCAPTCHA: a corpus page of each (FunCaptcha,
 * Turnstile, GeeTest v3, GeeTest v4) with its local vendor stand-in, solved by a click in the
 * popup; the task becomes ready at the mock at a point spread over two poll cycles after the
 * family's first poll, and the page's own callback notes when the answer reached it. The budget is
 * figure 2a's: at most one of the family's poll intervals plus the delivery slack.
 */
import type { Page } from 'playwright';
import { SCHEDULES } from '../../src/background/engine';
import { routeVendors, type ChromiumSession } from '../../test/support/chromium';
import { startFixtureServer, type FixtureServer } from '../../test/support/fixture-server';
import type { MockSolver } from '../../test/support/mock-solver';
import { median, ms, percentile, spread, type PhaseResult, type Row } from '../lib/stats';

/** One corpus page per family, each holding one widget whose callback calls __record. */
const PAGES = [
  { id: '2c', name: 'FunCaptcha', family: 'funcaptcha', page: 'arkose-v2-first-party.html' },
  { id: '2d', name: 'Turnstile', family: 'turnstile', page: 'turnstile-implicit.html' },
  { id: '2e', name: 'GeeTest v3', family: 'geetest', page: 'geetest-v3-float.html' },
  { id: '2f', name: 'GeeTest v4', family: 'geetest', page: 'geetest-v4.html' },
] as const;

export interface DeliveryFamiliesOptions {
  session: ChromiumSession;
  solver: MockSolver;
  /** Sets when the k-th task created becomes ready (ms after its createTask); returns the ready times so far. */
  plan: { delay: (k: number) => number; readonly readyAt: readonly number[] };
  runs: number;
  slackMs: number;
  log: (message: string) => void;
}

/**
 * The page's callbacks call window.__record; this notes when, before the page's own recorder runs,
 * and hands the time to the bench at once (a page may navigate after its callback, and then
 * nothing could be read back from it).
 */
function noteCallbacks(): void {
  let recorder: ((via: string, value: unknown) => void) | undefined;
  const called = (window as unknown as { __benchCalled: (at: number) => void }).__benchCalled;
  Object.defineProperty(window, '__record', {
    configurable: true,
    get: () => (via: string, value: unknown) => {
      called(Date.now());
      recorder?.(via, value);
    },
    set: (fn: (via: string, value: unknown) => void) => {
      recorder = fn;
    },
  });
}

async function solveOnce(session: ChromiumSession, fixtures: FixtureServer, url: string): Promise<number> {
  const page: Page = await session.context.newPage();
  let noted: (at: number) => void = () => undefined;
  const calledAt = new Promise<number>((resolve) => (noted = resolve));
  try {
    await page.exposeFunction('__benchCalled', (at: number) => noted(at));
    await page.addInitScript(noteCallbacks);
    await routeVendors(page, (url) => fixtures.vendor(url));
    await page.goto(url, { waitUntil: 'load' });
    const popup = await session.openPopup(await session.tabIdOf(page));
    try {
      const solve = popup.locator('li.captcha button').first();
      await solve.waitFor({ state: 'attached', timeout: 15_000 });
      for (const started = Date.now(); !(await solve.isEnabled());) {
        if (Date.now() - started > 15_000) throw new Error(`Solve never enabled on ${url}`);
        await new Promise((resolve) => setTimeout(resolve, 15));
      }
      await solve.click();
      const late = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no token reached ${url} in 30 s`)), 30_000).unref());
      return await Promise.race([calledAt, late]);
    } finally {
      await popup.close();
    }
  } finally {
    await page.close();
  }
}

export async function deliveryFamiliesPhase({ session, solver, plan, runs, slackMs, log }: DeliveryFamiliesOptions): Promise<PhaseResult> {
  log(`ready → token, other families: ${PAGES.map((p) => p.name).join(', ')}, ${runs} run(s) each`);
  // The corpus pages load their runtimes from the fixtures folder's root.
  const fixtures = await startFixtureServer();
  const firstPoll = Math.max(...PAGES.map((p) => SCHEDULES[p.family].firstPollMs));
  const cycle = Math.max(...PAGES.map((p) => SCHEDULES[p.family].intervalMs));
  // Never ready before a family's first poll (that wait is the schedule's, not delivery's).
  plan.delay = (k) => firstPoll + spread(k) * 2 * cycle;
  const delays: Record<string, number[]> = {};
  try {
    // The families side by side, each page's runs one after another.
    await Promise.all(
      PAGES.map(async ({ name, page }) => {
        const mine: number[] = (delays[name] = []);
        for (let run = 0; run < runs; run++) {
          const url = `${fixtures.origin}/pages/${page}?bench=${run}`;
          const calledAt = await solveOnce(session, fixtures, url);
          const k = solver.calls('createTask').findIndex((c) => (c.body.task as { websiteURL?: unknown } | undefined)?.websiteURL === url);
          const readyAt = plan.readyAt[k];
          if (k < 0 || readyAt === undefined) throw new Error(`no task was made for ${url}`);
          mine.push(calledAt - readyAt);
        }
      }),
    );
  } finally {
    await fixtures.close();
  }
  const rows: Row[] = PAGES.map(({ id, name, family }) => {
    const values = delays[name]!;
    const interval = SCHEDULES[family].intervalMs;
    const worst = Math.max(...values);
    return {
      id,
      figure: `${name}: task ready at the service → token in the page callback, median / p95 / max (n=${values.length})`,
      value: `${ms(median(values))} / ${ms(percentile(values, 95))} / ${ms(worst)}`,
      budget: `max ≤ one poll interval (${interval} ms) + ${slackMs} ms`,
      pass: worst <= interval + slackMs,
    };
  });
  return { rows, data: delays };
}
