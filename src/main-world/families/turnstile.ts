/**
 * Cloudflare Turnstile in the page world. api.js keeps an existing `window.turnstile` and then
 * installs nothing, so the global is never trapped before it exists: the traps wait for
 * Turnstile's script instead (as the parser or a loader adds it), wrap the onload function it
 * names, and wrap `turnstile.render` / `getResponse` / … once the script has run, before the
 * page can call them. The hooks report render() params (site key, action, cData, the challenge
 * page's chlPageData, a custom response field name), run the widget's callback with a token, and
 * make `turnstile.getResponse()` return it for that widget.
 */
import type { DeliverRequest, ProbeTurnstileReport } from '../../shared/page-protocol';
import { isCallbackPath } from '../../shared/validate';
import type { FamilyTraps, HooksFactory, TrapKit } from '../channel';
import type { Dict } from '../intercept';
import { resolvePath, runCallbacks, type Callbacks } from './callbacks';

const TURNSTILE_SCRIPT = /^https:\/\/challenges\.cloudflare\.com\/turnstile\/v0\/(?:g\/[\w-]+\/)?api\.js(?:[?#]|$)/;
const METHODS = ['render', 'execute', 'getResponse', 'reset', 'remove', 'isExpired'] as const;
/** Widget element ids api.js returns from render(): `cf-chl-widget-<id>`. */
const WIDGET_ID = /^cf-chl-widget-[\w-]{1,40}$/;

/** Wraps the methods of `window.turnstile` once it exists (again if the page replaces the object). */
function wrapTurnstile(trap: TrapKit): void {
  const api = trap.intercept.own(window, 'turnstile');
  if ((typeof api !== 'object' || api === null) && typeof api !== 'function') return;
  trap.marker();
  // In reCAPTCHA compatibility mode the same object is window.grecaptcha, whose render the
  // reCAPTCHA traps already record: each method is wrapped once, by whichever came first.
  for (const name of METHODS) {
    if (trap.intercept.isOurs(trap.intercept.own(api, name))) continue;
    trap.intercept.property(api, name, (fn) => trap.record(`turnstile.${name}`, fn, { answerable: name === 'getResponse' }));
  }
}

const onloadNames = new Set<string>();

function noteScript(script: Element, src: string, trap: TrapKit): void {
  if (!TURNSTILE_SCRIPT.test(src)) return;
  // After the script has run (a parser-inserted one before the next script runs).
  trap.dom.listen(script, 'load', () => wrapTurnstile(trap));
  let onload: string | null = null;
  try {
    onload = new trap.intercept.b.URL(src).searchParams.get('onload');
  } catch {
    /* not a URL */
  }
  if (!onload || !isCallbackPath(onload) || onload.includes('.') || onloadNames.has(onload)) return;
  onloadNames.add(onload);
  // api.js calls it at the end of its run, and the page renders in it: wrap Turnstile first.
  const wrap = (fn: unknown): unknown =>
    trap.intercept.fn(fn, (original, self, args) => {
      wrapTurnstile(trap);
      return trap.intercept.b.apply(original, self, args);
    });
  const page = window as unknown as Dict;
  const current = trap.intercept.own(page, onload);
  if (typeof current === 'function') page[onload] = wrap(current);
  else if (trap.intercept.b.getOwnPropertyDescriptor(window, onload) === undefined) trap.intercept.property(window, onload, wrap);
}

export const turnstileTraps: FamilyTraps = {
  family: 'turnstile',
  onScript: noteScript,
  onLoad: wrapTurnstile,
};

interface Widget {
  id?: string;
  container: Element | null;
  params: unknown;
  /** Set when a token was delivered: getResponse() answers it for this widget. */
  token?: string;
}

export const turnstileHooks: HooksFactory = ({ channel, emit }) => {
  const { intercept: x, dom, builtins: b } = channel;
  const widgets: Widget[] = [];

  function reportWidget(w: Widget): void {
    const siteKey = x.own(w.params, 'sitekey');
    if (typeof siteKey !== 'string') return;
    const report: ProbeTurnstileReport = { family: 'turnstile', siteKey: siteKey.slice(0, 100) };
    if (w.id) report.widgetId = w.id;
    const action = x.ownString(w.params, 'action', 100);
    if (action) report.action = action;
    const cData = x.ownString(w.params, 'cData', 300);
    if (cData) report.cData = cData;
    const pageData = x.ownString(w.params, 'chlPageData', 10_000);
    if (pageData) report.pageData = pageData;
    const field = x.ownString(w.params, 'response-field-name', 100);
    if (field) report.responseField = field;
    if (x.own(w.params, 'response-field') === false) report.responseField = '';
    const callback = x.own(w.params, 'callback');
    if (isCallbackPath(callback)) report.callback = callback;
    emit(report, w.container);
  }

  /** The widget a getResponse(target) call means: by id, by container, or the last one. */
  function widgetFor(target: unknown): Widget | undefined {
    if (target === undefined) return widgets.at(-1);
    return widgets.find(
      (w) =>
        (typeof target === 'string' && (target === w.id || target === `cf-chl-widget-${w.id}`)) ||
        (dom.isElement(target) && w.container !== null && dom.contains(w.container, target)) ||
        dom.elementOf(target) === w.container,
    );
  }

  return {
    family: 'turnstile',
    onCall(call) {
      const params = call.args[1];
      const compat = call.name === 'recaptcha.render' && /^[0-3]x/.test(String(x.own(params, 'sitekey')));
      if (call.name !== 'turnstile.render' && !compat) return;
      // Implicit widgets pass through render() with no params: the content script reads their markup.
      if ((typeof params !== 'object' || params === null) && dom.elementOf(call.args[0]) === null) return;
      const id = typeof call.result === 'string' && WIDGET_ID.test(call.result) ? call.result.slice('cf-chl-widget-'.length) : undefined;
      const widget: Widget = { container: dom.elementOf(call.args[0]), params, ...(id && { id }) };
      widgets.push(widget);
      reportWidget(widget);
    },
    answer(call) {
      if (call.name !== 'turnstile.getResponse') return undefined;
      const widget = widgetFor(call.args[0]);
      return widget?.token !== undefined ? { value: widget.token } : undefined;
    },
    report() {
      for (const widget of widgets) reportWidget(widget);
    },
    deliver(request: DeliverRequest) {
      if (request.family !== 'turnstile') return 'none';
      const callbacks: Callbacks = new Map();
      // The widget this token is for: the one rendered with that id, else one the page rendered in markup.
      let widget = request.ref ? widgets.find((w) => w.id === request.ref) : undefined;
      if (!widget && request.ref) {
        widget = { id: request.ref, container: null, params: {} };
        widgets.push(widget);
      }
      if (widget) {
        widget.token = request.token;
        const fn = x.own(widget.params, 'callback');
        if (typeof fn === 'function') callbacks.set(fn as Parameters<Callbacks['set']>[0], { self: window, arg: request.token });
      }
      const target = callbacks.size === 0 && request.callback && isCallbackPath(request.callback) ? resolvePath(request.callback) : null;
      if (target) callbacks.set(target.fn, { self: target.self, arg: request.token });
      return runCallbacks(callbacks, b);
    },
  };
};
