/**
 * Cloudflare Turnstile: a widget (implicit `.cf-turnstile` markup or `turnstile.render()`), or
 * the Cloudflare challenge page ("Just a moment…"), whose own render call carries chlPageData.
 */
import { type Guard, isBoundedString, isOneOf, isOptional, isShapeOf } from '../validate';
import { CAPTCHA_ID_MAX, CAPTCHA_LIMITS, isBoundedCallback, type TokenFamily } from './common';

export interface TurnstileCaptcha {
  family: 'turnstile';
  id: string;
  /** `0x4AAAA…` (or Cloudflare's 1x/2x/3x test keys). */
  siteKey: string;
  /** data-action / render({action}): the task's pageAction. */
  action?: string;
  /** data-cdata / render({cData}): the task's data. */
  cData?: string;
  /** The challenge page's chlPageData: the task's pageData, with cloudflareTaskType "token". */
  pageData?: string;
  /** data-callback: a global function name (implicit widgets). */
  callback?: string;
}

/** Turnstile site keys: a digit, "x", then the key (24 characters in all for Cloudflare's). */
const TURNSTILE_SITEKEY = /^[0-3]x[0-9A-Za-z_-]{18,62}$/;
/** Cloudflare allows action and cData of [A-Za-z0-9_-], 32 and 255 characters at most. */
const WIDGET_VALUE = /^[\w-]+$/;

export const isTurnstileSiteKey: Guard<string> = (v): v is string => typeof v === 'string' && TURNSTILE_SITEKEY.test(v);
const widgetValue =
  (max: number): Guard<string> =>
  (v): v is string =>
    typeof v === 'string' && v.length <= max && WIDGET_VALUE.test(v);

export const TURNSTILE_LIMITS = { action: 32, cData: CAPTCHA_LIMITS.cData, pageData: CAPTCHA_LIMITS.pageData } as const;

const isTurnstileCaptcha: Guard<TurnstileCaptcha> = isShapeOf<TurnstileCaptcha>({
  family: isOneOf(['turnstile'] as const),
  id: isBoundedString(CAPTCHA_ID_MAX),
  siteKey: isTurnstileSiteKey,
  action: isOptional(widgetValue(TURNSTILE_LIMITS.action)),
  cData: isOptional(widgetValue(TURNSTILE_LIMITS.cData)),
  pageData: isOptional((v: unknown): v is string => typeof v === 'string' && v.length <= TURNSTILE_LIMITS.pageData && /^[\w+/=.~-]+$/.test(v)),
  callback: isOptional(isBoundedCallback),
});

export const turnstileFamily = {
  family: 'turnstile',
  guard: isTurnstileCaptcha,
  settings: [{ id: 'turnstile', label: 'familyTurnstile' }],
  settingOf: () => 'turnstile',
  label: (c) => (c.pageData ? 'Cloudflare challenge page' : 'Cloudflare Turnstile'),
  // Each widget is its own (a page may show several with one key and different actions).
  identity: (c) => `ts:${c.id}`,
  key: (c) => c.siteKey,
  // Cloudflare: a token is valid for 300 s, and once.
  tokenLifetimeMs: 300_000,
} as const satisfies TokenFamily<TurnstileCaptcha>;
