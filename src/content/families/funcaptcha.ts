/**
 * FunCaptcha / Arkose Labs detector: `[data-pkey]` / `#FunCaptcha` widgets, `fc-token` inputs,
 * the v2 API script, enforcement and game-core iframes, and probe reports of the enforcement
 * config (data blob). A site runs one Arkose setup per public key, so widgets are keyed by it.
 */
import { isBoundedCallback, type FunCaptchaCaptcha } from '../../shared/captcha';
import { MAX_CAPTCHAS_PER_FRAME } from '../../shared/messages';
import type { DeliverRequest, ProbeReport } from '../../shared/page-protocol';
import { isArkosePublicKey, isHostName } from '../../shared/validate';
import type { DeliveryPlan, FamilyDetector, WidgetIds } from '../detector';
import { fill } from '../fill';
import { attr, baseURI, connected, documentRoot, localName, queryAll } from '../../page-dom/dom';
import { arkoseHostOf, parseArkoseUrl, parseFunCaptchaToken, type ArkoseSource } from '../../shared/urls';

const TOKEN_FIELDS = 'input[name="fc-token"], input[name="verification-token"], #FunCaptcha-Token, #verification-token';

const FUNCAPTCHA_SELECTOR = [
  '[data-pkey]',
  '#FunCaptcha',
  '#funcaptcha',
  TOKEN_FIELDS,
  'iframe[src*="arkoselabs"]',
  'iframe[src*="funcaptcha"]',
  'script[src*="arkoselabs"]',
  'script[src*="funcaptcha"]',
  // Arkose served from the site's own subdomain: recognised by its paths.
  'script[src*="/api.js"][src*="/v2/"]',
  'iframe[src*="/enforcement."]',
  'iframe[src*="/fc/gc/"]',
].join(', ');

interface ArkoseSite {
  subdomain?: string;
  blob?: string;
  callback?: string;
  /** Elements that showed this key; the site is gone when none is left. */
  elements: Set<Element>;
}

export class FunCaptchaDetector implements FamilyDetector<FunCaptchaCaptcha> {
  readonly family = 'funcaptcha';
  readonly selector = FUNCAPTCHA_SELECTOR;
  private readonly sites = new Map<string, ArkoseSite>();
  /** Subdomain or blob seen before the key (e.g. a script without a key in its URL). */
  private pendingSubdomain: string | undefined;
  private pendingBlob: string | undefined;

  constructor(private readonly ids: WidgetIds) {}

  inspect(el: Element): boolean {
    const name = localName(el);
    if (name === 'iframe' || name === 'script') {
      const src = attr(el, 'src');
      return src ? this.record(el, parseArkoseUrl(src, baseURI())) : false;
    }
    if (name === 'input') {
      const value = (el as HTMLInputElement).value || attr(el, 'value') || '';
      return this.record(el, parseFunCaptchaToken(value));
    }
    const publicKey = attr(el, 'data-pkey');
    if (!isArkosePublicKey(publicKey)) return false;
    const source: ArkoseSource = { publicKey };
    const subdomain = arkoseHostOf(attr(el, 'data-surl'));
    if (subdomain) source.subdomain = subdomain;
    const recorded = this.record(el, source);
    const callback = attr(el, 'data-callback');
    if (recorded && isBoundedCallback(callback)) this.siteFor(publicKey).callback = callback;
    return recorded;
  }

  applyProbe(report: ProbeReport, target: Element | null): boolean {
    if (report.family !== 'funcaptcha') return false;
    const subdomain = report.subdomain && isHostName(report.subdomain) ? report.subdomain : undefined;
    if (!isArkosePublicKey(report.publicKey)) {
      // A config without a key (the key is in the api.js URL): keep what it carried for later.
      if (report.blob) this.pendingBlob = report.blob;
      if (subdomain) this.pendingSubdomain = subdomain;
      for (const site of this.sites.values()) {
        if (report.blob) site.blob = report.blob;
        if (subdomain) site.subdomain ??= subdomain;
      }
      return this.sites.size > 0;
    }
    const site = this.siteFor(report.publicKey);
    site.elements.add(target ?? documentRoot());
    if (report.blob) site.blob = report.blob;
    if (subdomain) site.subdomain = subdomain;
    return true;
  }

  private record(el: Element, source: ArkoseSource | null): boolean {
    if (!source) return false;
    if (!source.publicKey) {
      if (source.subdomain) this.pendingSubdomain = source.subdomain;
      for (const site of this.sites.values()) if (source.subdomain) site.subdomain ??= source.subdomain;
      return false;
    }
    const site = this.siteFor(source.publicKey);
    site.elements.add(el);
    if (source.subdomain) site.subdomain = source.subdomain;
    return true;
  }

  private siteFor(publicKey: string): ArkoseSite {
    let site = this.sites.get(publicKey);
    if (!site) {
      site = { elements: new Set() };
      if (this.pendingSubdomain) site.subdomain = this.pendingSubdomain;
      if (this.pendingBlob) site.blob = this.pendingBlob;
      // A page can fake any number of keys: beyond what a frame may report, nothing is kept.
      if (!this.full()) this.sites.set(publicKey, site);
    }
    return site;
  }

  full(): boolean {
    return this.sites.size >= MAX_CAPTCHAS_PER_FRAME;
  }

  prune(): boolean {
    let changed = false;
    for (const [key, site] of this.sites) {
      for (const el of site.elements) if (!connected(el)) site.elements.delete(el);
      if (site.elements.size === 0) {
        this.sites.delete(key);
        changed = true;
      }
    }
    return changed;
  }

  captchas(): FunCaptchaCaptcha[] {
    return Array.from(this.sites, ([publicKey, site]) => {
      const captcha: FunCaptchaCaptcha = { family: 'funcaptcha', id: this.ids.idForKey(`fc:${publicKey}`, 'fc'), publicKey };
      if (site.subdomain) captcha.subdomain = site.subdomain;
      if (site.blob) captcha.blob = site.blob;
      return captcha;
    });
  }

  containerOf(captchaId: string): Element | null {
    for (const [publicKey, site] of this.sites) {
      if (this.ids.peekKey(`fc:${publicKey}`) !== captchaId) continue;
      for (const el of site.elements) if (!/^(script|iframe)$/.test(localName(el))) return el;
      return documentRoot();
    }
    return null;
  }

  callbackOf(captchaId: string): string | undefined {
    for (const [publicKey, site] of this.sites) {
      if (this.ids.peekKey(`fc:${publicKey}`) === captchaId) return site.callback;
    }
    return undefined;
  }

  /** Every Arkose token field on the page, and the probe runs the enforcement's callbacks for this key. */
  deliver(captcha: FunCaptchaCaptcha, token: string): DeliveryPlan {
    const request: DeliverRequest = { family: 'funcaptcha', token, v3: false, publicKey: captcha.publicKey };
    const callback = this.callbackOf(captcha.id);
    if (callback) request.callback = callback;
    const fields = queryAll<HTMLInputElement>(document, TOKEN_FIELDS);
    for (const field of fields) fill(field, token);
    return { fieldsFilled: fields.length, request };
  }
}

export const funcaptcha = (ids: WidgetIds): FunCaptchaDetector => new FunCaptchaDetector(ids);
