/**
 * The page world for Turnstile and GeeTest in happy-dom (src/main-world/families/*): what the
 * probe holds and lets through before and after the hooks load, what the hooks report, and
 * what the page sees of a delivered solution. The hooks load after the page's first calls, as
 * they do where a vendor marker shows.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import '../../src/main-world/probe';
import { PROBE_DECIDE_EVENT, PROBE_DELIVER_EVENT, PROBE_RESULT_EVENT, PROBE_SCAN_EVENT, PROBE_WIDGET_EVENT, type DeliverRequest } from '../../src/shared/page-protocol';
import { WidgetIds } from '../../src/content/detector';
import { GeeTestDetector } from '../../src/content/families/geetest';
import { quietDisabledLoading } from '../fixtures/happy-dom';

quietDisabledLoading();

type Page = Record<string, unknown> & typeof globalThis;
const page = window as unknown as Page;
const reports: Record<string, unknown>[] = [];
document.addEventListener(PROBE_WIDGET_EVENT, (event) => reports.push(JSON.parse((event as CustomEvent<string>).detail) as Record<string, unknown>), true);

function deliver(request: DeliverRequest): string | undefined {
  let outcome: string | undefined;
  const listener = (event: Event): void => {
    outcome = (event as CustomEvent<string>).detail;
  };
  document.addEventListener(PROBE_RESULT_EVENT, listener, true);
  document.documentElement.dispatchEvent(new CustomEvent(PROBE_DELIVER_EVENT, { bubbles: true, detail: JSON.stringify(request) }));
  document.removeEventListener(PROBE_RESULT_EVENT, listener, true);
  return outcome;
}

const decide = (claim: string[], release: string[]): boolean => document.dispatchEvent(new CustomEvent(PROBE_DECIDE_EVENT, { detail: JSON.stringify({ claim, release }) }));
const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));
const GT = '6c2a9b1ef4d3087e5a1b9c7d2e4f6a80';
const GT4 = 'f3c8a1d97e2b4065c1d8e7f2a9b3c640';

/** What a page's real gt.js / gt4.js would be: counts the calls that reach it. */
const reached: { v3: unknown[][]; v4: unknown[][] } = { v3: [], v4: [] };
const turnstileCalls: unknown[][] = [];

beforeAll(async () => {
  // Before the hooks load: the page's vendor scripts and its first calls.
  page.initGeetest = (...args: unknown[]) => void reached.v3.push(args);
  page.initGeetest4 = (config: unknown, cb: (instance: unknown) => void) => {
    reached.v4.push([config]);
    const handlers: Record<string, () => void> = {};
    cb({
      appendTo: () => undefined,
      onSuccess(fn: () => void) {
        handlers.success = fn;
        return this;
      },
      getValidate: () => false,
    });
  };
  (page.initGeetest as (c: object, h: (o: unknown) => void) => void)({ gt: GT, challenge: 'c'.repeat(32), product: 'float', api_server: 'api-na.geetest.com' }, (obj) => (page.v3Obj = obj));
  (page.initGeetest as (c: object, h: (o: unknown) => void) => void)({ gt: GT, challenge: 'd'.repeat(32), offline: true }, (obj) => (page.offlineObj = obj));
  (page.initGeetest4 as (c: object, h: (o: unknown) => void) => void)({ captchaId: GT4, riskType: 'slide' }, (obj) => (page.v4Obj = obj));
  // Turnstile's object appears with its script; its methods are wrapped once the script has run.
  page.turnstile = {
    render: (...args: unknown[]) => (turnstileCalls.push(args), 'cf-chl-widget-abc12'),
    getResponse: () => undefined,
  };
  document.dispatchEvent(new Event('DOMContentLoaded'));
  await import('../../src/main-world/hooks');
});

describe('GeeTest v3: the single-use challenge', () => {
  it('is held from the page’s own widget until CapRelay has its word, and reported with its api server', () => {
    expect(reached.v3).toHaveLength(1); // only the offline one went through
    expect(reached.v3[0]![0]).toMatchObject({ offline: true });
    expect(page.v3Obj).toBeUndefined();
    expect(reports).toContainEqual({ family: 'geetest', version: 3, gt: GT, challenge: 'c'.repeat(32), apiServer: 'api-na.geetest.com', ref: 'gt1' });
    // An offline (failback) challenge is nothing a service could solve: never reported.
    expect(reports.some((r) => r.challenge === 'd'.repeat(32))).toBe(false);
  });

  it('claimed: the page gets a stand-in with GeeTest’s methods and fields; the solution reaches getValidate and onSuccess', () => {
    decide(['gt1'], []);
    const obj = page.v3Obj as Record<string, (...a: unknown[]) => unknown>;
    expect(obj).toBeDefined();
    expect(reached.v3).toHaveLength(1);
    const host = document.body.appendChild(document.createElement('div'));
    host.id = 'captcha';
    const got: unknown[] = [];
    obj.appendTo!('#captcha');
    obj.onSuccess!(() => got.push(obj.getValidate!()));
    expect([...host.querySelectorAll('input')].map((i) => i.name)).toEqual(['geetest_challenge', 'geetest_validate', 'geetest_seccode']);
    expect(obj.getValidate!()).toBe(false);
    const token = JSON.stringify({ challenge: 'c'.repeat(32) + 'xy', validate: 'v', seccode: 's|jordan' });
    expect(deliver({ family: 'geetest', token, ref: 'gt1', v3: false })).toBe('called');
    expect(got).toEqual([{ geetest_challenge: 'c'.repeat(32) + 'xy', geetest_validate: 'v', geetest_seccode: 's|jordan' }]);
    // Released later (a forged word): nothing changes, the challenge is never spent.
    decide([], ['gt1']);
    expect(reached.v3).toHaveLength(1);
  });

  it('released: the page’s own call goes through untouched', () => {
    (page.initGeetest as (c: object, h: () => void) => void)({ gt: GT, challenge: 'e'.repeat(32) }, () => undefined);
    expect(reached.v3).toHaveLength(1);
    const ref = reports.find((r) => r.challenge === 'e'.repeat(32))?.ref as string;
    decide([], [ref]);
    expect(reached.v3).toHaveLength(2);
    expect(reached.v3[1]![0]).toMatchObject({ challenge: 'e'.repeat(32) });
    // Withdrawn from the frame's list: the challenge is GeeTest's own widget's now.
    expect(reports).toContainEqual({ family: 'geetest', version: 3, gt: GT, challenge: 'e'.repeat(32), ref, released: true });
  });

  it('a withdrawn widget leaves the content script’s list, and a late claim cannot bring it back', () => {
    const detector = new GeeTestDetector(new WidgetIds('t'));
    const report = { family: 'geetest' as const, version: 3 as const, gt: GT, challenge: 'f'.repeat(32), ref: 'gt9' };
    expect(detector.applyProbe(report, null)).toBe(true);
    expect(detector.captchas()).toHaveLength(1);
    expect(detector.applyProbe({ ...report, released: true }, null)).toBe(true);
    expect(detector.captchas()).toEqual([]);
    expect(detector.applyProbe({ ...report, released: true }, null)).toBe(false);
  });
});

describe('GeeTest v4', () => {
  it('goes through once the hooks load; its instance answers getValidate with the five values and runs onSuccess', () => {
    expect(reached.v4).toHaveLength(1);
    expect(reports).toContainEqual({ family: 'geetest', version: 4, gt: GT4, riskType: 'slide', ref: expect.any(String) });
    const obj = page.v4Obj as Record<string, (...a: unknown[]) => unknown>;
    const got: unknown[] = [];
    obj.onSuccess!(() => got.push(obj.getValidate!()));
    const ref = reports.find((r) => r.gt === GT4)!.ref as string;
    const values = { captcha_id: GT4, lot_number: 'lot', pass_token: 'pass', gen_time: '1700000000', captcha_output: 'out' };
    expect(deliver({ family: 'geetest', token: JSON.stringify(values), ref, v3: false })).toBe('called');
    expect(got).toEqual([values]);
  });
});

describe('Turnstile', () => {
  it('reports render() params and answers getResponse() for the widget a token was delivered to', async () => {
    const el = document.body.appendChild(document.createElement('div'));
    const tokens: unknown[] = [];
    const turnstile = page.turnstile as { render: (el: Element, p: object) => string; getResponse: (id?: string) => unknown };
    const id = turnstile.render(el, { sitekey: '0x4AAAAAAAHb3nUe8Kc5wPsY', action: 'signup', cData: 'tenant-4711', chlPageData: 'PAGE', callback: (t: unknown) => tokens.push(t) });
    expect(id).toBe('cf-chl-widget-abc12');
    expect(turnstileCalls).toHaveLength(1);
    expect(reports).toContainEqual({ family: 'turnstile', siteKey: '0x4AAAAAAAHb3nUe8Kc5wPsY', widgetId: 'abc12', action: 'signup', cData: 'tenant-4711', pageData: 'PAGE' });
    expect(turnstile.getResponse(id)).toBeUndefined();
    expect(deliver({ family: 'turnstile', token: 'tok', ref: 'abc12', v3: false })).toBe('called');
    expect(tokens).toEqual(['tok']);
    expect(turnstile.getResponse(id)).toBe('tok');
    expect(turnstile.getResponse()).toBe('tok');
    // Asked again (the content script's scan), the same widget is reported again, nothing more.
    const before = reports.length;
    document.dispatchEvent(new CustomEvent(PROBE_SCAN_EVENT));
    await tick();
    expect(reports.slice(before).filter((r) => r.family === 'turnstile')).toHaveLength(1);
  });
});
