/**
 * Page-world probe. It runs in the page's own JavaScript world (so the page can see and
 * tamper with it) and therefore holds nothing secret: it reads widget parameters that exist
 * only in page memory (explicit grecaptcha.render configs, execute actions, Arkose configs)
 * and runs the page's own callbacks with a delivered token. It talks to the content script
 * only through DOM events, see shared/page-protocol.ts.
 *
 * It must never break the page: every read of page objects goes through own data properties
 * (a getter the page defined is never run while scanning), every hook is a transparent Proxy,
 * and everything is wrapped so a hostile or odd global only costs a detection, not an error.
 */
import {
  PROBE_DELIVER_EVENT,
  PROBE_RESULT_EVENT,
  PROBE_SCAN_EVENT,
  PROBE_WIDGET_EVENT,
  isDeliverRequest,
  parseDetail,
  type DeliverRequest,
  type ProbeFunCaptchaReport,
  type ProbeRecaptchaReport,
  type ProbeReport,
} from '../shared/page-protocol';
import { isCallbackPath, isRecaptchaSiteKey, isRecord } from '../shared/validate';
import { attr, byId, byTag, collectionItem, collectionLength, connected, contains, documentRoot, fire as dispatchTo, isElement, listen, localName, query, queryAll } from '../page-dom/dom';

type AnyFunction = (...args: unknown[]) => unknown;
type Dict = Record<PropertyKey, unknown>;

// Taken at document_start, before any page script can replace them.
const { defineProperty, getOwnPropertyDescriptor, keys: objectKeys } = Object;
const { apply, construct } = Reflect;
const stringify = JSON.stringify;
const PageEvent = CustomEvent;
const detailOf = getOwnPropertyDescriptor(CustomEvent.prototype, 'detail')?.get;
const resolved = Promise.resolve.bind(Promise);
const microtask = queueMicrotask.bind(window);
const page = window as unknown as Dict;

/** Our own wrappers, so nothing is wrapped twice. */
const wrappers = new WeakSet<object>();
/** Actions seen in execute(siteKey, {action}) calls, by site key (v3 and Enterprise). */
const v3Calls = new Map<string, { action?: string; enterprise: boolean }>();
/** Tokens delivered for v3 site keys: the page's next execute() for that key resolves with it. */
const v3Tokens = new Map<string, string>();
/** Widget ids returned by grecaptcha.render / grecaptcha.enterprise.render: only these clients are read. */
const renderedIds = new Map<number, { enterprise: boolean }>();

/** An own data property, or undefined: never runs a getter, never throws. */
function own(obj: unknown, key: PropertyKey): unknown {
  if (obj === null || (typeof obj !== 'object' && typeof obj !== 'function')) return undefined;
  try {
    const descriptor = getOwnPropertyDescriptor(obj, key);
    return descriptor && 'value' in descriptor ? descriptor.value : undefined;
  } catch {
    return undefined;
  }
}

function ownKeys(obj: unknown, max: number): string[] {
  try {
    return objectKeys(obj as object).slice(0, max);
  } catch {
    return [];
  }
}

function fire(target: EventTarget, type: string, detail: string): void {
  try {
    dispatchTo(target, new PageEvent(type, { bubbles: true, composed: true, detail }));
  } catch {
    /* the node went away */
  }
}

function emit(report: ProbeReport, target: Element | null): void {
  fire(target && connected(target) ? target : documentRoot(), PROBE_WIDGET_EVENT, stringify(report));
}

/** Runs a hook so that nothing it meets in the page can throw into the page. */
function guarded<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
  return (...args) => {
    try {
      fn(...args);
    } catch {
      /* a detection lost, never the page's own work */
    }
  };
}

/** Keeps `obj[prop]` wrapped with `wrap`, including values the page assigns later. */
function interceptProperty(obj: object, prop: string, wrap: (value: unknown) => unknown): void {
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
function wrapFunction(value: unknown, around: (original: AnyFunction, self: unknown, args: unknown[]) => unknown): unknown {
  if (typeof value !== 'function' || wrappers.has(value)) return value;
  const proxy = new Proxy(value as AnyFunction, { apply: (original, self, args) => around(original, self, args) });
  wrappers.add(proxy);
  return proxy;
}

/* ---------------- reCAPTCHA ---------------- */

function hookRecaptchaApi(api: unknown, enterprise: boolean): unknown {
  if (!isRecord(api) && typeof api !== 'function') return api;
  const target = api as object;
  interceptProperty(target, 'execute', (fn) =>
    wrapFunction(fn, (original, self, args) => {
      const [siteKey, options] = args;
      if (isRecaptchaSiteKey(siteKey)) {
        const action = own(options, 'action');
        v3Calls.set(siteKey, { enterprise, ...(typeof action === 'string' ? { action: action.slice(0, 200) } : {}) });
        reportV3(siteKey);
        const token = v3Tokens.get(siteKey);
        if (token !== undefined) {
          v3Tokens.delete(siteKey);
          return resolved(token);
        }
      }
      return apply(original, self, args);
    }),
  );
  interceptProperty(target, 'render', (fn) =>
    wrapFunction(fn, (original, self, args) => {
      const result = apply(original, self, args);
      if (typeof result === 'number') renderedIds.set(result, { enterprise });
      microtask(guarded(reportRecaptchaClients));
      return result;
    }),
  );
  if (!enterprise) interceptProperty(target, 'enterprise', (value) => hookRecaptchaApi(value, true));
  return api;
}

function reportV3(siteKey: string): void {
  const call = v3Calls.get(siteKey);
  if (!call) return;
  const report: ProbeRecaptchaReport = {
    family: 'recaptcha',
    siteKey,
    enterprise: call.enterprise,
    invisible: true,
    v3: true,
    hasCallbackFunction: false,
  };
  if (call.action) report.action = call.action;
  emit(report, null);
}

interface ClientFacts {
  params?: object;
  elements: Element[];
}

/** Walks one `___grecaptcha_cfg.clients` entry (obfuscated field names) for its params and elements. */
function inspectClient(client: unknown): ClientFacts {
  const facts: ClientFacts = { elements: [] };
  const seen = new WeakSet<object>();
  let budget = 400;
  const walk = (value: unknown, depth: number): void => {
    if (budget-- <= 0 || depth > 4 || value === null || typeof value !== 'object' || seen.has(value)) return;
    seen.add(value);
    if (isElement(value)) {
      facts.elements.push(value);
      return;
    }
    if (Array.isArray(value)) return;
    if (!facts.params && typeof own(value, 'sitekey') === 'string') facts.params = value;
    for (const key of ownKeys(value, 50)) walk(own(value, key), depth + 1);
  };
  walk(client, 0);
  return facts;
}

/** The element to report a widget on: its anchor frame (the content script pairs it with its container), else the outermost. */
function reportTarget(elements: Element[]): Element | null {
  let best: Element | null = null;
  for (const el of elements) {
    if (localName(el) === 'iframe' && /\/anchor\?/.test(attr(el, 'src') ?? '')) return el;
    if (!best || contains(el, best)) best = el;
  }
  return best;
}

function reportRecaptchaClients(): void {
  const clients = own(own(page, '___grecaptcha_cfg'), 'clients');
  // Only clients the page made through render(): nothing else in page memory is touched.
  for (const [widgetId, { enterprise }] of renderedIds) {
    const facts = inspectClient(own(clients, String(widgetId)));
    const params = facts.params;
    const siteKey = own(params, 'sitekey');
    if (!isRecaptchaSiteKey(siteKey)) continue;
    const callback = own(params, 'callback');
    const report: ProbeRecaptchaReport = {
      family: 'recaptcha',
      siteKey,
      widgetId,
      enterprise,
      invisible: own(params, 'size') === 'invisible',
      v3: false,
      hasCallbackFunction: typeof callback === 'function',
    };
    if (isCallbackPath(callback)) report.callback = callback;
    const s = own(params, 's');
    if (typeof s === 'string' && s) report.dataS = s.slice(0, 8192);
    const action = own(params, 'action');
    if (typeof action === 'string' && action) report.action = action.slice(0, 200);
    emit(report, reportTarget(facts.elements));
  }
}

/* ---------------- FunCaptcha / Arkose ---------------- */

interface ArkoseSetup {
  /** The page's config, merged over setConfig calls the way Arkose merges them. */
  config: Dict;
  /** From the v2 api.js URL the setup came from. */
  publicKey?: string;
  subdomain?: string;
}

const arkoseSetups: ArkoseSetup[] = [];
/** data-callback names of Arkose v2 api.js scripts → the wrapper for that function. */
const setupCallbacks = new Map<string, (fn: unknown) => unknown>();
const ARKOSE_API = /^https?:\/\/([^/]+)\/v2\/([0-9A-Fa-f-]{36})\/api\.js(?:[?#]|$)/;

function hostOf(surl: unknown): string | undefined {
  try {
    return typeof surl === 'string' ? new URL(surl).hostname : undefined;
  } catch {
    return undefined;
  }
}

function mergeConfig(setup: ArkoseSetup, config: unknown): void {
  for (const key of ownKeys(config, 50)) setup.config[key] = own(config, key);
  reportArkose(setup);
}

function reportArkose(setup: ArkoseSetup): void {
  const config = setup.config;
  const publicKey = setup.publicKey ?? own(config, 'public_key') ?? own(config, 'publicKey') ?? own(config, 'pkey');
  const report: ProbeFunCaptchaReport = {
    family: 'funcaptcha',
    hasCallbackFunction: typeof own(config, 'onCompleted') === 'function' || typeof own(config, 'callback') === 'function',
  };
  if (typeof publicKey === 'string') report.publicKey = publicKey;
  const blob = own(own(config, 'data'), 'blob');
  if (typeof blob === 'string' && blob) report.blob = blob.slice(0, 16384);
  const subdomain = setup.subdomain ?? hostOf(own(config, 'surl'));
  if (subdomain) report.subdomain = subdomain;
  const selector = own(config, 'selector') ?? own(config, 'target_html');
  let target: Element | null = null;
  if (typeof selector === 'string') {
    try {
      target = query(document, selector);
    } catch {
      /* not a selector: an id (v1 target_html) */
    }
    target ??= byId(selector);
  }
  emit(report, target);
}

/** The v2 API hands an enforcement object to the page's data-callback function, which calls setConfig. */
function wrapEnforcement(enforcement: unknown, from: { publicKey?: string; subdomain?: string }): void {
  if (!isRecord(enforcement) && typeof enforcement !== 'function') return;
  const setup: ArkoseSetup = { config: {}, ...from };
  arkoseSetups.push(setup);
  interceptProperty(enforcement as object, 'setConfig', (fn) =>
    wrapFunction(fn, (original, self, args) => {
      mergeConfig(setup, args[0]);
      return apply(original, self, args);
    }),
  );
}

/** Wraps the named setup callbacks the page has defined by now (function declarations replace any earlier hook). */
function hookSetupCallbacks(): void {
  for (const [name, wrap] of setupCallbacks) {
    const current = own(page, name);
    if (typeof current !== 'function' || wrappers.has(current)) continue;
    try {
      page[name] = wrap(current);
    } catch {
      /* read-only: leave it */
    }
  }
}

function noteScript(script: Element): void {
  const name = attr(script, 'data-callback');
  const match = ARKOSE_API.exec(attr(script, 'src') ?? '');
  if (!match || !name || !isCallbackPath(name) || name.includes('.') || setupCallbacks.has(name)) return;
  const from = { subdomain: match[1]!, publicKey: match[2]! };
  const wrap = (fn: unknown): unknown =>
    wrapFunction(fn, (original, self, args) => {
      wrapEnforcement(args[0], from);
      return apply(original, self, args);
    });
  setupCallbacks.set(name, wrap);
  // Not defined yet: a later assignment goes through the hook; a later declaration replaces it
  // and is wrapped at the next chance (a script added, DOMContentLoaded, load, a scan).
  if (getOwnPropertyDescriptor(page, name) === undefined) interceptProperty(page, name, wrap);
  else hookSetupCallbacks();
}

/** v1 API: `new FunCaptcha({public_key, target_html, callback})` / `new ArkoseEnforcement({...})`. */
function hookArkoseConstructor(name: string): void {
  interceptProperty(page, name, (ctor) => {
    if (typeof ctor !== 'function' || wrappers.has(ctor)) return ctor;
    const capture = (args: unknown[]): void => {
      const setup: ArkoseSetup = { config: {} };
      arkoseSetups.push(setup);
      mergeConfig(setup, args[0]);
    };
    const proxy = new Proxy(ctor as AnyFunction, {
      construct: (target, args, newTarget) => {
        capture(args);
        return construct(target, args, newTarget) as object;
      },
      apply: (target, self, args) => {
        capture(args);
        return apply(target, self, args);
      },
    });
    wrappers.add(proxy);
    return proxy;
  });
}

/* ---------------- delivery ---------------- */

function resolvePath(path: string): { fn: AnyFunction; self: unknown } | null {
  let self: unknown = page;
  let value: unknown = page;
  for (const part of path.split('.')) {
    self = value;
    try {
      value = (value as Dict)[part];
    } catch {
      return null;
    }
    if (value === undefined || value === null) return null;
  }
  return typeof value === 'function' ? { fn: value as AnyFunction, self } : null;
}

function deliver(request: DeliverRequest): 'called' | 'none' | 'failed' {
  const calls = new Map<AnyFunction, { self: unknown; arg: unknown }>();
  const add = (fn: unknown, self: unknown, arg: unknown): void => {
    if (typeof fn === 'function' && !calls.has(fn as AnyFunction)) calls.set(fn as AnyFunction, { self, arg });
  };
  const addPath = (path: string | undefined): void => {
    const target = path && isCallbackPath(path) ? resolvePath(path) : null;
    if (target) add(target.fn, target.self, request.token);
  };
  if (request.family === 'recaptcha') {
    if (request.v3 && request.siteKey) v3Tokens.set(request.siteKey, request.token);
    const clients = own(own(page, '___grecaptcha_cfg'), 'clients');
    const params = request.widgetId !== undefined ? inspectClient(own(clients, String(request.widgetId))).params : undefined;
    const callback = own(params, 'callback');
    if (typeof callback === 'function') add(callback, page, request.token);
    else addPath(typeof callback === 'string' ? callback : request.callback);
  } else {
    for (const setup of arkoseSetups) {
      const key = setup.publicKey ?? own(setup.config, 'public_key') ?? own(setup.config, 'publicKey');
      if (request.publicKey && typeof key === 'string' && key.toLowerCase() !== request.publicKey.toLowerCase()) continue;
      add(own(setup.config, 'onCompleted'), setup.config, { token: request.token });
      add(own(setup.config, 'callback'), setup.config, request.token);
    }
    addPath(request.callback);
  }
  if (calls.size === 0) return 'none';
  let ok = true;
  for (const [fn, { self, arg }] of calls) {
    try {
      apply(fn, self, [arg]);
    } catch (error) {
      ok = false;
      console.error('CapRelay: the page callback threw', error);
    }
  }
  return ok ? 'called' : 'failed';
}

/* ---------------- wiring ---------------- */

function onScanRequest(): void {
  // The content script asks after it found something, e.g. an Arkose script added late.
  for (const script of queryAll(document, 'script[data-callback][src*="/api.js"]')) noteScript(script);
  hookSetupCallbacks();
  reportRecaptchaClients();
  for (const siteKey of v3Calls.keys()) reportV3(siteKey);
  for (const setup of arkoseSetups) reportArkose(setup);
}

function onDeliverRequest(event: Event): void {
  const request = parseDetail(detailOf ? detailOf.call(event) : (event as CustomEvent<unknown>).detail, isDeliverRequest);
  if (!request) return;
  fire(document, PROBE_RESULT_EVENT, deliver(request));
}

function install(): void {
  if (own(page, '__caprelayProbe')) return;
  try {
    defineProperty(page, '__caprelayProbe', { value: true });
  } catch {
    return;
  }
  interceptProperty(page, 'grecaptcha', (api) => hookRecaptchaApi(api, false));
  hookArkoseConstructor('ArkoseEnforcement');
  hookArkoseConstructor('FunCaptcha');
  listen(document, PROBE_SCAN_EVENT, guarded(onScanRequest));
  listen(document, PROBE_DELIVER_EVENT, guarded(onDeliverRequest));
  // The Arkose script's setup callback must be wrapped before the async script runs it: look at
  // each script as the parser adds it (only the added nodes, never the whole document). After
  // that the content script's scan requests cover scripts added later, so a busy page's
  // mutations never reach this world.
  // The live list of scripts tells when one was added without walking thousands of added nodes.
  const scripts = byTag('script');
  const noted = new WeakSet<Element>();
  let scriptCount = 0;
  const observer = new MutationObserver(
    guarded(() => {
      const count = collectionLength(scripts);
      if (count === scriptCount) return;
      scriptCount = count;
      for (let i = 0; i < count; i++) {
        const script = collectionItem(scripts, i);
        if (!script || noted.has(script)) continue;
        noted.add(script);
        noteScript(script);
      }
      if (setupCallbacks.size) hookSetupCallbacks();
    }),
  );
  observer.observe(document, { childList: true, subtree: true });
  listen(
    document,
    'DOMContentLoaded',
    guarded(() => {
      observer.disconnect();
      hookSetupCallbacks();
    }),
  );
  addEventListener('load', guarded(hookSetupCallbacks), true);
}

install();
