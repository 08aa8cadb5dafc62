/**
 * The image flows in one frame. It acts only when the background asks (image-start), and what
 * it sends back answers that request: the background decides whether a task is made. It keeps
 * the chosen field or tiles per captcha id, so the answer lands where the user pointed.
 */
import {
  isDeliverImageMessage,
  isImageStartMessage,
  type ContentMessage,
  type DeliveryReport,
  type ImageEndReason,
  type ImagePair,
  type ImageStartMessage,
  type ImageStartReply,
} from '../../shared/messages';
import { connected } from '../../page-dom/dom';
import { captureElement, imageUrlOf } from './capture';
import { captureChallenge, clickTiles, nextRound, readChallenge, signature, type Challenge } from './challenge';
import { fieldCandidates, find, firstFieldAfter, imageCandidates, selectorOf, typeInto } from './page';
import { pickElement } from './picker';

export type Send = (message: ContentMessage) => Promise<unknown>;

/** Where an answer goes: a field, or the tiles of one round (with its request, and how the round looked). */
type Target = Element | [Challenge, string, string];

const report = (delivered: boolean): DeliveryReport => ({ delivered, fieldsFilled: +delivered, callback: 'none' });

/**
 * Returns the frame's handler for image messages: it answers those, and gives no answer to
 * anything else (nor to a challenge request in a frame that shows none).
 * `hints`: the picker's bar texts for the image and the field; `trusted` tells user input
 * from page-made events (replaced in unit tests).
 */
export function imageFlow(send: Send, hints: [string, string], trusted = (event: Event): boolean => event.isTrusted): (message: unknown) => object | undefined {
  const targets = new Map<string, Target>();
  let picking = false;
  const tell = (message: ContentMessage): Promise<unknown> => send(message).catch(() => undefined);
  const end = (requestId: string, reason: ImageEndReason): void => void tell({ type: 'image-end', requestId, reason });
  // Whatever the page does to the work of a request, the request ends now, not at its TTL: the
  // background shows a text request's 'unreadable' as a failure, and drops a challenge's.
  const settle = (requestId: string, work: Promise<unknown>): Promise<unknown> => work.catch(() => end(requestId, 'unreadable'));

  async function pickText({ requestId, mode, srcUrl }: ImageStartMessage): Promise<void> {
    const pair = ((await tell({ type: 'image-recall', requestId })) as { pair?: ImagePair } | undefined)?.pair;
    const pairImage = pair ? find(pair.image) : null;
    // The browser's image menu names the image by its URL.
    let image = mode === 'menu' ? imageCandidates().find((el) => imageUrlOf(el) === srcUrl) : pairImage;
    // The remembered field goes with the remembered image only; else the user points at it
    // (the picker starts at the first field after the image, where answers usually go).
    let field = pair && image === pairImage ? find(pair.field) : null;
    if (mode === 'menu' && !image) return end(requestId, 'unreadable');
    image ??= await pickElement(imageCandidates(), 'image', hints[0], trusted);
    if (image && !field) {
      const fields = fieldCandidates();
      field = await pickElement(fields, 'field', hints[1], trusted, firstFieldAfter(image, fields));
    }
    if (!image || !field) return end(requestId, 'cancelled');
    const body = await captureElement(image);
    if (!body) return end(requestId, 'unreadable');
    const captchaId = Math.random().toString(36).slice(2);
    targets.set(captchaId, field);
    const selectors = [selectorOf(image), selectorOf(field)];
    await tell({ type: 'image-text', requestId, captchaId, body, ...(selectors[0] && selectors[1] && { pair: { image: selectors[0], field: selectors[1] } }) });
  }

  async function round(requestId: string, challenge: Challenge): Promise<void> {
    const body = await captureChallenge(challenge);
    if (!body) return end(requestId, 'unreadable');
    const captchaId = Math.random().toString(36).slice(2);
    targets.set(captchaId, [challenge, requestId, signature(challenge)]);
    const { instruction, tiles } = challenge;
    const reply = (await tell({ type: 'image-round', requestId, captchaId, instruction, tiles: tiles.length, body })) as { ok?: boolean } | undefined;
    // Refused (the round limit, or the request is over): no answer will come for these tiles.
    if (!reply?.ok) targets.delete(captchaId);
  }

  function deliver(captchaId: string, answer: string): DeliveryReport {
    const target = targets.get(captchaId);
    targets.delete(captchaId);
    if (!target) return report(false);
    if (target instanceof Element) {
      const there = connected(target);
      if (there) typeInto(target, answer);
      return report(there);
    }
    const [challenge, requestId, before] = target;
    // An answer for pictures no longer shown would click the wrong tiles.
    if (!/^[01]+$/.test(answer) || signature(challenge) !== before || !clickTiles(challenge, answer, before)) return report(false);
    void settle(
      requestId,
      nextRound(before).then((next) => (next ? round(requestId, next) : end(requestId, next === null ? 'done' : 'stuck'))),
    );
    return report(true);
  }

  return (message) => {
    if (isDeliverImageMessage(message)) return deliver(message.captchaId, message.answer);
    if (!isImageStartMessage(message)) return undefined;
    if (message.mode === 'challenge') {
      const challenge = readChallenge();
      if (!challenge) return undefined;
      void settle(message.requestId, round(message.requestId, challenge));
    } else {
      if (picking) return { started: false } satisfies ImageStartReply;
      picking = true;
      void settle(message.requestId, pickText(message)).finally(() => (picking = false));
    }
    return { started: true } satisfies ImageStartReply;
  };
}
