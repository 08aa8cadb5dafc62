/**
 * Tiny structural validators for everything that crosses a boundary (page → content,
 * content → background, service responses, stored values). Hand-written so the content
 * script stays small.
 */

// The check builders are marked free of side effects: a bundle (the content script's core, the
// page-world probe) that imports a module of guards but never runs them leaves them out.

/**
 * A check that a value is a T. Object checks (isShape) also copy: `copy` builds a fresh value
 * of just the fields the check knows, so what a sender adds never travels on (see `parse`).
 */
export interface Guard<T> {
  (value: unknown): value is T;
  /** A method, so a Guard<'a'> is still a Guard<string>. */
  copy?(value: T): T;
}

/** The value as the check knows it (object fields it does not name left out), or undefined. */
export function parse<T>(guard: Guard<T>, value: unknown): T | undefined {
  if (!guard(value)) return undefined;
  return guard.copy ? guard.copy(value) : value;
}

const copyOf = <T>(guard: Guard<T>, value: T): T => (guard.copy ? guard.copy(value) : value);

/** The longest token (or set of values a site submits) any family delivers to a page. */
export const TOKEN_MAX = 20_000;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Anything: for a value the receiver checks itself. */
export const isAnything: Guard<unknown> = (_v): _v is unknown => true;
export const isString: Guard<string> = (v): v is string => typeof v === 'string';
export const isBoolean: Guard<boolean> = (v): v is boolean => typeof v === 'boolean';
export const isFiniteNumber: Guard<number> = (v): v is number => typeof v === 'number' && Number.isFinite(v);
export const isInteger: Guard<number> = (v): v is number => Number.isSafeInteger(v);

/* @__NO_SIDE_EFFECTS__ */
export function isOptional<T>(guard: Guard<T>): Guard<T | undefined> {
  const check: Guard<T | undefined> = (v): v is T | undefined => v === undefined || guard(v);
  if (guard.copy) check.copy = (v) => (v === undefined ? v : copyOf(guard, v));
  return check;
}

/* @__NO_SIDE_EFFECTS__ */
export function isArrayOf<T>(guard: Guard<T>, maxLength = 1000): Guard<T[]> {
  const check: Guard<T[]> = (v): v is T[] => Array.isArray(v) && v.length <= maxLength && v.every(guard);
  check.copy = (v) => v.map((item) => copyOf(guard, item));
  return check;
}

/**
 * One of several checks: copied by the first that takes it. The list may be given as a function,
 * read at the first check: a bundle that never checks leaves out what the list names.
 */
/* @__NO_SIDE_EFFECTS__ */
export function isAnyOf<T>(list: readonly Guard<T>[] | (() => readonly Guard<T>[])): Guard<T> {
  let guards = typeof list === 'function' ? undefined : list;
  const all = (): readonly Guard<T>[] => (guards ??= (list as () => readonly Guard<T>[])());
  const check: Guard<T> = (v): v is T => all().some((guard) => guard(v));
  check.copy = (v) => {
    const guard = all().find((g) => g(v));
    return guard ? copyOf(guard, v) : v;
  };
  return check;
}

/* @__NO_SIDE_EFFECTS__ */
export function isBoundedString(maxLength: number): Guard<string> {
  return (v): v is string => typeof v === 'string' && v.length <= maxLength;
}

/* @__NO_SIDE_EFFECTS__ */
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
/** A check for every field of T, each of that field's type: a type and its check cannot drift apart. */
export type ShapeOf<T> = { [K in keyof T]-?: Guard<T[K]> };

/** An object with these fields checked; `copy` keeps just them (what else came along stays behind). */
/* @__NO_SIDE_EFFECTS__ */
function isShape<S extends Shape>(shape: S): Guard<FromShape<S>> {
  const entries = Object.entries(shape);
  const check: Guard<FromShape<S>> = (v): v is FromShape<S> => {
    if (!isRecord(v)) return false;
    for (const [key, guard] of entries) {
      if (!guard(v[key])) return false;
    }
    return true;
  };
  check.copy = (v) => {
    const source = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [key, guard] of entries) {
      if (source[key] !== undefined) out[key] = copyOf(guard, source[key]);
    }
    return out as FromShape<S>;
  };
  return check;
}

/** A check with a rule across its fields (kept: its copy). */
/* @__NO_SIDE_EFFECTS__ */
export function isRefined<T>(guard: Guard<T>, rule: (value: T) => boolean): Guard<T> {
  const check: Guard<T> = (v): v is T => guard(v) && rule(v);
  if (guard.copy) check.copy = (v) => copyOf(guard, v);
  return check;
}

/** isShape, checked against a declared type: `isShapeOf<SolveMessage>({ … })`. */
/* @__NO_SIDE_EFFECTS__ */
export function isShapeOf<T extends object>(shape: ShapeOf<T>): Guard<T> {
  return isShape(shape as Shape) as unknown as Guard<T>;
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
