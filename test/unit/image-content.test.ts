/**
 * The image flows in a frame (src/content/image/*) over happy-dom: the picker's keyboard and
 * pointer handling and its closed shadow root, selectors that find the pair again, typing that
 * frameworks notice, the FunCaptcha tile challenge read, clicked and followed round by round,
 * and what each background message gets as an answer.
 *
 * happy-dom has no layout and no canvas: element boxes and the 2D context are stubbed, and
 * events it creates are untrusted, so the picker's trust check is replaced where a test acts
 * as the user (and left in place where it shows that page-made events do nothing).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readChallenge, signature } from '../../src/content/image/challenge';
import { imageFlow } from '../../src/content/image/flow';
import { fieldCandidates, find, firstFieldAfter, imageCandidates, selectorOf, typeInto } from '../../src/content/image/page';
import { pickElement } from '../../src/content/image/picker';
import type { ContentMessage } from '../../src/shared/messages';
import { quietDisabledLoading } from '../fixtures/happy-dom';

quietDisabledLoading();

const PNG_BODY = Buffer.alloc(600, 3).toString('base64');
const always = (): boolean => true;

beforeEach(() => {
  // Every element shows as 120 × 40 unless it says otherwise (data-size="0" hides it).
  vi.spyOn(Element.prototype, 'getBoundingClientRect').mockImplementation(function (this: Element) {
    const size = this.getAttribute('data-size') === '0' ? 0 : 1;
    return { left: 10, top: 10, width: 120 * size, height: 40 * size, right: 130, bottom: 50, x: 10, y: 10, toJSON: () => ({}) };
  });
  vi.spyOn(HTMLCanvasElement.prototype, 'getContext').mockImplementation(
    () => ({ drawImage: () => undefined, fillRect: () => undefined }) as unknown as CanvasRenderingContext2D,
  );
  vi.spyOn(HTMLCanvasElement.prototype, 'toDataURL').mockImplementation(() => `data:image/png;base64,${PNG_BODY}`);
  vi.spyOn(HTMLImageElement.prototype, 'decode').mockResolvedValue(undefined);
  vi.spyOn(HTMLImageElement.prototype, 'naturalWidth', 'get').mockReturnValue(200);
  vi.spyOn(HTMLImageElement.prototype, 'naturalHeight', 'get').mockReturnValue(70);
});

afterEach(() => {
  vi.restoreAllMocks();
  document.body.innerHTML = '';
  for (const host of document.querySelectorAll('caprelay-picker')) host.remove();
});

/** A key pressed in the page (it travels window → document → body, as a real one does). */
const key = (name: string, init: KeyboardEventInit = {}): boolean => document.body.dispatchEvent(new KeyboardEvent('keydown', { key: name, bubbles: true, cancelable: true, ...init }));
const tick = (ms = 0): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const SIGNUP = `
  <img id="logo" src="https://shop.test/logo.png" alt="logo">
  <form id="signup">
    <input name="username">
    <input type="password" name="password">
    <div><img src="https://shop.test/captcha.png" alt="captcha"></div>
    <input type="hidden" name="token">
    <input name="captcha" autocomplete="off">
    <input name="disabled" disabled>
    <input name="readonly" readonly>
    <textarea name="comment"></textarea>
    <div contenteditable="true" id="notes"></div>
  </form>`;

describe('the picker', () => {
  it('moves with Tab / arrows (both ways, wrapping), picks with Enter, and keeps those keys from the page', async () => {
    document.body.innerHTML = '<p id="a">a</p><p id="b">b</p><p id="c">c</p>';
    const candidates = [...document.querySelectorAll('p')];
    const pageKeys: string[] = [];
    document.addEventListener('keydown', (event) => pageKeys.push(event.key));
    const picked = pickElement(candidates, 'image', 'Choose', always);
    const host = document.querySelector('caprelay-picker')!;
    expect(host.getAttribute('data-pick')).toBe('image');
    // Closed: the page cannot reach the highlight or the bar.
    expect(host.shadowRoot).toBeNull();
    for (const name of ['ArrowDown', 'Tab', 'ArrowRight']) key(name); // b, c, and round to a
    key('ArrowUp'); // back round to c
    key('Tab', { shiftKey: true }); // b
    key('ArrowRight'); // c
    key('x'); // not the picker's: the page gets it
    key('Enter');
    expect(await picked).toBe(candidates[2]);
    expect(pageKeys).toEqual(['x']);
    expect(document.querySelector('caprelay-picker')).toBeNull();
  });

  it('Escape cancels; a click on (or inside) a candidate picks it', async () => {
    document.body.innerHTML = '<p id="a"><span>a</span></p><p id="b">b</p>';
    const candidates = [...document.querySelectorAll('p')];
    const cancelled = pickElement(candidates, 'field', 'Choose', always, 1);
    key('Escape');
    expect(await cancelled).toBeNull();
    const clicked = pickElement(candidates, 'field', 'Choose', always);
    let pageClicks = 0;
    document.addEventListener('click', () => pageClicks++);
    document.body.click(); // not on a candidate: the page's
    document.querySelector('span')!.click();
    expect(await clicked).toBe(candidates[0]);
    expect(pageClicks).toBe(1);
  });

  it('ignores events the page makes (untrusted), and resolves null when there is nothing to pick', async () => {
    document.body.innerHTML = '<p>a</p>';
    let settled = false;
    void pickElement([document.querySelector('p')!], 'image', 'Choose', (event) => event.isTrusted).then(() => (settled = true));
    key('Enter');
    document.querySelector('p')!.click();
    await tick();
    expect(settled).toBe(false);
    document.querySelector('caprelay-picker')!.remove();
    expect(await pickElement([], 'image', 'Choose', always)).toBeNull();
  });
});

describe('the page: candidates, selectors, typing', () => {
  it('lists pictures big enough to be a captcha, and text fields a user could type into', () => {
    document.body.innerHTML = `${SIGNUP}<img data-size="0" src="https://shop.test/pixel.gif"><div style="background-image: url(https://shop.test/bg.png)"></div><div style="background-color: red"></div>`;
    expect(imageCandidates().map((el) => el.getAttribute('alt') ?? el.getAttribute('style'))).toEqual(['logo', 'captcha', 'background-image: url(https://shop.test/bg.png)']);
    expect(fieldCandidates().map((el) => el.getAttribute('name') ?? el.id)).toEqual(['username', 'captcha', 'comment', 'notes']);
    const image = document.querySelector('img[alt=captcha]')!;
    expect(firstFieldAfter(image, fieldCandidates())).toBe(1);
  });

  it('builds selectors that find the same element again: ids, names, positions; not generated ids', () => {
    document.body.innerHTML = `${SIGNUP}<div id="w-18273645"><span></span><span><b>x</b></span></div>`;
    const image = document.querySelector('img[alt=captcha]')!;
    const field = document.querySelector('input[name=captcha]')!;
    const bold = document.querySelector('b')!;
    expect(selectorOf(image)).toBe('#signup>div:nth-of-type(1)>img');
    expect(selectorOf(field)).toBe('#signup>input[name="captcha"]');
    expect(selectorOf(bold)).not.toContain('18273645');
    for (const el of [image, field, bold]) expect(find(selectorOf(el)!)).toBe(el);
    expect(find('input')).toBeNull(); // several: not a pair any more
    expect(find('[[')).toBeNull();
  });

  it('types as a user would for frameworks: the native setter (past a tracker on the element), input and change', () => {
    document.body.innerHTML = SIGNUP;
    const field = document.querySelector('input[name=captcha]') as HTMLInputElement;
    // What React does: a tracker property on the element itself, which a plain assignment would hit.
    const tracked: string[] = [];
    Object.defineProperty(field, 'value', { configurable: true, get: () => 'stale', set: (v: string) => tracked.push(v) });
    const events: string[] = [];
    for (const type of ['input', 'change']) document.addEventListener(type, (event) => events.push(`${event.type}:${(event.target as HTMLInputElement).getAttribute('name')}`));
    typeInto(field, 'W7K3P');
    expect(tracked).toEqual([]);
    expect(Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.get!.call(field)).toBe('W7K3P');
    expect(events).toEqual(['input:captcha', 'change:captcha']);
    const notes = document.getElementById('notes')!;
    typeInto(notes, '42');
    expect(notes.textContent).toBe('42');
  });
});

/** Arkose's tile game: an instruction and six tiles cut from one sprite. */
function game(round: number, instruction = 'Pick the image that is the correct way up'): string[] {
  const clicks: string[] = [];
  document.body.innerHTML = `
    <div id="game_children_text"><h2>${instruction}</h2></div>
    <div id="game_children_wrapper"><ul>${[0, 1, 2, 3, 4, 5]
      .map((i) => `<li><a role="button" aria-label="Image ${i + 1} of 6." style="background-image: url(https://arkose.test/sprite-${round}.png); background-position: -${(i % 3) * 100}px 0px"></a></li>`)
      .join('')}</ul></div>`;
  document.querySelectorAll('#game_children_wrapper a').forEach((tile, i) => tile.addEventListener('click', () => clicks.push(`${round}:${i}`)));
  return clicks;
}

describe('the FunCaptcha tile challenge', () => {
  it('reads the instruction and the six tiles in order; the signature follows the picture', () => {
    game(1, '  Pick the   image\n that is the correct way up ');
    const challenge = readChallenge()!;
    expect(challenge.instruction).toBe('Pick the image that is the correct way up');
    expect(challenge.tiles.map((t) => t.getAttribute('aria-label'))).toEqual([1, 2, 3, 4, 5, 6].map((i) => `Image ${i} of 6.`));
    const first = signature(challenge);
    game(2, '  Pick the   image\n that is the correct way up ');
    expect(signature(readChallenge()!)).not.toBe(first);
  });

  it('is absent without tiles, without an instruction, or with one tile only', () => {
    document.body.innerHTML = '<h2>Log in</h2><button aria-label="Image 1 of 1.">x</button>';
    expect(readChallenge()).toBeNull();
    game(1, '');
    expect(readChallenge()).toBeNull();
  });
});

describe('imageFlow: the frame side of each request', () => {
  function harness(replies: Partial<Record<ContentMessage['type'], unknown>> = {}) {
    const sent: ContentMessage[] = [];
    const send = async (message: ContentMessage): Promise<unknown> => {
      sent.push(message);
      return replies[message.type];
    };
    const handle = imageFlow(send, ['Choose the image', 'Choose the field'], always);
    return { sent, handle };
  }
  const REQUEST = '0f8fad5b-d9cb-469f-a165-70867728950e';

  it('answers only its own messages; a frame without a challenge stays silent', () => {
    const { handle, sent } = harness();
    document.body.innerHTML = SIGNUP;
    expect(handle({ type: 'deliver-token', captchaId: 'x', token: 't' })).toBeUndefined();
    expect(handle({ type: 'image-start', requestId: REQUEST, mode: 'challenge' })).toBeUndefined();
    expect(handle({ type: 'image-start', requestId: 'bad id!', mode: 'pick' })).toBeUndefined();
    expect(handle({ type: 'deliver-image', captchaId: 'unknown', answer: 'abc' })).toMatchObject({ delivered: false });
    expect(sent).toEqual([]);
  });

  it('pick: image, then field (starting after the image), captured and sent with the pair; the answer typed there', async () => {
    document.body.innerHTML = SIGNUP;
    const { handle, sent } = harness({ 'image-recall': {}, 'image-text': { ok: true } });
    expect(handle({ type: 'image-start', requestId: REQUEST, mode: 'pick' })).toEqual({ started: true });
    // One picker at a time.
    expect(handle({ type: 'image-start', requestId: REQUEST, mode: 'pick' })).toEqual({ started: false });
    await vi.waitFor(() => expect(document.querySelector('caprelay-picker[data-pick=image]')).not.toBeNull());
    key('ArrowDown');
    key('Enter');
    await vi.waitFor(() => expect(document.querySelector('caprelay-picker[data-pick=field]')).not.toBeNull());
    key('Enter');
    await vi.waitFor(() => expect(sent.map((m) => m.type)).toEqual(['image-recall', 'image-text']));
    const message = sent[1] as Extract<ContentMessage, { type: 'image-text' }>;
    expect(message).toMatchObject({ requestId: REQUEST, body: PNG_BODY, pair: { image: '#signup>div:nth-of-type(1)>img', field: '#signup>input[name="captcha"]' } });
    expect(handle({ type: 'deliver-image', captchaId: message.captchaId, answer: 'W7K3P' })).toEqual({ delivered: true, fieldsFilled: 1, callback: 'none' });
    expect((document.querySelector('input[name=captcha]') as HTMLInputElement).value).toBe('W7K3P');
    // Delivered once: a second delivery for the same id finds nothing.
    expect(handle({ type: 'deliver-image', captchaId: message.captchaId, answer: 'W7K3P' })).toMatchObject({ delivered: false });
  });

  it('pick with a remembered pair: no picker at all', async () => {
    document.body.innerHTML = SIGNUP;
    const { handle, sent } = harness({ 'image-recall': { pair: { image: '#signup>div:nth-of-type(1)>img', field: '#signup>input[name="captcha"]' } } });
    handle({ type: 'image-start', requestId: REQUEST, mode: 'pick' });
    await vi.waitFor(() => expect(sent.map((m) => m.type)).toEqual(['image-recall', 'image-text']));
    expect(document.querySelector('caprelay-picker')).toBeNull();
  });

  it('menu: the image by its URL; an image not on the page ends the request as unreadable', async () => {
    document.body.innerHTML = SIGNUP;
    const { handle, sent } = harness({ 'image-recall': {} });
    handle({ type: 'image-start', requestId: REQUEST, mode: 'menu', srcUrl: 'https://shop.test/elsewhere.png' });
    await vi.waitFor(() => expect(sent.at(-1)).toEqual({ type: 'image-end', requestId: REQUEST, reason: 'unreadable' }));
    handle({ type: 'image-start', requestId: REQUEST, mode: 'menu', srcUrl: 'https://shop.test/captcha.png' });
    await vi.waitFor(() => expect(document.querySelector('caprelay-picker[data-pick=field]')).not.toBeNull());
    key('Escape');
    await vi.waitFor(() => expect(sent.at(-1)).toEqual({ type: 'image-end', requestId: REQUEST, reason: 'cancelled' }));
  });

  it('challenge: each round sent, the marked tile clicked, the next round followed, the end reported', async () => {
    const clicks = game(1);
    const { handle, sent } = harness({ 'image-round': { ok: true } });
    expect(handle({ type: 'image-start', requestId: REQUEST, mode: 'challenge' })).toEqual({ started: true });
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    const first = sent[0] as Extract<ContentMessage, { type: 'image-round' }>;
    expect(first).toMatchObject({ type: 'image-round', requestId: REQUEST, instruction: 'Pick the image that is the correct way up', tiles: 6, body: PNG_BODY });
    // A correct click shows the next round.
    document.querySelectorAll('#game_children_wrapper a')[3]!.addEventListener('click', () => void game(2));
    expect(handle({ type: 'deliver-image', captchaId: first.captchaId, answer: '000100' })).toMatchObject({ delivered: true });
    expect(clicks).toEqual(['1:3']);
    await vi.waitFor(() => expect(sent).toHaveLength(2), { timeout: 3_000 });
    const second = sent[1] as Extract<ContentMessage, { type: 'image-round' }>;
    expect(second).toMatchObject({ type: 'image-round', requestId: REQUEST, tiles: 6 });
    expect(second.captchaId).not.toBe(first.captchaId);
    // The last round: the tiles go away for good.
    document.querySelector('#game_children_wrapper')!.addEventListener('click', () => (document.body.innerHTML = '<p>Verification complete.</p>'));
    expect(handle({ type: 'deliver-image', captchaId: second.captchaId, answer: '100000' })).toMatchObject({ delivered: true });
    await vi.waitFor(() => expect(sent.at(-1)).toEqual({ type: 'image-end', requestId: REQUEST, reason: 'done' }), { timeout: 4_000 });
    expect(sent).toHaveLength(3);
  });

  it('challenge: an answer for pictures no longer shown clicks nothing; a refused round drops its tiles', async () => {
    game(1);
    const { handle, sent } = harness({ 'image-round': { ok: false } });
    handle({ type: 'image-start', requestId: REQUEST, mode: 'challenge' });
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    const { captchaId } = sent[0] as Extract<ContentMessage, { type: 'image-round' }>;
    await tick();
    expect(handle({ type: 'deliver-image', captchaId, answer: '100000' })).toMatchObject({ delivered: false });
    expect(handle({ type: 'deliver-image', captchaId, answer: 'abc' })).toMatchObject({ delivered: false });

    const { handle: handle2, sent: sent2 } = harness({ 'image-round': { ok: true } });
    handle2({ type: 'image-start', requestId: REQUEST, mode: 'challenge' });
    await vi.waitFor(() => expect(sent2).toHaveLength(1));
    const clicks = game(2); // the page moved on before the answer came
    expect(handle2({ type: 'deliver-image', captchaId: (sent2[0] as { captchaId: string }).captchaId, answer: '100000' })).toMatchObject({ delivered: false });
    expect(clicks).toEqual([]);
  });
});
