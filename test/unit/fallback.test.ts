/**
 * The fallback service, in the engine over the fake world: a task the first service refused
 * before making it (no money, no valid key, no capacity once its retries are used, unreachable)
 * goes to the second, with the second's key; anything that may have made a task at the first
 * never goes anywhere else, whenever the worker is stopped; every task asked counts.
 */
import { describe, expect, it } from 'vitest';
import { MAX_CREATE_RETRIES } from '../../src/background/engine';
import { API_KEY, FALLBACK_KEY, FALLBACK_URL, Harness, recaptcha, SERVICE_URL, type Answer } from './support/fake-service';

async function click(h: Harness): Promise<string> {
  const result = await h.solve(recaptcha());
  if (!result.ok) throw new Error(`solve refused: ${result.error.code}`);
  return result.task.id;
}

/** Every request each service received, by method, and with which key. */
function traffic(h: Harness): { first: string[]; second: string[] } {
  const of = (service: Harness['service']): string[] =>
    service.calls.filter((c) => c.arrived).map((c) => `${c.method}:${c.body.clientKey === API_KEY ? 'first-key' : c.body.clientKey === FALLBACK_KEY ? 'fallback-key' : 'other-key'}`);
  return { first: of(h.service), second: of(h.fallback) };
}

describe('a refusal before any task was made moves the task to the fallback', () => {
  it.each<[string, Answer]>([
    ['ERROR_ZERO_BALANCE', { error: 'ERROR_ZERO_BALANCE' }],
    ['ERROR_KEY_DOES_NOT_EXIST', { error: 'ERROR_KEY_DOES_NOT_EXIST' }],
    ['HTTP 402 without JSON', { http: 402 }],
    ['HTTP 403 without JSON', { http: 403 }],
  ])('%s: at once, to the fallback with its own key, and delivered from there', async (_name, refusal) => {
    const h = new Harness({ fallback: true });
    h.service.script('createTask', refusal);
    const id = await click(h);
    const task = await h.finish(id);

    expect(task.state).toBe('delivered');
    expect(task).toMatchObject({ account: 'fallback', serviceUrl: FALLBACK_URL, serviceTaskId: h.fallback.created()[0]!.id });
    expect(h.deliveries.map((d) => d.token)).toEqual([h.fallback.created()[0]!.token]);
    const { first, second } = traffic(h);
    expect(first).toEqual(['createTask:first-key']);
    expect(second[0]).toBe('createTask:fallback-key');
    expect(second.slice(1).every((c) => c === 'getTaskResult:fallback-key')).toBe(true);
    expect(h.service.created()).toEqual([]);
    // Both asks count for the spending guard.
    expect(h.asked.map((t) => t.account ?? 'first')).toEqual(['first', 'fallback']);
    expect(h.service.violations).toEqual([]);
    expect(h.fallback.violations).toEqual([]);
  });

  it.each<[string, Answer]>([
    ['ERROR_NO_SLOT_AVAILABLE', { error: 'ERROR_NO_SLOT_AVAILABLE' }],
    ['HTTP 503', { http: 503 }],
    ['an unreachable service (connection refused)', 'refused'],
  ])('%s: after the first service’s retries are used up', async (_name, refusal) => {
    const h = new Harness({ fallback: true });
    h.service.fallback.createTask = refusal;
    const task = await h.finish(await click(h));

    expect(task.state).toBe('delivered');
    expect(task.account).toBe('fallback');
    // The first service's own retries come first: the fallback is for when they cannot help.
    expect(h.service.calls.filter((c) => c.method === 'createTask')).toHaveLength(1 + MAX_CREATE_RETRIES);
    expect(h.fallback.created()).toHaveLength(1);
    expect(h.service.created()).toEqual([]);
  });

  it('shows why while it moves, and the fallback’s own refusal ends it: never back to the first', async () => {
    const h = new Harness({ fallback: true });
    h.service.script('createTask', { error: 'ERROR_ZERO_BALANCE', description: 'first is empty' });
    h.fallback.script('createTask', { error: 'ERROR_ZERO_BALANCE', description: 'second is empty too' });
    h.ensureWorker();
    const result = await h.engine.solve({ tabId: 1, frameId: 0, captcha: recaptcha(), websiteURL: 'https://shop.test/a' });
    if (!result.ok) throw new Error('refused');
    const task = await h.finish(result.task.id);
    expect(task.state).toBe('failed');
    expect(task.error?.code).toBe('ERROR_ZERO_BALANCE');
    expect(task.error?.message).toContain('second is empty too');
    expect(traffic(h)).toEqual({ first: ['createTask:first-key'], second: ['createTask:fallback-key'] });
    // While it moved, the record said why (the popup shows it).
    expect(h.store.latest.get(task.id)?.account).toBe('fallback');
  });

  it('does not move for a refusal that is not about money, key or capacity', async () => {
    const h = new Harness({ fallback: true });
    h.service.script('createTask', { error: 'ERROR_IP_BANNED' });
    const task = await h.finish(await click(h));
    expect(task.state).toBe('failed');
    expect(task.error?.code).toBe('ERROR_IP_BANNED');
    expect(h.fallback.calls).toEqual([]);
  });

  it('without a fallback key, the task ends at the first service as before', async () => {
    const h = new Harness({ fallback: true });
    h.config.fallback = { serviceUrl: FALLBACK_URL, apiKey: '' };
    h.service.script('createTask', { error: 'ERROR_ZERO_BALANCE' });
    const task = await h.finish(await click(h));
    expect(task.error?.code).toBe('ERROR_ZERO_BALANCE');
    expect(task.account).toBeUndefined();
    expect(task.serviceUrl).toBe(SERVICE_URL);
    expect(h.fallback.calls).toEqual([]);
  });
});

describe('never both for one task', () => {
  it.each<[string, Answer]>([
    ['a dropped connection after the request arrived', 'reset'],
    ['an answer that never comes', 'lost'],
    ['HTTP 500', { http: 500 }],
    ['an unreadable answer', { raw: '{"errorId":0,' }],
    ['an answer without a task id', { raw: '{"errorId":0}' }],
  ])('%s (an unconfirmed create): fails as CREATE_UNCONFIRMED, nothing reaches the fallback', async (_name, doubt) => {
    const h = new Harness({ fallback: true });
    h.service.script('createTask', doubt);
    const task = await h.finish(await click(h));
    expect(task.state).toBe('failed');
    expect(task.error?.code).toBe('CREATE_UNCONFIRMED');
    expect(task.account).toBeUndefined();
    expect(h.fallback.calls).toEqual([]);
  });

  it('a worker stopped while createTask was on the wire: the next one sends it nowhere', async () => {
    const h = new Harness({ fallback: true });
    h.service.script('createTask', 'kill-after');
    const id = await click(h);
    const task = await h.finish(id);
    expect(task.error?.code).toBe('CREATE_UNCONFIRMED');
    expect(h.fallback.calls).toEqual([]);
    expect(h.service.created()).toHaveLength(1);
  });

  it('a worker stopped after the refusal, before the move was stored: the next one sends it nowhere', async () => {
    const h = new Harness({ fallback: true });
    h.service.script('createTask', { error: 'ERROR_ZERO_BALANCE' });
    let stopped = false;
    // The first write after the refusal arrived is the move.
    h.store.onWrite = () => (!stopped && h.service.calls.length === 1 ? ((stopped = true), 'die-before-write') : undefined);
    const task = await h.finish(await click(h));
    expect(stopped).toBe(true);
    expect(task.state).toBe('failed');
    expect(task.error?.code).toBe('CREATE_UNCONFIRMED');
    expect(h.fallback.calls).toEqual([]);
  });

  it('a worker stopped right after the move was stored: the next one sends it to the fallback only, once', async () => {
    const h = new Harness({ fallback: true });
    h.service.script('createTask', { error: 'ERROR_ZERO_BALANCE' });
    let stopped = false;
    h.store.onWrite = () => (!stopped && h.service.calls.length === 1 ? ((stopped = true), 'die-after-write') : undefined);
    const task = await h.finish(await click(h));
    expect(stopped).toBe(true);
    expect(h.workers).toBeGreaterThan(1);
    expect(task.state).toBe('delivered');
    expect(traffic(h).first).toEqual(['createTask:first-key']);
    expect(h.fallback.calls.filter((c) => c.method === 'createTask')).toHaveLength(1);
  });

  it('a task re-created after an unsolvable answer at the fallback stays there', async () => {
    const h = new Harness({ fallback: true, recreateAttempts: 1 });
    h.service.script('createTask', { error: 'ERROR_ZERO_BALANCE' });
    h.fallback.script('getTaskResult', { error: 'ERROR_CAPTCHA_UNSOLVABLE' });
    const task = await h.finish(await click(h));
    expect(task.state).toBe('delivered');
    expect(traffic(h).first).toEqual(['createTask:first-key']);
    expect(h.fallback.created()).toHaveLength(2);
    expect(h.asked).toHaveLength(3);
  });
});
