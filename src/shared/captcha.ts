/**
 * The captchas CapRelay solves. Token families (found on pages) are one module each in
 * ./families, listed once below; image captchas are what the user points at.
 */
import { funcaptchaFamily, type FunCaptchaCaptcha } from './families/funcaptcha';
import { geetestFamily, type GeeTestCaptcha } from './families/geetest';
import { recaptchaFamily, type RecaptchaCaptcha } from './families/recaptcha';
import { turnstileFamily, type TurnstileCaptcha } from './families/turnstile';
import { CAPTCHA_ID_MAX, type TokenFamily } from './families/common';
import { type Guard, isAnyOf, isBoundedString, isOneOf, isShapeOf } from './validate';

export { CAPTCHA_ID_MAX, CAPTCHA_LIMITS, isBoundedCallback } from './families/common';
export type { FunCaptchaCaptcha, GeeTestCaptcha, RecaptchaCaptcha, TurnstileCaptcha };

/** What a detector found in one frame. The frame and page URL come from the message sender, not from here. */
export type Captcha = RecaptchaCaptcha | FunCaptchaCaptcha | TurnstileCaptcha | GeeTestCaptcha;

/** Every token family, one line each. */
export const TOKEN_FAMILIES = [recaptchaFamily, funcaptchaFamily, turnstileFamily, geetestFamily] as const;

type AnyTokenFamily = TokenFamily<Captcha>;

export function tokenFamilyOf(captcha: Captcha): AnyTokenFamily {
  return TOKEN_FAMILIES.find((f) => f.family === captcha.family) as unknown as AnyTokenFamily;
}

export const isCaptcha: Guard<Captcha> = isAnyOf<Captcha>(() => TOKEN_FAMILIES.map((f): Guard<Captcha> => f.guard));

/**
 * An image the user pointed at (ImageToTextTask): the answer is typed into the field they chose.
 * The image itself travels beside the record (TaskRecord.image), never to the popup.
 */
export interface ImageTextCaptcha {
  family: 'image-text';
  id: string;
}

/** One round of a FunCaptcha image challenge (ComplexImageTask, class "funcaptcha"). */
export interface FunCaptchaImageCaptcha {
  family: 'funcaptcha-image';
  id: string;
  /** The challenge's own instruction, sent as metadata.Task. */
  instruction: string;
  tiles: number;
  /** 1-based; the background counts rounds and stops at maxRounds. */
  round: number;
  maxRounds: number;
}

export type ImageCaptcha = ImageTextCaptcha | FunCaptchaImageCaptcha;

/** What one task solves: a widget found on the page, or an image the user asked about. */
export type TaskCaptcha = Captcha | ImageCaptcha;

export const MAX_INSTRUCTION = 300;
export const MAX_TILES = 16;
const MAX_IMAGE_ROUNDS = 10;
/** The service refuses images under 100 bytes; its current limit is 50 KB (older pages said 500,000 B). */
export const IMAGE_MIN_BYTES = 100;
export const IMAGE_MAX_BYTES = 50_000;

const isIntIn =
  (min: number, max: number): Guard<number> =>
  (v): v is number =>
    Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max;

const isImageTextCaptcha: Guard<ImageTextCaptcha> = isShapeOf<ImageTextCaptcha>({
  family: isOneOf(['image-text'] as const),
  id: isBoundedString(CAPTCHA_ID_MAX),
});

const isFunCaptchaImageCaptcha: Guard<FunCaptchaImageCaptcha> = isShapeOf<FunCaptchaImageCaptcha>({
  family: isOneOf(['funcaptcha-image'] as const),
  id: isBoundedString(CAPTCHA_ID_MAX),
  instruction: isBoundedString(MAX_INSTRUCTION),
  tiles: isIntIn(2, MAX_TILES),
  round: isIntIn(1, MAX_IMAGE_ROUNDS),
  maxRounds: isIntIn(1, MAX_IMAGE_ROUNDS),
});

export const isImageCaptcha: Guard<ImageCaptcha> = (v): v is ImageCaptcha => isImageTextCaptcha(v) || isFunCaptchaImageCaptcha(v);
export const isTaskCaptcha: Guard<TaskCaptcha> = (v): v is TaskCaptcha => isCaptcha(v) || isImageCaptcha(v);

export function isImageFamily(c: TaskCaptcha): c is ImageCaptcha {
  return c.family === 'image-text' || c.family === 'funcaptcha-image';
}

/** Decoded size of a base64 string. */
export function base64Bytes(body: string): number {
  const padding = body.endsWith('==') ? 2 : body.endsWith('=') ? 1 : 0;
  return Math.floor((body.length * 3) / 4) - padding;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
/** An image as the service takes it: one line of base64, no `data:` prefix, within the size limits. */
export const isImageBody: Guard<string> = (v): v is string =>
  typeof v === 'string' && v.length % 4 === 0 && v.length <= Math.ceil(IMAGE_MAX_BYTES / 3) * 4 && BASE64.test(v) && base64Bytes(v) >= IMAGE_MIN_BYTES && base64Bytes(v) <= IMAGE_MAX_BYTES;

/** Human name of the widget variant, shown in the popup and history. */
export function captchaLabel(c: TaskCaptcha): string {
  if (c.family === 'image-text') return 'Image captcha (text)';
  if (c.family === 'funcaptcha-image') return `FunCaptcha image challenge (round ${c.round} of ${c.maxRounds})`;
  return tokenFamilyOf(c).label(c);
}

/** Requests with the same identity are one captcha: one task at a time for it in a frame. */
export function captchaIdentity(c: TaskCaptcha): string {
  // Every image request is its own: two picks of one image are two questions.
  if (isImageFamily(c)) return `img:${c.id}`;
  return tokenFamilyOf(c).identity(c);
}
