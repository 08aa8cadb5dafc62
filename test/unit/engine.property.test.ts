/**
 * The engine under random service answers (processing, ready, every error class, HTTP errors,
 * refused and dropped connections, lost answers), random clicks on several tabs, tabs closing,
 * and the service worker stopped at random points: between steps, mid-request, around storage
 * writes and around deliveries. Whatever happens:
 * - every task ends, within a bound of simulated time set by the schedule (plus any time with
 *   no worker running), and leaves a service task by that task's deadline;
 * - createTask is never re-sent for a click while a task may exist for it, and a click makes at
 *   most 1 + recreateAttempts tasks, each new one only after a re-creatable error;
 * - no task is polled less than 2 s after its previous poll, past its deadline, or more than its
 *   schedule allows (far below 120);
 * - only the click's own, fresh tokens reach its own page, and not after the page went away.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_BACKOFF_MS, MAX_CREATE_RETRIES, MIN_POLL_GAP_MS, SCHEDULES, TOKEN_DELIVERY_WINDOW_MS } from '../../src/background/engine';
import type { Captcha, TaskCaptcha } from '../../src/shared/captcha';
import { classifyError } from '../../src/shared/errors';
import { ACTIVE_STATES, type TaskRecord } from '../../src/shared/tasks';
import { funcaptcha, Harness, pageUrl, recaptcha, START_TIME, type Answer, type DeliveryFault, type ServiceCall, type WriteFault } from './support/fake-service';

const TRANSIENT = ['ERROR_NO_SLOT_AVAILABLE', 'ERROR_SERVICE_NOT_AVAILABLE', 'ERROR_TOO_MUCH_REQUESTS'];
const RECREATE = ['ERROR_CAPTCHA_UNSOLVABLE', 'ERROR_NO_SUCH_CAPCHA_ID', 'ERROR_RECAPTCHA_TIMEOUT', 'ERROR_TOKEN_EXPIRED'];
const FINAL = ['ERROR_KEY_DOES_NOT_EXIST', 'ERROR_ZERO_BALANCE', 'ERROR_IP_BANNED', 'ERROR_RECAPTCHA_INVALID_SITEKEY', 'ERROR_TASK_NOT_SUPPORTED'];

const transport = fc.constantFrom<Answer>('refused', 'reset', 'lost', 'kill-before', 'kill-after');
const httpError = fc.constantFrom(429, 500, 502, 503, 504, 402, 403, 404).map((status): Answer => ({ http: status }));
const errorOf = (codes: string[]) => fc.constantFrom(...codes).map((code): Answer => ({ error: code }));

const createAnswer: fc.Arbitrary<Answer> = fc.oneof(
  { weight: 6, arbitrary: fc.constant<Answer>('normal') },
  { weight: 3, arbitrary: errorOf(TRANSIENT) },
  { weight: 1, arbitrary: errorOf(RECREATE) },
  { weight: 1, arbitrary: errorOf(FINAL) },
  { weight: 2, arbitrary: httpError },
  { weight: 2, arbitrary: transport },
  { weight: 1, arbitrary: fc.constant<Answer>({ raw: '<html>gateway</html>' }) },
);

const pollAnswer: fc.Arbitrary<Answer> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom<Answer>('normal', 'processing', 'not-ready') },
  { weight: 2, arbitrary: fc.constant<Answer>('ready') },
  { weight: 1, arbitrary: fc.constant<Answer>({ ready: { text: 'no token' } }) },
  { weight: 3, arbitrary: errorOf(TRANSIENT) },
  { weight: 2, arbitrary: errorOf(RECREATE) },
  { weight: 1, arbitrary: errorOf(FINAL) },
  { weight: 2, arbitrary: httpError },
  { weight: 3, arbitrary: transport },
  { weight: 1, arbitrary: fc.constant<Answer>({ raw: '{"errorId":0,"sta' }) },
);

/** What the service does once the scripted answers are used up. */
const pollTail = fc.constantFrom<Answer>('normal', 'normal', 'processing', { error: 'ERROR_SERVICE_NOT_AVAILABLE' }, { http: 502 }, 'lost');

const CAPTCHAS: Record<string, Captcha> = { 'rc-a': recaptcha('rc-a'), 'rc-b': recaptcha('rc-b', { invisible: true }), 'fc-a': funcaptcha('fc-a') };

interface Click {
  at: number;
  tabId: number;
  frameId: number;
  captcha: string;
  /** Several clicks at the same instant (a double click, or the popup and the in-page button). */
  times: number;
}

const click: fc.Arbitrary<Click> = fc.record({
  at: fc.integer({ min: 0, max: 60_000 }),
  tabId: fc.integer({ min: 1, max: 3 }),
  frameId: fc.integer({ min: 0, max: 1 }),
  captcha: fc.constantFrom(...Object.keys(CAPTCHAS)),
  times: fc.integer({ min: 1, max: 3 }),
});

const scenario = fc.record({
  recreateAttempts: fc.integer({ min: 0, max: 3 }),
  clicks: fc.array(click, { minLength: 1, maxLength: 4 }),
  closes: fc.array(fc.record({ at: fc.integer({ min: 0, max: 200_000 }), tabId: fc.integer({ min: 1, max: 3 }) }), { maxLength: 1 }),
  createAnswers: fc.array(createAnswer, { maxLength: 10 }),
  pollAnswers: fc.array(pollAnswer, { maxLength: 40 }),
  pollTail,
  solveAfterMs: fc.integer({ min: 0, max: 200_000 }),
  /** Stops between steps, after the n-th wake-up: started again at once, or by its alarm. */
  restartsAt: fc.uniqueArray(fc.integer({ min: 0, max: 80 }), { maxLength: 4 }),
  restartByAlarm: fc.boolean(),
  /** Stops around the n-th storage write. */
  writeFaults: fc.dictionary(fc.integer({ min: 0, max: 150 }).map(String), fc.constantFrom<WriteFault>('die-before-write', 'die-after-write'), { maxKeys: 4 }),
  deliveryFaults: fc.array(fc.constantFrom<DeliveryFault>('kill-before', 'kill-after'), { maxLength: 2 }),
  jitter: fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 1, maxLength: 6 }),
});

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

/** Longest a task of this family may live: each task the click may make gets every retry and its deadline. */
function lifetimeBound(family: TaskCaptcha['family'], recreateAttempts: number): number {
  let createPhase = 0;
  for (let k = 0; k < MAX_CREATE_RETRIES; k++) createPhase += Math.min(MAX_BACKOFF_MS, 1_000 * 2 ** k) + MIN_POLL_GAP_MS;
  return (1 + recreateAttempts) * (createPhase + SCHEDULES[family].deadlineMs);
}

/** Could this createTask call have made a task at the service, as far as the client can know? */
function mayHaveCreated(call: ServiceCall): boolean {
  if (!call.arrived) return false;
  const answer = call.answer;
  if (typeof answer === 'object' && 'error' in answer) return false;
  if (typeof answer === 'object' && 'http' in answer) return answer.http >= 500 && answer.http !== 503;
  return true;
}

/** Did this poll tell the client the task is gone for good (so a new one may be made)? */
function saidTaskIsGone(call: ServiceCall): boolean {
  const answer = call.answer;
  if (typeof answer === 'object' && 'error' in answer) return classifyError({ code: answer.error }) === 'recreate';
  return typeof answer === 'object' && 'ready' in answer;
}

async function play(s: Scenario): Promise<Harness> {
  let draw = 0;
  const h = new Harness({ recreateAttempts: s.recreateAttempts, random: () => s.jitter[draw++ % s.jitter.length]! });
  h.service.solveAfterMs = s.solveAfterMs;
  h.service.script('createTask', ...s.createAnswers);
  h.service.script('getTaskResult', ...s.pollAnswers);
  h.service.fallback.getTaskResult = s.pollTail;
  h.store.onWrite = (index) => s.writeFaults[String(index)];
  h.deliveryFaults.push(...s.deliveryFaults);

  const pages = new Map<number, number>();
  const pageOf = (tabId: number): number => pages.get(tabId) ?? 0;
  type Event = { at: number; run: () => void };
  const events: Event[] = [
    ...s.clicks.map((c) => ({
      at: START_TIME + c.at,
      run: () => {
        // Each page load numbers its widgets afresh (the agent's random tag): the widget of a
        // page the tab left has an id no later page has.
        const captcha = { ...CAPTCHAS[c.captcha]!, id: `${c.captcha}.t${c.tabId}.p${pageOf(c.tabId)}` };
        // Not awaited: a worker stopped during the click never answers it.
        h.ensureWorker();
        for (let i = 0; i < c.times; i++) void h.engine.solve({ tabId: c.tabId, frameId: c.frameId, captcha, websiteURL: pageUrl(c.tabId, c.frameId, captcha.id) });
      },
    })),
    ...s.closes.map((c) => ({
      at: START_TIME + c.at,
      // The tab navigates away: what it had running is cancelled; later clicks are new tasks.
      run: () => {
        closedAt.set(c.tabId, h.clock.now());
        // The widgets of the page it left are gone with it.
        for (const id of Object.keys(CAPTCHAS)) h.goneWidgets.add(`${id}.t${c.tabId}.p${pageOf(c.tabId)}`);
        pages.set(c.tabId, pageOf(c.tabId) + 1);
        h.ensureWorker();
        void h.engine.cancelTab(c.tabId);
      },
    })),
  ].sort((a, b) => a.at - b.at);
  const closedAt = new Map<number, number>();

  let wakes = 0;
  const between = () => {
    if (!s.restartsAt.includes(wakes++)) return;
    if (s.restartByAlarm) h.stop();
    else h.restart();
  };
  for (const event of events) {
    await h.run({ until: event.at, between });
    event.run();
  }
  await h.run({ between, maxWakes: 3_000 });
  check(h, s, closedAt);
  return h;
}

function check(h: Harness, s: Scenario, closedAt: Map<number, number>): void {
  const records = [...h.store.latest.values()];
  const calls = h.service.calls;

  for (const task of records) {
    // Every task ends, and within its bound.
    expect(ACTIVE_STATES.has(task.state), `task ${task.id} still ${task.state}`).toBe(false);
    const stopped = h.downtimeWithin(task.createdAt, task.finishedAt!);
    expect(task.finishedAt! - task.createdAt).toBeLessThanOrEqual(lifetimeBound(task.captcha.family, s.recreateAttempts) + stopped);
    expect(task.createAttempts).toBeLessThanOrEqual(1 + s.recreateAttempts);
    expectConsistentEnd(h, task);

    // createTask only when no task can exist for this click; new tasks only after "task gone".
    let mayExist = false;
    let made = 0;
    for (const call of calls) {
      if (call.recordId !== task.id) continue;
      if (call.method === 'createTask') {
        expect(mayExist, `createTask re-sent for ${task.id} while a task may exist`).toBe(false);
        if (mayHaveCreated(call)) {
          mayExist = true;
          made++;
        }
      } else if (call.method === 'getTaskResult' && saidTaskIsGone(call)) {
        mayExist = false;
      }
    }
    expect(made).toBeLessThanOrEqual(1 + s.recreateAttempts);
  }

  // Polling rules, per service task; and no click waits on one task past that task's deadline.
  for (const made of h.service.created()) {
    const schedule = made.type.startsWith('FunCaptcha') ? SCHEDULES.funcaptcha : SCHEDULES.recaptcha;
    const record = h.store.latest.get(made.recordId!)!;
    const nextCreate = calls.find((c) => c.method === 'createTask' && c.recordId === record.id && c.at >= made.createdAt && c.taskId !== made.id);
    // Given up by its deadline (a worker stopped then acts on it when the next one starts).
    const isLast = nextCreate === undefined;
    const gaveUpAt = nextCreate?.at ?? (record.error?.code === 'TIMED_OUT' ? record.finishedAt : undefined);
    if (gaveUpAt !== undefined) expect(gaveUpAt).toBeLessThanOrEqual(h.actionableAt(made.createdAt + schedule.deadlineMs));
    if (isLast && record.state === 'failed' && record.error?.code !== 'TIMED_OUT') expect(record.finishedAt!).toBeLessThanOrEqual(h.actionableAt(made.createdAt + schedule.deadlineMs));
    expect(made.polls.length).toBeLessThanOrEqual(schedule.maxPolls);
    for (let i = 1; i < made.polls.length; i++) expect(made.polls[i]! - made.polls[i - 1]!).toBeGreaterThanOrEqual(MIN_POLL_GAP_MS);
    for (const poll of made.polls) {
      expect(poll - made.createdAt).toBeGreaterThanOrEqual(schedule.firstPollMs);
      expect(poll - made.createdAt).toBeLessThan(schedule.deadlineMs);
    }
  }
  expect(h.service.violations).toEqual([]);

  // Only the click's own token, fresh, to its own page, and never after the tab closed.
  for (const delivery of h.deliveries) {
    const record = h.store.latest.get(delivery.recordId)!;
    expect([delivery.tabId, delivery.frameId, delivery.captchaId]).toEqual([record.tabId, record.frameId, record.captchaId]);
    const source = h.service.created().find((t) => t.token === delivery.token);
    expect(source?.recordId).toBe(delivery.recordId);
    // Fresh: measured from the last time the service handed this token over before the delivery.
    const handedOver = calls.filter((c) => c.method === 'getTaskResult' && c.taskId === source!.id && isReadyAnswer(c) && c.at <= delivery.at);
    expect(handedOver.length).toBeGreaterThan(0);
    expect(delivery.at - handedOver.at(-1)!.at).toBeLessThanOrEqual(TOKEN_DELIVERY_WINDOW_MS);
    // At the very instant the navigation wakes a stopped worker, its start-up tick may deliver
    // before the event's cancel runs (index.ts ticks first); never later than that. A worker
    // stopped while it was writing the cancel loses it: the task may then try its tab again,
    // which fails (TAB_CLOSED) and reaches no page, so only deliveries that arrived count here.
    const closed = closedAt.get(delivery.tabId);
    if (closed !== undefined && record.createdAt <= closed && delivery.outcome.delivered) expect(delivery.at).toBeLessThanOrEqual(closed);
  }
}

function isReadyAnswer(call: ServiceCall): boolean {
  const body = call.response?.body;
  return typeof body === 'object' && body !== null && (body as Record<string, unknown>).status === 'ready';
}

function expectConsistentEnd(h: Harness, task: TaskRecord): void {
  expect(task.token).toBeUndefined();
  switch (task.state) {
    case 'delivered':
      expect(h.deliveries.some((d) => d.recordId === task.id && d.outcome.delivered)).toBe(true);
      expect(task.error).toBeUndefined();
      return;
    case 'expired':
      expect(task.error?.code).toBe('TOKEN_EXPIRED_UNDELIVERED');
      return;
    case 'cancelled':
      expect(['TAB_CLOSED', 'WIDGET_GONE']).toContain(task.error?.code);
      return;
    default:
      expect(task.state).toBe('failed');
      expect(task.error?.code).toMatch(/^[A-Z][A-Z0-9_]+$/);
      expect(task.error?.message).toMatch(/^[A-Z].*[.)]$/);
  }
}

/** A guard against a hang only: the scenarios take a few seconds alone, several times that on a busy machine. */
const HANG_GUARD_MS = 120_000;

describe('the task engine under random answers and restarts', () => {
  it(
    'ends every task in time, never creates twice, and keeps the polling rules',
    async () => {
      await fc.assert(
        fc.asyncProperty(scenario, async (s) => {
          await play(s);
        }),
        { numRuns: 300 },
      );
    },
    HANG_GUARD_MS,
  );

  it(
    'covers the interesting paths (the generator is not too timid)',
    async () => {
      const seen = { delivered: 0, recreated: 0, unconfirmed: 0, timedOut: 0, restarted: 0, cancelled: 0 };
      for (const s of fc.sample(scenario, { numRuns: 120, seed: 42 })) {
        const h = await play(s);
        const records = [...h.store.latest.values()];
        seen.delivered += records.filter((t) => t.state === 'delivered').length;
        seen.recreated += records.filter((t) => t.createAttempts > 1).length;
        seen.unconfirmed += records.filter((t) => t.error?.code === 'CREATE_UNCONFIRMED').length;
        seen.timedOut += records.filter((t) => t.error?.code === 'TIMED_OUT').length;
        seen.cancelled += records.filter((t) => t.state === 'cancelled').length;
        seen.restarted += h.workers > 1 ? 1 : 0;
      }
      for (const [path, count] of Object.entries(seen)) expect(count, path).toBeGreaterThan(3);
    },
    HANG_GUARD_MS,
  );
});
