/**
 * The background side of the image flows (src/background/image.ts): a task only as the answer
 * to a request the background made, from that tab and frame, once; the round bound of a
 * FunCaptcha image challenge; remembered image/field pairs per site; images fitted to the
 * service's size limits.
 */
import { describe, expect, it } from 'vitest';
import { CHALLENGE_TTL_MS, fitImage, ImageFlows, MAX_REMEMBERED_SITES, PAIRS_KEY, PICK_TTL_MS, type ImageStartRequest, type Picture, type Sender } from '../../src/background/image';
import { IMAGE_MAX_BYTES, isImageBody } from '../../src/shared/captcha';
import type { BackgroundToContentMessage, ImageRoundMessage, ImageTextMessage, SolveReply } from '../../src/shared/messages';
import type { TaskState } from '../../src/shared/tasks';

/** chrome.storage-like: whole values, copied on the way in and out. */
class MemoryArea {
  data: Record<string, unknown> = {};
  async get(key: string): Promise<Record<string, unknown>> {
    return key in this.data ? { [key]: structuredClone(this.data[key]) } : {};
  }
  async set(items: Record<string, unknown>): Promise<void> {
    for (const [key, value] of Object.entries(items)) this.data[key] = structuredClone(value);
  }
}

/** `bytes` bytes of base64 (valid padding), standing for an image of that size. */
const body = (bytes: number): string => Buffer.alloc(bytes, 7).toString('base64');

const PAGE = 'https://shop.example.com/signup';
const GAME = 'https://client-api.arkoselabs.com/fc/assets/game.html';

class World {
  now = 1_000_000;
  readonly session = new MemoryArea();
  readonly local = new MemoryArea();
  readonly sent: { tabId: number; frameId?: number; message: BackgroundToContentMessage }[] = [];
  /** Frames whose image flows were loaded before they were asked. */
  readonly prepared: { tabId: number; frameId: number }[] = [];
  readonly started: ImageStartRequest[] = [];
  readonly failed: { request: Omit<ImageStartRequest, 'image'>; code: string }[] = [];
  /** What frames answer to image-start (per frame id; 'all' for a message to the whole tab). */
  answer: (frameId: number | undefined) => unknown = () => ({ started: true });
  states = new Map<string, TaskState>();
  maxRounds = 3;
  private ids = 0;
  readonly flows = new ImageFlows({
    session: this.session as never,
    local: this.local as never,
    now: () => this.now,
    newId: () => `request-${++this.ids}-0000`,
    send: async (tabId, message, frameId) => {
      this.sent.push({ tabId, frameId, message });
      const reply = this.answer(frameId);
      if (reply instanceof Error) throw reply;
      return reply;
    },
    prepare: async (tabId, frameId) => void this.prepared.push({ tabId, frameId }),
    settings: async () => ({ numeric: false, caseSensitive: false, math: false, threshold: 0, maxRounds: this.maxRounds }),
    start: async (request): Promise<SolveReply> => {
      this.started.push(request);
      this.states.set(request.captcha.id, 'solving');
      return { ok: true, taskId: `task-${this.started.length}` };
    },
    fail: async (request, code) => {
      this.failed.push({ request, code });
    },
    taskState: async (captchaId) => this.states.get(captchaId),
    sleep: async (ms) => {
      this.now += ms;
    },
    decode: async () => {
      throw new Error('no codec in this test');
    },
  });

  lastRequestId(): string {
    const message = this.sent.at(-1)?.message;
    if (message?.type !== 'image-start') throw new Error('no image-start sent');
    return message.requestId;
  }
}

const top: Sender = { tabId: 5, frameId: 0, url: PAGE };
const text = (requestId: string, extra: Partial<ImageTextMessage> = {}): ImageTextMessage => ({
  type: 'image-text',
  requestId,
  captchaId: 'img-1',
  body: body(2_000),
  ...extra,
});
const round = (requestId: string, captchaId: string, extra: Partial<ImageRoundMessage> = {}): ImageRoundMessage => ({
  type: 'image-round',
  requestId,
  captchaId,
  instruction: ' Pick the image that is the correct way up ',
  tiles: 6,
  body: body(3_000),
  ...extra,
});

describe('text image requests', () => {
  it('the popup action asks the top frame, and the answer to it starts one task with the image', async () => {
    const w = new World();
    expect(await w.flows.pick(5, 0, 'pick')).toEqual({ ok: true });
    expect(w.sent).toEqual([{ tabId: 5, frameId: 0, message: { type: 'image-start', requestId: w.lastRequestId(), mode: 'pick' } }]);
    const reply = await w.flows.onText(top, text(w.lastRequestId()));
    expect(reply).toEqual({ ok: true, taskId: 'task-1' });
    expect(w.started).toEqual([{ tabId: 5, frameId: 0, websiteURL: PAGE, captcha: { family: 'image-text', id: 'img-1' }, image: body(2_000) }]);
    // Used up: the same answer again makes nothing.
    expect(await w.flows.onText(top, text(w.lastRequestId(), { captchaId: 'img-2' }))).toMatchObject({ ok: false, error: { code: 'CAPTCHA_NOT_FOUND' } });
    expect(w.started).toHaveLength(1);
  });

  it('the image menu names the frame and the image URL the browser reported', async () => {
    const w = new World();
    await w.flows.pick(5, 3, 'menu', 'https://shop.example.com/captcha.png');
    expect(w.sent[0]).toMatchObject({ frameId: 3, message: { mode: 'menu', srcUrl: 'https://shop.example.com/captcha.png' } });
    expect(await w.flows.onText({ ...top, frameId: 0 }, text(w.lastRequestId()))).toMatchObject({ ok: false });
    expect(await w.flows.onText({ ...top, frameId: 3 }, text(w.lastRequestId()))).toMatchObject({ ok: true });
  });

  it.each<[string, Sender]>([
    ['another tab', { ...top, tabId: 6 }],
    ['another frame', { ...top, frameId: 2 }],
  ])('refuses an answer from %s', async (_name, from) => {
    const w = new World();
    await w.flows.pick(5, 0, 'pick');
    expect(await w.flows.onText(from, text(w.lastRequestId()))).toMatchObject({ ok: false, error: { code: 'CAPTCHA_NOT_FOUND' } });
    expect(w.started).toEqual([]);
  });

  it('refuses an answer nobody asked for, and one that came too late', async () => {
    const w = new World();
    expect(await w.flows.onText(top, text('request-made-up-0000'))).toMatchObject({ ok: false });
    await w.flows.pick(5, 0, 'pick');
    w.now += PICK_TTL_MS;
    expect(await w.flows.onText(top, text(w.lastRequestId()))).toMatchObject({ ok: false });
    expect(w.started).toEqual([]);
  });

  it('a tab that cannot be reached, or a frame that does not take the request, is an error and leaves nothing open', async () => {
    const w = new World();
    w.answer = () => new Error('Could not establish connection. Receiving end does not exist.');
    expect(await w.flows.pick(5, 0, 'pick')).toMatchObject({ ok: false, error: { code: 'PAGE_UNREACHABLE' } });
    w.answer = () => ({ started: false });
    expect(await w.flows.pick(5, 0, 'pick')).toMatchObject({ ok: false, error: { code: 'IMAGE_UNREADABLE' } });
    expect(await w.flows.onText(top, text('request-1-0000'))).toMatchObject({ ok: false });
    expect(await w.flows.onText(top, text('request-2-0000'))).toMatchObject({ ok: false });
  });

  it('remembers the pair per site (no image data) and tells it only to a frame with a request open', async () => {
    const w = new World();
    const pair = { image: '#captcha-image', field: 'input[name="captcha"]' };
    await w.flows.pick(5, 0, 'pick');
    const first = w.lastRequestId();
    expect(await w.flows.recall(top, first)).toEqual({});
    await w.flows.onText(top, text(first, { pair }));
    expect(Object.keys(w.local.data[PAIRS_KEY] as object)).toEqual(['shop.example.com']);
    expect(JSON.stringify(w.local.data)).not.toContain(body(2_000));
    // The request is used up; a new one may ask, from the same site only.
    expect(await w.flows.recall(top, first)).toEqual({});
    await w.flows.pick(5, 0, 'pick');
    expect(await w.flows.recall(top, w.lastRequestId())).toEqual({ pair });
    expect(await w.flows.recall({ ...top, url: 'https://other.example.org/' }, w.lastRequestId())).toEqual({});
    expect(await w.flows.recall({ ...top, tabId: 9 }, w.lastRequestId())).toEqual({});
  });

  it(`keeps the ${MAX_REMEMBERED_SITES} most recently used sites`, async () => {
    const w = new World();
    for (let i = 0; i <= MAX_REMEMBERED_SITES; i++) {
      w.now += 1;
      await w.flows.pick(5, 0, 'pick');
      await w.flows.onText({ ...top, url: `https://site${i}.example/` }, text(w.lastRequestId(), { pair: { image: 'img', field: 'input' } }));
    }
    const sites = Object.keys(w.local.data[PAIRS_KEY] as object);
    expect(sites).toHaveLength(MAX_REMEMBERED_SITES);
    expect(sites).not.toContain('site0.example');
    expect(sites).toContain(`site${MAX_REMEMBERED_SITES}.example`);
  });

  it('an image over the limit is fitted before the task; one that cannot be read starts nothing, and says so', async () => {
    const w = new World();
    await w.flows.pick(5, 0, 'pick');
    expect(await w.flows.onText(top, text(w.lastRequestId(), { body: body(IMAGE_MAX_BYTES + 3) }))).toMatchObject({ ok: false, error: { code: 'IMAGE_UNREADABLE' } });
    expect(w.started).toEqual([]);
    expect(w.failed).toEqual([{ request: { tabId: 5, frameId: 0, websiteURL: PAGE, captcha: { family: 'image-text', id: 'img-1' } }, code: 'IMAGE_UNREADABLE' }]);
  });

  it('a picked image the page would not give up (image-end unreadable) shows as a failed request; a cancel does not', async () => {
    const w = new World();
    await w.flows.pick(5, 0, 'pick');
    await w.flows.onEnd(top, { type: 'image-end', requestId: w.lastRequestId(), reason: 'cancelled' });
    await w.flows.pick(5, 0, 'pick');
    const id = w.lastRequestId();
    await w.flows.onEnd({ ...top, tabId: 8 }, { type: 'image-end', requestId: id, reason: 'unreadable' });
    expect(w.failed).toEqual([]);
    await w.flows.onEnd(top, { type: 'image-end', requestId: id, reason: 'unreadable' });
    await w.flows.onEnd(top, { type: 'image-end', requestId: id, reason: 'unreadable' });
    expect(w.failed).toEqual([{ request: { tabId: 5, frameId: 0, websiteURL: PAGE, captcha: { family: 'image-text', id } }, code: 'IMAGE_UNREADABLE' }]);
    expect(w.started).toEqual([]);
  });
});

describe('FunCaptcha image challenge requests', () => {
  async function open(w: World): Promise<string> {
    w.answer = (frameId) => (frameId === 7 ? { started: true } : undefined);
    expect(await w.flows.challenge(5, 7)).toEqual({ ok: true });
    // Sent to the one frame the background chose (Arkose's), and to no other.
    expect(w.sent.at(-1)).toMatchObject({ tabId: 5, frameId: 7, message: { type: 'image-start', mode: 'challenge' } });
    expect(w.sent.filter((m) => m.message.type === 'image-start').every((m) => m.frameId === 7)).toBe(true);
    // Its image flows were loaded into that frame first, and into no other.
    expect(w.prepared.at(-1)).toEqual({ tabId: 5, frameId: 7 });
    expect(w.prepared.every((p) => p.frameId === 7)).toBe(true);
    return w.lastRequestId();
  }
  const game: Sender = { tabId: 5, frameId: 7, url: GAME };

  it('starts one task per round, numbered, with the instruction, until the user’s bound', async () => {
    const w = new World();
    const id = await open(w);
    for (const n of [1, 2, 3]) {
      expect(await w.flows.onRound(game, round(id, `fci-${n}`))).toMatchObject({ ok: true });
      expect(w.started.at(-1)).toEqual({
        tabId: 5,
        frameId: 7,
        websiteURL: GAME,
        captcha: { family: 'funcaptcha-image', id: `fci-${n}`, instruction: 'Pick the image that is the correct way up', tiles: 6, round: n, maxRounds: 3 },
        image: body(3_000),
      });
      w.states.set(`fci-${n}`, 'delivered');
    }
    // The frame says there is a fourth round: the bound holds, and the request is over.
    expect(await w.flows.onRound(game, round(id, 'fci-4'))).toMatchObject({ ok: false, error: { code: 'ROUND_LIMIT' } });
    expect(await w.flows.onRound(game, round(id, 'fci-5'))).toMatchObject({ ok: false, error: { code: 'CHALLENGE_NOT_FOUND' } });
    expect(w.started).toHaveLength(3);
    // The popup shows why it stopped, once, as the last allowed round.
    expect(w.failed).toEqual([
      {
        request: {
          tabId: 5,
          frameId: 7,
          websiteURL: GAME,
          captcha: { family: 'funcaptcha-image', id: 'fci-4', instruction: 'Pick the image that is the correct way up', tiles: 6, round: 3, maxRounds: 3 },
        },
        code: 'ROUND_LIMIT',
      },
    ]);
  });

  it('a challenge that ends unread or stuck shows as a failed round; one that completes or is cancelled does not', async () => {
    const w = new World();
    const ends: [string, string | null][] = [
      ['done', null],
      ['cancelled', null],
      ['unreadable', 'IMAGE_UNREADABLE'],
      ['stuck', 'CHALLENGE_STUCK'],
    ];
    for (const [reason, code] of ends) {
      const id = await open(w);
      await w.flows.onRound(game, round(id, `fci-${reason}`));
      w.states.set(`fci-${reason}`, 'delivered');
      const before = w.failed.length;
      await w.flows.onEnd(game, { type: 'image-end', requestId: id, reason: reason as 'done' });
      // Said once: the request is over, a repeat of the message finds nothing.
      await w.flows.onEnd(game, { type: 'image-end', requestId: id, reason: reason as 'done' });
      expect(w.failed.slice(before)).toEqual(
        code ? [{ request: { tabId: 5, frameId: 7, websiteURL: GAME, captcha: { family: 'funcaptcha-image', id, instruction: '', tiles: 2, round: 2, maxRounds: 3 } }, code }] : [],
      );
    }
    // Another frame cannot end the request, so it cannot put a failure in the popup either.
    const id = await open(w);
    await w.flows.onEnd({ ...game, frameId: 8 }, { type: 'image-end', requestId: id, reason: 'stuck' });
    expect(w.failed).toHaveLength(2);
  });

  it('a round whose picture is no image ends the challenge with IMAGE_UNREADABLE in the popup', async () => {
    const w = new World();
    const id = await open(w);
    expect(await w.flows.onRound(game, { ...round(id, 'fci-1'), body: 'not-an-image' })).toMatchObject({ ok: false, error: { code: 'IMAGE_UNREADABLE' } });
    expect(w.started).toEqual([]);
    expect(w.failed).toMatchObject([{ request: { captcha: { family: 'funcaptcha-image', id: 'fci-1', round: 1, maxRounds: 3 } }, code: 'IMAGE_UNREADABLE' }]);
    expect(await w.flows.onRound(game, round(id, 'fci-2'))).toMatchObject({ ok: false, error: { code: 'CHALLENGE_NOT_FOUND' } });
  });

  it('takes rounds only from the frame it was made to: another frame answering first gets nothing', async () => {
    const w = new World();
    const id = await open(w);
    // An ad frame in the same tab that learnt the request id cannot take the first round.
    expect(await w.flows.onRound({ ...game, frameId: 8, url: 'https://ads.example/ad.html' }, round(id, 'fci-0'))).toMatchObject({ ok: false });
    expect(w.started).toEqual([]);
    await w.flows.onRound(game, round(id, 'fci-1'));
    w.states.set('fci-1', 'delivered');
    expect(await w.flows.onRound({ ...game, frameId: 8 }, round(id, 'fci-2'))).toMatchObject({ ok: false });
    expect(await w.flows.onRound({ ...game, tabId: 6 }, round(id, 'fci-2'))).toMatchObject({ ok: false });
    expect(w.started).toHaveLength(1);
  });

  it('a round waits for the previous answer to be in the page; a failed round ends the request', async () => {
    const w = new World();
    const id = await open(w);
    await w.flows.onRound(game, round(id, 'fci-1'));
    // Still solving: the frame cannot have clicked anything yet.
    expect(await w.flows.onRound(game, round(id, 'fci-2'))).toMatchObject({ ok: false });
    // Being delivered: the next round is let through once the delivery is recorded.
    w.states.set('fci-1', 'ready');
    const waiting = w.flows.onRound(game, round(id, 'fci-2'));
    w.states.set('fci-1', 'delivered');
    expect(await waiting).toMatchObject({ ok: true });
    w.states.set('fci-2', 'failed');
    expect(await w.flows.onRound(game, round(id, 'fci-3'))).toMatchObject({ ok: false });
    expect(w.started.map((r) => r.captcha.id)).toEqual(['fci-1', 'fci-2']);
  });

  it('no frame showing a challenge is CHALLENGE_NOT_FOUND, and nothing stays open', async () => {
    const w = new World();
    w.answer = () => undefined;
    expect(await w.flows.challenge(5, 7)).toMatchObject({ ok: false, error: { code: 'CHALLENGE_NOT_FOUND' } });
    expect(await w.flows.onRound(game, round(w.lastRequestId(), 'fci-1'))).toMatchObject({ ok: false });
  });

  it('ends with the page (image-end), the tab (closed or reloaded), or time', async () => {
    const w = new World();
    let id = await open(w);
    await w.flows.onEnd(game, { type: 'image-end', requestId: id, reason: 'done' });
    expect(await w.flows.onRound(game, round(id, 'fci-1'))).toMatchObject({ ok: false });
    id = await open(w);
    await w.flows.dropTab(5);
    expect(await w.flows.onRound(game, round(id, 'fci-1'))).toMatchObject({ ok: false });
    id = await open(w);
    w.now += CHALLENGE_TTL_MS;
    expect(await w.flows.onRound(game, round(id, 'fci-1'))).toMatchObject({ ok: false });
    expect(w.started).toEqual([]);
  });

  it('image-end from another tab does not end the request', async () => {
    const w = new World();
    const id = await open(w);
    await w.flows.onEnd({ ...game, tabId: 9 }, { type: 'image-end', requestId: id, reason: 'cancelled' });
    expect(await w.flows.onRound(game, round(id, 'fci-1'))).toMatchObject({ ok: true });
  });
});

describe('fitting images to the service (100 B – 50 KB)', () => {
  /** A fake picture whose JPEG size follows its pixel count and quality. */
  const picture = (width: number, height: number, log: string[] = []): Picture => ({
    width,
    height,
    jpeg: async (w, h, quality) => {
      log.push(`${w}x${h}@${quality}`);
      return body(Math.round(w * h * quality * 0.5));
    },
  });

  it('sends an image that fits as it is, without decoding it', async () => {
    const image = body(20_000);
    expect(await fitImage(image, () => Promise.reject(new Error('must not decode')))).toBe(image);
  });

  it('recompresses a big image as JPEG at falling quality, then smaller, until it fits', async () => {
    const log: string[] = [];
    const fitted = await fitImage(body(400_000), async () => picture(960, 320, log));
    expect(fitted).not.toBeNull();
    expect(isImageBody(fitted)).toBe(true);
    expect(log[0]).toBe('960x320@0.9');
    expect(log.at(-1)).not.toBe('960x320@0.9');
  });

  it('gives up on what is no picture, and on a picture too small to reach the minimum', async () => {
    expect(await fitImage(body(60_000), () => Promise.reject(new Error('not an image')))).toBeNull();
    expect(await fitImage(body(10), async () => picture(2, 2))).toBeNull();
  });
});
