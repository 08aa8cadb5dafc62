/**
 * The image flows in a frame (src/content/image/*) over happy-dom: the picker's keyboard and
 * pointer handling and its closed shadow root, selectors that find the pair again, typing that
 * frameworks notice, the FunCaptcha tile challenge read, clicked and followed round by round,
 * and what each background message gets as an answer; and all of it, with the in-page Solve
 * button, on a page whose named elements shadow the DOM members a script would call.
 *
 * happy-dom has no layout and no canvas: element boxes and the 2D context are stubbed, and
 * events it creates are untrusted, so the picker's trust check is replaced where a test acts
 * as the user (and left in place where it shows that page-made events do nothing).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// Every element shows as 120 × 40 unless it says otherwise (data-size="0" hides it). Set before
// the modules load: page-dom takes the prototype's members then, as it does in a browser.
vi.hoisted(() => {
  Element.prototype.getBoundingClientRect = function (this: Element) {
    const size = Element.prototype.getAttribute.call(this, 'data-size') === '0' ? 0 : 1;
    return { left: 10, top: 10, width: 120 * size, height: 40 * size, right: 130, bottom: 50, x: 10, y: 10, toJSON: () => ({}) };
  };
});
import { readChallenge, signature } from '../../src/content/image/challenge';
import { imageFlow } from '../../src/content/image/flow';
import { fieldCandidates, find, firstFieldAfter, imageCandidates, selectorOf, typeInto } from '../../src/content/image/page';
import { pickElement } from '../../src/content/image/picker';
import { SolveButtons } from '../../src/content/solve-button';
import type { ContentMessage } from '../../src/shared/messages';
import { quietDisabledLoading } from '../fixtures/happy-dom';
import { namedAccess } from '../fixtures/named-access';

quietDisabledLoading();

const PNG_BODY = Buffer.alloc(600, 3).toString('base64');
const always = (): boolean => true;

beforeEach(() => {
  vi.spyOn(HTMLCanvasElement.prototype, 'getContext').mockImplementation(() => ({ drawImage: () => undefined, fillRect: () => undefined }) as unknown as CanvasRenderingContext2D);
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
      .map(
        (i) => `<li><a role="button" aria-label="Image ${i + 1} of 6." style="background-image: url(https://arkose.test/sprite-${round}.png); background-position: -${(i % 3) * 100}px 0px"></a></li>`,
      )
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

  it('a request whose work fails in the page ends at once as unreadable, not at its TTL: the pick, a round, the wait for the next round', async () => {
    // Whatever throws: here the page's styles cannot be read.
    let styles: { mockRestore(): void } | undefined;
    const broken = (): void => {
      styles = vi.spyOn(globalThis, 'getComputedStyle').mockImplementation(() => {
        throw new Error('no styles');
      });
    };
    document.body.innerHTML = SIGNUP.replace('<div>', '<div style="background-image: url(https://shop.test/bg.png)">');
    broken();
    const { handle, sent } = harness({ 'image-recall': {} });
    expect(handle({ type: 'image-start', requestId: REQUEST, mode: 'pick' })).toEqual({ started: true });
    await vi.waitFor(() => expect(sent.at(-1)).toEqual({ type: 'image-end', requestId: REQUEST, reason: 'unreadable' }));
    expect(document.querySelector('caprelay-picker')).toBeNull();
    // The frame takes the next request (the failed one is over).
    expect(handle({ type: 'image-start', requestId: REQUEST, mode: 'pick' })).toEqual({ started: true });
    styles!.mockRestore();

    game(1);
    broken();
    const challenge = harness({ 'image-round': { ok: true } });
    expect(challenge.handle({ type: 'image-start', requestId: REQUEST, mode: 'challenge' })).toEqual({ started: true });
    await vi.waitFor(() => expect(challenge.sent).toEqual([{ type: 'image-end', requestId: REQUEST, reason: 'unreadable' }]));
    styles!.mockRestore();

    game(1);
    const next = harness({ 'image-round': { ok: true } });
    next.handle({ type: 'image-start', requestId: REQUEST, mode: 'challenge' });
    await vi.waitFor(() => expect(next.sent).toHaveLength(1));
    const { captchaId } = next.sent[0] as Extract<ContentMessage, { type: 'image-round' }>;
    expect(next.handle({ type: 'deliver-image', captchaId, answer: '100000' })).toMatchObject({ delivered: true });
    broken();
    await vi.waitFor(() => expect(next.sent.at(-1)).toEqual({ type: 'image-end', requestId: REQUEST, reason: 'unreadable' }));
    expect(next.sent).toHaveLength(2);
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

/**
 * A page whose named elements shadow the members a script would call (named access is emulated
 * here: happy-dom has none): images named querySelectorAll, createElement and documentElement on
 * the document, form controls named after Element's methods and getters, a form that is both a
 * picture (its background) and a field (contenteditable), a tile game whose instruction and grid
 * are forms, and a widget container that is one.
 *
 * happy-dom's forms are Proxies, which its own event dispatch cannot take as `this`; a browser's
 * forms are plain elements. So here no event is fired at a form (typing into a contenteditable
 * form, clicking a tile that is a form): those calls go through page-dom as the others do.
 */
describe('named elements that shadow DOM members', () => {
  let restore = (): void => undefined;
  afterEach(() => restore());
  const REQUEST = '0f8fad5b-d9cb-469f-a165-70867728950e';
  const hidden = (...names: string[]): string => names.map((name) => `<input type="hidden" name="${name}">`).join('');
  // The test's own reads, past whatever the page named.
  /* eslint-disable @typescript-eslint/no-deprecated, @typescript-eslint/unbound-method -- the real prototype members a named element shadows, called as the product calls them (their overloads read as deprecated) */
  const own = (el: Element, name: string): string | null => Element.prototype.getAttribute.call(el, name);
  const byId = (id: string): Element => Document.prototype.getElementById.call(document, id)!;
  const all = (selector: string): Element[] => [...Document.prototype.querySelectorAll.call(document, selector)];
  const page = (html: string): void => {
    document.body.innerHTML = html;
    restore = namedAccess();
  };

  const CLOBBERED = `
    <img name="querySelectorAll" src="https://shop.test/logo.png" alt="logo">
    <img name="createElement" data-size="0" src="https://shop.test/pixel.gif">
    <form id="signup" name="signup">
      ${hidden('matches', 'getAttribute', 'querySelector', 'querySelectorAll', 'children', 'id', 'parentElement', 'localName', 'isConnected')}
      <div><img src="https://shop.test/captcha.png" alt="captcha"></div>
      <input name="captcha" autocomplete="off">
    </form>
    <form id="notes" contenteditable="true" style="background-image: url(https://shop.test/bg.png)">
      ${hidden('getBoundingClientRect', 'isContentEditable', 'compareDocumentPosition', 'currentSrc', 'src', 'getAttribute', 'scrollIntoView')}
    </form>
    <textarea name="comment"></textarea>`;

  it('is what a browser shows: the document and the forms have the named elements in place of their members', () => {
    page(CLOBBERED);
    expect((document as unknown as Record<string, unknown>).querySelectorAll).toBe(all('img[alt=logo]')[0]);
    expect((byId('signup') as unknown as Record<string, unknown>).matches).toBe(all('input[name=matches]')[0]);
    expect(typeof (byId('notes') as unknown as Record<string, unknown>).getBoundingClientRect).toBe('object');
    restore();
    expect(typeof document.querySelectorAll).toBe('function');
  });

  it('finds the pictures and the fields, orders them, builds the selectors that find them again, and types the answer', () => {
    page(CLOBBERED);
    const images = imageCandidates();
    expect(images.map((el) => own(el, 'alt') ?? own(el, 'id'))).toEqual(['logo', 'captcha', 'notes']);
    const fields = fieldCandidates();
    expect(fields.map((el) => own(el, 'name') ?? own(el, 'id'))).toEqual(['captcha', 'notes', 'comment']);
    const [, captcha, notes] = images as [Element, Element, Element];
    expect(firstFieldAfter(captcha, fields)).toBe(0);
    expect(firstFieldAfter(notes, fields)).toBe(2);
    expect(selectorOf(captcha)).toBe('#signup>div>img');
    expect(selectorOf(fields[0]!)).toBe('#signup>input[name="captcha"]');
    expect(selectorOf(notes)).toBe('#notes');
    for (const el of [captcha, fields[0]!, notes]) expect(find(selectorOf(el)!)).toBe(el);
    const events: string[] = [];
    for (const type of ['input', 'change']) document.documentElement.addEventListener(type, (event) => events.push(`${event.type}:${own(event.target as Element, 'name')}`));
    typeInto(fields[0]!, 'W7K3P');
    expect((fields[0] as HTMLInputElement).value).toBe('W7K3P');
    expect(events).toEqual(['input:captcha', 'change:captcha']);
  });

  it('pick: the picker shows, the image and the field are chosen, captured and sent with the pair; the answer typed there', async () => {
    page(CLOBBERED);
    const sent: ContentMessage[] = [];
    const handle = imageFlow(async (message) => void sent.push(message), ['Choose the image', 'Choose the field'], always);
    expect(handle({ type: 'image-start', requestId: REQUEST, mode: 'pick' })).toEqual({ started: true });
    await vi.waitFor(() => expect(all('caprelay-picker[data-pick=image]')).toHaveLength(1));
    key('ArrowDown');
    key('Enter');
    await vi.waitFor(() => expect(all('caprelay-picker[data-pick=field]')).toHaveLength(1));
    key('Enter');
    await vi.waitFor(() => expect(sent.map((m) => m.type)).toEqual(['image-recall', 'image-text']));
    const message = sent[1] as Extract<ContentMessage, { type: 'image-text' }>;
    expect(message).toMatchObject({ body: PNG_BODY, pair: { image: '#signup>div>img', field: '#signup>input[name="captcha"]' } });
    expect(handle({ type: 'deliver-image', captchaId: message.captchaId, answer: 'W7K3P' })).toMatchObject({ delivered: true });
    expect((all('input[name=captcha]')[0] as HTMLInputElement).value).toBe('W7K3P');
  });

  it('challenge: reads the instruction and the tiles, finds the grid picture, sends the round, clicks the marked tile', async () => {
    const clicks: string[] = [];
    page(`
      <form id="game_children_text">${hidden('textContent', 'getBoundingClientRect', 'querySelectorAll')}<h2>Pick the image that is the correct way up</h2></form>
      <form id="game_children_wrapper">${hidden('contains', 'querySelector', 'parentElement', 'getBoundingClientRect')}<img src="https://arkose.test/sprite.png"><ul>${[1, 2, 3, 4, 5, 6]
        .map((i) => `<li><a role="button" aria-label="Image ${i} of 6."></a></li>`)
        .join('')}</ul></form>`);
    for (const [i, tile] of all('li>a').entries()) tile.addEventListener('click', () => clicks.push(`tile ${i}`));
    const challenge = readChallenge()!;
    expect(challenge.instruction).toBe('Pick the image that is the correct way up');
    expect(challenge.tiles.map((tile) => own(tile, 'aria-label'))).toEqual([1, 2, 3, 4, 5, 6].map((i) => `Image ${i} of 6.`));
    // The tiles have no picture of their own: it is the one in the grid's form.
    expect(signature(challenge)).toBe('Pick the image that is the correct way up\nhttps://arkose.test/sprite.png');
    const sent: ContentMessage[] = [];
    const handle = imageFlow(async (message) => (sent.push(message), { ok: true }), ['', ''], always);
    expect(handle({ type: 'image-start', requestId: REQUEST, mode: 'challenge' })).toEqual({ started: true });
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    const round = sent[0] as Extract<ContentMessage, { type: 'image-round' }>;
    expect(round).toMatchObject({ type: 'image-round', instruction: 'Pick the image that is the correct way up', tiles: 6, body: PNG_BODY });
    expect(handle({ type: 'deliver-image', captchaId: round.captchaId, answer: '000100' })).toMatchObject({ delivered: true });
    expect(clicks).toEqual(['tile 3']);
  });

  it('the in-page Solve button: placed after a container that is a form, made with the document shadowed; a trusted click solves, a page-made one does not', () => {
    page(`<img name="createElement"><img name="documentElement"><form id="w" class="g-recaptcha">${hidden('after', 'isConnected', 'parentNode', 'getRootNode')}</form><p id="next"></p>`);
    const roots: ShadowRoot[] = [];
    const attach = Element.prototype.attachShadow;
    vi.spyOn(Element.prototype, 'attachShadow').mockImplementation(function (this: Element, init: ShadowRootInit) {
      const root = attach.call(this, init);
      roots.push(root);
      return root;
    });
    const solved: string[] = [];
    const buttons = new SolveButtons(
      (state) => ({ idle: 'Solve', solving: 'Solving…', solved: 'Solved' })[state],
      (id) => solved.push(id),
    );
    const container = byId('w');
    const html = Reflect.get(Document.prototype, 'documentElement', document) as Element;
    buttons.sync([
      { captchaId: 'rc-1', container },
      // Nowhere to go: an element with no parent, and the root element.
      { captchaId: 'rc-2', container: Document.prototype.createElement.call(document, 'div') },
      { captchaId: 'rc-3', container: html },
    ]);
    expect(all('caprelay-solve')).toHaveLength(1);
    const host = container.nextElementSibling!;
    expect(host.localName).toBe('caprelay-solve');
    expect(host.nextElementSibling).toBe(byId('next'));
    const button = roots.at(-1)!.querySelector('button')!;
    expect(button.textContent).toBe('Solve');
    // A click the page makes: nothing.
    button.dispatchEvent(new MouseEvent('click', { bubbles: true, composed: true }));
    expect(solved).toEqual([]);
    // A click the browser makes (happy-dom makes no trusted events: this one says it is).
    const trustedClick = (): void => {
      const event = new MouseEvent('click', { bubbles: true, composed: true });
      Object.defineProperty(event, 'isTrusted', { value: true });
      button.dispatchEvent(event);
    };
    trustedClick();
    expect(solved).toEqual(['rc-1']);
    expect([button.textContent, button.disabled]).toEqual(['Solving…', true]);
    trustedClick();
    expect(solved).toEqual(['rc-1']);
    // The widget goes: so does its button.
    container.remove();
    buttons.sync([{ captchaId: 'rc-1', container }]);
    expect(all('caprelay-solve')).toHaveLength(0);
  });
});
