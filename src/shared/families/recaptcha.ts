/** reCAPTCHA v2 (checkbox, invisible), Enterprise and v3: what is reported, and its four switches. */
import { type Guard, isBoolean, isBoundedString, isOneOf, isOptional, isRecaptchaSiteKey, isShapeOf } from '../validate';
import { CAPTCHA_ID_MAX, CAPTCHA_LIMITS, isBoundedCallback, type TokenFamily } from './common';

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

const isRecaptchaCaptcha: Guard<RecaptchaCaptcha> = isShapeOf<RecaptchaCaptcha>({
  family: isOneOf(['recaptcha'] as const),
  id: isBoundedString(CAPTCHA_ID_MAX),
  version: isOneOf(['v2', 'v3'] as const),
  siteKey: isRecaptchaSiteKey,
  enterprise: isBoolean,
  invisible: isBoolean,
  dataS: isOptional(isBoundedString(CAPTCHA_LIMITS.dataS)),
  action: isOptional(isBoundedString(CAPTCHA_LIMITS.action)),
  apiDomain: isOptional(isOneOf(['www.google.com', 'www.recaptcha.net'] as const)),
  callback: isOptional(isBoundedCallback),
});

export const recaptchaFamily = {
  family: 'recaptcha',
  guard: isRecaptchaCaptcha,
  settings: [
    { id: 'recaptchaV2', label: 'familyRecaptchaV2' },
    { id: 'recaptchaV2Invisible', label: 'familyRecaptchaV2Invisible' },
    { id: 'recaptchaEnterprise', label: 'familyRecaptchaEnterprise' },
    { id: 'recaptchaV3', label: 'familyRecaptchaV3' },
  ],
  settingOf: (c) => (c.version === 'v3' ? 'recaptchaV3' : c.enterprise ? 'recaptchaEnterprise' : c.invisible ? 'recaptchaV2Invisible' : 'recaptchaV2'),
  label(c) {
    if (c.version === 'v3') return c.enterprise ? 'reCAPTCHA v3 Enterprise' : 'reCAPTCHA v3';
    const base = c.enterprise ? 'reCAPTCHA v2 Enterprise' : 'reCAPTCHA v2';
    return c.invisible ? `${base} (invisible)` : base;
  },
  // A site runs one v3 key; each v2 widget (several may share a site key) is its own.
  identity: (c) => (c.version === 'v3' ? `rc:v3:${c.siteKey}` : `rc:v2:${c.id}`),
  key: (c) => c.siteKey,
  // Google: a response is valid for two minutes.
  tokenLifetimeMs: 120_000,
} as const satisfies TokenFamily<RecaptchaCaptcha>;
