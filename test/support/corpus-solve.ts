/**
 * The corpus check both browsers run for one expected captcha: solve it through the background,
 * then require exactly the expected createTask and the delivered value where the fixture says it
 * goes. Browser drivers differ only in how they reach the page, given here as a CorpusFrame.
 */
import type { ExpectStatic } from 'vitest';
import { comparableTask, resolveExpected, usesFreshChallenge, type ExpectedCaptcha } from '../fixtures/corpus';
import type { FrameCaptcha, SolveReply, TabStateReply } from '../../src/shared/messages';
import type { GeeTestLog } from './fixture-server';
import type { MockSolver } from './mock-solver';

export async function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000, everyMs = 50): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value, null, 1).slice(0, 3000)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * What the page must end up with from a solution (see test/fixtures/corpus.ts): the token, or
 * for GeeTest the object the site submits.
 */
export type Delivered = string | Record<string, string>;

/** The user agent the mock's Turnstile solutions say they were solved with. */
const MOCK_SOLVER_UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

function digits(seed: number, length: number): string {
  let s = '';
  let x = seed;
  while (s.length < length) {
    x = (x * 1103515245 + 12345) % 2147483648;
    s += x.toString(16);
  }
  return s.slice(0, length);
}

/**
 * The mock's answer for a corpus task: a solution of the task's kind, and what the page must
 * receive from it remembered per task object. GeeTest v3 answers with a challenge that differs
 * from the one sent (two characters longer, as the service's are): pages must submit that one.
 */
export function corpusSolution(tokens: Map<object, Delivered>): (task: Record<string, unknown>, taskId: number) => Record<string, unknown> {
  return (task, taskId) => {
    const type = String(task.type);
    if (type.startsWith('FunCaptcha')) {
      const token = `${taskId}.fixture|r=eu-west-1|pk=${String(task.websitePublicKey)}|at=40|surl=https%3A%2F%2F${String(task.funcaptchaApiJSSubdomain ?? 'client-api.arkoselabs.com')}`;
      tokens.set(task, token);
      return { token };
    }
    if (type === 'TurnstileTask') {
      const token = `0.fixture-${taskId}.${digits(taskId, 600)}.${digits(taskId + 1, 64)}`;
      tokens.set(task, token);
      return { token, userAgent: MOCK_SOLVER_UA };
    }
    if (type === 'GeeTestTask' && Number(task.version) === 4) {
      const solution = {
        captcha_id: String(task.gt),
        lot_number: digits(taskId, 32),
        pass_token: `${taskId}${digits(taskId + 2, 64)}`.slice(0, 64),
        gen_time: String(Math.floor(Date.now() / 1000)),
        captcha_output: `fixture_${taskId}_${digits(taskId + 3, 120)}`,
      };
      tokens.set(task, solution);
      return solution;
    }
    if (type === 'GeeTestTask') {
      const challenge = `${String(task.challenge)}${digits(taskId, 2)}`;
      const validate = `${taskId}${digits(taskId + 4, 32)}`.slice(0, 32);
      const solution = { challenge, validate, seccode: `${validate}|jordan` };
      tokens.set(task, { geetest_challenge: solution.challenge, geetest_validate: solution.validate, geetest_seccode: solution.seccode });
      return solution;
    }
    const token = `03AFcWeA-fixture-${taskId}-${'x'.repeat(400)}`;
    tokens.set(task, token);
    return { gRecaptchaResponse: token };
  };
}

export interface CorpusFrame {
  /** The fixture's `__delivered` records: what reached the page's callbacks. */
  delivered(): Promise<{ via: string; value: unknown }[]>;
  value(selector: string): Promise<string>;
  /** Runs a page function named in the expect block, and gives its result. */
  call(name: string): Promise<unknown>;
}

export interface SolveExpected {
  expect: ExpectStatic;
  solver: MockSolver;
  /** What the page must receive for each createTask `task` object. */
  tokens: Map<object, Delivered>;
  /** The fixture server's GeeTest log: fresh challenges (FRESH_CHALLENGE) come from it. */
  geetest: GeeTestLog;
  tabId: number;
  url: string;
  item: FrameCaptcha;
  /** As the expect block has it (FRESH_CHALLENGE unresolved). */
  expected: ExpectedCaptcha;
  solve(message: { type: 'solve'; tabId: number; frameId: number; captchaId: string }): Promise<SolveReply>;
  tabState: () => Promise<TabStateReply>;
  frame(): CorpusFrame;
}

export async function solveExpected(c: SolveExpected): Promise<void> {
  const { expect, solver, url } = c;
  const expected = resolveExpected(c.expected, { challenge: c.geetest.issuedTo(url) });
  const before = new Set(solver.calls('createTask'));
  const reply = await c.solve({ type: 'solve', tabId: c.tabId, frameId: c.item.frameId, captchaId: c.item.captcha.id });
  expect(reply).toMatchObject({ ok: true });
  const taskId = (reply as { taskId: string }).taskId;
  const created = await until(
    `createTask from ${url}`,
    async () => solver.calls('createTask').filter((r) => !before.has(r) && (r.body.task as Record<string, unknown>).websiteURL === url),
    (list) => list.length > 0,
  );
  expect(created).toHaveLength(1);
  const task = created[0]!.body.task as Record<string, unknown>;
  expect(comparableTask(task)).toEqual({ ...expected.task, websiteURL: url });
  if (task.type === 'TurnstileTask' && task.userAgent !== undefined) expect(task.userAgent, 'the browser’s user agent').toBeTypeOf('string');
  if (usesFreshChallenge(c.expected)) {
    // A challenge the site's register endpoint issued, and that no widget had used up by then.
    const challenge = String(task.challenge);
    expect(c.geetest.wasIssued(challenge), `challenge ${challenge} came from the register endpoint`).toBe(true);
    const consumed = c.geetest.consumedAt(challenge);
    expect(consumed === undefined || consumed > created[0]!.at, `challenge ${challenge} was still unused when the task was created`).toBe(true);
  }

  const done = await until(`task ${taskId} to end`, c.tabState, (s) => ['delivered', 'failed', 'cancelled', 'expired'].includes(s.tasks.find((t) => t.id === taskId)?.state ?? ''), 20_000, 100);
  expect(done.tasks.find((t) => t.id === taskId)).toMatchObject({ state: 'delivered' });

  const delivered = c.tokens.get(task);
  expect(delivered).toBeDefined();
  const frame = c.frame();
  if (expected.delivery.then) await frame.call(expected.delivery.then);
  const records = await frame.delivered();
  const { delivery } = expected;
  for (const via of delivery.calls) expect(records, `${via} got the delivered value`).toContainEqual({ via, value: delivered });
  for (const name of delivery.absent) expect(records.filter((r) => r.via === name)).toEqual([]);
  for (const selector of delivery.fields) expect(await frame.value(selector), selector).toBe(delivered);
  for (const [selector, key] of Object.entries(delivery.fieldValues)) {
    expect(typeof delivered === 'object' ? delivered[key] : undefined, `${key} of the delivered value`).toBeTypeOf('string');
    expect(await frame.value(selector), selector).toBe((delivered as Record<string, string>)[key]);
  }
  if (delivery.validate) expect(await frame.call(delivery.validate), `${delivery.validate}()`).toEqual(delivered);
  for (const selector of delivery.untouched) expect(await frame.value(selector), selector).not.toBe(delivered);
}
