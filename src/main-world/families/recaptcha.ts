/**
 * reCAPTCHA in the page world. Traps (every frame, document_start): `window.grecaptcha` and
 * `grecaptcha.enterprise`, their `render` and `execute`. Hooks (where a marker showed): explicit
 * render() configs read from `___grecaptcha_cfg` (only clients the page made through render()),
 * v3 actions from execute(), the widget's callback run with a token, and the page's next v3
 * execute() for a key answered with the delivered token.
 */
import type { DeliverRequest, ProbeRecaptchaReport } from '../../shared/page-protocol';
import { isCallbackPath, isRecaptchaSiteKey } from '../../shared/validate';
import type { FamilyTraps, HooksFactory, TrapCall } from '../channel';
import { runCallbacks, resolvePath, type Callbacks } from './callbacks';

const isObjectLike = (v: unknown): v is object => (typeof v === 'object' && v !== null) || typeof v === 'function';

export const recaptchaTraps: FamilyTraps = {
  family: 'recaptcha',
  install(trap) {
    const hookApi = (api: unknown, prefix: string): unknown => {
      if (!isObjectLike(api)) return api;
      trap.marker();
      trap.intercept.property(api, 'execute', (fn) => trap.record(`${prefix}.execute`, fn, { answerable: true }));
      trap.intercept.property(api, 'render', (fn) => trap.record(`${prefix}.render`, fn));
      if (prefix === 'recaptcha') trap.intercept.property(api, 'enterprise', (value) => hookApi(value, 'recaptcha.enterprise'));
      return api;
    };
    trap.intercept.property(window, 'grecaptcha', (api) => hookApi(api, 'recaptcha'));
  },
};

interface ClientFacts {
  params?: object;
  elements: Element[];
}

export const recaptchaHooks: HooksFactory = ({ channel, emit }) => {
  const { intercept: x, dom, builtins: b } = channel;
  /** Actions seen in execute(siteKey, {action}) calls, by site key (v3 and Enterprise). */
  const v3Calls = new Map<string, { action?: string; enterprise: boolean }>();
  /** Tokens delivered for v3 site keys: the page's next execute() for that key resolves with it. */
  const v3Tokens = new Map<string, string>();
  /** Widget ids returned by render(): only these clients are read. */
  const renderedIds = new Map<number, { enterprise: boolean }>();

  const clientsOf = (): unknown => x.own(x.own(window, '___grecaptcha_cfg'), 'clients');

  /** Walks one `___grecaptcha_cfg.clients` entry (obfuscated field names) for its params and elements. */
  function inspectClient(client: unknown): ClientFacts {
    const facts: ClientFacts = { elements: [] };
    const seen = new WeakSet();
    let budget = 400;
    const walk = (value: unknown, depth: number): void => {
      if (budget-- <= 0 || depth > 4 || value === null || typeof value !== 'object' || seen.has(value)) return;
      seen.add(value);
      if (dom.isElement(value)) {
        facts.elements.push(value);
        return;
      }
      if (Array.isArray(value)) return;
      if (!facts.params && typeof x.own(value, 'sitekey') === 'string') facts.params = value;
      for (const key of x.ownKeys(value, 50)) walk(x.own(value, key), depth + 1);
    };
    walk(client, 0);
    return facts;
  }

  /** The element to report a widget on: its anchor frame (the content script pairs it with its container), else the outermost. */
  function reportTarget(elements: Element[]): Element | null {
    let best: Element | null = null;
    for (const el of elements) {
      if (dom.localName(el) === 'iframe' && /\/anchor\?/.test(dom.attr(el, 'src') ?? '')) return el;
      if (!best || dom.contains(el, best)) best = el;
    }
    return best;
  }

  function reportV3(siteKey: string): void {
    const call = v3Calls.get(siteKey);
    if (!call) return;
    const report: ProbeRecaptchaReport = { family: 'recaptcha', siteKey, enterprise: call.enterprise, invisible: true, v3: true };
    if (call.action) report.action = call.action;
    emit(report, null);
  }

  function reportClients(): void {
    const clients = clientsOf();
    for (const [widgetId, { enterprise }] of renderedIds) {
      const facts = inspectClient(x.own(clients, String(widgetId)));
      const params = facts.params;
      const siteKey = x.own(params, 'sitekey');
      if (!isRecaptchaSiteKey(siteKey)) continue;
      const callback = x.own(params, 'callback');
      const report: ProbeRecaptchaReport = { family: 'recaptcha', siteKey, widgetId, enterprise, invisible: x.own(params, 'size') === 'invisible', v3: false };
      if (isCallbackPath(callback)) report.callback = callback;
      const s = x.ownString(params, 's', 8192);
      if (s) report.dataS = s;
      const action = x.ownString(params, 'action', 200);
      if (action) report.action = action;
      emit(report, reportTarget(facts.elements));
    }
  }

  const isExecute = (call: TrapCall): boolean => call.name === 'recaptcha.execute' || call.name === 'recaptcha.enterprise.execute';

  /** Notes the action of an execute() call; true when it is one for a v3 key. */
  function noteExecute(call: TrapCall): string | undefined {
    const [siteKey, options] = call.args;
    if (!isRecaptchaSiteKey(siteKey)) return undefined;
    const action = x.ownString(options, 'action', 200);
    v3Calls.set(siteKey, { enterprise: call.name === 'recaptcha.enterprise.execute', ...(action && { action }) });
    reportV3(siteKey);
    return siteKey;
  }

  return {
    family: 'recaptcha',
    onCall(call) {
      if (isExecute(call)) {
        if (!call.offered) noteExecute(call);
      } else if (typeof call.result === 'number') {
        renderedIds.set(call.result, { enterprise: call.name === 'recaptcha.enterprise.render' });
        b.microtask(reportClients);
      }
    },
    answer(call) {
      if (!isExecute(call)) return undefined;
      const siteKey = noteExecute(call);
      const token = siteKey && v3Tokens.get(siteKey);
      if (!siteKey || token === undefined) return undefined;
      v3Tokens.delete(siteKey);
      return { value: b.resolved(token) };
    },
    report() {
      reportClients();
      for (const siteKey of v3Calls.keys()) reportV3(siteKey);
    },
    deliver(request: DeliverRequest) {
      if (request.family !== 'recaptcha') return 'none';
      const callbacks: Callbacks = new Map();
      if (request.v3 && request.siteKey) v3Tokens.set(request.siteKey, request.token);
      const params = request.widgetId !== undefined ? inspectClient(x.own(clientsOf(), String(request.widgetId))).params : undefined;
      const callback = x.own(params, 'callback');
      if (typeof callback === 'function') callbacks.set(callback as Parameters<Callbacks['set']>[0], { self: window, arg: request.token });
      else {
        const path = typeof callback === 'string' ? callback : request.callback;
        const target = path && isCallbackPath(path) ? resolvePath(path) : null;
        if (target) callbacks.set(target.fn, { self: target.self, arg: request.token });
      }
      return runCallbacks(callbacks, b);
    },
  };
};
