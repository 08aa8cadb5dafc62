/**
 * The background side of the image flows: a text image the user picked (ImageToTextTask) and
 * the rounds of a FunCaptcha image challenge (ComplexImageTask, class "funcaptcha").
 *
 * Only the popup's image actions and the image context menu start a request. The request is
 * stored (storage.session) with its tab and frame before the page is asked; what a content
 * script sends back counts only as the answer to such a request, from that tab and frame, so
 * a page can never start a paid task. A challenge request allows at most the user's number of
 * rounds, counted here: the page decides when a round is over, never how many there are.
 */
import { base64Bytes, IMAGE_MIN_BYTES, isImageBody, isImageCaptcha, type ImageCaptcha } from '../shared/captcha';
import { failed } from '../shared/errors';
import type { BackgroundToContentMessage, ImageActionReply, ImageEndMessage, ImagePair, ImageRecallReply, ImageRoundMessage, ImageTextMessage, SolveReply } from '../shared/messages';
import { isImagePair } from '../shared/messages';
import type { ImageSettings } from '../shared/settings';
import type { TaskRecord, TaskState } from '../shared/tasks';
import { isInteger, isRecord } from '../shared/validate';
import { hostOf } from '../shared/urls';
import { parseMap, StoredRecord } from './storage';
import { STORAGE } from '../shared/storage-catalogue';

/** Time to pick an image and a field. */
export const PICK_TTL_MS = 5 * 60_000;
/** A challenge request lapses this long after its last round. */
export const CHALLENGE_TTL_MS = 5 * 60_000;
/**
 * How long a round may wait for the previous round's answer to be recorded as delivered. The
 * wait ends as soon as it is (or the task ends otherwise); on a busy machine the frame's clicks
 * and its next round have come over 3 s before the delivery was stored.
 */
const PREVIOUS_ROUND_WAIT_MS = 15_000;
export const PAIRS_KEY = STORAGE.imagePairs.key;
export const MAX_REMEMBERED_SITES = 200;

export interface ImageRequest {
  tabId: number;
  /** The one frame the request was made to: only its answers count. */
  frameId: number;
  kind: 'text' | 'challenge';
  expiresAt: number;
  /** Challenge: rounds started so far, and the bound. */
  rounds: number;
  maxRounds: number;
  /** Challenge: the captcha id of the last round started. */
  lastRound?: string;
}

function isImageRequest(v: unknown): v is ImageRequest {
  return (
    isRecord(v) &&
    isInteger(v.tabId) &&
    isInteger(v.frameId) &&
    (v.kind === 'text' || v.kind === 'challenge') &&
    typeof v.expiresAt === 'number' &&
    isInteger(v.rounds) &&
    isInteger(v.maxRounds) &&
    (v.lastRound === undefined || typeof v.lastRound === 'string')
  );
}

interface RememberedPair extends ImagePair {
  at: number;
}

const isRememberedPair = (v: unknown): v is RememberedPair => isImagePair(v) && typeof (v as { at?: unknown }).at === 'number';

export interface Sender {
  tabId: number;
  frameId: number;
  url: string;
}

export interface ImageStartRequest {
  tabId: number;
  frameId: number;
  websiteURL: string;
  captcha: ImageCaptcha;
  image: string;
}

/** A decoded picture that can be written out again as a JPEG of any size (base64). */
export interface Picture {
  width: number;
  height: number;
  jpeg(width: number, height: number, quality: number): Promise<string>;
}
export type DecodeImage = (body: string) => Promise<Picture>;

function base64Of(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

/** Decodes with the worker's own image decoder, and encodes on an OffscreenCanvas. */
const decodeImage: DecodeImage = async (body) => {
  const bitmap = await createImageBitmap(new Blob([Uint8Array.from(atob(body), (c) => c.charCodeAt(0))]));
  return {
    width: bitmap.width,
    height: bitmap.height,
    async jpeg(width, height, quality) {
      const canvas = new OffscreenCanvas(width, height);
      const ctx = canvas.getContext('2d')!;
      // Transparent pixels would turn black in a JPEG; captcha text is read on white.
      ctx.fillStyle = '#fff';
      ctx.fillRect(0, 0, width, height);
      ctx.drawImage(bitmap, 0, 0, width, height);
      const blob = await canvas.convertToBlob({ type: 'image/jpeg', quality });
      return base64Of(new Uint8Array(await blob.arrayBuffer()));
    },
  };
};

/**
 * The image as the service takes it (100 B to 50 KB): as it is when it fits, else a JPEG at
 * falling quality, then smaller and smaller copies. Null when it is no picture at all.
 */
export async function fitImage(body: string, decode: DecodeImage = decodeImage): Promise<string | null> {
  if (isImageBody(body)) return body;
  let picture: Picture;
  try {
    picture = await decode(body);
  } catch {
    return null;
  }
  let scale = 1;
  for (let step = 0; step < 12; step++, scale *= 0.8) {
    const width = Math.max(1, Math.round(picture.width * scale));
    const height = Math.max(1, Math.round(picture.height * scale));
    for (const quality of [0.9, 0.75, 0.6]) {
      const jpeg = await picture.jpeg(width, height, quality);
      if (isImageBody(jpeg)) return jpeg;
      // Smaller only gets smaller: a picture this tiny cannot reach the service's minimum.
      if (base64Bytes(jpeg) < IMAGE_MIN_BYTES) return null;
    }
  }
  return null;
}

export interface ImageFlowDeps {
  session: ConstructorParameters<typeof StoredRecord>[0];
  local: ConstructorParameters<typeof StoredRecord>[0];
  now(): number;
  newId(): string;
  send(tabId: number, message: BackgroundToContentMessage, frameId: number): Promise<unknown>;
  /** Loads the frame's image flows before it is asked (they load only on the user's action). */
  prepare(tabId: number, frameId: number): Promise<void>;
  settings(): Promise<ImageSettings>;
  /** Starts the engine task (and counts it for the spending guard). */
  start(request: ImageStartRequest): Promise<SolveReply>;
  /** Records a request that failed before any task (shown in the popup and history). */
  fail(request: Omit<ImageStartRequest, 'image'>, code: string): Promise<void>;
  /** State of the latest task for a captcha id, if any. */
  taskState(captchaId: string): Promise<TaskState | undefined>;
  sleep?: (ms: number) => Promise<void>;
  /** Replaced in unit tests (no image codecs there). */
  decode?: DecodeImage;
}

export class ImageFlows {
  private readonly requests: StoredRecord<Record<string, ImageRequest>>;
  private readonly pairs: StoredRecord<Record<string, RememberedPair>>;

  constructor(private readonly deps: ImageFlowDeps) {
    this.requests = new StoredRecord(deps.session, STORAGE.imageRequests.key, parseMap(isImageRequest));
    this.pairs = new StoredRecord(deps.local, PAIRS_KEY, parseMap(isRememberedPair));
  }

  /** Popup action (mode pick, top frame) or image context menu (mode menu, the clicked frame). */
  async pick(tabId: number, frameId: number, mode: 'pick' | 'menu', srcUrl?: string): Promise<ImageActionReply> {
    const requestId = await this.open({ tabId, frameId, kind: 'text', expiresAt: this.deps.now() + PICK_TTL_MS, rounds: 0, maxRounds: 1 });
    const message: BackgroundToContentMessage = { type: 'image-start', requestId, mode };
    if (srcUrl !== undefined) message.srcUrl = srcUrl.slice(0, 8_192);
    const started = await this.ask(tabId, message, frameId);
    if (started === true) return { ok: true };
    await this.drop(requestId);
    return failed(started === false ? 'IMAGE_UNREADABLE' : 'PAGE_UNREACHABLE');
  }

  /**
   * Popup action, for the one frame showing the challenge (the background chose it: Arkose's
   * own, and the user's pick when several show one). No other frame is asked or may answer.
   */
  async challenge(tabId: number, frameId: number): Promise<ImageActionReply> {
    const { maxRounds } = await this.deps.settings();
    const requestId = await this.open({ tabId, frameId, kind: 'challenge', expiresAt: this.deps.now() + CHALLENGE_TTL_MS, rounds: 0, maxRounds });
    const started = await this.ask(tabId, { type: 'image-start', requestId, mode: 'challenge' }, frameId);
    if (started === true) return { ok: true };
    await this.drop(requestId);
    return failed(started === false ? 'CHALLENGE_NOT_FOUND' : 'PAGE_UNREACHABLE');
  }

  /** The site's remembered image and field, for a frame that has a pick open. */
  async recall(from: Sender, requestId: string): Promise<ImageRecallReply> {
    const request = (await this.requests.read())[requestId];
    if (!request || !this.belongs(request, from, 'text')) return {};
    const pair = (await this.pairs.read())[hostOf(from.url)];
    return pair ? { pair: { image: pair.image, field: pair.field } } : {};
  }

  async onText(from: Sender, message: ImageTextMessage): Promise<SolveReply> {
    // One task per request: the request is used up here.
    const request = await this.requests.mutate((requests) => {
      this.prune(requests);
      const found = requests[message.requestId];
      if (!found || !this.belongs(found, from, 'text')) return null;
      delete requests[message.requestId];
      return found;
    });
    if (!request) return failed('CAPTCHA_NOT_FOUND');
    const image = await fitImage(message.body, this.deps.decode);
    if (!image) {
      await this.deps.fail({ tabId: from.tabId, frameId: from.frameId, websiteURL: from.url, captcha: { family: 'image-text', id: message.captchaId } }, 'IMAGE_UNREADABLE');
      return failed('IMAGE_UNREADABLE');
    }
    if (message.pair) await this.remember(hostOf(from.url), message.pair);
    return this.deps.start({
      tabId: from.tabId,
      frameId: from.frameId,
      websiteURL: from.url,
      captcha: { family: 'image-text', id: message.captchaId },
      image,
    });
  }

  async onRound(from: Sender, message: ImageRoundMessage): Promise<SolveReply> {
    const before = (await this.requests.read())[message.requestId];
    if (!before || !this.belongs(before, from, 'challenge')) return failed('CHALLENGE_NOT_FOUND');
    // The previous round's answer must be in the page first: rounds never overlap.
    if (before.lastRound !== undefined && !(await this.delivered(before.lastRound))) return failed('CHALLENGE_NOT_FOUND');
    const image = await fitImage(message.body, this.deps.decode);
    const outcome = await this.requests.mutate((requests): { round: number; maxRounds: number } | { error: string } => {
      this.prune(requests);
      const run = requests[message.requestId];
      if (!run || !this.belongs(run, from, 'challenge') || run.lastRound !== before.lastRound) return { error: 'CHALLENGE_NOT_FOUND' };
      // Past the user's bound, or nothing to send: the request is over.
      if (run.rounds >= run.maxRounds || !image) {
        delete requests[message.requestId];
        return { error: image ? 'ROUND_LIMIT' : 'IMAGE_UNREADABLE' };
      }
      run.rounds += 1;
      run.lastRound = message.captchaId;
      run.expiresAt = this.deps.now() + CHALLENGE_TTL_MS;
      return { round: run.rounds, maxRounds: run.maxRounds };
    });
    if ('error' in outcome) {
      // A round refused for the user's bound or an unreadable picture ends the challenge: the popup says why.
      if (outcome.error !== 'CHALLENGE_NOT_FOUND') await this.failChallenge(from, message.captchaId, before, outcome.error, message);
      return failed(outcome.error);
    }
    if (!image) return failed('IMAGE_UNREADABLE');
    const reply = await this.deps.start({
      tabId: from.tabId,
      frameId: from.frameId,
      websiteURL: from.url,
      captcha: {
        family: 'funcaptcha-image',
        id: message.captchaId,
        instruction: message.instruction.trim(),
        tiles: message.tiles,
        round: outcome.round,
        maxRounds: outcome.maxRounds,
      },
      image,
    });
    if (!reply.ok) await this.drop(message.requestId);
    return reply;
  }

  async onEnd(from: Sender, message: ImageEndMessage): Promise<void> {
    const ended = await this.requests.mutate((requests) => {
      const request = requests[message.requestId];
      if (!request || !(this.belongs(request, from, 'text') || this.belongs(request, from, 'challenge'))) return undefined;
      delete requests[message.requestId];
      return request;
    });
    // The user picked an image the page would not give up: say so where they look next.
    if (ended?.kind === 'text' && message.reason === 'unreadable') {
      await this.deps.fail({ tabId: from.tabId, frameId: from.frameId, websiteURL: from.url, captcha: { family: 'image-text', id: message.requestId } }, 'IMAGE_UNREADABLE');
    }
    // A challenge whose picture could not be read, or that did not move on after the clicks.
    if (ended?.kind === 'challenge' && (message.reason === 'unreadable' || message.reason === 'stuck')) {
      await this.failChallenge(from, message.requestId, ended, message.reason === 'stuck' ? 'CHALLENGE_STUCK' : 'IMAGE_UNREADABLE');
    }
  }

  /** Shows a challenge that ended without completing as a failed round in the popup. */
  private async failChallenge(from: Sender, captchaId: string, request: ImageRequest, code: string, shown?: { instruction: string; tiles: number }): Promise<void> {
    // The round it stopped at: the next one, or the last allowed when the bound stopped it.
    const round = Math.min(request.rounds + 1, request.maxRounds);
    const captcha: ImageCaptcha = {
      family: 'funcaptcha-image',
      id: captchaId,
      // The frame's round message was validated (bounded instruction, 2–16 tiles); an end message has neither.
      instruction: shown?.instruction.trim() ?? '',
      tiles: shown?.tiles ?? 2,
      round,
      maxRounds: request.maxRounds,
    };
    await this.deps.fail({ tabId: from.tabId, frameId: from.frameId, websiteURL: from.url, captcha }, code);
  }

  /** The tab closed or loaded a new document: its open requests are void. */
  async dropTab(tabId: number): Promise<void> {
    await this.requests.mutate((requests) => {
      for (const [id, request] of Object.entries(requests)) if (request.tabId === tabId) delete requests[id];
    });
  }

  /** The message that puts an image task's answer into the page. */
  deliveryMessage(task: TaskRecord): BackgroundToContentMessage | null {
    if (!isImageCaptcha(task.captcha) || !task.token) return null;
    return { type: 'deliver-image', captchaId: task.captchaId, answer: task.token };
  }

  private async open(request: ImageRequest): Promise<string> {
    const requestId = this.deps.newId();
    await this.requests.mutate((requests) => {
      this.prune(requests);
      requests[requestId] = request;
    });
    return requestId;
  }

  private async drop(requestId: string): Promise<void> {
    await this.requests.mutate((requests) => {
      delete requests[requestId];
    });
  }

  /** True: the frame took it on; false: reached, it did not; null: the frame cannot be reached. */
  private async ask(tabId: number, message: BackgroundToContentMessage, frameId: number): Promise<boolean | null> {
    try {
      await this.deps.prepare(tabId, frameId);
      const reply: unknown = await this.deps.send(tabId, message, frameId);
      return isRecord(reply) && reply.started === true;
    } catch (error) {
      // A frame that stays silent is how it says "not here".
      return /port closed|no response/i.test(String(error)) ? false : null;
    }
  }

  private belongs(request: ImageRequest, from: Sender, kind: ImageRequest['kind']): boolean {
    return request.kind === kind && request.expiresAt > this.deps.now() && request.tabId === from.tabId && request.frameId === from.frameId;
  }

  private prune(requests: Record<string, ImageRequest>): void {
    const now = this.deps.now();
    for (const [id, request] of Object.entries(requests)) if (request.expiresAt <= now) delete requests[id];
  }

  private async delivered(captchaId: string): Promise<boolean> {
    const sleep = this.deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    // The page may report the next round a moment before the last answer's delivery is stored.
    for (let waited = 0; ; waited += 100) {
      const state = await this.deps.taskState(captchaId);
      if (state === 'delivered') return true;
      if (state !== 'ready' || waited >= PREVIOUS_ROUND_WAIT_MS) return false;
      await sleep(100);
    }
  }

  private async remember(host: string, pair: ImagePair): Promise<void> {
    if (!host) return;
    const now = this.deps.now();
    await this.pairs.mutate((pairs) => {
      pairs[host] = { image: pair.image, field: pair.field, at: now };
      const hosts = Object.keys(pairs);
      if (hosts.length <= MAX_REMEMBERED_SITES) return;
      hosts.sort((a, b) => pairs[a]!.at - pairs[b]!.at);
      for (const old of hosts.slice(0, hosts.length - MAX_REMEMBERED_SITES)) delete pairs[old];
    });
  }
}
