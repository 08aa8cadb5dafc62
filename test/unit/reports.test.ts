// @vitest-environment node
/**
 * "Report wrong answer" against the strict mock on 127.0.0.1: sent once per task to the
 * endpoint its kind needs, with the key of the account that solved it, the service's answer
 * kept on the history entry; BroCapGPT is not asked; a service without the endpoints says so
 * with its code. And the cost estimate from the balance change when a service sends no cost.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SolverApi } from '../../src/background/api';
import { BalanceBook } from '../../src/background/costs';
import { History, historyEntryOf } from '../../src/background/history';
import { Reports } from '../../src/background/reports';
import { reportOffered, type HistoryEntry } from '../../src/shared/history';
import { isReportWrongMessage } from '../../src/shared/messages';
import { parseSettings, SETTINGS_VERSION, STORAGE_KEYS } from '../../src/shared/settings';
import type { LoadedSettings } from '../../src/extension/stored-settings';
import type { TaskRecord } from '../../src/shared/tasks';
import { MockSolver } from '../support/mock-solver';
import { recaptcha } from './support/fake-service';
import { MemoryArea } from './support/memory-area';

const KEY = 'report-key-0123456789abcdef';
const FALLBACK_KEY = 'report-fallback-key-9876543210';
let solvers: MockSolver[] = [];

afterEach(async () => {
  await Promise.all(solvers.map((s) => s.stop()));
  solvers = [];
});

async function mock(options: Partial<ConstructorParameters<typeof MockSolver>[0]> = {}): Promise<MockSolver> {
  const solver = await new MockSolver({ apiKey: KEY, ...options }).start();
  solvers.push(solver);
  return solver;
}

/** A task the mock really made, as the history records it once delivered. */
async function solvedAt(solver: MockSolver, key: string, patch: Partial<TaskRecord> = {}): Promise<TaskRecord> {
  const created = await new SolverApi({ baseUrl: solver.url, clientKey: key }).createTask({ type: 'RecaptchaV2Task', websiteURL: 'https://shop.example/login', websiteKey: recaptcha().siteKey });
  if (!created.ok) throw new Error(created.error.code);
  const now = Date.now();
  return {
    id: `task-${created.value}`,
    tabId: 1,
    frameId: 0,
    captchaId: 'rc-1',
    captcha: recaptcha(),
    websiteURL: 'https://shop.example/login',
    serviceUrl: solver.url,
    state: 'delivered',
    createdAt: now - 5_000,
    updatedAt: now,
    finishedAt: now,
    tokenAt: now - 1_000,
    dueAt: now,
    polls: 2,
    createAttempts: 1,
    transientFailures: 0,
    serviceTaskId: created.value,
    ...patch,
  };
}

function world(stored: Partial<LoadedSettings> & Pick<LoadedSettings, 'settings'>) {
  const area = new MemoryArea();
  const history = new History(area as never);
  const reports = new Reports({
    history,
    settings: async () => ({ apiKey: '', fallbackApiKey: '', ...stored }),
    client: (baseUrl, clientKey) => new SolverApi({ baseUrl, clientKey, timeoutMs: 5_000 }),
    now: () => Date.now(),
  });
  const entry = async (id: string): Promise<HistoryEntry | undefined> => (await history.read()).find((e) => e.id === id);
  return { area, history, reports, entry };
}

const custom = (url: string, extra: Record<string, unknown> = {}) => parseSettings({ version: SETTINGS_VERSION, service: 'custom', customUrl: url, ...extra });

describe('report a wrong answer', () => {
  it('sends one token report for a solved task, keeps the service’s answer, and never sends it again', async () => {
    const solver = await mock();
    const { history, reports, entry, area } = world({ settings: custom(solver.url), apiKey: KEY });
    const task = await solvedAt(solver, KEY);
    await history.add(task);
    expect(reportOffered((await entry(task.id))!)).toBe(true);

    const [first, second] = await Promise.all([reports.report(task.id), reports.report(task.id)]);
    const third = await reports.report(task.id);
    expect([first, second].filter((r) => r.ok)).toHaveLength(1);
    expect([first, second, third].filter((r) => !r.ok).map((r) => !r.ok && r.error.code)).toEqual(['ALREADY_REPORTED', 'ALREADY_REPORTED']);
    expect(solver.calls('reportIncorrectTokenCaptcha').map((c) => c.body)).toEqual([{ clientKey: KEY, taskId: task.serviceTaskId }]);
    expect((await entry(task.id))?.reported).toMatchObject({ state: 'accepted' });
    expect(solver.violations).toEqual([]);
    expect(JSON.stringify(area.data[STORAGE_KEYS.history])).not.toContain(KEY);
  });

  it('an image answer goes to reportIncorrectImageCaptcha', async () => {
    const solver = await mock();
    const created = await new SolverApi({ baseUrl: solver.url, clientKey: KEY }).createTask({ type: 'ImageToTextTask', body: Buffer.alloc(300, 7).toString('base64') });
    if (!created.ok) throw new Error(created.error.code);
    const { history, reports } = world({ settings: custom(solver.url), apiKey: KEY });
    const task = await solvedAt(solver, KEY, { id: 'image-task', captcha: { family: 'image-text', id: 'img-1' }, serviceTaskId: created.value });
    await history.add(task);
    expect(await reports.report('image-task')).toEqual({ ok: true });
    expect(solver.calls('reportIncorrectImageCaptcha').map((c) => c.body)).toEqual([{ clientKey: KEY, taskId: created.value }]);
    expect(solver.violations).toEqual([]);
  });

  it('uses the fallback’s key for a task the fallback solved', async () => {
    const [first, second] = await Promise.all([mock(), mock({ apiKey: FALLBACK_KEY })]);
    const settings = custom(first.url, { fallback: { service: 'custom', customUrl: second.url } });
    const { history, reports } = world({ settings, apiKey: KEY, fallbackApiKey: FALLBACK_KEY });
    const task = await solvedAt(second, FALLBACK_KEY, { account: 'fallback' });
    await history.add(task);
    expect(await reports.report(task.id)).toEqual({ ok: true });
    expect(second.calls('reportIncorrectTokenCaptcha').map((c) => c.body.clientKey)).toEqual([FALLBACK_KEY]);
    expect(first.requests.filter((r) => r.method.startsWith('report'))).toEqual([]);
  });

  it('a custom service without the endpoint: its ERROR_* answer is shown and kept, not a silent failure', async () => {
    const solver = await mock({ reports: false });
    const { history, reports, entry } = world({ settings: custom(solver.url), apiKey: KEY });
    const task = await solvedAt(solver, KEY);
    await history.add(task);
    const reply = await reports.report(task.id);
    expect(reply).toMatchObject({ ok: false, error: { code: 'ERROR_NO_SUCH_METHOD' } });
    expect((await entry(task.id))?.reported).toMatchObject({ state: 'refused', code: 'ERROR_NO_SUCH_METHOD' });
    expect(await reports.report(task.id)).toMatchObject({ ok: false, error: { code: 'ALREADY_REPORTED' } });
    expect(solver.requests.filter((r) => r.method.startsWith('report'))).toHaveLength(1);
  });

  it('BroCapGPT is not offered the action and never asked; unsolved tasks cannot be reported', async () => {
    const solver = await mock();
    const task = await solvedAt(solver, KEY);
    const bro = historyEntryOf({ ...task, serviceUrl: 'https://api.brocapgpt.com' });
    expect(reportOffered(bro)).toBe(false);
    const failed = historyEntryOf({ ...task, state: 'failed', error: { code: 'ERROR_CAPTCHA_UNSOLVABLE', message: '' } });
    expect(reportOffered(failed)).toBe(false);
    expect(reportOffered(historyEntryOf(task))).toBe(true);

    const { history, reports } = world({ settings: parseSettings({ version: SETTINGS_VERSION, service: 'brocapgpt' }), apiKey: KEY });
    await history.add({ ...task, serviceUrl: 'https://api.brocapgpt.com' });
    expect(await reports.report(task.id)).toMatchObject({ ok: false, error: { code: 'REPORT_NOT_OFFERED' } });
  });

  it('a task of a service no longer in the settings: says so, sends nothing', async () => {
    const [solver, other] = await Promise.all([mock(), mock()]);
    const { history, reports } = world({ settings: custom(other.url), apiKey: KEY });
    const task = await solvedAt(solver, KEY);
    await history.add(task);
    expect(await reports.report(task.id)).toMatchObject({ ok: false, error: { code: 'REPORT_SERVICE_CHANGED' } });
    expect(solver.requests.filter((r) => r.method.startsWith('report'))).toEqual([]);
    expect(other.requests).toEqual([]);
  });
});

describe('the report-wrong message (ui → background)', () => {
  it('carries an entry id only, bounded; nothing else is read', () => {
    expect(isReportWrongMessage({ type: 'report-wrong', entryId: 'task-1' })).toBe(true);
    expect(isReportWrongMessage({ type: 'report-wrong', entryId: 'x'.repeat(101) })).toBe(false);
    expect(isReportWrongMessage({ type: 'report-wrong', entryId: 7 })).toBe(false);
    expect(isReportWrongMessage({ type: 'report-wrong' })).toBe(false);
    expect(isReportWrongMessage({ type: 'solve', entryId: 'task-1' })).toBe(false);
  });
});

describe('the cost estimate when the service sends no cost', () => {
  const task = (patch: Partial<TaskRecord>): TaskRecord => ({ id: 't', serviceUrl: 'https://solver.test', createdAt: 1_000, submittedAt: 1_100, ...patch }) as TaskRecord;

  it('is the balance drop since a reading taken before the task was sent; the next task does not share it', async () => {
    const book = new BalanceBook(new MemoryArea() as never);
    await book.note('https://solver.test', 10, 900);
    expect(await book.freshBefore('https://solver.test', 1_000)).toBe(true);
    expect(await book.estimate(task({ id: 'a' }), 9.9985, 5_000)).toBe(0.0015);
    // Sent before the reading the first one moved on to: no "before" for it.
    expect(await book.estimate(task({ id: 'b', submittedAt: 1_200 }), 9.997, 6_000)).toBeUndefined();
    expect(await book.estimate(task({ id: 'c', createdAt: 7_000, submittedAt: 7_100 }), 9.9955, 9_000)).toBe(0.0015);
  });

  it('is nothing without an earlier reading or without a drop', async () => {
    const book = new BalanceBook(new MemoryArea() as never);
    expect(await book.estimate(task({}), 5, 2_000)).toBeUndefined();
    await book.note('https://solver.test', 5, 2_500);
    expect(await book.estimate(task({ createdAt: 3_000, submittedAt: 3_100 }), 5, 4_000)).toBeUndefined();
    expect(await book.freshBefore('https://solver.test', 4_000 + 60_000)).toBe(false);
  });
});
