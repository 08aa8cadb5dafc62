/**
 * The corpus check both browsers run for one expected captcha: solve it through the background,
 * then require exactly the expected createTask and the token where the fixture says it goes.
 * Browser drivers differ only in how they reach the page, given here as a CorpusFrame.
 */
import type { ExpectStatic } from 'vitest';
import type { ExpectedCaptcha } from '../fixtures/corpus';
import type { FrameCaptcha, SolveReply, TabStateReply } from '../../src/shared/messages';
import type { MockSolver } from './mock-solver';

export async function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000, everyMs = 50): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value, null, 1).slice(0, 3000)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The mock's answer for a corpus task: a token of the task's kind, remembered per task object. */
export function corpusSolution(tokens: Map<object, string>): (task: Record<string, unknown>, taskId: number) => Record<string, unknown> {
  return (task, taskId) => {
    if (String(task.type).startsWith('FunCaptcha')) {
      const token = `${taskId}.fixture|r=eu-west-1|pk=${String(task.websitePublicKey)}|at=40|surl=https%3A%2F%2F${String(task.funcaptchaApiJSSubdomain ?? 'client-api.arkoselabs.com')}`;
      tokens.set(task, token);
      return { token };
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
  /** Runs a page function named in the expect block. */
  call(name: string): Promise<unknown>;
}

export interface SolveExpected {
  expect: ExpectStatic;
  solver: MockSolver;
  /** The token the mock handed out for each createTask `task` object. */
  tokens: Map<object, string>;
  tabId: number;
  url: string;
  item: FrameCaptcha;
  expected: ExpectedCaptcha;
  solve(message: { type: 'solve'; tabId: number; frameId: number; captchaId: string }): Promise<SolveReply>;
  tabState(): Promise<TabStateReply>;
  frame(): CorpusFrame;
}

export async function solveExpected(c: SolveExpected): Promise<void> {
  const { expect, solver, url, expected } = c;
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
  expect(task).toEqual({ ...expected.task, websiteURL: url });

  const done = await until(
    `task ${taskId} to end`,
    c.tabState,
    (s) => ['delivered', 'failed', 'cancelled', 'expired'].includes(s.tasks.find((t) => t.id === taskId)?.state ?? ''),
    20_000,
    100,
  );
  expect(done.tasks.find((t) => t.id === taskId)).toMatchObject({ state: 'delivered' });

  const token = c.tokens.get(task);
  expect(token).toBeTypeOf('string');
  const frame = c.frame();
  if (expected.delivery.then) await frame.call(expected.delivery.then);
  const records = await frame.delivered();
  for (const via of expected.delivery.calls) expect(records, `${via} got the token`).toContainEqual({ via, value: token });
  for (const name of expected.delivery.absent) expect(records.filter((r) => r.via === name)).toEqual([]);
  for (const selector of expected.delivery.fields) expect(await frame.value(selector), selector).toBe(token);
  for (const selector of expected.delivery.untouched) expect(await frame.value(selector), selector).not.toBe(token);
}
