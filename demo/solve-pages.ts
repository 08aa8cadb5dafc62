/**
 * The unattended demo: every demo page is opened, solved once through the popup (the same clicks
 * a person makes), and checked: the task the sandbox got, the popup's end state, and the token
 * the page itself received.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright';
import type { DemoBrowser } from './browser';
import type { DemoPage } from './pages';
import type { Sandbox } from './sandbox';

export interface PageResult {
  page: DemoPage;
  url: string;
  /** The captcha the popup listed and that was solved (its label), or null if none showed. */
  detected: string | null;
  /** The createTask `task` as the service got it. */
  task: Record<string, unknown> | null;
  /** The popup's task state at the end: delivered, failed, …; or not-detected / timeout. */
  state: string;
  /** The popup's status line (or error code and sentence). */
  status: string;
  serviceTaskId: number | null;
  seconds: number;
  /** The token the page's own code received (callback, onCompleted or execute()). */
  pageToken: string | null;
  solved: boolean;
  screenshot: string | null;
  problems: string[];
}

const END_STATES = new Set(['delivered', 'failed', 'expired', 'cancelled']);

interface Started {
  page: DemoPage;
  url: string;
  tab: Page;
  popup: Page;
  detected: string | null;
  startedAt: number;
  problems: string[];
}

export interface SolveOptions {
  browser: DemoBrowser;
  sandbox: Sandbox;
  origin: string;
  pages: readonly DemoPage[];
  /** Where the popup screenshots go. */
  outDir: string;
  /** Longest wait for one task to end. */
  timeoutMs: number;
}

/** Opens each page and clicks Solve (one after another: the popup needs its tab in front), then waits for all. */
export async function solvePages(options: SolveOptions): Promise<PageResult[]> {
  fs.mkdirSync(options.outDir, { recursive: true });
  // Pages load side by side; the clicks go one page at a time.
  const tabs = await Promise.all(options.pages.map((page) => open(options, page)));
  const started: Started[] = [];
  for (const [i, page] of options.pages.entries()) started.push(await start(options, page, tabs[i]!));
  return Promise.all(started.map((s) => finish(options, s)));
}

async function open(options: SolveOptions, page: DemoPage): Promise<Page> {
  const tab = await options.browser.context.newPage();
  await tab.goto(`${options.origin}/${page.slug}.html`);
  return tab;
}

async function start(options: SolveOptions, page: DemoPage, tab: Page): Promise<Started> {
  const url = tab.url();
  const tabId = await options.browser.tabIdOf(tab);
  const popup = await options.browser.openPopup(tabId);
  // The popup's own width (360 px and its padding), so the picture has no empty margin.
  await popup.setViewportSize({ width: 388, height: 420 });
  const problems: string[] = [];
  const expected = popup.getByRole('button', { name: `Solve ${page.label}`, exact: true });
  let button = expected;
  try {
    await expected.waitFor({ timeout: 10_000 });
  } catch {
    // Not the captcha expected: solve whatever the popup found, and say so.
    const any = popup.getByRole('button', { name: /^Solve / });
    const labels = await any.evaluateAll((els) => els.map((el) => el.getAttribute('aria-label') ?? ''));
    if (labels.length === 0) return { page, url, tab, popup, detected: null, startedAt: Date.now(), problems: ['the popup found no captcha'] };
    problems.push(`the popup listed ${labels.map((l) => `"${l.replace(/^Solve /, '')}"`).join(', ')}, not "${page.label}"`);
    button = any.first();
  }
  const detected = ((await button.getAttribute('aria-label')) ?? '').replace(/^Solve /, '');
  await button.click();
  return { page, url, tab, popup, detected, startedAt: Date.now(), problems };
}

async function finish(options: SolveOptions, s: Started): Promise<PageResult> {
  const result: PageResult = {
    page: s.page,
    url: s.url,
    detected: s.detected,
    task: null,
    state: s.detected ? 'timeout' : 'not-detected',
    status: '',
    serviceTaskId: null,
    seconds: 0,
    pageToken: null,
    solved: false,
    screenshot: null,
    problems: [...s.problems],
  };
  if (s.detected) {
    const task = s.popup.getByTestId('task').first();
    const deadline = Date.now() + options.timeoutMs;
    let state = '';
    while (Date.now() < deadline) {
      state = (await task.getAttribute('data-state', { timeout: 5_000 }).catch(() => null)) ?? '';
      if (END_STATES.has(state)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    result.seconds = (Date.now() - s.startedAt) / 1000;
    result.state = END_STATES.has(state) ? state : 'timeout';
    result.status = (
      (await s.popup
        .getByTestId('task-status')
        .first()
        .textContent()
        .catch(() => '')) ?? ''
    ).trim();
    const head = (await task.textContent().catch(() => '')) ?? '';
    const id = /#(\d+)/.exec(head)?.[1];
    result.serviceTaskId = id ? Number(id) : null;

    const sent = options.sandbox.solver.calls('createTask').find((r) => taskOf(r.body)?.websiteURL === s.url);
    result.task = sent ? taskOf(sent.body) : null;
    if (!result.task) result.problems.push('the sandbox got no createTask for this page');
    else if (result.task.type !== s.page.taskType) result.problems.push(`sent ${String(result.task.type)}, expected ${s.page.taskType}`);
    for (const field of s.page.shows) {
      if (result.task && result.task[field] === undefined) result.problems.push(`the task has no ${field}`);
    }

    if (result.state === 'delivered') {
      if (s.page.afterSolve) await s.tab.click(s.page.afterSolve);
      result.pageToken = await waitForPageToken(s.tab);
      if (!result.pageToken) result.problems.push('the page did not receive the token');
      else if (result.serviceTaskId !== null && !result.pageToken.includes(String(result.serviceTaskId))) {
        result.problems.push('the page received a token that is not the sandbox’s');
      }
    }
  }
  result.solved = result.state === 'delivered' && result.pageToken !== null && result.problems.length === 0;
  const shot = path.join(options.outDir, `${s.page.slug}.png`);
  await s.popup.screenshot({ path: shot, fullPage: true }).then(
    () => (result.screenshot = shot),
    () => undefined,
  );
  return result;
}

function taskOf(body: Record<string, unknown>): Record<string, unknown> | null {
  const task = body.task;
  return typeof task === 'object' && task !== null && !Array.isArray(task) ? (task as Record<string, unknown>) : null;
}

/** The token the page's own callback received; generous, as a busy machine delays the page's scripts. */
async function waitForPageToken(tab: Page): Promise<string | null> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const tokens = await tab.evaluate(() => (window as unknown as { demoTokens?: string[] }).demoTokens ?? []).catch(() => []);
    if (tokens.length > 0) return tokens[tokens.length - 1] ?? null;
    await new Promise((r) => setTimeout(r, 100));
  }
  return null;
}

/** One picture of every popup, side by side, captioned: what the run shows at a glance. */
export async function summaryScreenshot(browser: DemoBrowser, results: PageResult[], file: string): Promise<string> {
  const cells = results
    .filter((r) => r.screenshot)
    .map((r) => {
      const data = fs.readFileSync(r.screenshot!).toString('base64');
      const mark = r.solved ? '✔ solved' : `✘ ${r.state}`;
      return `<figure><figcaption><b>${escapeHtml(r.page.title)}</b> — ${escapeHtml(mark)}</figcaption><img src="data:image/png;base64,${data}"></figure>`;
    })
    .join('');
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.setContent(
    `<!doctype html><style>
      body{margin:0;padding:16px;background:#e5e7eb;font:14px system-ui,sans-serif;display:grid;grid-template-columns:repeat(3,388px);gap:16px}
      figure{margin:0;background:#fff;border-radius:6px;overflow:hidden;box-shadow:0 1px 3px #0003}
      figcaption{padding:6px 10px}img{display:block;width:388px}
    </style>${cells}`,
  );
  await page.screenshot({ path: file, fullPage: true });
  await page.close();
  return file;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
