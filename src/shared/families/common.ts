/** What every captcha family shares: bounds on what a page may report, and a family's shared description. */
import { isBoundedString, isCallbackPath, type Guard } from '../validate';

export const CAPTCHA_ID_MAX = 200;
/** Longest values a captcha may carry: longer ones come from a broken or hostile page. */
export const CAPTCHA_LIMITS = { blob: 16_384, dataS: 8_192, action: 200, callback: 200, cData: 255, pageData: 8_192, challenge: 128 } as const;

/** A callback path of sane length (the path pattern alone would take a megabyte-long name). */
export const isBoundedCallback: Guard<string> = (v): v is string => isBoundedString(CAPTCHA_LIMITS.callback)(v) && isCallbackPath(v);

/** One switch of the settings (a captcha type the user may turn off or set to auto-solve). */
export interface FamilySetting {
  readonly id: string;
  /** Its name in _locales. */
  readonly label: string;
}

/**
 * A family of captchas found on pages (solved with a token), as every context sees it: the
 * shape the content script reports, the settings switches it falls under, the names the user
 * reads. Each family is one module here, listed once in ../captcha.ts.
 */
export interface TokenFamily<C extends { family: string; id: string }> {
  readonly family: C['family'];
  readonly guard: Guard<C>;
  readonly settings: readonly FamilySetting[];
  /** Which switch governs this captcha. */
  settingOf(captcha: C): string;
  /** Its name in the popup and history. */
  label(captcha: C): string;
  /** Requests with the same identity are one captcha (one task at a time per frame). */
  identity(captcha: C): string;
  /** The key the popup shows beside it. */
  key(captcha: C): string;
  /** How long a solved token stays good (the popup calls older ones expired). */
  readonly tokenLifetimeMs: number;
}
