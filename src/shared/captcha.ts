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

export const CAPTCHA_ID_MAX = 200;
const MAX_BLOB = 16_384;
const MAX_DATA_S = 8_192;

export const isRecaptchaCaptcha: Guard<RecaptchaCaptcha> = isShape({
  family: isOneOf(['recaptcha'] as const),
  id: isBoundedString(CAPTCHA_ID_MAX),
  version: isOneOf(['v2', 'v3'] as const),
  siteKey: isRecaptchaSiteKey,
  enterprise: isBoolean,
  invisible: isBoolean,
  dataS: isOptional(isBoundedString(MAX_DATA_S)),
  action: isOptional(isBoundedString(200)),
  apiDomain: isOptional(isOneOf(['www.google.com', 'www.recaptcha.net'] as const)),
  callback: isOptional(isCallbackPath),
}) as Guard<RecaptchaCaptcha>;

export const isFunCaptchaCaptcha: Guard<FunCaptchaCaptcha> = isShape({
  family: isOneOf(['funcaptcha'] as const),
  id: isBoundedString(CAPTCHA_ID_MAX),
  publicKey: isArkosePublicKey,
  subdomain: isOptional(isHostName),
  blob: isOptional(isBoundedString(MAX_BLOB)),
}) as Guard<FunCaptchaCaptcha>;

export const isCaptcha: Guard<Captcha> = (v): v is Captcha => isRecaptchaCaptcha(v) || isFunCaptchaCaptcha(v);

/** Human name of the widget variant, shown in the popup and history. */
export function captchaLabel(c: Captcha): string {
  if (c.family === 'funcaptcha') return 'FunCaptcha (Arkose Labs)';
  if (c.version === 'v3') return c.enterprise ? 'reCAPTCHA v3 Enterprise' : 'reCAPTCHA v3';
  const base = c.enterprise ? 'reCAPTCHA v2 Enterprise' : 'reCAPTCHA v2';
  return c.invisible ? `${base} (invisible)` : base;
}

/** Two sightings of one widget (e.g. the div and its anchor iframe) share this key. */
export function captchaIdentity(c: Captcha): string {
  return c.family === 'funcaptcha' ? `fc:${c.publicKey}` : `rc:${c.version}:${c.siteKey}`;
}
