import {
  isArkosePublicKey,
  isBoolean,
  isBoundedString,
  isCallbackPath,
  isHostName,
  isOneOf,
  isOptional,
  isRecaptchaSiteKey,
  isShape,
  type Guard,
} from './validate';

/** What a detector found in one frame. The frame and page URL come from the message sender, not from here. */
export interface RecaptchaCaptcha {
  family: 'recaptcha';
  /** Stable within the frame for the life of the widget. */
  id: string;
  version: 'v2' | 'v3';
  siteKey: string;
  enterprise: boolean;
  invisible: boolean;
  /** The one-time `data-s` value (recaptchaDataSValue / enterprisePayload.s). */
  dataS?: string;
  /** v3 / Enterprise action seen in grecaptcha.execute(key, {action}). */
  action?: string;
  /** Only when the page loads reCAPTCHA from recaptcha.net instead of google.com. */
  apiDomain?: string;
  /** Name (or dotted path) of the page's callback from data-callback. */
  callback?: string;
}

export interface FunCaptchaCaptcha {
  family: 'funcaptcha';
  id: string;
  publicKey: string;
  /** Host that serves the Arkose API for this site (funcaptchaApiJSSubdomain). */
  subdomain?: string;
  /** The `data[blob]` the site gives the enforcement; sent as data: {"blob": …}. */
  blob?: string;
}

export type Captcha = RecaptchaCaptcha | FunCaptchaCaptcha;

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

export const CAPTCHA_ID_MAX = 200;
/** Longest values a captcha may carry: longer ones come from a broken or hostile page. */
export const CAPTCHA_LIMITS = { blob: 16_384, dataS: 8_192, action: 200, callback: 200 } as const;
const MAX_BLOB = CAPTCHA_LIMITS.blob;
const MAX_DATA_S = CAPTCHA_LIMITS.dataS;

/** A callback path of sane length (the path pattern alone would take a megabyte-long name). */
export const isBoundedCallback: Guard<string> = (v): v is string => isBoundedString(CAPTCHA_LIMITS.callback)(v) && isCallbackPath(v);

export const isRecaptchaCaptcha: Guard<RecaptchaCaptcha> = isShape({
  family: isOneOf(['recaptcha'] as const),
  id: isBoundedString(CAPTCHA_ID_MAX),
  version: isOneOf(['v2', 'v3'] as const),
  siteKey: isRecaptchaSiteKey,
  enterprise: isBoolean,
  invisible: isBoolean,
  dataS: isOptional(isBoundedString(MAX_DATA_S)),
  action: isOptional(isBoundedString(CAPTCHA_LIMITS.action)),
  apiDomain: isOptional(isOneOf(['www.google.com', 'www.recaptcha.net'] as const)),
  callback: isOptional(isBoundedCallback),
}) as Guard<RecaptchaCaptcha>;

export const isFunCaptchaCaptcha: Guard<FunCaptchaCaptcha> = isShape({
  family: isOneOf(['funcaptcha'] as const),
  id: isBoundedString(CAPTCHA_ID_MAX),
  publicKey: isArkosePublicKey,
  subdomain: isOptional(isHostName),
  blob: isOptional(isBoundedString(MAX_BLOB)),
}) as Guard<FunCaptchaCaptcha>;

export const isCaptcha: Guard<Captcha> = (v): v is Captcha => isRecaptchaCaptcha(v) || isFunCaptchaCaptcha(v);

export const MAX_INSTRUCTION = 300;
export const MAX_TILES = 16;
export const MAX_IMAGE_ROUNDS = 10;
/** The service refuses images under 100 bytes; its current limit is 50 KB (older pages said 500,000 B). */
export const IMAGE_MIN_BYTES = 100;
export const IMAGE_MAX_BYTES = 50_000;

const isIntIn = (min: number, max: number): Guard<number> => (v): v is number => Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max;

export const isImageTextCaptcha: Guard<ImageTextCaptcha> = isShape({
  family: isOneOf(['image-text'] as const),
  id: isBoundedString(CAPTCHA_ID_MAX),
}) as Guard<ImageTextCaptcha>;

export const isFunCaptchaImageCaptcha: Guard<FunCaptchaImageCaptcha> = isShape({
  family: isOneOf(['funcaptcha-image'] as const),
  id: isBoundedString(CAPTCHA_ID_MAX),
  instruction: isBoundedString(MAX_INSTRUCTION),
  tiles: isIntIn(2, MAX_TILES),
  round: isIntIn(1, MAX_IMAGE_ROUNDS),
  maxRounds: isIntIn(1, MAX_IMAGE_ROUNDS),
}) as Guard<FunCaptchaImageCaptcha>;

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
  if (c.family === 'funcaptcha') return 'FunCaptcha (Arkose Labs)';
  if (c.family === 'image-text') return 'Image captcha (text)';
  if (c.family === 'funcaptcha-image') return `FunCaptcha image challenge (round ${c.round} of ${c.maxRounds})`;
  if (c.version === 'v3') return c.enterprise ? 'reCAPTCHA v3 Enterprise' : 'reCAPTCHA v3';
  const base = c.enterprise ? 'reCAPTCHA v2 Enterprise' : 'reCAPTCHA v2';
  return c.invisible ? `${base} (invisible)` : base;
}

/**
 * Requests with the same key are one captcha: a site runs one Arkose setup per public key and
 * one v3 site key; each v2 widget (several may share a site key) is its own.
 */
export function captchaIdentity(c: TaskCaptcha): string {
  // Every image request is its own: two picks of one image are two questions.
  if (isImageFamily(c)) return `img:${c.id}`;
  if (c.family === 'funcaptcha') return `fc:${c.publicKey}`;
  return c.version === 'v3' ? `rc:v3:${c.siteKey}` : `rc:v2:${c.id}`;
}
