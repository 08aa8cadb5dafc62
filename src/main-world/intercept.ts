/**
 * How CapRelay hooks page objects from the page's own world without breaking the page: own data
 * properties only (a getter the page defined is never run while reading), transparent Proxies,
 * and everything guarded so a hostile or odd global costs a detection, never an error.
 *
 * The built-ins used here are the ones the probe took at document_start, before any page
 * script: the probe passes them to the hooks that load later through the channel.
 */
export type AnyFunction = (...args: unknown[]) => unknown;
export type Dict = Record<PropertyKey, unknown>;

export interface Builtins {
  defineProperty: typeof Object.defineProperty;
  getOwnPropertyDescriptor: typeof Object.getOwnPropertyDescriptor;
  keys: typeof Object.keys;
  apply: typeof Reflect.apply;
  construct: typeof Reflect.construct;
  stringify: typeof JSON.stringify;
  parse: typeof JSON.parse;
  PageEvent: typeof CustomEvent;
  detailOf: ((this: Event) => unknown) | undefined;
  resolved: <T>(value: T) => Promise<T>;
  microtask: (fn: () => void) => void;
  setTimeout: (fn: () => void, ms: number) => unknown;
  URL: typeof URL;
}

export function takeBuiltins(): Builtins {
  return {
    defineProperty: Object.defineProperty,
    getOwnPropertyDescriptor: Object.getOwnPropertyDescriptor,
    keys: Object.keys,
    apply: Reflect.apply,
    construct: Reflect.construct,
    stringify: JSON.stringify,
    parse: JSON.parse,
    PageEvent: CustomEvent,
    // eslint-disable-next-line @typescript-eslint/unbound-method -- the getter as the page had it at document_start, called with .call(event)
    detailOf: Object.getOwnPropertyDescriptor(CustomEvent.prototype, 'detail')?.get as ((this: Event) => unknown) | undefined,
    resolved: Promise.resolve.bind(Promise),
    microtask: queueMicrotask.bind(window),
    setTimeout: setTimeout.bind(window),
    URL,
  };
}

export class Interceptor {
  /** Our own wrappers, so nothing is wrapped twice. */
  private readonly wrappers = new WeakSet();

  constructor(readonly b: Builtins) {}

  isOurs(value: unknown): boolean {
    return (typeof value === 'function' || (typeof value === 'object' && value !== null)) && this.wrappers.has(value);
  }

  /** An own data property, or undefined: never runs a getter, never throws. */
  own(obj: unknown, key: PropertyKey): unknown {
    if (obj === null || (typeof obj !== 'object' && typeof obj !== 'function')) return undefined;
    try {
      const descriptor = this.b.getOwnPropertyDescriptor(obj, key);
      return descriptor && 'value' in descriptor ? descriptor.value : undefined;
    } catch {
      return undefined;
    }
  }

  ownKeys(obj: unknown, max: number): string[] {
    try {
      return this.b.keys(obj as object).slice(0, max);
    } catch {
      return [];
    }
  }

  /** A string own property, cut to `max`; undefined for anything else or an empty one. */
  ownString(obj: unknown, key: PropertyKey, max: number): string | undefined {
    const value = this.own(obj, key);
    return typeof value === 'string' && value ? value.slice(0, max) : undefined;
  }

  /** Keeps `obj[prop]` wrapped with `wrap`, including values the page assigns later. */
  property(obj: object, prop: string, wrap: (value: unknown) => unknown): void {
    const { getOwnPropertyDescriptor, defineProperty } = this.b;
    try {
      const descriptor = getOwnPropertyDescriptor(obj, prop);
      if (descriptor && (!descriptor.configurable || descriptor.get || descriptor.set)) {
        // Cannot take the property over: wrap the current value in place when writable.
        if (descriptor.writable) (obj as Dict)[prop] = wrap(descriptor.value);
        return;
      }
      // An inherited method (e.g. on a prototype) is wrapped too, not hidden.
      let current = wrap(descriptor ? descriptor.value : (obj as Dict)[prop]);
      defineProperty(obj, prop, {
        configurable: true,
        enumerable: descriptor ? descriptor.enumerable : true,
        get: () => current,
        set: (value: unknown) => {
          current = wrap(value);
        },
      });
    } catch {
      /* a frozen or exotic object: leave it alone */
    }
  }

  /** A transparent Proxy around a page function: same properties, same `new` behaviour. */
  fn(value: unknown, around: (original: AnyFunction, self: unknown, args: unknown[]) => unknown): unknown {
    if (typeof value !== 'function' || this.wrappers.has(value)) return value;
    const proxy = new Proxy(value as AnyFunction, { apply: (original, self, args) => around(original, self, args) });
    this.wrappers.add(proxy);
    return proxy;
  }

  /** A constructor (also callable without `new`) whose every call is seen first. */
  ctor(value: unknown, seen: (args: unknown[]) => void): unknown {
    if (typeof value !== 'function' || this.wrappers.has(value)) return value;
    const { apply, construct } = this.b;
    const proxy = new Proxy(value as AnyFunction, {
      construct: (target, args, newTarget) => {
        guarded(seen)(args);
        return construct(target, args, newTarget) as object;
      },
      apply: (target, self, args) => {
        guarded(seen)(args);
        return apply(target, self, args);
      },
    });
    this.wrappers.add(proxy);
    return proxy;
  }
}

/** Runs a hook so that nothing it meets in the page can throw into the page. */
export function guarded<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
  return (...args) => {
    try {
      fn(...args);
    } catch {
      /* a detection lost, never the page's own work */
    }
  };
}
