/**
 * The validators every receiver runs (src/shared/messages.ts, page-protocol.ts, captcha.ts):
 * what each accepts and, case by case, what it refuses. A content script can be driven by a
 * hostile page, so what it sends is held to the same rules as anything from the page.
 */
import { describe, expect, it } from 'vitest';
import { isCaptcha, type Captcha } from '../../src/shared/captcha';
import {
  isBalanceMessage,
  isDeliverTokenMessage,
  isDeliveryReport,
  isFrameCaptchasMessage,
  isInPageSolveMessage,
  isSolveAllMessage,
  isSolveMessage,
  isTabStateMessage,
  MAX_CAPTCHAS_PER_FRAME,
  CONTENT_MESSAGES,
  readMessage,
  UI_MESSAGES,
} from '../../src/shared/messages';
import { parse } from '../../src/shared/validate';
import { isDeliverRequest, isProbeReport, parseDetail } from '../../src/shared/page-protocol';

const SITE_KEY = '6LeIxAcTAAAAAJcZVRqyHh71UMIEGNQ_MXjiZKhI';
const PUBLIC_KEY = '476068BF-9607-4799-B53D-966BE98E2B81';

const v2: Captcha = { family: 'recaptcha', id: 'rc-abc123-1', version: 'v2', siteKey: SITE_KEY, enterprise: false, invisible: false, callback: 'onDone' };
const fc: Captcha = { family: 'funcaptcha', id: 'fc-abc123-2', publicKey: PUBLIC_KEY, subdomain: 'client-api.arkoselabs.com', blob: 'b' };

const without = <T extends object>(value: T, key: keyof T): Partial<T> => {
  const copy = { ...value };
  delete copy[key];
  return copy;
};

describe('captcha records (what a content script may report)', () => {
  it('accepts well-formed reCAPTCHA and FunCaptcha records', () => {
    expect(isCaptcha(v2)).toBe(true);
    expect(isCaptcha(fc)).toBe(true);
    expect(isCaptcha({ ...v2, version: 'v3', action: 'login', apiDomain: 'www.recaptcha.net', dataS: 's'.repeat(8192) })).toBe(true);
  });

  it.each<[string, unknown]>([
    ['a site key one character short', { ...v2, siteKey: SITE_KEY.slice(1) }],
    ['a site key not starting with 6', { ...v2, siteKey: `5${SITE_KEY.slice(1)}` }],
    ['a site key with a space', { ...v2, siteKey: `${SITE_KEY.slice(0, 39)} ` }],
    ['a site key with markup', { ...v2, siteKey: `6<img src=x onerror=alert(1)>${'a'.repeat(11)}` }],
    ['a public key that is no UUID', { ...fc, publicKey: 'not-a-uuid' }],
    ['a public key with a suffix', { ...fc, publicKey: `${PUBLIC_KEY}#x` }],
    ['a subdomain with a path', { ...fc, subdomain: 'evil.com/x' }],
    ['a subdomain with a scheme', { ...fc, subdomain: 'https://evil.com' }],
    ['a callback that is code', { ...v2, callback: 'alert(1)' }],
    ['a callback with brackets', { ...v2, callback: 'a["b"]' }],
    ['a callback path nine deep', { ...v2, callback: 'a.b.c.d.e.f.g.h.i' }],
    // A name is a few dozen characters; a megabyte one would be stored and sent on every change.
    ['a callback path of a megabyte', { ...v2, callback: 'c'.repeat(1 << 20) }],
    ['an API domain of another host', { ...v2, apiDomain: 'evil.com' }],
    ['an unknown version', { ...v2, version: 'v4' }],
    ['an unknown family', { ...v2, family: 'hcaptcha' }],
    ['an id over 200 characters', { ...v2, id: 'x'.repeat(201) }],
    ['a data-s over 8192 characters', { ...v2, dataS: 's'.repeat(8193) }],
    ['a blob over 16384 characters', { ...fc, blob: 'b'.repeat(16_385) }],
    ['enterprise as a string', { ...v2, enterprise: 'false' }],
    ['no site key', without(v2, 'siteKey')],
    ['no id', without(v2, 'id')],
    ['an array', [v2]],
    ['null', null],
  ])('refuses %s', (_name, value) => {
    expect(isCaptcha(value)).toBe(false);
  });

  it('accepts extra fields, and the copy a receiver keeps has none of them', () => {
    const padded = { ...v2, tabId: 7, frameId: 3, url: 'https://evil.com/', apiKey: 'x', junk: 'y'.repeat(100_000) };
    expect(isCaptcha(padded)).toBe(true);
    expect(parse(isCaptcha, padded)).toEqual(v2);
    const geetest = { family: 'geetest', id: 'gt-1', version: 3, gt: 'a'.repeat(32), challenge: 'c'.repeat(32), extra: { deep: 1 } };
    expect(parse(isCaptcha, geetest)).toEqual({ family: 'geetest', id: 'gt-1', version: 3, gt: 'a'.repeat(32), challenge: 'c'.repeat(32) });
  });
});

describe('content → background', () => {
  it('frame-captchas: at most 50 valid captchas', () => {
    expect(isFrameCaptchasMessage({ type: 'frame-captchas', captchas: [] })).toBe(true);
    expect(isFrameCaptchasMessage({ type: 'frame-captchas', captchas: [v2, fc] })).toBe(true);
    expect(isFrameCaptchasMessage({ type: 'frame-captchas', captchas: Array(MAX_CAPTCHAS_PER_FRAME).fill(v2) })).toBe(true);
    expect(isFrameCaptchasMessage({ type: 'frame-captchas', captchas: Array(MAX_CAPTCHAS_PER_FRAME + 1).fill(v2) })).toBe(false);
    // One bad captcha spoils the message: a receiver never has to pick through a list.
    expect(isFrameCaptchasMessage({ type: 'frame-captchas', captchas: [v2, { ...fc, publicKey: 'x' }] })).toBe(false);
    expect(isFrameCaptchasMessage({ type: 'frame-captchas', captchas: { 0: v2, length: 1 } })).toBe(false);
    expect(isFrameCaptchasMessage({ type: 'frame-captcha', captchas: [v2] })).toBe(false);
  });

  it('inpage-solve: a captcha id only (no tab, frame or key fields are read)', () => {
    expect(isInPageSolveMessage({ type: 'inpage-solve', captchaId: 'rc-abc123-1' })).toBe(true);
    expect(isInPageSolveMessage({ type: 'inpage-solve', captchaId: 'x'.repeat(201) })).toBe(false);
    expect(isInPageSolveMessage({ type: 'inpage-solve', captchaId: 1 })).toBe(false);
    expect(isInPageSolveMessage({ type: 'inpage-solve' })).toBe(false);
  });

  it('a receiver reads a message with only the fields its type knows, at every depth', () => {
    const sent = {
      type: 'frame-captchas',
      captchas: [
        { ...v2, extra: 'x' },
        { ...fc, more: [1, 2, 3] },
      ],
      padding: 'p'.repeat(1_000),
      tabId: 99,
    };
    expect(readMessage(CONTENT_MESSAGES, sent)).toEqual({ type: 'frame-captchas', captchas: [v2, fc] });
    expect(readMessage(CONTENT_MESSAGES, { type: 'solve', tabId: 1, frameId: 0, captchaId: 'rc-1' })).toBeUndefined();
    expect(readMessage(CONTENT_MESSAGES, { type: 'toString' })).toBeUndefined();
    expect(readMessage(UI_MESSAGES, { type: 'control', method: 'status', params: { any: 1 }, extra: true })).toEqual({ type: 'control', method: 'status', params: { any: 1 } });
  });

  it('a content-script message is never a ui message and the other way round', () => {
    const content = [
      { type: 'frame-captchas', captchas: [v2] },
      { type: 'inpage-solve', captchaId: 'rc-1' },
    ];
    for (const message of content) {
      for (const guard of [isSolveMessage, isSolveAllMessage, isTabStateMessage, isBalanceMessage]) expect(guard(message)).toBe(false);
    }
    const ui = [{ type: 'solve', tabId: 1, frameId: 0, captchaId: 'rc-1' }, { type: 'solve-all', tabId: 1 }, { type: 'tab-state', tabId: 1 }, { type: 'balance' }];
    for (const message of ui) {
      expect(isFrameCaptchasMessage(message)).toBe(false);
      expect(isInPageSolveMessage(message)).toBe(false);
    }
  });
});

describe('background → content', () => {
  it('deliver-token: a bounded token for one captcha id', () => {
    expect(isDeliverTokenMessage({ type: 'deliver-token', captchaId: 'rc-1', token: 't'.repeat(20_000) })).toBe(true);
    expect(isDeliverTokenMessage({ type: 'deliver-token', captchaId: 'rc-1', token: 't'.repeat(20_001) })).toBe(false);
    expect(isDeliverTokenMessage({ type: 'deliver-token', captchaId: 'rc-1' })).toBe(false);
    expect(isDeliverTokenMessage({ type: 'deliver-token', captchaId: 'rc-1', token: 5 })).toBe(false);
  });

  it('delivery report: known reasons and callback outcomes only', () => {
    expect(isDeliveryReport({ delivered: true, fieldsFilled: 1, callback: 'called' })).toBe(true);
    expect(isDeliveryReport({ delivered: false, reason: 'WIDGET_GONE', fieldsFilled: 0, callback: 'none' })).toBe(true);
    expect(isDeliveryReport({ delivered: 'yes', fieldsFilled: 1, callback: 'called' })).toBe(false);
    expect(isDeliveryReport({ delivered: false, reason: 'OTHER', fieldsFilled: 0, callback: 'none' })).toBe(false);
    expect(isDeliveryReport({ delivered: true, fieldsFilled: 1.5, callback: 'called' })).toBe(false);
    expect(isDeliveryReport({ delivered: true, fieldsFilled: 1, callback: 'maybe' })).toBe(false);
  });
});

describe('ui → background', () => {
  it.each<[string, (v: unknown) => boolean, unknown, boolean]>([
    ['solve', isSolveMessage, { type: 'solve', tabId: 3, frameId: 0, captchaId: 'rc-1' }, true],
    ['solve with a string tab id', isSolveMessage, { type: 'solve', tabId: '3', frameId: 0, captchaId: 'rc-1' }, false],
    ['solve with a fractional frame id', isSolveMessage, { type: 'solve', tabId: 3, frameId: 0.5, captchaId: 'rc-1' }, false],
    ['solve with NaN', isSolveMessage, { type: 'solve', tabId: Number.NaN, frameId: 0, captchaId: 'rc-1' }, false],
    ['solve with an unsafe integer', isSolveMessage, { type: 'solve', tabId: 2 ** 60, frameId: 0, captchaId: 'rc-1' }, false],
    ['solve-all', isSolveAllMessage, { type: 'solve-all', tabId: 3 }, true],
    ['solve-all without a tab', isSolveAllMessage, { type: 'solve-all' }, false],
    ['tab-state', isTabStateMessage, { type: 'tab-state', tabId: -1 }, true],
    ['balance', isBalanceMessage, { type: 'balance' }, true],
    ['balance with another type', isBalanceMessage, { type: 'Balance' }, false],
  ])('%s', (_name, guard, value, expected) => {
    expect(guard(value)).toBe(expected);
  });
});

describe('page world ↔ content script (events the page can forge)', () => {
  const report = { family: 'recaptcha', siteKey: SITE_KEY, enterprise: false, invisible: false, v3: false, hasCallbackFunction: true, widgetId: 0, callback: 'onDone' };

  it('accepts a probe report only as a JSON string', () => {
    expect(parseDetail(JSON.stringify(report), isProbeReport)).toEqual(report);
    expect(parseDetail(report, isProbeReport)).toBeNull();
    expect(parseDetail(new String(JSON.stringify(report)), isProbeReport)).toBeNull();
  });

  it.each<[string, unknown]>([
    ['truncated JSON', JSON.stringify(report).slice(0, -1)],
    ['a callback that is code', JSON.stringify({ ...report, callback: 'fetch("//evil")' })],
    ['a non-boolean flag', JSON.stringify({ ...report, v3: 1 })],
    ['a fractional widget id', JSON.stringify({ ...report, widgetId: 0.5 })],
    ['a site key over 100 characters', JSON.stringify({ ...report, siteKey: 'x'.repeat(101) })],
    ['a blob over 16384 characters', JSON.stringify({ family: 'funcaptcha', hasCallbackFunction: false, blob: 'b'.repeat(16_385) })],
    ['an unknown family', JSON.stringify({ ...report, family: 'turnstile' })],
    ['a JSON array', JSON.stringify([report])],
    ['JSON null', 'null'],
  ])('refuses a probe report with %s', (_name, detail) => {
    expect(parseDetail(detail, isProbeReport)).toBeNull();
  });

  it('a deliver request: bounded token, safe callback path', () => {
    const request = { family: 'recaptcha', token: 'tok', siteKey: SITE_KEY, widgetId: 0, callback: 'app.onDone', v3: false };
    expect(parseDetail(JSON.stringify(request), isDeliverRequest)).toEqual(request);
    expect(parseDetail(JSON.stringify({ ...request, callback: 'constructor["constructor"]' }), isDeliverRequest)).toBeNull();
    expect(parseDetail(JSON.stringify({ ...request, token: 't'.repeat(20_001) }), isDeliverRequest)).toBeNull();
    expect(parseDetail(JSON.stringify({ ...request, v3: undefined }), isDeliverRequest)).toBeNull();
  });
});
