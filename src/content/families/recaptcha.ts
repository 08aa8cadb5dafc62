/**
 * reCAPTCHA detector: v2 checkbox, v2 invisible, v2 Enterprise and v3, from markup
 * (`.g-recaptcha`, anchor iframes, api.js / enterprise.js scripts) and from probe reports
 * (explicit grecaptcha.render calls, execute actions, function callbacks).
 */
import { CAPTCHA_LIMITS, isBoundedCallback, type RecaptchaCaptcha } from '../../shared/captcha';
import { MAX_CAPTCHAS_PER_FRAME } from '../../shared/messages';
import type { DeliverRequest, ProbeReport } from '../../shared/page-protocol';
import { isRecaptchaSiteKey } from '../../shared/validate';
import { parseRecaptchaAnchorUrl, parseRecaptchaScriptUrl, type RecaptchaApiDomain } from '../../shared/urls';
import type { DeliveryPlan, FamilyDetector, WidgetIds } from '../detector';
import { fill } from '../fill';
import { attr, baseURI, closest, connected, contains, documentBody, documentRoot, localName, parent, query, queryAll, rootNode } from '../../page-dom/dom';

const RECAPTCHA_SELECTOR = '.g-recaptcha, iframe[src*="/recaptcha/"], script[src*="/recaptcha/"]';

const RESPONSE_FIELD = 'textarea[name="g-recaptcha-response"], input[name="g-recaptcha-response"]';

interface V2Widget {
  siteKey: string;
  /** Declared in markup (`.g-recaptcha[data-sitekey]`) rather than found through its frame. */
  declared: boolean;
  /** An anchor frame belongs to it. */
  rendered: boolean;
  enterprise: boolean;
  invisible: boolean;
  apiDomain?: RecaptchaApiDomain;
  dataS?: string;
  action?: string;
  callback?: string;
  widgetId?: number;
  /** Where else its parts live: a button-bound widget renders its badge at the end of the body. */
  parts: Element[];
}

interface V3Site {
  enterprise: boolean;
  apiDomain?: RecaptchaApiDomain;
  action?: string;
  callback?: string;
}

/** Elements of other captcha families that also use data-sitekey or even the g-recaptcha class. */
const FOREIGN_WIDGET = '.h-captcha, .cf-turnstile, [data-hcaptcha-widget-id], .frc-captcha';

/**
 * The element a rendered widget belongs to. grecaptcha renders
 * `container > wrapper(textarea + … iframe)`, the invisible badge
 * `container > .grecaptcha-badge(… iframe, textarea)`.
 */
function widgetContainerOf(frame: Element): Element {
  const declared = closest(frame, '.g-recaptcha');
  if (declared) return declared;
  const body = documentBody();
  let node = parent(frame);
  // Never up to <body>: a query there would scan the whole page on one mutation.
  for (let depth = 0; node && node !== body && depth < 4; depth++, node = parent(node)) {
    if (query(node, RESPONSE_FIELD)) return parent(node) ?? node;
  }
  return parent(frame) ?? frame;
}

/** An attribute value, unless it is longer than anything a real widget uses. */
function bounded(value: string | null, max: number): string | undefined {
  return value && value.length <= max ? value : undefined;
}

function isButton(el: Element): boolean {
  const name = localName(el);
  return name === 'button' || name === 'input';
}

export class RecaptchaDetector implements FamilyDetector<RecaptchaCaptcha> {
  readonly family = 'recaptcha';
  readonly selector = RECAPTCHA_SELECTOR;
  /** By container element, in the order they were found. */
  private readonly widgets = new Map<Element, V2Widget>();
  /** Part element (e.g. a badge holder) → the container it belongs to. */
  private readonly owners = new WeakMap<Element, Element>();
  private readonly v3Sites = new Map<string, V3Site>();
  /** Set when enterprise.js is on the page: explicit widgets are then Enterprise ones. */
  private enterpriseScript = false;
  private apiScript = false;
  private scriptApiDomain: RecaptchaApiDomain | undefined;

  constructor(private readonly ids: WidgetIds) {}

  inspect(el: Element): boolean {
    const name = localName(el);
    if (name === 'iframe') return this.inspectFrame(el);
    if (name === 'script') return this.inspectScript(el);
    return this.inspectDeclared(el);
  }

  private inspectDeclared(el: Element): boolean {
    const siteKey = attr(el, 'data-sitekey');
    // Only `.g-recaptcha` is rendered by Google's script; a bare data-sitekey is often just
    // configuration, and an explicitly rendered widget is found through its frame instead.
    if (!isRecaptchaSiteKey(siteKey) || closest(el, FOREIGN_WIDGET)) return false;
    const callback = attr(el, 'data-callback');
    const action = bounded(attr(el, 'data-action'), CAPTCHA_LIMITS.action);
    // Google's v3 docs bind score keys to a button with data-action; v2 invisible buttons have none.
    if (isButton(el) && action) {
      const site = this.v3For(siteKey, false);
      site.action = action;
      if (isBoundedCallback(callback)) site.callback = callback;
      return true;
    }
    const widget = this.widgetFor(el, siteKey);
    widget.declared = true;
    if (attr(el, 'data-size') === 'invisible' || isButton(el)) widget.invisible = true;
    const dataS = bounded(attr(el, 'data-s'), CAPTCHA_LIMITS.dataS);
    if (dataS) widget.dataS = dataS;
    if (action) widget.action = action;
    if (isBoundedCallback(callback)) widget.callback = callback;
    return true;
  }

  private inspectFrame(el: Element): boolean {
    const src = attr(el, 'src');
    const anchor = src ? parseRecaptchaAnchorUrl(src, baseURI()) : null;
    if (!anchor) return false;
    const widget = this.widgetFor(this.containerOfFrame(el, anchor.siteKey), anchor.siteKey);
    widget.rendered = true;
    widget.enterprise ||= anchor.enterprise;
    widget.invisible ||= anchor.invisible;
    if (anchor.dataS) widget.dataS ??= anchor.dataS;
    if (anchor.apiDomain === 'www.recaptcha.net') widget.apiDomain = anchor.apiDomain;
    return true;
  }

  /**
   * The container of an anchor frame. A frame outside any declared widget may still belong to
   * one: a widget bound to a button gets its badge appended elsewhere; it pairs with the first
   * declared widget of that key that has no frame yet (Google renders them in document order).
   */
  private containerOfFrame(frame: Element, siteKey: string): Element {
    const container = widgetContainerOf(frame);
    const known = this.owners.get(container) ?? container;
    if (this.widgets.has(known) || closest(container, '.g-recaptcha')) return known;
    for (const [element, widget] of this.widgets) {
      if (widget.declared && !widget.rendered && widget.siteKey === siteKey && !contains(element, frame)) {
        widget.parts.push(container);
        this.owners.set(container, element);
        return element;
      }
    }
    return container;
  }

  private inspectScript(el: Element): boolean {
    const src = attr(el, 'src');
    const script = src ? parseRecaptchaScriptUrl(src, baseURI()) : null;
    if (!script) return false;
    if (script.enterprise) this.enterpriseScript = true;
    else this.apiScript = true;
    if (script.apiDomain === 'www.recaptcha.net') this.scriptApiDomain = script.apiDomain;
    if (script.v3SiteKey) this.v3For(script.v3SiteKey, script.enterprise, script.apiDomain);
    return true;
  }

  /** A report from the page-world probe; `target` is the widget's anchor frame or container. */
  applyProbe(report: ProbeReport, target: Element | null): boolean {
    if (report.family !== 'recaptcha' || !isRecaptchaSiteKey(report.siteKey)) return false;
    const apiDomain = report.apiDomain === 'www.recaptcha.net' ? report.apiDomain : undefined;
    if (report.v3) {
      const v3 = this.v3For(report.siteKey, report.enterprise, apiDomain);
      if (report.action) v3.action = report.action;
      return true;
    }
    if (!target || target === documentRoot()) return false;
    const container = localName(target) === 'iframe' ? this.containerOfFrame(target, report.siteKey) : (this.owners.get(target) ?? target);
    const widget = this.widgetFor(container, report.siteKey);
    widget.enterprise ||= report.enterprise;
    widget.invisible ||= report.invisible;
    if (report.widgetId !== undefined) widget.widgetId = report.widgetId;
    if (report.dataS) widget.dataS = report.dataS;
    if (report.action) widget.action ??= report.action;
    if (report.callback) widget.callback ??= report.callback;
    if (apiDomain) widget.apiDomain = apiDomain;
    return true;
  }

  private widgetFor(container: Element, siteKey: string): V2Widget {
    let widget = this.widgets.get(container);
    if (!widget || widget.siteKey !== siteKey) {
      const known = Boolean(widget);
      widget = { siteKey, declared: false, rendered: false, enterprise: false, invisible: false, parts: [] };
      // A page can fake any number of widgets: beyond what a frame may report, nothing is kept.
      if (known || !this.full()) this.widgets.set(container, widget);
    }
    return widget;
  }

  private v3For(siteKey: string, enterprise: boolean, apiDomain?: RecaptchaApiDomain): V3Site {
    let site = this.v3Sites.get(siteKey);
    if (!site) {
      site = { enterprise };
      if (!this.full()) this.v3Sites.set(siteKey, site);
    }
    site.enterprise ||= enterprise;
    if (apiDomain === 'www.recaptcha.net') site.apiDomain = apiDomain;
    return site;
  }

  full(): boolean {
    return this.widgets.size + this.v3Sites.size >= MAX_CAPTCHAS_PER_FRAME;
  }

  /** Drops widgets whose container left the document. */
  prune(): boolean {
    let changed = false;
    for (const [container, widget] of this.widgets) {
      if (!connected(container)) {
        this.widgets.delete(container);
        changed = true;
      } else {
        widget.parts = widget.parts.filter(connected);
      }
    }
    return changed;
  }

  captchas(): RecaptchaCaptcha[] {
    const list: RecaptchaCaptcha[] = [];
    const pageEnterprise = this.enterpriseScript && !this.apiScript;
    for (const [container, w] of this.widgets) {
      // v3 renders an invisible badge with the same key: that is the v3 site, not a v2 widget.
      if (this.v3Sites.has(w.siteKey)) continue;
      const enterprise = w.enterprise || pageEnterprise;
      const captcha: RecaptchaCaptcha = {
        family: 'recaptcha',
        id: this.ids.idFor(container, 'rc'),
        version: 'v2',
        siteKey: w.siteKey,
        enterprise,
        invisible: w.invisible,
      };
      const apiDomain = w.apiDomain ?? this.scriptApiDomain;
      if (apiDomain) captcha.apiDomain = apiDomain;
      if (w.dataS) captcha.dataS = w.dataS;
      // Only Enterprise keys have actions; v2 ignores a data-action copied from elsewhere.
      if (w.action && enterprise) captcha.action = w.action;
      if (w.callback) captcha.callback = w.callback;
      list.push(captcha);
    }
    for (const [siteKey, site] of this.v3Sites) {
      const captcha: RecaptchaCaptcha = {
        family: 'recaptcha',
        id: this.ids.idForKey(`v3:${siteKey}`, 'rc3'),
        version: 'v3',
        siteKey,
        enterprise: site.enterprise || pageEnterprise,
        invisible: true,
      };
      const apiDomain = site.apiDomain ?? this.scriptApiDomain;
      if (apiDomain) captcha.apiDomain = apiDomain;
      if (site.action) captcha.action = site.action;
      if (site.callback) captcha.callback = site.callback;
      list.push(captcha);
    }
    return list;
  }

  /** Where a token for this captcha goes: the widget's container (v3: the document). */
  containerOf(captchaId: string): Element | null {
    for (const container of this.widgets.keys()) {
      if (this.ids.peek(container) === captchaId) return container;
    }
    for (const siteKey of this.v3Sites.keys()) {
      if (this.ids.peekKey(`v3:${siteKey}`) === captchaId) return documentRoot();
    }
    return null;
  }

  widgetIdOf(captchaId: string): number | undefined {
    for (const [container, w] of this.widgets) {
      if (this.ids.peek(container) === captchaId) return w.widgetId;
    }
    return undefined;
  }

  /**
   * The response fields a token for this captcha fills: the widget's own; for v3 every one on
   * the page that no v2 widget owns (a v3 token in a v2 field would break that widget's form).
   */
  responseFields(captchaId: string): Array<HTMLTextAreaElement | HTMLInputElement> {
    const all = queryAll<HTMLTextAreaElement | HTMLInputElement>(document, RESPONSE_FIELD);
    // A widget rendered into a web component's shadow tree has its field there.
    for (const container of this.widgets.keys()) {
      const root = rootNode(container);
      if (root !== document && this.ids.peek(container) === captchaId) all.push(...queryAll<HTMLTextAreaElement | HTMLInputElement>(root as ShadowRoot, RESPONSE_FIELD));
    }
    for (const [container, w] of this.widgets) {
      const roots = [container, ...w.parts];
      const inWidget = (field: Element): boolean => roots.some((root) => contains(root, field));
      if (this.ids.peek(container) === captchaId) return all.filter(inWidget);
      if (!this.v3Sites.has(w.siteKey)) {
        for (let i = all.length - 1; i >= 0; i--) if (inWidget(all[i]!)) all.splice(i, 1);
      }
    }
    return all;
  }

  /** The widget's own response fields, and the probe runs its callback (v3: the next execute() returns the token). */
  deliver(captcha: RecaptchaCaptcha, token: string): DeliveryPlan {
    const request: DeliverRequest = { family: 'recaptcha', token, v3: captcha.version === 'v3', siteKey: captcha.siteKey };
    const widgetId = this.widgetIdOf(captcha.id);
    if (widgetId !== undefined) request.widgetId = widgetId;
    if (captcha.callback) request.callback = captcha.callback;
    const fields = this.responseFields(captcha.id);
    for (const field of fields) fill(field, token);
    return { fieldsFilled: fields.length, request };
  }
}

export const recaptcha = (ids: WidgetIds): RecaptchaDetector => new RecaptchaDetector(ids);
