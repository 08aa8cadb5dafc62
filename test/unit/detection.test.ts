/**
 * The content script's detection and delivery (FrameAgent over happy-dom): late widgets,
 * incremental scanning, one captcha per widget however many sightings, probe reports, which
 * fields a token fills, and the createTask task built from what was found.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { buildTask } from '../../src/background/task-payload';
import { FrameAgent } from '../../src/content/agent';
import type { Captcha } from '../../src/shared/captcha';
import { isFrameCaptchasMessage, MAX_CAPTCHAS_PER_FRAME, type DeliveryReport, type FrameCaptchasMessage } from '../../src/shared/messages';
import { PROBE_DELIVER_EVENT, PROBE_RESULT_EVENT, PROBE_WIDGET_EVENT, type DeliverRequest } from '../../src/shared/page-protocol';
import { quietDisabledLoading } from '../fixtures/happy-dom';

quietDisabledLoading();

const KEY = '6LeIxAcTAAAAAJcZVRqyHh71UMIEGNQ_MXjiZKhI';
const KEY2 = '6LcAAAAAzNk8cL6j5IXAAjlsHUqJoUD-_Ydua_5Z';
const PK = '476068BF-9607-4799-B53D-966BE98E2B81';
const PK2 = '6CA06496-AAD7-C7C0-3A53-C17641DB898E';
const anchor = (key: string, extra = '') => `https://www.google.com/recaptcha/api2/anchor?ar=1&k=${key}&co=eA..&hl=en&v=x&size=normal&cb=abc${extra}`;
/** What grecaptcha renders into a container (checkbox) or a badge holder (invisible). */
const rendered = (key: string, extra = '') =>
  `<div style="width: 304px"><div><iframe title="reCAPTCHA" src="${anchor(key, extra)}"></iframe></div><textarea name="g-recaptcha-response" class="g-recaptcha-response"></textarea></div>`;
const badge = (key: string) =>
  `<div class="grecaptcha-badge"><div class="grecaptcha-logo"><iframe src="${anchor(key).replace('size=normal', 'size=invisible')}"></iframe></div><div class="grecaptcha-error"></div><textarea name="g-recaptcha-response" class="g-recaptcha-response"></textarea></div>`;

/** A fresh document per test: earlier agents keep observing only the old, detached root. */
function resetDocument(body: string, head = ''): void {
  const root = document.createElement('html');
  root.innerHTML = `<head>${head}</head><body>${body}</body>`;
  document.documentElement.remove();
  document.appendChild(root);
}

function startAgent(): { agent: FrameAgent; sent: Captcha[][]; last: () => Captcha[] } {
  const sent: Captcha[][] = [];
  const agent = new FrameAgent((message) => sent.push(message.captchas));
  agent.start();
  return { agent, sent, last: () => sent.at(-1) ?? [] };
}

/** Waits for `done`; the timeout only guards against a hang (FrameAgent answers in microtasks). */
async function until(done: () => boolean, timeoutMs = 5_000): Promise<void> {
  const start = performance.now();
  while (!done()) {
    if (performance.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 1));
  }
}

/**
 * FrameAgent does its work in microtasks (mutation records, a burst of probe reports): one task
 * turn runs all of it, so after this there is nothing left to happen.
 */
const settle = () => new Promise((r) => setTimeout(r, 0));

const strip = (list: Captcha[]) => list.map(({ id: _id, ...rest }) => rest);

/** The page-world side of delivery: records requests and answers like the probe. */
function fakeProbe(outcome: DeliveryReport['callback'] = 'called'): { requests: DeliverRequest[]; stop: () => void } {
  const requests: DeliverRequest[] = [];
  const listener = (event: Event): void => {
    requests.push(JSON.parse((event as CustomEvent<string>).detail) as DeliverRequest);
    document.dispatchEvent(new CustomEvent(PROBE_RESULT_EVENT, { detail: outcome }));
  };
  document.addEventListener(PROBE_DELIVER_EVENT, listener, true);
  return { requests, stop: () => document.removeEventListener(PROBE_DELIVER_EVENT, listener, true) };
}

function probeReport(target: Element, report: Record<string, unknown>): void {
  target.dispatchEvent(new CustomEvent(PROBE_WIDGET_EVENT, { bubbles: true, detail: JSON.stringify(report) }));
}

const value = (selector: string) => (document.querySelector(selector) as HTMLInputElement).value;

let probe: ReturnType<typeof fakeProbe> | undefined;
afterEach(() => probe?.stop());

describe('widgets added after load', () => {
  // The 100 ms budget from insertion to the background is measured by npm run bench (3a), not here.
  it('reports a .g-recaptcha inserted by a script', async () => {
    resetDocument('<main id="app"></main>');
    const { sent, last } = startAgent();
    expect(last()).toEqual([]);
    const count = sent.length;
    document.getElementById('app')!.insertAdjacentHTML('beforeend', `<form><div class="g-recaptcha" data-sitekey="${KEY}" data-callback="onOk"></div></form>`);
    await until(() => sent.length > count);
    expect(strip(last())).toEqual([{ family: 'recaptcha', version: 'v2', siteKey: KEY, enterprise: false, invisible: false, callback: 'onOk' }]);
  });

  it('reports an explicitly rendered widget (only its anchor frame shows the key)', async () => {
    resetDocument('<div id="slot"></div>');
    const { sent, last } = startAgent();
    const count = sent.length;
    document.getElementById('slot')!.innerHTML = rendered(KEY);
    await until(() => sent.length > count);
    expect(strip(last())).toEqual([{ family: 'recaptcha', version: 'v2', siteKey: KEY, enterprise: false, invisible: false }]);
  });

  it('notices a key set later on an existing element, and a widget that leaves', async () => {
    resetDocument('<div id="w" class="g-recaptcha"></div>');
    const { last } = startAgent();
    const el = document.getElementById('w')!;
    expect(last()).toEqual([]);
    el.setAttribute('data-sitekey', KEY);
    await until(() => last().length === 1);
    const [captcha] = last();
    el.remove();
    await until(() => last().length === 0);
    expect(startAgentDelivery(captcha!.id)).toEqual({ delivered: false, reason: 'WIDGET_GONE', fieldsFilled: 0, callback: 'none' });
  });

  it('does not watch class changes (busy pages make thousands); a widget rendered later shows by its frame', async () => {
    resetDocument('<div id="w" data-sitekey="' + KEY + '"></div>');
    const { last } = startAgent();
    const el = document.getElementById('w')!;
    el.className = 'g-recaptcha';
    await settle();
    expect(last()).toEqual([]);
    el.innerHTML = rendered(KEY);
    await until(() => last().length === 1);
    expect(last()[0]).toMatchObject({ siteKey: KEY });
  });
});

/** Delivery on a fresh agent for an id it never listed: the widget is gone for it. */
function startAgentDelivery(captchaId: string): DeliveryReport {
  return new FrameAgent(() => undefined).deliver({ type: 'deliver-token', captchaId, token: 't' });
}

describe('incremental scanning', () => {
  it('looks only at what each mutation adds, never the whole document', async () => {
    const filler = Array.from({ length: 400 }, (_, i) => `<section><p class="p${i}">text <a href="#${i}">link</a></p><ul><li>a</li><li>b</li></ul></section>`).join('');
    resetDocument(`<div id="top">${filler}</div>`);
    const { last } = startAgent();
    const receivers: unknown[] = [];
    const spied = [
      [Element.prototype, 'querySelectorAll'],
      [Element.prototype, 'querySelector'],
      [Document.prototype, 'querySelectorAll'],
      [Document.prototype, 'querySelector'],
    ] as const;
    // eslint-disable-next-line @typescript-eslint/unbound-method -- the originals are called with .call(this) below
    const originals = spied.map(([proto, name]) => proto[name]);
    spied.forEach(([proto, name], i) => {
      const original = originals[i] as (this: unknown, s: string) => unknown;
      (proto as unknown as Record<string, unknown>)[name] = function (this: unknown, selector: string) {
        receivers.push(this);
        return original.call(this, selector);
      };
    });
    try {
      const sections = document.querySelectorAll('section');
      receivers.length = 0;
      for (let i = 0; i < 40; i++) {
        sections[i]!.insertAdjacentHTML('beforeend', '<div class="card"><span>new</span><img alt=""></div>');
        sections[i + 40]!.setAttribute('class', 'changed');
        sections[i + 80]!.remove();
      }
      // A frame appended right under <body> (some builders do that): still no page-wide query.
      document.body.insertAdjacentHTML('beforeend', `<iframe src="${anchor(KEY)}"></iframe>`);
      document.getElementById('top')!.insertAdjacentHTML('afterbegin', `<div class="g-recaptcha" data-sitekey="${KEY2}"></div>`);
      await until(() => last().length === 2);
      const wide = receivers.filter((r) => r === document || r === document.documentElement || r === document.body || r === document.getElementById('top'));
      expect(wide).toEqual([]);
    } finally {
      spied.forEach(([proto, name], i) => ((proto as unknown as Record<string, unknown>)[name] = originals[i]));
    }
  });
});

describe('one captcha per widget', () => {
  it('merges a declared widget with the frame rendered into it, and ignores the noscript fallback and the challenge frame', () => {
    resetDocument(
      `<div class="g-recaptcha" data-sitekey="${KEY}">${rendered(KEY)}</div>` +
        `<div style="visibility:hidden"><div><iframe src="https://www.google.com/recaptcha/api2/bframe?hl=en&v=x&k=${KEY}"></iframe></div></div>`,
    );
    const { last } = startAgent();
    expect(strip(last())).toEqual([{ family: 'recaptcha', version: 'v2', siteKey: KEY, enterprise: false, invisible: false }]);
  });

  it('pairs a button-bound widget with the badge rendered at the end of the body, and fills the badge’s field', async () => {
    resetDocument(`<form><button class="g-recaptcha" data-sitekey="${KEY}" data-callback="onSubmit">Send</button></form>`);
    const { agent, last } = startAgent();
    const [before] = last();
    document.body.insertAdjacentHTML('beforeend', `<div id="holder">${badge(KEY)}</div>`);
    await settle();
    expect(last()).toEqual([before]);
    expect(before).toMatchObject({ invisible: true, callback: 'onSubmit' });
    probe = fakeProbe();
    const report = agent.deliver({ type: 'deliver-token', captchaId: before!.id, token: 'tok' });
    expect(report).toEqual({ delivered: true, fieldsFilled: 1, callback: 'called' });
    expect(value('#holder textarea')).toBe('tok');
    expect(probe.requests).toEqual([{ family: 'recaptcha', token: 'tok', v3: false, siteKey: KEY, callback: 'onSubmit' }]);
  });

  it('one Arkose setup however many places show its key', () => {
    const token = `abc|r=eu-west-1|pk=${PK}|at=40|surl=https%3A%2F%2Fclient-api.arkoselabs.com`;
    resetDocument(
      `<input type="hidden" name="fc-token" value="${token}">` +
        `<div id="FunCaptcha" data-pkey="${PK}"></div>` +
        `<iframe src="https://client-api.arkoselabs.com/v2/2.9.0/enforcement.ab12cd.html#${PK}"></iframe>`,
      `<script src="https://client-api.arkoselabs.com/v2/${PK}/api.js" data-callback="setup"></script>`,
    );
    const { last } = startAgent();
    expect(strip(last())).toEqual([{ family: 'funcaptcha', publicKey: PK, subdomain: 'client-api.arkoselabs.com' }]);
  });
});

describe('pages that fake many widgets', () => {
  it('report no more than the background accepts per frame', () => {
    const widgets = Array.from({ length: 120 }, (_, i) => `<div class="g-recaptcha" data-sitekey="6L${String(i).padStart(38, 'x')}"></div>`).join('');
    resetDocument(widgets);
    const { last } = startAgent();
    expect(last()).toHaveLength(MAX_CAPTCHAS_PER_FRAME);
    expect(isFrameCaptchasMessage({ type: 'frame-captchas', captchas: last() })).toBe(true);
  });

  it('stop reading a flood of reports, and read the next burst again', async () => {
    resetDocument('');
    const { last } = startAgent();
    for (let i = 0; i < 1000; i++) probeReport(document.documentElement, { family: 'recaptcha', siteKey: 'bad', enterprise: false, invisible: true, v3: true });
    probeReport(document.documentElement, { family: 'recaptcha', siteKey: KEY, enterprise: false, invisible: true, v3: true });
    await settle();
    expect(last()).toEqual([]);
    probeReport(document.documentElement, { family: 'recaptcha', siteKey: KEY, enterprise: false, invisible: true, v3: true });
    await settle();
    expect(last()).toHaveLength(1);
  });

  it('keep no more than that, however many forged reports arrive, and send one report per burst', async () => {
    resetDocument('');
    const { agent, sent, last } = startAgent();
    for (let i = 0; i < 500; i++) {
      probeReport(document.documentElement, { family: 'recaptcha', siteKey: `6L${String(i).padStart(38, 'v')}`, enterprise: false, invisible: true, v3: true });
      probeReport(document.documentElement, { family: 'funcaptcha', publicKey: `${String(i).padStart(8, '0')}-AAAA-4BBB-8CCC-000000000000` });
    }
    const count = sent.length;
    await settle();
    expect(sent.length).toBe(count + 1);
    expect(last()).toHaveLength(MAX_CAPTCHAS_PER_FRAME);
    expect(agent.captchas().length).toBeLessThanOrEqual(2 * MAX_CAPTCHAS_PER_FRAME);
  });
});

describe('reCAPTCHA variants from markup', () => {
  it('tells a v3 button (data-action) from a v2 invisible one', () => {
    resetDocument(
      `<button class="g-recaptcha" data-sitekey="${KEY}" data-callback="onV3" data-action="submit">A</button>` + `<button class="g-recaptcha" data-sitekey="${KEY2}" data-callback="onV2">B</button>`,
    );
    expect(strip(startAgent().last())).toEqual([
      { family: 'recaptcha', version: 'v2', siteKey: KEY2, enterprise: false, invisible: true, callback: 'onV2' },
      { family: 'recaptcha', version: 'v3', siteKey: KEY, enterprise: false, invisible: true, action: 'submit', callback: 'onV3' },
    ]);
  });

  it('keeps data-action only where it means something (Enterprise)', () => {
    resetDocument(`<div class="g-recaptcha" data-sitekey="${KEY}" data-action="LOGIN"></div>`);
    expect(startAgent().last()[0]).not.toHaveProperty('action');
    resetDocument(`<div class="g-recaptcha" data-sitekey="${KEY}" data-action="LOGIN"></div>`, '<script src="https://www.google.com/recaptcha/enterprise.js"></script>');
    expect(startAgent().last()[0]).toMatchObject({ enterprise: true, action: 'LOGIN' });
  });

  it('takes the one-time s value from an anchor URL, and recaptcha.net from its host', () => {
    resetDocument(`<div id="c">${rendered(KEY, '&s=one-time').replace('www.google.com', 'www.recaptcha.net')}</div>`);
    expect(strip(startAgent().last())).toEqual([{ family: 'recaptcha', version: 'v2', siteKey: KEY, enterprise: false, invisible: false, apiDomain: 'www.recaptcha.net', dataS: 'one-time' }]);
  });

  it('refuses megabyte attribute values but keeps the widget', () => {
    const mb = (c: string) => c.repeat(1 << 20);
    resetDocument(
      `<div class="g-recaptcha" data-sitekey="${KEY}" data-s="${mb('s')}" data-callback="${mb('c')}" data-action="${mb('a')}"></div><div class="g-recaptcha" data-sitekey="6L${mb('a')}"></div>`,
    );
    const { last } = startAgent();
    expect(strip(last())).toEqual([{ family: 'recaptcha', version: 'v2', siteKey: KEY, enterprise: false, invisible: false }]);
  });

  it('lists no reCAPTCHA for other captchas and for keys kept as configuration (a Turnstile key in .g-recaptcha markup is Turnstile)', () => {
    resetDocument(
      `<div class="h-captcha g-recaptcha" data-sitekey="${KEY}"></div>` +
        `<div class="cf-turnstile"><div class="g-recaptcha" data-sitekey="${KEY}"></div></div>` +
        `<div class="g-recaptcha" data-sitekey="0x4AAAAAAAC3DHQFLr1GavRN"></div>` +
        `<form data-sitekey="${KEY}"></form><div class="recaptcha" data-sitekey="${KEY}"></div>` +
        `<template><div class="g-recaptcha" data-sitekey="${KEY}"></div></template>` +
        `<input name="fc-token" value=""><li data-pkey="product-42"></li>`,
    );
    expect(
      startAgent()
        .last()
        .map((c) => [c.family, c.family === 'turnstile' && c.siteKey]),
    ).toEqual([['turnstile', '0x4AAAAAAAC3DHQFLr1GavRN']]);
  });
});

describe('probe reports', () => {
  it('completes a frame-detected widget with what only page memory knows', async () => {
    resetDocument(`<div id="slot">${rendered(KEY)}</div>`);
    const { agent, last } = startAgent();
    probeReport(document.querySelector('iframe')!, {
      family: 'recaptcha',
      siteKey: KEY,
      widgetId: 3,
      enterprise: true,
      invisible: false,
      v3: false,
      dataS: 'S',
      action: 'CHECKOUT',
      callback: 'app.onCaptcha',
      hasCallbackFunction: false,
    });
    await settle();
    expect(strip(last())).toEqual([{ family: 'recaptcha', version: 'v2', siteKey: KEY, enterprise: true, invisible: false, dataS: 'S', action: 'CHECKOUT', callback: 'app.onCaptcha' }]);
    probe = fakeProbe('failed');
    const report = agent.deliver({ type: 'deliver-token', captchaId: last()[0]!.id, token: 'tok' });
    expect(report).toEqual({ delivered: true, fieldsFilled: 1, callback: 'failed' });
    expect(probe.requests).toEqual([{ family: 'recaptcha', token: 'tok', v3: false, siteKey: KEY, widgetId: 3, callback: 'app.onCaptcha' }]);
  });

  it('adds a v3 site from an execute() the page made', async () => {
    resetDocument('');
    const { last } = startAgent();
    probeReport(document.documentElement, { family: 'recaptcha', siteKey: KEY, enterprise: true, invisible: true, v3: true, action: 'LOGIN' });
    await settle();
    expect(strip(last())).toEqual([{ family: 'recaptcha', version: 'v3', siteKey: KEY, enterprise: true, invisible: true, action: 'LOGIN' }]);
  });

  it('ignores forged or malformed reports', async () => {
    resetDocument('<div id="x"></div>');
    const { last } = startAgent();
    const x = document.getElementById('x')!;
    x.dispatchEvent(new CustomEvent(PROBE_WIDGET_EVENT, { bubbles: true, detail: '{not json' }));
    x.dispatchEvent(new CustomEvent(PROBE_WIDGET_EVENT, { bubbles: true, detail: { family: 'recaptcha', siteKey: KEY } }));
    probeReport(x, { family: 'recaptcha', siteKey: 'short', enterprise: false, invisible: false, v3: true });
    probeReport(x, { family: 'funcaptcha', publicKey: 'not-a-key', blob: 'b' });
    probeReport(x, { family: 'recaptcha', siteKey: KEY, enterprise: 'yes', invisible: false, v3: true });
    probeReport(x, { family: 'recaptcha', siteKey: KEY, enterprise: false, invisible: false, v3: true, callback: 'c'.repeat(5000) });
    await settle();
    expect(last()).toEqual([]);
  });

  it('keeps an Arkose blob for the setup it belongs to', async () => {
    resetDocument('', `<script src="https://client-api.arkoselabs.com/v2/${PK}/api.js"></script><script src="https://client-api.arkoselabs.com/v2/${PK2}/api.js"></script>`);
    const { last } = startAgent();
    probeReport(document.documentElement, { family: 'funcaptcha', publicKey: PK2, blob: 'BLOB', subdomain: 'client-api.arkoselabs.com' });
    await settle();
    expect(strip(last())).toEqual([
      { family: 'funcaptcha', publicKey: PK, subdomain: 'client-api.arkoselabs.com' },
      { family: 'funcaptcha', publicKey: PK2, subdomain: 'client-api.arkoselabs.com', blob: 'BLOB' },
    ]);
  });

  it('keeps a blob reported before its key is known', async () => {
    resetDocument('<form id="f"></form>');
    const { last } = startAgent();
    probeReport(document.documentElement, { family: 'funcaptcha', blob: 'EARLY' });
    await settle();
    expect(last()).toEqual([]);
    document.getElementById('f')!.innerHTML = `<div data-pkey="${PK}" data-callback="done"></div>`;
    await until(() => last().length === 1);
    expect(strip(last())).toEqual([{ family: 'funcaptcha', publicKey: PK, blob: 'EARLY' }]);
  });
});

describe('where a token goes', () => {
  it('v3 fills the page’s own fields but never a v2 widget’s', () => {
    resetDocument(
      `<form><input type="hidden" id="v3field" name="g-recaptcha-response"></form>` +
        `<div id="v2" class="g-recaptcha" data-sitekey="${KEY2}">${rendered(KEY2)}</div>` +
        `<div id="holder">${badge(KEY)}</div>`,
      `<script src="https://www.google.com/recaptcha/api.js?render=${KEY}"></script>`,
    );
    const { agent, last } = startAgent();
    const v3 = last().find((c) => c.family === 'recaptcha' && c.version === 'v3')!;
    const v2 = last().find((c) => c.family === 'recaptcha' && c.version === 'v2')!;
    expect(last()).toHaveLength(2);
    probe = fakeProbe('none');
    expect(agent.deliver({ type: 'deliver-token', captchaId: v3.id, token: 'three' })).toEqual({ delivered: true, fieldsFilled: 2, callback: 'none' });
    expect([value('#v3field'), value('#holder textarea'), value('#v2 textarea')]).toEqual(['three', 'three', '']);
    expect(agent.deliver({ type: 'deliver-token', captchaId: v2.id, token: 'two' })).toMatchObject({ delivered: true, fieldsFilled: 1 });
    expect([value('#v3field'), value('#v2 textarea')]).toEqual(['three', 'two']);
    expect(probe.requests.map((r) => [r.v3, r.siteKey])).toEqual([
      [true, KEY],
      [false, KEY2],
    ]);
  });

  it('two widgets with one key each get their own token', () => {
    resetDocument(`<div id="a">${rendered(KEY)}</div><div id="b">${rendered(KEY)}</div>`);
    const { agent, last } = startAgent();
    const [a, b] = last();
    expect(a!.id).not.toBe(b!.id);
    probe = fakeProbe('none');
    agent.deliver({ type: 'deliver-token', captchaId: b!.id, token: 'for-b' });
    expect([value('#a textarea'), value('#b textarea')]).toEqual(['', 'for-b']);
  });

  it('FunCaptcha fills fc-token and verification-token, and names its key to the page world', () => {
    resetDocument(`<div id="CAPTCHA" data-pkey="${PK}"><input type="hidden" id="FunCaptcha-Token" name="fc-token"><input type="hidden" id="verification-token" name="verification-token"></div>`);
    const { agent, last } = startAgent();
    probe = fakeProbe('called');
    const report = agent.deliver({ type: 'deliver-token', captchaId: last()[0]!.id, token: 'fc|pk=x' });
    expect(report).toEqual({ delivered: true, fieldsFilled: 2, callback: 'called' });
    expect([value('#FunCaptcha-Token'), value('#verification-token')]).toEqual(['fc|pk=x', 'fc|pk=x']);
    expect(probe.requests).toEqual([{ family: 'funcaptcha', token: 'fc|pk=x', v3: false, publicKey: PK }]);
  });
});

describe('solve targets', () => {
  it('name each widget with its container; v3 has no place on the page', () => {
    resetDocument(
      `<div id="a" class="g-recaptcha" data-sitekey="${KEY2}"></div><div id="fc" data-pkey="${PK}"></div>`,
      `<script src="https://www.google.com/recaptcha/api.js?render=${KEY}"></script>`,
    );
    const { agent, last } = startAgent();
    expect(last()).toHaveLength(3);
    const byKey = new Map(last().map((c) => [c.family === 'recaptcha' ? c.siteKey : c.family === 'funcaptcha' ? c.publicKey : '', c.id]));
    expect(agent.solveTargets()).toEqual([
      { captchaId: byKey.get(KEY2), container: document.getElementById('a') },
      { captchaId: byKey.get(PK), container: document.getElementById('fc') },
    ]);
  });
});

describe('createTask payload', () => {
  const url = 'https://shop.example/login';
  const base = { family: 'recaptcha', id: 'rc-1', siteKey: KEY, enterprise: false, invisible: false } as const;

  it('sends apiDomain and actions only where the task type has them', () => {
    expect(buildTask({ ...base, version: 'v2', apiDomain: 'www.recaptcha.net', action: 'x' }, url, { serviceUrl: 'https://api.capmonster.cloud', v3MinScore: 0.5 })).toEqual({
      type: 'RecaptchaV2Task',
      websiteURL: url,
      websiteKey: KEY,
    });
    expect(
      buildTask({ ...base, version: 'v2', enterprise: true, apiDomain: 'www.recaptcha.net', dataS: 'S', action: 'LOGIN' }, url, {
        serviceUrl: 'https://api.capmonster.cloud',
        v3MinScore: 0.5,
      }),
    ).toEqual({ type: 'RecaptchaV2EnterpriseTask', websiteURL: url, websiteKey: KEY, enterprisePayload: { s: 'S' }, apiDomain: 'www.recaptcha.net', pageAction: 'LOGIN' });
    expect(buildTask({ ...base, version: 'v3', invisible: true }, url, { serviceUrl: 'https://api.capmonster.cloud', v3MinScore: 0.3 })).toEqual({
      type: 'RecaptchaV3TaskProxyless',
      websiteURL: url,
      websiteKey: KEY,
      minScore: 0.3,
      pageAction: 'verify',
    });
  });

  it('uses the FunCaptcha type the service documents', () => {
    const captcha = { family: 'funcaptcha', id: 'fc-1', publicKey: PK, subdomain: 'roblox-api.arkoselabs.com', blob: 'B"1' } as const;
    const task = { websiteURL: url, websitePublicKey: PK, funcaptchaApiJSSubdomain: 'roblox-api.arkoselabs.com', data: '{"blob":"B\\"1"}' };
    expect(buildTask(captcha, url, { serviceUrl: 'https://api.capmonster.cloud', v3MinScore: 0.7 })).toEqual({ type: 'FunCaptchaTask', ...task });
    expect(buildTask(captcha, url, { serviceUrl: 'https://api.brocapgpt.com', v3MinScore: 0.7 })).toEqual({ type: 'FunCaptchaTaskProxyless', ...task });
    // BroCapGPT lists the user agent as required for FunCaptcha; CapMonster does not get it.
    const ua = 'Mozilla/5.0 (X11; Linux x86_64) Test';
    expect(buildTask(captcha, url, { serviceUrl: 'https://api.brocapgpt.com', v3MinScore: 0.7, userAgent: ua })).toEqual({ type: 'FunCaptchaTaskProxyless', ...task, userAgent: ua });
    expect(buildTask(captcha, url, { serviceUrl: 'https://api.capmonster.cloud', v3MinScore: 0.7, userAgent: ua })).toEqual({ type: 'FunCaptchaTask', ...task });
  });
});

describe('Cloudflare challenge page', () => {
  const FORM = '<form id="challenge-form" action="/login?__cf_chl_f_tk=Qx7c0l9pE3m1dA5sW2v8" method="POST"><input type="hidden" name="md" value="x"></form>';

  it('says so while its check has not shown (nothing to send a task for), and lists the check once Cloudflare renders it', async () => {
    resetDocument(`<div class="main-content"><div id="turnstile-wrapper"></div></div>${FORM}`);
    const messages: FrameCaptchasMessage[] = [];
    const agent = new FrameAgent((message) => messages.push(message));
    agent.start();
    expect(messages.at(-1)).toMatchObject({ captchas: [], notices: ['cloudflare-challenge'] });
    probeReport(document.getElementById('turnstile-wrapper')!, { family: 'turnstile', siteKey: '0x4AAAAAAAAjq6WYeRDKmebM', action: 'managed', cData: 'c8d2f61a', pageData: 'GkhVjT5kXq3x8m2Z=' });
    await settle();
    const last = messages.at(-1)!;
    expect(last.notices).toBeUndefined();
    expect(strip(last.captchas)).toEqual([{ family: 'turnstile', siteKey: '0x4AAAAAAAAjq6WYeRDKmebM', action: 'managed', cData: 'c8d2f61a', pageData: 'GkhVjT5kXq3x8m2Z=' }]);
  });

  it('is no challenge page for an ordinary form or Cloudflare’s Bot Management script', () => {
    resetDocument('<form id="challenge-form" action="/search"></form><script src="/cdn-cgi/challenge-platform/scripts/jsd/main.js"></script>');
    const messages: FrameCaptchasMessage[] = [];
    new FrameAgent((message) => messages.push(message)).start();
    expect(messages.at(-1)).toEqual({ type: 'frame-captchas', captchas: [] });
  });
});
