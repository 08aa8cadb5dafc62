/**
 * The scanner under a mutation storm: it steps aside (the page pays nothing per mutation) and
 * catches up with one pass when the storm's pause ends; ordinary changes are still seen at once.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FrameAgent } from '../../src/content/agent';
import { selectorParts, STORM_PAUSE_MS, STORM_RECORDS } from '../../src/content/scanner';
import type { Captcha } from '../../src/shared/captcha';
import { quietDisabledLoading } from '../fixtures/happy-dom';
import { namedAccess } from '../fixtures/named-access';

quietDisabledLoading();

const KEY = '6LeIxAcTAAAAAJcZVRqyHh71UMIEGNQ_MXjiZKhI';
const KEY2 = '6LcAAAAAzNk8cL6j5IXAAjlsHUqJoUD-_Ydua_5Z';

function freshPage(): HTMLElement {
  const root = document.createElement('html');
  root.innerHTML = '<head></head><body><ul id="list"></ul><div id="slot"></div></body>';
  document.documentElement.remove();
  document.appendChild(root);
  return document.getElementById('list')!;
}

/**
 * The storm's pause is a timer, so the clock is the test's: time moves only when the test says,
 * however busy the machine. Mutation records still arrive as microtasks, which run on each await.
 */
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
});
afterEach(() => {
  vi.useRealTimers();
});
const wait = (ms: number) => vi.advanceTimersByTimeAsync(ms);

describe('scanner under a mutation storm', () => {
  it('finds a widget added during a storm once the pause ends, and one added after it at once', async () => {
    const list = freshPage();
    const sent: Captcha[][] = [];
    new FrameAgent((message) => sent.push(message.captchas)).start();
    const before = sent.length;

    // One task with more mutations than the storm threshold, a widget among them.
    for (let i = 0; i < STORM_RECORDS + 200; i++) list.appendChild(document.createElement('li'));
    document.getElementById('slot')!.innerHTML = `<div class="g-recaptcha" data-sitekey="${KEY}"></div>`;
    // Nothing during the pause, up to its last millisecond; the catch-up pass at its end.
    await wait(STORM_PAUSE_MS - 1);
    expect(sent.length).toBe(before);

    await wait(1);
    expect(sent.at(-1)?.map((c) => c.family === 'recaptcha' && c.siteKey)).toEqual([KEY]);

    // Back to normal: a widget added now is seen at once, with no timer.
    const count = sent.length;
    document.getElementById('slot')!.insertAdjacentHTML('beforeend', `<div class="g-recaptcha" data-sitekey="${KEY2}"></div>`);
    await wait(0);
    expect(sent.length).toBeGreaterThan(count);
    expect(sent.at(-1)?.map((c) => c.family === 'recaptcha' && c.siteKey)).toEqual([KEY, KEY2]);
  });

  it('scans an added form whose control is named nodeType (it shadows form.nodeType)', async () => {
    freshPage();
    const sent: Captcha[][] = [];
    new FrameAgent((message) => sent.push(message.captchas)).start();
    const form = document.createElement('form');
    form.innerHTML = `<input type="hidden" name="nodeType"><div class="g-recaptcha" data-sitekey="${KEY}"></div>`;
    const restore = namedAccess(form);
    try {
      expect((form as unknown as Record<string, unknown>).nodeType).not.toBe(1);
      document.getElementById('slot')!.appendChild(form);
      await wait(0);
      expect(sent.at(-1)?.map((c) => c.family === 'recaptcha' && c.siteKey)).toEqual([KEY]);
    } finally {
      restore();
    }
  });

  it('notices a widget removed during a storm', async () => {
    const list = freshPage();
    document.getElementById('slot')!.innerHTML = `<div class="g-recaptcha" data-sitekey="${KEY}"></div>`;
    const sent: Captcha[][] = [];
    new FrameAgent((message) => sent.push(message.captchas)).start();
    expect(sent.at(-1)).toHaveLength(1);
    for (let i = 0; i < STORM_RECORDS + 10; i++) list.appendChild(document.createElement('li'));
    document.getElementById('slot')!.innerHTML = '';
    await wait(STORM_PAUSE_MS - 1);
    expect(sent.at(-1)).toHaveLength(1);
    await wait(1);
    expect(sent.at(-1)).toEqual([]);
  });
});

describe('the first pass over the document, one selector part at a time', () => {
  const TURNSTILE_KEY = '0x4AAAAAAAQ9rT2kLmV7xWbZ';
  const COMPAT_KEY = '0x4AAAAAAAC3dHQ2hVt0gkXA';

  it('splits a selector list at its top-level commas only, and names the tag a part requires', () => {
    expect(selectorParts('.a, iframe[src*="x,y"] ,  input[name=\'a,b\'], div:is(.b, .c),#id, caprelay-none')).toEqual([
      { selector: '.a' },
      { selector: 'iframe[src*="x,y"]', tag: 'iframe' },
      { selector: "input[name='a,b']", tag: 'input' },
      { selector: 'div:is(.b, .c)', tag: 'div' },
      { selector: '#id' },
      { selector: 'caprelay-none', tag: 'caprelay-none' },
    ]);
  });

  it('lists the widgets that different parts of one selector find in document order', () => {
    freshPage();
    // Turnstile in reCAPTCHA compatibility mode (.g-recaptcha with a 0x key) before a .cf-turnstile.
    document.getElementById('slot')!.innerHTML = `<div class="g-recaptcha" data-sitekey="${COMPAT_KEY}"></div><p>text</p><div class="cf-turnstile" data-sitekey="${TURNSTILE_KEY}"></div>`;
    const sent: Captcha[][] = [];
    new FrameAgent((message) => sent.push(message.captchas)).start();
    expect(sent.at(-1)?.map((c) => c.family === 'turnstile' && c.siteKey)).toEqual([COMPAT_KEY, TURNSTILE_KEY]);
  });

  it('still finds a widget after more look-alikes than a part-by-part pass takes', () => {
    freshPage();
    const fakes = Array.from({ length: 250 }, () => '<div class="cf-turnstile"></div>').join('');
    document.getElementById('slot')!.innerHTML = `${fakes}<div class="cf-turnstile" data-sitekey="${TURNSTILE_KEY}"></div>`;
    const sent: Captcha[][] = [];
    new FrameAgent((message) => sent.push(message.captchas)).start();
    expect(
      sent
        .at(-1)
        ?.filter((c) => c.family === 'turnstile')
        .map((c) => c.family === 'turnstile' && c.siteKey),
    ).toEqual([TURNSTILE_KEY]);
  });
});
