/**
 * The task engine over a fake clock and a fake solving service: every error class, the poll
 * schedule, worker restarts, expiry, cancellation and several tasks at once. Assertions are on
 * what the service received and when, what reached the page, and how each task ended.
 */
import { describe, expect, it } from 'vitest';
import { MAX_BACKOFF_MS, MAX_CREATE_RETRIES, MIN_POLL_GAP_MS, SCHEDULES, STEP_RESUME_MS, STEP_TIMEOUT_MS, TOKEN_DELIVERY_WINDOW_MS } from '../../src/background/engine';
import type { Captcha } from '../../src/shared/captcha';
import { describeError } from '../../src/shared/errors';
import type { TaskRecord } from '../../src/shared/tasks';
import { funcaptcha, Harness, pageUrl, recaptcha, SERVICE_URL, START_TIME, type Answer } from './support/fake-service';

const RC = SCHEDULES.recaptcha;
const FC = SCHEDULES.funcaptcha;

async function click(h: Harness, captcha: Captcha = recaptcha(), tabId = 1, frameId = 0): Promise<string> {
  const result = await h.solve(captcha, tabId, frameId);
  if (!result.ok) throw new Error(`solve refused: ${result.error.code}`);
  return result.task.id;
}

/** Times (relative to the start) at which the service received each call of a method. */
function arrivals(h: Harness, method: 'createTask' | 'getTaskResult'): number[] {
  return h.service.of(method).map((c) => c.at - START_TIME);
}

function gaps(times: number[]): number[] {
  return times.slice(1).map((t, i) => t - times[i]!);
}

function sentence(code: string, description?: string): string {
  return describeError(description === undefined ? { code } : { code, description });
}

describe('happy path and schedule', () => {
  it('creates one reCAPTCHA task, polls 2 s after it and every 3 s, and delivers its token', async () => {
    const h = new Harness();
    h.service.solveAfterMs = 10_000;
    const id = await click(h);
    const task = await h.finish(id);

    expect(task.state).toBe('delivered');
    expect(task.error).toBeUndefined();
    expect(task.cost).toBe(0.001);
    expect(task.token).toBeUndefined();
    const [create] = h.service.of('createTask');
    expect(create!.body).toEqual({
      clientKey: h.config.apiKey,
      task: { type: 'RecaptchaV2Task', websiteURL: pageUrl(1, 0, 'rc-1'), websiteKey: recaptcha().siteKey },
    });
    expect(arrivals(h, 'createTask')).toEqual([0]);
    expect(arrivals(h, 'getTaskResult')).toEqual([RC.firstPollMs, RC.firstPollMs + RC.intervalMs, RC.firstPollMs + 2 * RC.intervalMs, RC.firstPollMs + 3 * RC.intervalMs]);
    expect(h.service.of('getTaskResult').every((c) => c.body.taskId === create!.taskId && c.body.clientKey === h.config.apiKey)).toBe(true);
    expect(h.deliveries).toEqual([
      { recordId: id, tabId: 1, frameId: 0, captchaId: 'rc-1', token: h.service.tasks.get(create!.taskId!)!.token, at: START_TIME + 11_000, outcome: { delivered: true } },
    ]);
    expect(h.finished.map((t) => [t.id, t.state])).toEqual([[id, 'delivered']]);
    expect(h.service.violations).toEqual([]);
  });

  it('polls a FunCaptcha task on its own schedule and delivers the Arkose token', async () => {
    const h = new Harness();
    h.service.solveAfterMs = 10_000;
    const id = await click(h, funcaptcha('fc-1', { subdomain: 'client-api.arkoselabs.com', blob: 'BLOB' }));
    const task = await h.finish(id);

    expect(task.state).toBe('delivered');
    expect(h.service.of('createTask')[0]!.body.task).toEqual({
      type: 'FunCaptchaTask',
      websiteURL: pageUrl(1, 0, 'fc-1'),
      websitePublicKey: funcaptcha().publicKey,
      funcaptchaApiJSSubdomain: 'client-api.arkoselabs.com',
      data: JSON.stringify({ blob: 'BLOB' }),
    });
    expect(arrivals(h, 'getTaskResult')).toEqual([3_000, 5_500, 8_000, 10_500]);
    expect(FC).toMatchObject({ firstPollMs: 3_000, intervalMs: 2_500 });
    expect(h.deliveries.map((d) => d.token)).toEqual([h.service.created()[0]!.token]);
  });

  it('sends the callbackUrl when the user set one', async () => {
    const h = new Harness({ callbackUrl: 'https://hooks.example.org/solved' });
    await h.finish(await click(h));
    expect(h.service.of('createTask')[0]!.body.callbackUrl).toBe('https://hooks.example.org/solved');
  });

  it('keeps polling through CAPTCHA_NOT_READY answers', async () => {
    const h = new Harness();
    h.service.script('getTaskResult', 'not-ready', 'not-ready', 'ready');
    const task = await h.finish(await click(h));
    expect(task.state).toBe('delivered');
    expect(arrivals(h, 'getTaskResult')).toEqual([2_000, 5_000, 8_000]);
  });

  it('waits the full interval after a slow answer, counted from when the poll was sent', async () => {
    const h = new Harness();
    h.service.latencyMs = 4_000;
    h.service.solveAfterMs = 20_000;
    const task = await h.finish(await click(h));
    expect(task.state).toBe('delivered');
    // createTask answers at 4 s; each poll takes 4 s, longer than the 3 s interval.
    expect(gaps(arrivals(h, 'getTaskResult')).every((g) => g === 4_000)).toBe(true);
  });

  it('returns the running task for a second click, at once or later, and creates one task', async () => {
    const h = new Harness();
    const captcha = recaptcha();
    const [a, b] = await Promise.all([
      h.engine.solve({ tabId: 1, frameId: 0, captcha, websiteURL: pageUrl(1, 0, captcha.id) }),
      h.engine.solve({ tabId: 1, frameId: 0, captcha, websiteURL: pageUrl(1, 0, captcha.id) }),
    ]);
    await h.settle();
    h.clock.advance(2_500);
    const c = await h.solve(captcha);
    expect(a.ok && b.ok && c.ok).toBe(true);
    if (!a.ok || !b.ok || !c.ok) return;
    expect([a.existing, b.existing, c.existing]).toEqual([false, true, true]);
    expect(new Set([a.task.id, b.task.id, c.task.id]).size).toBe(1);
    await h.finish(a.task.id);
    expect(h.service.of('createTask')).toHaveLength(1);
    expect(h.deliveries).toHaveLength(1);
    expect(h.store.all()).toHaveLength(1);
  });

  it('solves two v2 widgets that share a site key as two captchas', async () => {
    const h = new Harness();
    const first = recaptcha();
    const second = { ...first, id: 'rc-2' };
    const a = await h.solve(first);
    const b = await h.solve(second);
    expect(a.ok && b.ok).toBe(true);
    if (!a.ok || !b.ok) return;
    expect(b.existing).toBe(false);
    await h.finish(a.task.id);
    await h.finish(b.task.id);
    expect(h.service.of('createTask')).toHaveLength(2);
    expect(h.deliveries.map((d) => d.captchaId).sort()).toEqual([first.id, 'rc-2'].sort());
  });

  it('refuses to start without a key or a service URL, sending nothing', async () => {
    const h = new Harness();
    h.config.apiKey = '';
    expect(await h.solve(recaptcha())).toEqual({ ok: false, error: { code: 'NO_API_KEY', message: sentence('NO_API_KEY') } });
    h.config.apiKey = 'k';
    h.config.serviceUrl = null;
    expect(await h.solve(recaptcha())).toEqual({ ok: false, error: { code: 'NO_SERVICE_URL', message: sentence('NO_SERVICE_URL') } });
    expect(h.service.calls).toEqual([]);
    expect(h.store.all()).toEqual([]);
  });
});

describe('transient errors: retried with backoff and jitter', () => {
  it('re-sends a refused createTask after 0.5–1 s, then 1–2 s, and delivers one task', async () => {
    for (const [random, expected] of [
      [0, [500, 1_000]],
      [0.999_999, [1_000, 2_000]],
    ] as const) {
      const h = new Harness({ random: () => random });
      h.service.script('createTask', { error: 'ERROR_NO_SLOT_AVAILABLE' }, { error: 'ERROR_SERVICE_NOT_AVAILABLE' });
      const task = await h.finish(await click(h));
      expect(task.state).toBe('delivered');
      expect(gaps(arrivals(h, 'createTask'))).toEqual(expected);
      expect(h.service.created()).toHaveLength(1);
      expect(task.createAttempts).toBe(1);
    }
  });

  it('shows the transient problem as a warning while it retries', async () => {
    const h = new Harness();
    h.service.script('createTask', { error: 'ERROR_NO_SLOT_AVAILABLE', description: 'No idle workers' });
    const id = await click(h);
    const waiting = h.store.get(id)!;
    expect(waiting.state).toBe('queued');
    expect(waiting.warning).toEqual({ code: 'ERROR_NO_SLOT_AVAILABLE', message: sentence('ERROR_NO_SLOT_AVAILABLE', 'No idle workers') });
    const task = await h.finish(id);
    expect(task.warning).toBeUndefined();
  });

  it(`gives up createTask after ${MAX_CREATE_RETRIES} retries with the service's code and a sentence`, async () => {
    const h = new Harness();
    h.service.fallback.createTask = { error: 'ERROR_NO_SLOT_AVAILABLE', description: 'No idle workers' };
    const task = await h.finish(await click(h));
    expect(task.state).toBe('failed');
    expect(task.error).toEqual({ code: 'ERROR_NO_SLOT_AVAILABLE', message: 'The service had no free workers. (No idle workers)' });
    expect(h.service.of('createTask')).toHaveLength(1 + MAX_CREATE_RETRIES);
    expect(h.service.of('getTaskResult')).toHaveLength(0);
  });

  it('grows the backoff between failing polls, within its jitter bounds, up to the cap', async () => {
    const failures = 7;
    for (const random of [0, 0.999_999]) {
      const h = new Harness({ random: () => random });
      h.service.solveAfterMs = 0;
      h.service.script('getTaskResult', ...Array.from({ length: failures }, (): Answer => ({ error: 'ERROR_SERVICE_NOT_AVAILABLE' })));
      const task = await h.finish(await click(h));
      expect(task.state).toBe('delivered');
      const expected = Array.from({ length: failures }, (_, k) => {
        const exp = Math.min(MAX_BACKOFF_MS, 1_000 * 2 ** k);
        return RC.intervalMs + Math.round(exp / 2 + random * (exp / 2));
      });
      expect(gaps(arrivals(h, 'getTaskResult'))).toEqual(expected);
    }
  });

  it('slows down by at least 2 s more after ERROR_TOO_MUCH_REQUESTS or HTTP 429 than after other transient errors', async () => {
    const gapAfter = async (answer: Answer): Promise<number> => {
      const h = new Harness({ random: () => 0 });
      h.service.solveAfterMs = 0;
      h.service.script('getTaskResult', answer);
      await h.finish(await click(h));
      return gaps(arrivals(h, 'getTaskResult'))[0]!;
    };
    const plain = await gapAfter({ error: 'ERROR_SERVICE_NOT_AVAILABLE' });
    expect(plain).toBe(RC.intervalMs + 500);
    expect(await gapAfter({ error: 'ERROR_TOO_MUCH_REQUESTS' })).toBe(plain + MIN_POLL_GAP_MS);
    expect(await gapAfter({ http: 429 })).toBe(plain + MIN_POLL_GAP_MS);
  });

  it.each<[string, Answer]>([
    ['HTTP 500 page', { http: 500 }],
    ['HTTP 502 page', { http: 502 }],
    ['HTTP 503 page', { http: 503 }],
    ['a refused connection', 'refused'],
    ['a dropped connection', 'reset'],
    ['an answer that never came', 'lost'],
    ['a body that is not JSON', { raw: '<html>maintenance</html>' }],
    ['truncated JSON', { raw: '{"errorId":0,"sta' }],
  ])('rides out %s from getTaskResult and delivers', async (_name, answer) => {
    const h = new Harness();
    h.service.solveAfterMs = 0;
    h.service.script('getTaskResult', answer, answer);
    const task = await h.finish(await click(h));
    expect(task.state).toBe('delivered');
    expect(h.service.of('createTask')).toHaveLength(1);
    expect(h.service.calls.filter((c) => c.method === 'getTaskResult')).toHaveLength(3);
    expect(h.service.violations).toEqual([]);
  });

  it.each<[string, Answer]>([
    ['a refused connection (nothing was sent)', 'refused'],
    ['HTTP 503 (turned away)', { http: 503 }],
    ['HTTP 429 (rate limited)', { http: 429 }],
    ['ERROR_TOO_MUCH_REQUESTS', { error: 'ERROR_TOO_MUCH_REQUESTS' }],
  ])('re-sends createTask after %s: no task can exist', async (_name, answer) => {
    const h = new Harness();
    h.service.script('createTask', answer);
    const task = await h.finish(await click(h));
    expect(task.state).toBe('delivered');
    expect(h.service.created()).toHaveLength(1);
  });
});

describe('createTask answers that leave a task in doubt are not re-sent', () => {
  it.each<[string, Answer, string]>([
    ['no answer in time', 'lost', 'The service did not answer in time.'],
    ['a connection dropped after sending', 'reset', 'Could not reach the service.'],
    ['HTTP 500 without the JSON envelope', { http: 500 }, 'The service answered HTTP 500.'],
    ['HTTP 504 from a gateway', { http: 504 }, 'The service answered HTTP 504.'],
    ['a 200 that is not JSON', { raw: '<html>ok</html>' }, 'The service sent an answer CapRelay could not read.'],
    ['a 200 without a taskId', { raw: '{"errorId":0}' }, 'The service sent an answer CapRelay could not read.'],
  ])('%s ends as CREATE_UNCONFIRMED after exactly one createTask', async (_name, answer, cause) => {
    const h = new Harness();
    h.service.script('createTask', answer);
    const task = await h.finish(await click(h));
    expect(task.state).toBe('failed');
    expect(task.error?.code).toBe('CREATE_UNCONFIRMED');
    // What happened, then why nothing was re-sent.
    expect(task.error?.message.startsWith(cause)).toBe(true);
    expect(task.error?.message.endsWith(sentence('CREATE_UNCONFIRMED'))).toBe(true);
    expect(h.service.calls.filter((c) => c.method === 'createTask')).toHaveLength(1);
    expect(h.service.of('getTaskResult')).toHaveLength(0);
  });
});

describe('the deadline', () => {
  it.each([
    ['reCAPTCHA', recaptcha(), RC],
    ['FunCaptcha', funcaptcha(), FC],
  ] as const)('ends a %s task the service never finishes as TIMED_OUT at its deadline', async (_name, captcha, schedule) => {
    const h = new Harness();
    h.service.fallback.getTaskResult = 'processing';
    const task = await h.finish(await click(h, captcha));
    expect(task.state).toBe('failed');
    expect(task.error).toEqual({ code: 'TIMED_OUT', message: sentence('TIMED_OUT') });
    expect(task.finishedAt).toBe(START_TIME + schedule.deadlineMs);
    const polls = arrivals(h, 'getTaskResult');
    expect(polls.length).toBeLessThanOrEqual(schedule.maxPolls);
    expect(Math.max(...polls)).toBeLessThan(schedule.deadlineMs);
    expect(Math.min(...gaps(polls))).toBeGreaterThanOrEqual(MIN_POLL_GAP_MS);
    expect(h.deliveries).toEqual([]);
  });

  it('ends at the deadline even while transient errors push the next poll out', async () => {
    const h = new Harness({ random: () => 0.999_999 });
    h.service.fallback.getTaskResult = { error: 'ERROR_SERVICE_NOT_AVAILABLE' };
    const task = await h.finish(await click(h));
    expect(task.error?.code).toBe('TIMED_OUT');
    expect(task.finishedAt).toBe(START_TIME + RC.deadlineMs);
  });

  it('keeps every schedule far below the service limit of 120 polls and within 5 minutes', () => {
    for (const schedule of Object.values(SCHEDULES)) {
      expect(schedule.maxPolls).toBeLessThanOrEqual(60);
      // The 2 s rule is between polls; image tasks (0.3–6 s at the service) are first asked after 1 s.
      expect(schedule.firstPollMs).toBeGreaterThanOrEqual(1_000);
      expect(schedule.intervalMs).toBeGreaterThanOrEqual(MIN_POLL_GAP_MS);
      expect(schedule.deadlineMs).toBeLessThan(5 * 60_000);
    }
  });

  it('ends a stored task that has used all its polls without polling again', async () => {
    const h = new Harness();
    h.store.put(solvingRecord(h, { polls: RC.maxPolls, submittedAt: h.clock.now() - 10_000, lastPollAt: h.clock.now() - 5_000 }));
    h.restart();
    const task = await h.finish('stored');
    expect(task.error?.code).toBe('TIMED_OUT');
    expect(h.service.calls).toEqual([]);
  });
});

describe('re-creating lost tasks, only as often as the user allows', () => {
  it.each(['ERROR_CAPTCHA_UNSOLVABLE', 'ERROR_NO_SUCH_CAPCHA_ID', 'WRONG_CAPTCHA_ID', 'ERROR_RECAPTCHA_TIMEOUT', 'ERROR_TOKEN_EXPIRED'])(
    'fails at once on %s when re-creating is off (the default)',
    async (code) => {
      const h = new Harness();
      h.service.script('getTaskResult', { error: code, description: 'from the service' });
      const task = await h.finish(await click(h));
      expect(task.state).toBe('failed');
      expect(task.error).toEqual({ code, message: sentence(code, 'from the service') });
      expect(h.service.of('createTask')).toHaveLength(1);
      expect(h.service.of('getTaskResult')).toHaveLength(1);
    },
  );

  it.each([1, 2, 3])('creates at most %i new task(s), each after a re-creatable error', async (attempts) => {
    const h = new Harness({ recreateAttempts: attempts });
    h.service.fallback.getTaskResult = { error: 'ERROR_CAPTCHA_UNSOLVABLE' };
    const task = await h.finish(await click(h));
    expect(task.state).toBe('failed');
    expect(task.error?.code).toBe('ERROR_CAPTCHA_UNSOLVABLE');
    expect(h.service.created()).toHaveLength(1 + attempts);
    // Each service task got exactly one poll (the one that said unsolvable) before the next was made.
    expect(h.service.created().map((t) => t.polls.length)).toEqual(Array(1 + attempts).fill(1));
  });

  it('never re-creates a GeeTest v3 task (its challenge was single-use), and re-creates a v4 one', async () => {
    const v3: Captcha = { family: 'geetest', id: 'gt-1', version: 3, gt: '6c2a9b1ef4d3087e5a1b9c7d2e4f6a80', challenge: 'c'.repeat(32) };
    const h = new Harness({ recreateAttempts: 2 });
    h.service.fallback.getTaskResult = { error: 'ERROR_TOKEN_EXPIRED' };
    const task = await h.finish(await click(h, v3));
    expect(task).toMatchObject({ state: 'failed', error: { code: 'ERROR_TOKEN_EXPIRED' } });
    expect(h.service.created()).toHaveLength(1);
    const v4: Captcha = { family: 'geetest', id: 'gt-2', version: 4, gt: 'f3c8a1d97e2b4065c1d8e7f2a9b3c640' };
    const h4 = new Harness({ recreateAttempts: 2 });
    h4.service.fallback.getTaskResult = { error: 'ERROR_CAPTCHA_UNSOLVABLE' };
    await h4.finish(await click(h4, v4));
    expect(h4.service.created()).toHaveLength(3);
  });

  it('delivers from a re-created task, polled on a fresh schedule', async () => {
    const h = new Harness({ recreateAttempts: 1 });
    h.service.solveAfterMs = 0;
    h.service.script('getTaskResult', { error: 'ERROR_NO_SUCH_CAPCHA_ID' });
    const task = await h.finish(await click(h));
    expect(task.state).toBe('delivered');
    const [first, second] = h.service.created();
    expect(h.deliveries.map((d) => d.token)).toEqual([second!.token]);
    expect(second!.createdAt - first!.polls[0]!).toBe(0);
    expect(second!.polls.map((p) => p - second!.createdAt)).toEqual([RC.firstPollMs]);
  });

  it('does not count re-sends of a refused createTask against the re-create allowance', async () => {
    const h = new Harness({ recreateAttempts: 1 });
    h.service.solveAfterMs = 0;
    h.service.script('createTask', { error: 'ERROR_NO_SLOT_AVAILABLE' }, { error: 'ERROR_NO_SLOT_AVAILABLE' });
    h.service.script('getTaskResult', { error: 'ERROR_CAPTCHA_UNSOLVABLE' });
    const task = await h.finish(await click(h));
    expect(task.state).toBe('delivered');
    expect(h.service.created()).toHaveLength(2);
  });

  it('treats a ready answer without a token as re-creatable (NO_SOLUTION)', async () => {
    const off = new Harness();
    off.service.script('getTaskResult', { ready: { text: 'no token here' } });
    const failed = await off.finish(await click(off));
    expect(failed.error).toEqual({ code: 'NO_SOLUTION', message: sentence('NO_SOLUTION', 'the solution has no token') });

    const on = new Harness({ recreateAttempts: 1 });
    on.service.solveAfterMs = 0;
    on.service.script('getTaskResult', { ready: { gRecaptchaResponse: '' } });
    expect((await on.finish(await click(on))).state).toBe('delivered');
    expect(on.service.created()).toHaveLength(2);
  });
});

describe('final errors stop at once with the code and a sentence', () => {
  const finals = [
    'ERROR_KEY_DOES_NOT_EXIST',
    'ERROR_ZERO_BALANCE',
    'ERROR_IP_NOT_ALLOWED',
    'ERROR_IP_BANNED',
    'ERROR_IP_BLOCKED',
    'ERROR_RECAPTCHA_INVALID_SITEKEY',
    'ERROR_RECAPTCHA_INVALID_DOMAIN',
    'ERROR_DOMAIN_NOT_ALLOWED',
    'ERROR_TASK_NOT_SUPPORTED',
    'ERROR_NO_SUCH_METHOD',
    'ERROR_INVALID_TASK',
    'ERROR_SOMETHING_NEW',
  ];

  it.each(finals)('createTask answering %s fails the task after one request, even with re-creating on', async (code) => {
    const h = new Harness({ recreateAttempts: 3 });
    h.service.script('createTask', { error: code, description: 'said the service' });
    const task = await h.finish(await click(h));
    expect(task.state).toBe('failed');
    expect(task.error).toEqual({ code, message: sentence(code, 'said the service') });
    expect(task.error!.message.length).toBeGreaterThan('said the service'.length + 3);
    expect(h.service.calls).toHaveLength(1);
    expect(task.finishedAt).toBe(START_TIME);
  });

  it('names the bad key in words the user can act on', async () => {
    const h = new Harness();
    h.config.apiKey = 'not-the-right-key';
    const task = await h.finish(await click(h));
    expect(task.error?.code).toBe('ERROR_KEY_DOES_NOT_EXIST');
    expect(task.error?.message).toMatch(/API key is not valid/);
  });

  it.each([
    [402, 'ERROR_ZERO_BALANCE'],
    [401, 'ERROR_KEY_DOES_NOT_EXIST'],
    [403, 'ERROR_KEY_DOES_NOT_EXIST'],
    [404, 'HTTP_ERROR'],
    [400, 'HTTP_ERROR'],
  ])('a bare HTTP %i on createTask is final (%s)', async (status, code) => {
    const h = new Harness();
    h.service.script('createTask', { http: status });
    const task = await h.finish(await click(h));
    expect(task.state).toBe('failed');
    expect(task.error?.code).toBe(code);
    expect(h.service.calls).toHaveLength(1);
  });

  it('a final error on getTaskResult stops polling', async () => {
    const h = new Harness({ recreateAttempts: 3 });
    h.service.script('getTaskResult', 'processing', { error: 'ERROR_RECAPTCHA_INVALID_DOMAIN' });
    const task = await h.finish(await click(h));
    expect(task.error?.code).toBe('ERROR_RECAPTCHA_INVALID_DOMAIN');
    expect(task.finishedAt).toBe(START_TIME + RC.firstPollMs + RC.intervalMs);
    expect(h.service.of('getTaskResult')).toHaveLength(2);
    expect(h.service.created()).toHaveLength(1);
  });
});

describe('a stopped and restarted service worker', () => {
  it('resumes polling from storage and delivers, keeping the 2 s rule across the restart', async () => {
    const h = new Harness();
    h.service.solveAfterMs = 10_000;
    const id = await click(h);
    await h.run({ until: START_TIME + 5_500 });
    h.restart();
    const task = await h.finish(id);
    expect(task.state).toBe('delivered');
    expect(h.workers).toBe(2);
    expect(h.service.created()).toHaveLength(1);
    expect(arrivals(h, 'getTaskResult')).toEqual([2_000, 5_000, 8_000, 11_000]);
  });

  it('does not poll again too soon when stopped while a poll was on the wire', async () => {
    const h = new Harness();
    h.service.solveAfterMs = 4_000;
    h.service.script('getTaskResult', 'kill-after');
    const task = await h.finish(await click(h));
    expect(task.state).toBe('delivered');
    expect(h.workers).toBe(2);
    // The wake-up booked when the step began starts the next worker.
    expect(h.downtime).toEqual([{ from: START_TIME + 2_000, to: START_TIME + 2_000 + STEP_RESUME_MS }]);
    expect(arrivals(h, 'getTaskResult')).toEqual([2_000, 5_000]);
    expect(h.service.violations).toEqual([]);
  });

  it('gets a click stored just before the worker stopped done, through the wake-up booked first', async () => {
    const h = new Harness();
    h.store.onWrite = (index) => (index === 0 ? 'die-after-write' : undefined);
    void h.engine.solve({ tabId: 1, frameId: 0, captcha: recaptcha(), websiteURL: pageUrl(1, 0, 'rc-1') });
    await h.run();
    const [task] = h.store.all();
    expect(task?.state).toBe('delivered');
    expect(h.workers).toBe(2);
    expect(arrivals(h, 'createTask')).toEqual([0]);
  });

  it('resumes a stopped worker only by its alarm, never polling early', async () => {
    const h = new Harness();
    h.service.solveAfterMs = 30_000;
    const id = await click(h);
    await h.run({ until: START_TIME + 2_500 });
    h.stop();
    const task = await h.finish(id);
    expect(task.state).toBe('delivered');
    expect(h.workers).toBe(2);
    expect(h.downtime).toEqual([{ from: START_TIME + 2_500, to: START_TIME + 5_000 }]);
    expect(Math.min(...gaps(arrivals(h, 'getTaskResult')))).toBe(RC.intervalMs);
  });

  it.each<[string, () => Harness]>([
    [
      'after createTask reached the service',
      () => {
        const h = new Harness();
        h.service.script('createTask', 'kill-after');
        return h;
      },
    ],
    [
      'while sending createTask',
      () => {
        const h = new Harness();
        h.service.script('createTask', 'kill-before');
        return h;
      },
    ],
    [
      'right after storing "creating"',
      () => {
        const h = new Harness();
        // Writes: 0 = the click, 1 = creating.
        h.store.onWrite = (index) => (index === 1 ? 'die-after-write' : undefined);
        return h;
      },
    ],
  ])('fails as CREATE_UNCONFIRMED when stopped %s, never sending createTask twice', async (_name, make) => {
    const h = make();
    const task = await h.finish(await click(h));
    expect(task.state).toBe('failed');
    expect(task.error).toEqual({ code: 'CREATE_UNCONFIRMED', message: sentence('CREATE_UNCONFIRMED') });
    expect(h.service.calls.filter((c) => c.method === 'createTask').length).toBeLessThanOrEqual(1);
    expect(h.service.of('getTaskResult')).toHaveLength(0);
    expect(h.workers).toBe(2);
  });

  it('sends createTask once when stopped just before storing "creating"', async () => {
    const h = new Harness();
    h.store.onWrite = (index) => (index === 1 ? 'die-before-write' : undefined);
    const task = await h.finish(await click(h));
    expect(task.state).toBe('delivered');
    expect(h.service.of('createTask')).toHaveLength(1);
  });

  it('delivers a token stored by the previous worker', async () => {
    const h = new Harness();
    h.service.solveAfterMs = 0;
    h.deliveryFaults.push('kill-before');
    const task = await h.finish(await click(h));
    expect(task.state).toBe('delivered');
    expect(h.workers).toBe(2);
    expect(h.deliveries).toHaveLength(1);
    expect(h.service.of('getTaskResult')).toHaveLength(1);
  });

  it('does not put a token older than the delivery window into the page', async () => {
    const h = new Harness();
    const now = h.clock.now();
    h.store.put({ ...solvingRecord(h, {}), state: 'ready', token: 'old-token', tokenAt: now - TOKEN_DELIVERY_WINDOW_MS - 1 });
    h.store.put({ ...solvingRecord(h, { id: 'fresh', captchaId: 'rc-2' }), state: 'ready', token: 'fresh-token', tokenAt: now - TOKEN_DELIVERY_WINDOW_MS });
    h.restart();
    await h.run();
    const old = h.store.get('stored')!;
    expect(old.state).toBe('expired');
    expect(old.error).toEqual({ code: 'TOKEN_EXPIRED_UNDELIVERED', message: sentence('TOKEN_EXPIRED_UNDELIVERED') });
    expect(old.token).toBeUndefined();
    expect(h.store.get('fresh')!.state).toBe('delivered');
    expect(h.deliveries.map((d) => d.token)).toEqual(['fresh-token']);
  });
});

describe('tabs closed or navigated, and several tasks at once', () => {
  it('cancels a solving task when its tab closes: no more polls, nothing delivered', async () => {
    const h = new Harness();
    const id = await click(h);
    await h.run({ until: START_TIME + 6_000 });
    await h.closeTab(1);
    await h.run();
    const task = h.store.get(id)!;
    expect(task.state).toBe('cancelled');
    expect(task.error).toEqual({ code: 'TAB_CLOSED', message: sentence('TAB_CLOSED') });
    expect(arrivals(h, 'getTaskResult')).toEqual([2_000, 5_000]);
    expect(h.deliveries).toEqual([]);
    expect(h.finished.map((t) => t.id)).toEqual([id]);
  });

  it('cancels a task whose poll is on the wire, and drops the answer', async () => {
    const h = new Harness();
    h.service.solveAfterMs = 0;
    h.service.script('getTaskResult', 'lost');
    const id = await click(h);
    h.clock.advance(RC.firstPollMs);
    void h.engine.tick();
    await h.until(() => h.service.calls.length === 2);
    await h.engine.cancelTab(1);
    await h.run();
    expect(h.store.get(id)!.state).toBe('cancelled');
    expect(h.service.of('getTaskResult')).toHaveLength(1);
    expect(h.deliveries).toEqual([]);
  });

  it('cancels a task whose createTask is on the wire, and never polls the task it made', async () => {
    const h = new Harness();
    h.service.script('createTask', 'lost');
    const result = await h.engine.solve({ tabId: 1, frameId: 0, captcha: recaptcha(), websiteURL: pageUrl(1, 0, 'rc-1') });
    await h.until(() => h.service.calls.length === 1);
    await h.engine.cancelTab(1);
    await h.run();
    if (!result.ok) throw new Error('solve refused');
    expect(h.store.get(result.task.id)!.state).toBe('cancelled');
    expect(h.service.of('createTask')).toHaveLength(1);
    expect(h.service.of('getTaskResult')).toHaveLength(0);
  });

  it.each([
    ['the tab is gone', 'TAB_CLOSED'],
    ['the widget is gone', 'WIDGET_GONE'],
  ] as const)('ends as cancelled when delivery finds %s', async (_name, code) => {
    const h = new Harness();
    if (code === 'TAB_CLOSED') h.closedTabs.add(1);
    else h.goneWidgets.add('rc-1');
    const task = await h.finish(await click(h));
    expect(task.state).toBe('cancelled');
    expect(task.error).toEqual({ code, message: sentence(code) });
  });

  it('cancels only the given frame of a tab', async () => {
    const h = new Harness();
    const top = await click(h, recaptcha('rc-top'), 1, 0);
    const inner = await click(h, recaptcha('rc-inner'), 1, 7);
    await h.engine.cancelTab(1, 7);
    await h.run();
    expect(h.store.get(top)!.state).toBe('delivered');
    expect(h.store.get(inner)!.state).toBe('cancelled');
  });

  it('solves two tabs at once, each token to its own page, and closing one leaves the other', async () => {
    const h = new Harness();
    h.service.solveAfterMs = 12_000;
    const a = await click(h, recaptcha('rc-a'), 1);
    h.clock.advance(1_000);
    const b = await click(h, funcaptcha('fc-b'), 2);
    const c = await click(h, recaptcha('rc-c'), 3);
    await h.run({ until: START_TIME + 7_000 });
    await h.closeTab(3);
    await h.run();

    expect([h.store.get(a)!.state, h.store.get(b)!.state, h.store.get(c)!.state]).toEqual(['delivered', 'delivered', 'cancelled']);
    const made = h.service.created();
    expect(made.map((t) => t.recordId)).toEqual([a, b, c]);
    expect(h.deliveries.map((d) => [d.recordId, d.tabId, d.captchaId, d.token])).toEqual([
      [a, 1, 'rc-a', made[0]!.token],
      [b, 2, 'fc-b', made[1]!.token],
    ]);
    expect(made[2]!.polls.every((p) => p < START_TIME + 7_000)).toBe(true);
    expect(h.service.violations).toEqual([]);
  });

  it('keeps other tasks moving while one delivery hangs, and gives the hung one up', async () => {
    const h = new Harness();
    h.service.solveAfterMs = 0;
    h.deliveryFaults.push('hang');
    const stuck = await click(h, recaptcha('rc-a'), 1);
    await h.run({ until: START_TIME + 3_000 });
    const other = await click(h, recaptcha('rc-b'), 2);
    await h.run();
    expect(h.store.get(other)!.state).toBe('delivered');
    expect(h.store.get(other)!.finishedAt).toBe(START_TIME + 3_000 + RC.firstPollMs);
    const hung = h.store.get(stuck)!;
    expect(hung.state).toBe('expired');
    expect(hung.finishedAt).toBe(START_TIME + RC.firstPollMs + STEP_TIMEOUT_MS);
  });

  it('drops finished tasks from storage after a while', async () => {
    const h = new Harness();
    const id = await click(h);
    await h.finish(id);
    h.clock.advance(15 * 60_000 + 1);
    await h.engine.tick();
    await h.settle();
    expect(h.store.get(id)).toBeUndefined();
  });
});

describe('the service boundary: nothing from the service carries the key into storage or a page', () => {
  /** Every version of every task record written, as JSON (the store is checked before each write and at the end). */
  function recordWrites(h: Harness): () => string[] {
    const seen: string[] = [];
    h.store.onWrite = () => {
      seen.push(JSON.stringify(h.store.all()));
      return undefined;
    };
    return () => [...seen, JSON.stringify(h.store.all()), JSON.stringify(h.finished)];
  }

  it('a token carrying the key: refused (KEY_IN_ANSWER), not delivered, not stored, not re-created', async () => {
    const h = new Harness({ recreateAttempts: 3 });
    const writes = recordWrites(h);
    h.service.solveAfterMs = 0;
    h.service.script('getTaskResult', { ready: { gRecaptchaResponse: `03AF-${h.config.apiKey}-x` } });
    const task = await h.finish(await click(h));
    expect(task.state).toBe('failed');
    expect(task.error).toEqual({ code: 'KEY_IN_ANSWER', message: sentence('KEY_IN_ANSWER') });
    expect(h.deliveries).toEqual([]);
    expect(h.service.created()).toHaveLength(1);
    expect(writes().filter((w) => w.includes(h.config.apiKey))).toEqual([]);
  });

  it('a task id that is the key: in doubt (CREATE_UNCONFIRMED), not re-sent, never stored or shown', async () => {
    const h = new Harness({ recreateAttempts: 3 });
    const writes = recordWrites(h);
    h.service.script('createTask', { raw: JSON.stringify({ errorId: 0, taskId: h.config.apiKey }) });
    const task = await h.finish(await click(h));
    expect(task.state).toBe('failed');
    expect(task.error?.code).toBe('CREATE_UNCONFIRMED');
    expect(task.error?.message).toContain(sentence('KEY_IN_ANSWER'));
    expect(task.serviceTaskId).toBeUndefined();
    expect(h.service.calls.map((c) => c.method)).toEqual(['createTask']);
    expect(writes().filter((w) => w.includes(h.config.apiKey))).toEqual([]);
  });

  it('a redirect on createTask is in doubt: not followed, not re-sent', async () => {
    const h = new Harness({ recreateAttempts: 3 });
    h.service.script('createTask', { http: 307, body: '' });
    const task = await h.finish(await click(h));
    expect(task.error?.code).toBe('CREATE_UNCONFIRMED');
    expect(task.error?.message).toContain(sentence('SERVICE_REDIRECT'));
    expect(h.service.calls).toHaveLength(1);
  });

  it('a redirect on getTaskResult ends the task with SERVICE_REDIRECT after one poll', async () => {
    const h = new Harness({ recreateAttempts: 3 });
    h.service.script('getTaskResult', { http: 302, body: '' });
    const task = await h.finish(await click(h));
    expect(task.state).toBe('failed');
    expect(task.error).toEqual({ code: 'SERVICE_REDIRECT', message: sentence('SERVICE_REDIRECT') });
    expect(h.service.of('getTaskResult')).toHaveLength(1);
    expect(h.deliveries).toEqual([]);
  });
});

function solvingRecord(h: Harness, over: Partial<TaskRecord>): TaskRecord {
  const now = h.clock.now();
  return {
    id: 'stored',
    tabId: 1,
    frameId: 0,
    captchaId: 'rc-1',
    captcha: recaptcha(over.captchaId ?? 'rc-1'),
    websiteURL: pageUrl(1, 0, over.captchaId ?? 'rc-1'),
    serviceUrl: SERVICE_URL,
    state: 'solving',
    createdAt: now - 20_000,
    updatedAt: now - 5_000,
    serviceTaskId: 424242,
    submittedAt: now - 20_000,
    dueAt: now,
    polls: 1,
    createAttempts: 1,
    transientFailures: 0,
    ...over,
  };
}
