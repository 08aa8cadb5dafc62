/**
 * Tiny structural validators for everything that crosses a boundary (page → content,
 * content → background, service responses, stored values). Hand-written so the content
 * script stays small.
 */

export type Guard<T> = (value: unknown) => value is T;

/** The longest token (or set of values a site submits) any family delivers to a page. */
export const TOKEN_MAX = 20_000;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export const isString: Guard<string> = (v): v is string => typeof v === 'string';
export const isBoolean: Guard<boolean> = (v): v is boolean => typeof v === 'boolean';
export const isFiniteNumber: Guard<number> = (v): v is number => typeof v === 'number' && Number.isFinite(v);
export const isInteger: Guard<number> = (v): v is number => Number.isSafeInteger(v);

export function isOptional<T>(guard: Guard<T>): Guard<T | undefined> {
  return (v): v is T | undefined => v === undefined || guard(v);
}

export function isArrayOf<T>(guard: Guard<T>, maxLength = 1000): Guard<T[]> {
  return (v): v is T[] => Array.isArray(v) && v.length <= maxLength && v.every(guard);
}

export function isBoundedString(maxLength: number): Guard<string> {
  return (v): v is string => typeof v === 'string' && v.length <= maxLength;
}

export function isOneOf<const T extends readonly string[]>(values: T): Guard<T[number]> {
  return (v): v is T[number] => typeof v === 'string' && (values as readonly string[]).includes(v);
}

type Shape = Record<string, Guard<unknown>>;
type FromShape<S extends Shape> = {
  [K in keyof S as undefined extends GuardType<S[K]> ? never : K]: GuardType<S[K]>;
} & {
  [K in keyof S as undefined extends GuardType<S[K]> ? K : never]?: GuardType<S[K]>;
};
type GuardType<G> = G extends Guard<infer T> ? T : never;

/** An object with exactly these fields checked (extra fields are ignored, not copied). */
export function isShape<S extends Shape>(shape: S): Guard<FromShape<S>> {
  return (v): v is FromShape<S> => {
    if (!isRecord(v)) return false;
    for (const [key, guard] of Object.entries(shape)) {
      if (!guard(v[key])) return false;
    }
    return true;
  };
}

/** reCAPTCHA site keys are 40 URL-safe characters, starting with "6". */
export const RECAPTCHA_SITEKEY = /^6[0-9A-Za-z_-]{39}$/;
/** Arkose public keys are UUIDs (upper or lower case). */
export const ARKOSE_PUBLIC_KEY = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;
/** A host name (no scheme, no path), as the service wants funcaptchaApiJSSubdomain. */
export const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
/** A JavaScript property path such as `onCaptcha` or `app.handlers.onCaptcha`. */
export const CALLBACK_PATH = /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*){0,7}$/;

export const isRecaptchaSiteKey: Guard<string> = (v): v is string => typeof v === 'string' && RECAPTCHA_SITEKEY.test(v);
export const isArkosePublicKey: Guard<string> = (v): v is string => typeof v === 'string' && ARKOSE_PUBLIC_KEY.test(v);
export const isHostName: Guard<string> = (v): v is string => typeof v === 'string' && HOST_NAME.test(v);
export const isCallbackPath: Guard<string> = (v): v is string => typeof v === 'string' && CALLBACK_PATH.test(v);
