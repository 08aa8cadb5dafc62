/**
 * Page-world probe. It runs in the page's own JavaScript world (so the page can see and
 * tamper with it) and therefore holds nothing secret: it reads widget parameters that exist
 * only in page memory (explicit grecaptcha.render configs, execute actions, Arkose configs)
 * and runs the page's own callbacks with a delivered token. It talks to the content script
 * only through DOM events, see shared/page-protocol.ts.
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

type AnyFunction = (...args: unknown[]) => unknown;
type PageWindow = Window & Record<string, unknown>;

const page = window as unknown as PageWindow;
const WRAPPED = Symbol('caprelay.wrapped');

/** Actions seen in execute(siteKey, {action}) calls, by site key (v3 and Enterprise). */
const v3Calls = new Map<string, { action?: string; enterprise: boolean }>();
/** Tokens delivered for v3 site keys: the page's next execute() for that key resolves with it. */
const v3Tokens = new Map<string, string>();
/** Containers rendered through grecaptcha.enterprise.render. */
const enterpriseContainers = new WeakSet<object>();
/** Arkose enforcement configs the page passed to setConfig / the v1 constructors. */
const arkoseConfigs: Record<string, unknown>[] = [];

function safeGet(obj: unknown, key: PropertyKey): unknown {
  try {
    return (obj as Record<PropertyKey, unknown>)[key];
  } catch {
    return undefined;
  }
}

function emit(report: ProbeReport, target: Element | null): void {
  const node = target?.isConnected ? target : document.documentElement;
  node?.dispatchEvent(new CustomEvent(PROBE_WIDGET_EVENT, { bubbles: true, composed: true, detail: JSON.stringify(report) }));
}

/** Keeps `obj[prop]` wrapped with `wrap`, including values the page assigns later. */
function interceptProperty(obj: object, prop: string, wrap: (value: unknown) => unknown): void {
  try {
    const descriptor = Object.getOwnPropertyDescriptor(obj, prop);
    if (descriptor && (!descriptor.configurable || descriptor.get)) {
      // Cannot take the property over: wrap the current value in place when writable.
      if (descriptor.writable) (obj as Record<string, unknown>)[prop] = wrap(descriptor.value);
      return;
    }
    let current = wrap(descriptor?.value);
    Object.defineProperty(obj, prop, {
      configurable: true,
      enumerable: true,
      get: () => current,
      set: (value: unknown) => {
        current = wrap(value);
      },
    });
  } catch {
    /* a frozen or exotic object: leave it alone */
  }
}

function wrapFunction(value: unknown, around: (original: AnyFunction, self: unknown, args: unknown[]) => unknown): unknown {
  if (typeof value !== 'function' || (value as unknown as Record<symbol, unknown>)[WRAPPED]) return value;
  const original = value as AnyFunction;
  const wrapped = function (this: unknown, ...args: unknown[]): unknown {
    return around(original, this, args);
  };
  Object.defineProperty(wrapped, WRAPPED, { value: true });
  return wrapped;
}

/* ---------------- reCAPTCHA ---------------- */

function hookRecaptchaApi(api: unknown, enterprise: boolean): unknown {
  if (!isRecord(api) && typeof api !== 'function') return api;
  const target = api as object;
  interceptProperty(target, 'execute', (fn) =>
    wrapFunction(fn, (original, self, args) => {
      const [siteKey, options] = args;
      if (typeof siteKey === 'string' && isRecaptchaSiteKey(siteKey)) {
        const action = safeGet(options, 'action');
        v3Calls.set(siteKey, { enterprise, ...(typeof action === 'string' ? { action: action.slice(0, 200) } : {}) });
        reportV3(siteKey);
        const token = v3Tokens.get(siteKey);
        if (token !== undefined) {
          v3Tokens.delete(siteKey);
          return Promise.resolve(token);
        }
      }
      return original.apply(self, args);
    }),
  );
  interceptProperty(target, 'render', (fn) =>
    wrapFunction(fn, (original, self, args) => {
      const container = args[0];
      const element = typeof container === 'string' ? document.getElementById(container) : container;
      if (enterprise && element instanceof Element) enterpriseContainers.add(element);
      const result = original.apply(self, args);
      queueMicrotask(reportRecaptchaClients);
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
  siteKey?: string;
  callback?: unknown;
  size?: unknown;
  s?: unknown;
  elements: Element[];
}

/** Walks one `___grecaptcha_cfg.clients` entry (obfuscated field names) for its params and elements. */
function inspectClient(client: unknown): ClientFacts {
  const facts: ClientFacts = { elements: [] };
  const seen = new Set<unknown>();
  let budget = 400;
  const walk = (value: unknown, depth: number): void => {
    if (budget-- <= 0 || depth > 4 || value === null || typeof value !== 'object' || seen.has(value)) return;
    seen.add(value);
    if (value instanceof Element) {
      facts.elements.push(value);
      return;
    }
    if (Array.isArray(value)) return;
    const siteKey = safeGet(value, 'sitekey');
    if (typeof siteKey === 'string' && !facts.siteKey) {
      facts.siteKey = siteKey;
      facts.callback = safeGet(value, 'callback');
      facts.size = safeGet(value, 'size');
      facts.s = safeGet(value, 's');
    }
    let keys: string[] = [];
    try {
      keys = Object.keys(value).slice(0, 50);
    } catch {
      return;
    }
    for (const key of keys) walk(safeGet(value, key), depth + 1);
  };
  walk(client, 0);
  return facts;
}

/** The element grecaptcha.render was given: the one holding all the client's other elements. */
function outermost(elements: Element[]): Element | null {
  let best: Element | null = null;
  for (const el of elements) {
    if (!best || el.contains(best)) best = el;
  }
  return best;
}

function reportRecaptchaClients(): void {
  const cfg = safeGet(page, '___grecaptcha_cfg');
  const clients = safeGet(cfg, 'clients');
  if (!isRecord(clients)) return;
  let keys: string[];
  try {
    keys = Object.keys(clients).slice(0, 100);
  } catch {
    return;
  }
  for (const key of keys) {
    const facts = inspectClient(safeGet(clients, key));
    if (!facts.siteKey || !isRecaptchaSiteKey(facts.siteKey)) continue;
    const container = outermost(facts.elements);
    const widgetId = Number(key);
    const report: ProbeRecaptchaReport = {
      family: 'recaptcha',
      siteKey: facts.siteKey,
      enterprise: container ? enterpriseContainers.has(container) : false,
      invisible: facts.size === 'invisible',
      v3: false,
      hasCallbackFunction: typeof facts.callback === 'function',
    };
    if (Number.isSafeInteger(widgetId)) report.widgetId = widgetId;
    if (typeof facts.callback === 'string' && isCallbackPath(facts.callback)) report.callback = facts.callback;
    if (typeof facts.s === 'string') report.dataS = facts.s.slice(0, 8192);
    emit(report, container);
  }
}

/* ---------------- FunCaptcha / Arkose ---------------- */

function captureArkoseConfig(config: unknown): void {
  if (!isRecord(config) || arkoseConfigs.includes(config)) return;
  arkoseConfigs.push(config);
  reportArkoseConfig(config);
}

function reportArkoseConfig(config: Record<string, unknown>): void {
  const report: ProbeFunCaptchaReport = {
    family: 'funcaptcha',
    hasCallbackFunction: typeof safeGet(config, 'onCompleted') === 'function' || typeof safeGet(config, 'callback') === 'function',
  };
  const publicKey = safeGet(config, 'public_key') ?? safeGet(config, 'publicKey');
  if (typeof publicKey === 'string') report.publicKey = publicKey;
  const blob = safeGet(safeGet(config, 'data'), 'blob');
  if (typeof blob === 'string') report.blob = blob.slice(0, 16384);
  const surl = safeGet(config, 'surl');
  if (typeof surl === 'string') {
    try {
      report.subdomain = new URL(surl).hostname;
    } catch {
      /* not a URL */
    }
  }
  const selector = safeGet(config, 'selector') ?? safeGet(config, 'target_html');
  let target: Element | null = null;
  try {
    if (typeof selector === 'string') target = document.querySelector(selector) ?? document.getElementById(selector);
  } catch {
    target = null;
  }
  emit(report, target);
}

/** The v2 API hands an enforcement object to the page's data-callback function, which calls setConfig. */
function wrapEnforcementObject(enforcement: unknown): void {
  if (!isRecord(enforcement) && typeof enforcement !== 'function') return;
  interceptProperty(enforcement as object, 'setConfig', (fn) =>
    wrapFunction(fn, (original, self, args) => {
      captureArkoseConfig(args[0]);
      return original.apply(self, args);
    }),
  );
}

function hookArkoseSetupCallbacks(): void {
  const scripts = document.querySelectorAll<HTMLScriptElement>('script[data-callback][src*="arkoselabs"], script[data-callback][src*="funcaptcha"]');
  for (const script of scripts) {
    const name = script.getAttribute('data-callback');
    if (!name || !isCallbackPath(name) || name.includes('.')) continue;
    const current = safeGet(page, name);
    if (typeof current === 'function' && !(current as unknown as Record<symbol, unknown>)[WRAPPED]) {
      interceptProperty(page, name, (fn) =>
        wrapFunction(fn, (original, self, args) => {
          wrapEnforcementObject(args[0]);
          return original.apply(self, args);
        }),
      );
    }
  }
}

/** v1 API: `new FunCaptcha({public_key, target_html, callback})` / `new ArkoseEnforcement({...})`. */
function hookArkoseConstructor(name: string): void {
  interceptProperty(page, name, (ctor) => {
    if (typeof ctor !== 'function' || (ctor as unknown as Record<symbol, unknown>)[WRAPPED]) return ctor;
    const Original = ctor as unknown as new (...args: unknown[]) => unknown;
    const Wrapped = function (this: unknown, ...args: unknown[]): unknown {
      captureArkoseConfig(args[0]);
      return new Original(...args);
    };
    Wrapped.prototype = Original.prototype;
    Object.defineProperty(Wrapped, WRAPPED, { value: true });
    return Wrapped;
  });
}

/* ---------------- delivery ---------------- */

function resolvePath(path: string): { fn: AnyFunction; self: unknown } | null {
  let self: unknown = page;
  let value: unknown = page;
  for (const part of path.split('.')) {
    self = value;
    value = safeGet(value, part);
    if (value === undefined || value === null) return null;
  }
  return typeof value === 'function' ? { fn: value as AnyFunction, self } : null;
}

function clientCallback(widgetId: number): unknown {
  const clients = safeGet(safeGet(page, '___grecaptcha_cfg'), 'clients');
  return inspectClient(safeGet(clients, String(widgetId))).callback;
}

function callSafely(fn: AnyFunction, self: unknown, arg: unknown): boolean {
  try {
    fn.call(self, arg);
    return true;
  } catch (error) {
    console.error('CapRelay: the page callback threw', error);
    return false;
  }
}

function deliver(request: DeliverRequest): 'called' | 'none' | 'failed' {
  const calls: Array<() => boolean> = [];
  if (request.family === 'recaptcha') {
    if (request.v3 && request.siteKey) v3Tokens.set(request.siteKey, request.token);
    let callback: unknown = request.widgetId !== undefined ? clientCallback(request.widgetId) : undefined;
    if (callback === undefined && request.callback) callback = request.callback;
    if (typeof callback === 'function') calls.push(() => callSafely(callback as AnyFunction, page, request.token));
    else if (typeof callback === 'string' && isCallbackPath(callback)) {
      const target = resolvePath(callback);
      if (target) calls.push(() => callSafely(target.fn, target.self, request.token));
    }
  } else {
    for (const config of arkoseConfigs) {
      const onCompleted = safeGet(config, 'onCompleted');
      if (typeof onCompleted === 'function') calls.push(() => callSafely(onCompleted as AnyFunction, config, { token: request.token }));
      const callback = safeGet(config, 'callback');
      if (typeof callback === 'function') calls.push(() => callSafely(callback as AnyFunction, config, request.token));
    }
    if (request.callback) {
      const target = resolvePath(request.callback);
      if (target) calls.push(() => callSafely(target.fn, target.self, request.token));
    }
  }
  if (calls.length === 0) return 'none';
  return calls.map((call) => call()).every(Boolean) ? 'called' : 'failed';
}

/* ---------------- wiring ---------------- */

function onScanRequest(): void {
  hookArkoseSetupCallbacks();
  reportRecaptchaClients();
  for (const siteKey of v3Calls.keys()) reportV3(siteKey);
  for (const config of arkoseConfigs) reportArkoseConfig(config);
}

function onDeliverRequest(event: Event): void {
  const request = parseDetail((event as CustomEvent<unknown>).detail, isDeliverRequest);
  if (!request) return;
  const outcome = deliver(request);
  document.dispatchEvent(new CustomEvent(PROBE_RESULT_EVENT, { detail: outcome }));
}

function install(): void {
  if (safeGet(page, '__caprelayProbe')) return;
  try {
    Object.defineProperty(page, '__caprelayProbe', { value: true });
  } catch {
    return;
  }
  interceptProperty(page, 'grecaptcha', (api) => hookRecaptchaApi(api, false));
  hookArkoseConstructor('ArkoseEnforcement');
  hookArkoseConstructor('FunCaptcha');
  document.addEventListener(PROBE_SCAN_EVENT, onScanRequest, true);
  document.addEventListener(PROBE_DELIVER_EVENT, onDeliverRequest, true);
  // The Arkose script's setup callback must be wrapped before the async script runs it.
  new MutationObserver((records) => {
    for (const record of records) {
      for (const node of record.addedNodes) {
        if (node.nodeName === 'SCRIPT') {
          hookArkoseSetupCallbacks();
          return;
        }
      }
    }
  }).observe(document, { childList: true, subtree: true });
  document.addEventListener('DOMContentLoaded', hookArkoseSetupCallbacks, { once: true });
}

install();
