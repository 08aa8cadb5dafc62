/**
 * Cloudflare Turnstile detector: implicit widgets (`.cf-turnstile` / `.cf-challenge` with
 * data-sitekey, and `.g-recaptcha` markup with a Turnstile key in its reCAPTCHA compatibility
 * mode), explicit `turnstile.render()` calls and the challenge page's own render call (from the
 * probe). Told apart from reCAPTCHA and hCaptcha by its keys (`0x…`, never `6L…`) and its
 * script; the reCAPTCHA detector never takes a Turnstile key either. The token goes into the
 * widget's response fields (cf-turnstile-response, a custom name, g-recaptcha-response in
 * compatibility mode) and to the probe for the callback and turnstile.getResponse().
 */
import { CAPTCHA_LIMITS, isBoundedCallback, type TurnstileCaptcha } from '../../shared/captcha';
import { isTurnstileSiteKey, TURNSTILE_LIMITS } from '../../shared/families/turnstile';
import { MAX_CAPTCHAS_PER_FRAME, type Notice } from '../../shared/messages';
import type { DeliverRequest, ProbeReport } from '../../shared/page-protocol';
import { attr, connected, documentRoot, localName, queryAll } from '../../page-dom/dom';
import type { DeliveryPlan, FamilyDetector, WidgetIds } from '../detector';
import { fill } from '../fill';

/** The challenge page's form: it posts the answer back to the protected URL with __cf_chl_f_tk. */
const CHALLENGE_FORM = 'form#challenge-form[action*="__cf_chl_f_tk="]';

const TURNSTILE_SELECTOR = `.cf-turnstile, .cf-challenge, .g-recaptcha[data-sitekey], input[name="cf-turnstile-response"], ${CHALLENGE_FORM}`;

const WIDGET_VALUE = /^[\w-]+$/;
/** api.js names each widget's response field after it: `cf-chl-widget-<id>_response`. */
const RESPONSE_ID = /^cf-chl-widget-([\w-]{1,40})_(?:g_)?response$/;

interface Widget {
  siteKey: string;
  action?: string;
  cData?: string;
  pageData?: string;
  callback?: string;
  /** A custom response-field-name; '' for none. */
  responseField?: string;
  /** render()'s widget id. */
  widgetId?: string;
}

const valueOf = (raw: string | null | undefined, max: number): string | undefined => (raw && raw.length <= max && WIDGET_VALUE.test(raw) ? raw : undefined);

export class TurnstileDetector implements FamilyDetector<TurnstileCaptcha> {
  readonly family = 'turnstile';
  readonly selector = TURNSTILE_SELECTOR;
  private readonly widgets = new Map<Element, Widget>();
  private challengePage = false;

  constructor(private readonly ids: WidgetIds) {}

  /** The challenge page whose check CapRelay cannot read (yet): explained, never sent as a task. */
  notices(): Notice[] {
    return this.challengePage && ![...this.widgets.values()].some((w) => w.pageData) ? ['cloudflare-challenge'] : [];
  }

  inspect(el: Element): boolean {
    if (localName(el) === 'form') {
      // Cloudflare's "Just a moment…" page: its check (and the task's data) may come later, or never.
      const changed = !this.challengePage;
      this.challengePage = true;
      return changed;
    }
    if (localName(el) === 'input') {
      // A response field api.js made: its container is already a widget, or an explicit one the probe reports.
      return false;
    }
    const siteKey = attr(el, 'data-sitekey');
    // reCAPTCHA markup is Turnstile's only in its compatibility mode, with a Turnstile key.
    if (!isTurnstileSiteKey(siteKey)) return false;
    const widget = this.widgetFor(el, siteKey);
    const action = valueOf(attr(el, 'data-action'), TURNSTILE_LIMITS.action);
    if (action) widget.action = action;
    const cData = valueOf(attr(el, 'data-cdata'), TURNSTILE_LIMITS.cData);
    if (cData) widget.cData = cData;
    const callback = attr(el, 'data-callback');
    if (isBoundedCallback(callback)) widget.callback = callback;
    const field = attr(el, 'data-response-field-name');
    if (field && field.length <= 100) widget.responseField = field;
    if (attr(el, 'data-response-field') === 'false') widget.responseField = '';
    return true;
  }

  applyProbe(report: ProbeReport, target: Element | null): boolean {
    if (report.family !== 'turnstile' || !isTurnstileSiteKey(report.siteKey) || !target || target === documentRoot()) return false;
    const widget = this.widgetFor(target, report.siteKey);
    const action = valueOf(report.action, TURNSTILE_LIMITS.action);
    if (action) widget.action = action;
    const cData = valueOf(report.cData, TURNSTILE_LIMITS.cData);
    if (cData) widget.cData = cData;
    if (report.pageData && report.pageData.length <= CAPTCHA_LIMITS.pageData && /^[\w+/=.~-]+$/.test(report.pageData)) widget.pageData = report.pageData;
    if (report.callback) widget.callback = report.callback;
    if (report.responseField !== undefined) widget.responseField = report.responseField;
    if (report.widgetId) widget.widgetId = report.widgetId;
    return true;
  }

  private widgetFor(container: Element, siteKey: string): Widget {
    let widget = this.widgets.get(container);
    if (!widget || widget.siteKey !== siteKey) {
      const known = Boolean(widget);
      widget = { siteKey };
      // A page can fake any number of widgets: beyond what a frame may report, nothing is kept.
      if (known || !this.full()) this.widgets.set(container, widget);
    }
    return widget;
  }

  full(): boolean {
    return this.widgets.size >= MAX_CAPTCHAS_PER_FRAME;
  }

  prune(): boolean {
    let changed = false;
    for (const container of this.widgets.keys()) {
      if (connected(container)) continue;
      this.widgets.delete(container);
      changed = true;
    }
    return changed;
  }

  captchas(): TurnstileCaptcha[] {
    return Array.from(this.widgets, ([container, w]) => {
      const captcha: TurnstileCaptcha = { family: 'turnstile', id: this.ids.idFor(container, 'ts'), siteKey: w.siteKey };
      if (w.action) captcha.action = w.action;
      if (w.cData) captcha.cData = w.cData;
      if (w.pageData) captcha.pageData = w.pageData;
      if (w.callback) captcha.callback = w.callback;
      return captcha;
    });
  }

  containerOf(captchaId: string): Element | null {
    for (const container of this.widgets.keys()) if (this.ids.peek(container) === captchaId) return container;
    return null;
  }

  /** The widget's response fields in its container: the default name, a custom one, and in compatibility mode the reCAPTCHA one. */
  private fields(container: Element, widget: Widget): HTMLInputElement[] {
    if (widget.responseField === '') return [];
    const names = new Set(['cf-turnstile-response', 'g-recaptcha-response', widget.responseField].filter((n): n is string => !!n));
    return queryAll<HTMLInputElement>(container, 'input, textarea').filter((field) => names.has(attr(field, 'name') ?? ''));
  }

  deliver(captcha: TurnstileCaptcha, token: string): DeliveryPlan {
    const container = this.containerOf(captcha.id);
    const widget = container ? this.widgets.get(container) : undefined;
    const fields = container && widget ? this.fields(container, widget) : [];
    for (const field of fields) fill(field, token);
    const request: DeliverRequest = { family: 'turnstile', token, v3: false };
    // The widget id: the one render() returned, else the one api.js wrote into the field's id.
    const ref = widget?.widgetId ?? fields.map((f) => RESPONSE_ID.exec(f.id)?.[1]).find(Boolean);
    if (ref) request.ref = ref;
    if (captcha.callback) request.callback = captcha.callback;
    return { fieldsFilled: fields.length, request };
  }
}

export const turnstile = (ids: WidgetIds): TurnstileDetector => new TurnstileDetector(ids);
