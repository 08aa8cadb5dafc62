/**
 * FunCaptcha / Arkose Labs in the page world. Traps (every frame, document_start): the v1
 * `FunCaptcha` / `ArkoseEnforcement` constructors, and the v2 setup callback the page names in
 * the api.js script's data-callback, wrapped before the async script runs it, so each
 * `enforcement.setConfig()` is seen. Hooks: the merged config reported (public key, data blob,
 * Arkose host, target element), and onCompleted / callback run with a delivered token.
 */
import type { DeliverRequest, ProbeFunCaptchaReport } from '../../shared/page-protocol';
import { isCallbackPath } from '../../shared/validate';
import type { FamilyTraps, HooksFactory, TrapKit } from '../channel';
import type { Dict } from '../intercept';
import { resolvePath, runCallbacks, type Callbacks } from './callbacks';

const ARKOSE_API = /^https?:\/\/([^/]+)\/v2\/([0-9A-Fa-f-]{36})\/api\.js(?:[?#]|$)/;

/** data-callback names of Arkose v2 api.js scripts → the wrapper for that function. */
const setupCallbacks = new Map<string, (fn: unknown) => unknown>();

/** Wraps the named setup callbacks the page has defined by now (a function declaration replaces any earlier hook). */
function hookSetupCallbacks(trap: TrapKit): void {
  const page = window as unknown as Dict;
  for (const [name, wrap] of setupCallbacks) {
    const current = trap.intercept.own(page, name);
    if (typeof current !== 'function' || trap.intercept.isOurs(current)) continue;
    try {
      page[name] = wrap(current);
    } catch {
      /* read-only: leave it */
    }
  }
}

function noteScript(script: Element, src: string, trap: TrapKit): void {
  const name = trap.dom.attr(script, 'data-callback');
  const match = ARKOSE_API.exec(src);
  if (!match || !name || !isCallbackPath(name) || name.includes('.') || setupCallbacks.has(name)) return;
  const meta = { subdomain: match[1]!, publicKey: match[2]! };
  // The api.js hands the page's callback an enforcement object, on which the page calls setConfig.
  const wrap = (fn: unknown): unknown =>
    trap.intercept.fn(fn, (original, self, args) => {
      const enforcement = args[0];
      if ((typeof enforcement === 'object' && enforcement !== null) || typeof enforcement === 'function') {
        trap.intercept.property(enforcement, 'setConfig', (setConfig) => trap.record('arkose.setConfig', setConfig, { meta }));
      }
      return trap.intercept.b.apply(original, self, args);
    });
  setupCallbacks.set(name, wrap);
  // Not defined yet: a later assignment goes through the hook; a later declaration replaces it
  // and is wrapped at the next chance (a scan, DOMContentLoaded, load).
  if (trap.intercept.b.getOwnPropertyDescriptor(window, name) === undefined) trap.intercept.property(window, name, wrap);
  else hookSetupCallbacks(trap);
}

export const arkoseTraps: FamilyTraps = {
  family: 'funcaptcha',
  install(trap) {
    for (const name of ['ArkoseEnforcement', 'FunCaptcha']) trap.intercept.property(window, name, (ctor) => trap.record('arkose.new', ctor, { construct: true }));
  },
  onScript: noteScript,
  onLoad: hookSetupCallbacks,
};

interface ArkoseSetup {
  /** The page's config, merged over setConfig calls the way Arkose merges them. */
  config: Dict;
  /** From the v2 api.js URL the setup came from. */
  publicKey?: string;
  subdomain?: string;
}

export const arkoseHooks: HooksFactory = ({ channel, emit }) => {
  const { intercept: x, dom, builtins: b } = channel;
  const setups: ArkoseSetup[] = [];
  const byEnforcement = new WeakMap<object, ArkoseSetup>();

  const hostOf = (surl: unknown): string | undefined => {
    try {
      return typeof surl === 'string' ? new b.URL(surl).hostname : undefined;
    } catch {
      return undefined;
    }
  };

  function reportSetup(setup: ArkoseSetup): void {
    const config = setup.config;
    const publicKey = setup.publicKey ?? x.own(config, 'public_key') ?? x.own(config, 'publicKey') ?? x.own(config, 'pkey');
    const report: ProbeFunCaptchaReport = { family: 'funcaptcha' };
    if (typeof publicKey === 'string') report.publicKey = publicKey;
    const blob = x.ownString(x.own(config, 'data'), 'blob', 16384);
    if (blob) report.blob = blob;
    const subdomain = setup.subdomain ?? hostOf(x.own(config, 'surl'));
    if (subdomain) report.subdomain = subdomain;
    const selector = x.own(config, 'selector') ?? x.own(config, 'target_html');
    let target: Element | null = null;
    if (typeof selector === 'string') {
      try {
        target = dom.query(document, selector);
      } catch {
        /* not a selector: an id (v1 target_html) */
      }
      target ??= dom.byId(selector);
    }
    emit(report, target);
  }

  function merge(setup: ArkoseSetup, config: unknown): void {
    for (const key of x.ownKeys(config, 50)) setup.config[key] = x.own(config, key);
    reportSetup(setup);
  }

  return {
    family: 'funcaptcha',
    onCall(call) {
      if (call.name === 'arkose.new') {
        const setup: ArkoseSetup = { config: {} };
        setups.push(setup);
        merge(setup, call.args[0]);
        return;
      }
      if (call.name !== 'arkose.setConfig' || typeof call.self !== 'object' || call.self === null) return;
      let setup = byEnforcement.get(call.self);
      if (!setup) {
        setup = { config: {}, ...(call.meta?.publicKey && { publicKey: call.meta.publicKey }), ...(call.meta?.subdomain && { subdomain: call.meta.subdomain }) };
        byEnforcement.set(call.self, setup);
        setups.push(setup);
      }
      merge(setup, call.args[0]);
    },
    report() {
      for (const setup of setups) reportSetup(setup);
    },
    deliver(request: DeliverRequest) {
      if (request.family !== 'funcaptcha') return 'none';
      const callbacks: Callbacks = new Map();
      const add = (fn: unknown, self: unknown, arg: unknown): void => {
        if (typeof fn === 'function' && !callbacks.has(fn as Parameters<Callbacks['set']>[0])) callbacks.set(fn as Parameters<Callbacks['set']>[0], { self, arg });
      };
      for (const setup of setups) {
        const key = setup.publicKey ?? x.own(setup.config, 'public_key') ?? x.own(setup.config, 'publicKey');
        if (request.publicKey && typeof key === 'string' && key.toLowerCase() !== request.publicKey.toLowerCase()) continue;
        add(x.own(setup.config, 'onCompleted'), setup.config, { token: request.token });
        add(x.own(setup.config, 'callback'), setup.config, request.token);
      }
      const target = request.callback && isCallbackPath(request.callback) ? resolvePath(request.callback) : null;
      if (target) add(target.fn, target.self, request.token);
      return runCallbacks(callbacks, b);
    },
  };
};
