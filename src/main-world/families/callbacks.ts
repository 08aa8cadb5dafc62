/** Running the page's own callbacks with a delivered token: each function once, whatever throws. */
import type { AnyFunction, Builtins } from '../intercept';

export type Callbacks = Map<AnyFunction, { self: unknown; arg: unknown }>;

/** A dotted global path (already checked as one) to the function it names now, with its `this`. */
export function resolvePath(path: string): { fn: AnyFunction; self: unknown } | null {
  let self: unknown = window;
  let value: unknown = window;
  for (const part of path.split('.')) {
    self = value;
    try {
      value = (value as Record<string, unknown>)[part];
    } catch {
      return null;
    }
    if (value === undefined || value === null) return null;
  }
  return typeof value === 'function' ? { fn: value as AnyFunction, self } : null;
}

export function runCallbacks(calls: Callbacks, b: Builtins): 'called' | 'none' | 'failed' {
  if (calls.size === 0) return 'none';
  let ok = true;
  for (const [fn, { self, arg }] of calls) {
    try {
      b.apply(fn, self, [arg]);
    } catch (error) {
      ok = false;
      console.error('CapRelay: the page callback threw', error);
    }
  }
  return ok ? 'called' : 'failed';
}
