/**
 * `npm run demo` without a display: every demo page is solved through the popup and the token
 * reaches the page. Also the sandbox's ways to fail, which the demo site offers.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultOptions, runHeadless } from '../../demo/main';
import { DEMO_PAGES } from '../../demo/pages';
import { DEMO_KEY, Sandbox } from '../../demo/sandbox';

describe('demo, headless', () => {
  it('solves every page once and prints the results and a screenshot path', async () => {
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'caprelay-demo-test-'));
    const lines: string[] = [];
    try {
      const outcome = await runHeadless({
        ...defaultOptions(),
        headless: true,
        // Ready at the first poll: the test is about the flow, not the wait.
        solveMs: 0,
        outDir,
        log: (line) => lines.push(line),
      });
      expect(outcome.violations).toEqual([]);
      for (const result of outcome.results) {
        expect({ page: result.page.slug, problems: result.problems, state: result.state }).toEqual({ page: result.page.slug, problems: [], state: 'delivered' });
        expect(result.task?.type).toBe(result.page.taskType);
        expect(result.pageToken).toContain(String(result.serviceTaskId));
        expect(result.solved).toBe(true);
      }
      expect(outcome.results.map((r) => r.page.slug)).toEqual(DEMO_PAGES.map((p) => p.slug));
      expect(outcome.ok).toBe(true);

      const printed = lines.join('\n');
      for (const page of DEMO_PAGES) expect(printed).toContain(`✔ ${page.title}`);
      expect(printed).toContain(`${DEMO_PAGES.length} of ${DEMO_PAGES.length} pages solved`);
      expect(printed).toContain(`Screenshot: ${path.join(outDir, 'summary.png')}`);
      expect(fs.statSync(path.join(outDir, 'summary.png')).size).toBeGreaterThan(10_000);
    } finally {
      fs.rmSync(outDir, { recursive: true, force: true });
    }
  });
});

describe('demo sandbox service', () => {
  let sandbox: Sandbox;
  const call = async (method: string, body: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const res = await fetch(`${sandbox.url}/${method}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return (await res.json()) as Record<string, unknown>;
  };
  const task = { type: 'RecaptchaV2Task', websiteURL: 'http://127.0.0.1/page.html', websiteKey: '6LeIxAcTAAAAAJcZVRqyHh71UMIEGNQ_MXjiZKhI' };

  beforeAll(async () => {
    sandbox = await new Sandbox({ solveMs: 60_000, random: () => 0.5 }).start();
  });
  afterAll(async () => {
    await sandbox?.stop();
  });

  it('takes the demo key, refuses others, and holds the solution back for the solve time', async () => {
    expect(await call('getBalance', { clientKey: DEMO_KEY })).toEqual({ errorId: 0, balance: 5 });
    expect(await call('getBalance', { clientKey: 'someone-elses-key' })).toMatchObject({ errorId: 1, errorCode: 'ERROR_KEY_DOES_NOT_EXIST' });
    const created = await call('createTask', { clientKey: DEMO_KEY, task });
    expect(created).toMatchObject({ errorId: 0, taskId: expect.any(Number) });
    expect(await call('getTaskResult', { clientKey: DEMO_KEY, taskId: created.taskId })).toMatchObject({ errorId: 0, status: 'processing' });
  });

  it('has keys that fail in a chosen way', async () => {
    expect(await call('getBalance', { clientKey: `${DEMO_KEY}-zero-balance` })).toEqual({ errorId: 0, balance: 0 });
    expect(await call('createTask', { clientKey: `${DEMO_KEY}-zero-balance`, task })).toMatchObject({ errorId: 1, errorCode: 'ERROR_ZERO_BALANCE', taskId: 0 });
    expect(await call('createTask', { clientKey: `${DEMO_KEY}-no-slot`, task })).toMatchObject({ errorCode: 'ERROR_NO_SLOT_AVAILABLE' });
    const created = await call('createTask', { clientKey: `${DEMO_KEY}-unsolvable`, task });
    expect(created).toMatchObject({ errorId: 0 });
    expect(await call('getTaskResult', { clientKey: `${DEMO_KEY}-unsolvable`, taskId: created.taskId })).toMatchObject({ errorCode: 'ERROR_CAPTCHA_UNSOLVABLE' });
  });

  it('makes the next task fail on request', async () => {
    const res = await fetch(`${sandbox.url}/demo/fail-next`, { method: 'POST', body: JSON.stringify({ errorCode: 'ERROR_NO_SLOT_AVAILABLE', times: 2 }) });
    expect(await res.json()).toEqual({ method: 'createTask', errorCode: 'ERROR_NO_SLOT_AVAILABLE', times: 2 });
    expect(await call('createTask', { clientKey: DEMO_KEY, task })).toMatchObject({ errorCode: 'ERROR_NO_SLOT_AVAILABLE' });
    expect(await call('createTask', { clientKey: DEMO_KEY, task })).toMatchObject({ errorCode: 'ERROR_NO_SLOT_AVAILABLE' });
    expect(await call('createTask', { clientKey: DEMO_KEY, task })).toMatchObject({ errorId: 0 });
    expect((await fetch(`${sandbox.url}/demo/fail-next`, { method: 'POST', body: '{"errorCode":"nope"}' })).status).toBe(400);
    expect(sandbox.solver.violations).toEqual([]);
  });
});
