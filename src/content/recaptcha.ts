/**
 * reCAPTCHA detector: v2 checkbox, v2 invisible, v2 Enterprise and v3, from markup
 * (`.g-recaptcha`, anchor iframes, api.js / enterprise.js scripts) and from probe reports
 * (explicit grecaptcha.render calls, execute actions, function callbacks).
 */
import type { RecaptchaCaptcha } from '../shared/captcha';
import type { ProbeRecaptchaReport } from '../shared/page-protocol';
import { isCallbackPath, isRecaptchaSiteKey } from '../shared/validate';
import { parseRecaptchaAnchorUrl, parseRecaptchaScriptUrl } from './urls';
import type { Detector, WidgetIds } from './detector';

export const RECAPTCHA_SELECTOR =
  '.g-recaptcha, [data-sitekey], iframe[src*="/recaptcha/"], script[src*="/recaptcha/"]';

const RESPONSE_FIELD = 'textarea[name="g-recaptcha-response"], input[name="g-recaptcha-response"]';

interface V2Widget {
  siteKey: string;
  enterprise: boolean;
  invisible: boolean;
  apiDomain?: 'www.google.com' | 'www.recaptcha.net';
  dataS?: string;
  callback?: string;
  widgetId?: number;
}

interface V3Site {
  enterprise: boolean;
  apiDomain?: 'www.google.com' | 'www.recaptcha.net';
  action?: string;
  callback?: string;
}

/** Elements of other captcha families that also use data-sitekey. */
const FOREIGN_WIDGET = '.h-captcha, .cf-turnstile, [data-hcaptcha-widget-id], .frc-captcha';

/**
 * The element a rendered widget belongs to. grecaptcha renders
 * `container > wrapper(textarea + … iframe)`, the invisible badge
 * `container > .grecaptcha-badge(… iframe, textarea)`.
 */
export function widgetContainerOf(frame: Element): Element {
  const declared = frame.closest('.g-recaptcha, [data-sitekey]');
  if (declared) return declared;
  let node = frame.parentElement;
  for (let depth = 0; node && depth < 4; depth++, node = node.parentElement) {
    if (node.querySelector(RESPONSE_FIELD)) return node.parentElement ?? node;
  }
  return frame.parentElement ?? frame;
}

export class RecaptchaDetector implements Detector<RecaptchaCaptcha> {
  readonly selector = RECAPTCHA_SELECTOR;
  private readonly widgets = new Map<Element, V2Widget>();
  private readonly v3Sites = new Map<string, V3Site>();
  /** Set when enterprise.js is on the page: explicit widgets are then Enterprise ones. */
  private enterpriseScript = false;
  private apiScript = false;
  private scriptApiDomain: 'www.google.com' | 'www.recaptcha.net' | undefined;

  constructor(private readonly ids: WidgetIds) {}

  inspect(el: Element): boolean {
    if (el instanceof HTMLIFrameElement || el.localName === 'iframe') return this.inspectFrame(el);
    if (el.localName === 'script') return this.inspectScript(el);
    return this.inspectDeclared(el);
  }

  private inspectDeclared(el: Element): boolean {
    const siteKey = el.getAttribute('data-sitekey');
    if (!isRecaptchaSiteKey(siteKey) || el.closest(FOREIGN_WIDGET)) return false;
    // `data-sitekey` on a button or a div without .g-recaptcha is the "bind to button" pattern
    // (v2 invisible or v3), unless the class says recaptcha.
    const declaredWidget = el.classList.contains('g-recaptcha') || /recaptcha/i.test(el.className);
    if (!declaredWidget) return false;
    const widget = this.widgetFor(el, siteKey);
    const size = el.getAttribute('data-size');
    if (size === 'invisible' || el.localName === 'button' || el.localName === 'input') widget.invisible = true;
    const dataS = el.getAttribute('data-s');
    if (dataS) widget.dataS = dataS;
    const callback = el.getAttribute('data-callback');
    if (isCallbackPath(callback)) widget.callback = callback;
    const action = el.getAttribute('data-action');
    const v3 = this.v3Sites.get(siteKey);
    if (v3) {
      if (action) v3.action = action;
      if (isCallbackPath(callback)) v3.callback = callback;
    }
    return true;
  }

  private inspectFrame(el: Element): boolean {
    const src = el.getAttribute('src');
    const anchor = src ? parseRecaptchaAnchorUrl(src) : null;
    if (!anchor) return false;
    const widget = this.widgetFor(widgetContainerOf(el), anchor.siteKey);
    widget.enterprise ||= anchor.enterprise;
    widget.invisible ||= anchor.invisible;
    if (anchor.apiDomain === 'www.recaptcha.net') widget.apiDomain = anchor.apiDomain;
    return true;
  }

  private inspectScript(el: Element): boolean {
    const src = el.getAttribute('src');
    const script = src ? parseRecaptchaScriptUrl(src, document.baseURI) : null;
    if (!script) return false;
    if (script.enterprise) this.enterpriseScript = true;
    else this.apiScript = true;
    if (script.apiDomain === 'www.recaptcha.net') this.scriptApiDomain = script.apiDomain;
    if (script.v3SiteKey) this.v3For(script.v3SiteKey, script.enterprise, script.apiDomain);
    return true;
  }

  applyProbe(report: ProbeRecaptchaReport, target: Element | null): boolean {
    if (!isRecaptchaSiteKey(report.siteKey)) return false;
    const apiDomain = report.apiDomain === 'www.recaptcha.net' ? 'www.recaptcha.net' : undefined;
    if (report.v3) {
      const v3 = this.v3For(report.siteKey, report.enterprise, apiDomain);
      if (report.action) v3.action = report.action;
      return true;
    }
    if (!target || target === document.documentElement) return false;
    const widget = this.widgetFor(target, report.siteKey);
    widget.enterprise ||= report.enterprise;
    widget.invisible ||= report.invisible;
    if (report.widgetId !== undefined) widget.widgetId = report.widgetId;
    if (report.dataS) widget.dataS = report.dataS;
    if (report.callback && !widget.callback) widget.callback = report.callback;
    if (apiDomain) widget.apiDomain = apiDomain;
    return true;
  }

  private widgetFor(container: Element, siteKey: string): V2Widget {
    let widget = this.widgets.get(container);
    if (!widget || widget.siteKey !== siteKey) {
      widget = { siteKey, enterprise: false, invisible: false };
      this.widgets.set(container, widget);
    }
    return widget;
  }

  private v3For(siteKey: string, enterprise: boolean, apiDomain?: 'www.google.com' | 'www.recaptcha.net'): V3Site {
    let site = this.v3Sites.get(siteKey);
    if (!site) {
      site = { enterprise };
      this.v3Sites.set(siteKey, site);
    }
    site.enterprise ||= enterprise;
    if (apiDomain === 'www.recaptcha.net') site.apiDomain = apiDomain;
    return site;
  }

  /** Drops widgets whose container left the document. */
  prune(): boolean {
    let changed = false;
    for (const container of this.widgets.keys()) {
      if (!container.isConnected) {
        this.widgets.delete(container);
        changed = true;
      }
    }
    return changed;
  }

  captchas(): RecaptchaCaptcha[] {
    const list: RecaptchaCaptcha[] = [];
    for (const [container, w] of this.widgets) {
      // v3 renders an invisible badge with the same key: that is the v3 site, not a v2 widget.
      if (this.v3Sites.has(w.siteKey)) continue;
      const captcha: RecaptchaCaptcha = {
        family: 'recaptcha',
        id: this.ids.idFor(container, 'rc'),
        version: 'v2',
        siteKey: w.siteKey,
        enterprise: w.enterprise || (this.enterpriseScript && !this.apiScript),
        invisible: w.invisible,
      };
      const apiDomain = w.apiDomain ?? this.scriptApiDomain;
      if (apiDomain) captcha.apiDomain = apiDomain;
      if (w.dataS) captcha.dataS = w.dataS;
      if (w.callback) captcha.callback = w.callback;
      list.push(captcha);
    }
    for (const [siteKey, site] of this.v3Sites) {
      const captcha: RecaptchaCaptcha = {
        family: 'recaptcha',
        id: this.ids.idForKey(`v3:${siteKey}`, 'rc3'),
        version: 'v3',
        siteKey,
        enterprise: site.enterprise,
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
      if (this.ids.peekKey(`v3:${siteKey}`) === captchaId) return document.documentElement;
    }
    return null;
  }

  widgetIdOf(captchaId: string): number | undefined {
    for (const [container, w] of this.widgets) {
      if (this.ids.peek(container) === captchaId) return w.widgetId;
    }
    return undefined;
  }
}

/** Puts the token where the site's form and scripts read it. Returns how many fields were filled. */
export function fillRecaptchaResponse(container: Element, token: string, v3: boolean): number {
  const scope: ParentNode = v3 ? document : container;
  const fields = Array.from(scope.querySelectorAll<HTMLTextAreaElement | HTMLInputElement>(RESPONSE_FIELD));
  for (const field of fields) setFieldValue(field, token);
  return fields.length;
}

/** Sets a value the way a user edit would, so framework-bound forms notice. */
export function setFieldValue(field: HTMLInputElement | HTMLTextAreaElement, value: string): void {
  const proto = field instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
  const setter = Object.getOwnPropertyDescriptor(proto, 'value')?.set;
  if (setter) setter.call(field, value);
  else field.value = value;
  field.dispatchEvent(new Event('input', { bubbles: true }));
  field.dispatchEvent(new Event('change', { bubbles: true }));
}
