/**
 * The page-world probe and the content script share the DOM, not memory. They talk with
 * CustomEvents whose detail is a JSON string (strings cross the world boundary in both
 * browsers; objects do not). The page can forge any of these events, so the content script
 * treats probe reports like any other page markup: validated, and never a reason to spend.
 */
import { isBoundedCallback } from './captcha';
import { type Guard, isArrayOf, isBoolean, isBoundedString, isInteger, isOneOf, isOptional, isShapeOf, TOKEN_MAX } from './validate';

/** Probe → content: a widget the probe saw; dispatched on the widget's container element when known. */
export const PROBE_WIDGET_EVENT = 'caprelay:probe-widget';
/** Content → probe: please report what you know (sent at start and after DOM changes that matter). */
export const PROBE_SCAN_EVENT = 'caprelay:probe-scan';
/** Content → probe: run the widget's callback with this token; dispatched on the widget's container. */
export const PROBE_DELIVER_EVENT = 'caprelay:deliver';
/** Probe → content, synchronously inside the deliver dispatch: 'called' | 'none' | 'failed'. */
export const PROBE_RESULT_EVENT = 'caprelay:deliver-result';
/**
 * Probe → content: the families whose vendor globals or scripts showed in this frame (a JSON
 * list of names), sent when one shows and again on every scan request. A page can send it too:
 * at most it makes CapRelay load its detectors in that frame.
 */
export const PROBE_MARKER_EVENT = 'caprelay:probe-marker';
/**
 * Probe → content: the page changed its address without loading (history.pushState /
 * replaceState, as single-page apps and Cloudflare's challenge page do). The content script
 * reports again, so the browser tells the background the frame's current address: a task's
 * websiteURL is the address at the moment of the solve, still never one a page claims.
 */
export const PROBE_URL_EVENT = 'caprelay:probe-url';

/**
 * Content → probe: CapRelay's word on widgets the probe holds (GeeTest v3, whose single-use
 * challenge the real widget would spend): `claim` these, the page's own widget for `release`.
 * Forged, it can only make a page's own captcha show as the page meant, or not yet.
 */
export const PROBE_DECIDE_EVENT = 'caprelay:decide';

export interface ProbeRecaptchaReport {
  family: 'recaptcha';
  siteKey: string;
  /** grecaptcha widget id (client index) when rendered. */
  widgetId?: number;
  enterprise: boolean;
  invisible: boolean;
  /** v3: the page called execute(siteKey, {action}) without rendering a widget. */
  v3: boolean;
  action?: string;
  dataS?: string;
  callback?: string;
  apiDomain?: string;
}

export interface ProbeFunCaptchaReport {
  family: 'funcaptcha';
  publicKey?: string;
  blob?: string;
  subdomain?: string;
}

export interface ProbeTurnstileReport {
  family: 'turnstile';
  siteKey: string;
  /** render()'s widget id (`cf-chl-widget-<id>` without the prefix). */
  widgetId?: string;
  action?: string;
  cData?: string;
  /** The challenge page's chlPageData. */
  pageData?: string;
  /** response-field-name; '' when the widget has no response field. */
  responseField?: string;
  callback?: string;
}

export interface ProbeGeeTestReport {
  family: 'geetest';
  version: 3 | 4;
  gt: string;
  challenge?: string;
  apiServer?: string;
  riskType?: string;
  /** The probe's handle on this widget, for the token and CapRelay's word on it. */
  ref: string;
  /** v3: the held call went to GeeTest's own widget (no word from CapRelay in time); not CapRelay's to solve. */
  released?: true;
}

export type ProbeReport = ProbeRecaptchaReport | ProbeFunCaptchaReport | ProbeTurnstileReport | ProbeGeeTestReport;

const isProbeTurnstileReport = isShapeOf<ProbeTurnstileReport>({
  family: isOneOf(['turnstile'] as const),
  siteKey: isBoundedString(100),
  widgetId: isOptional(isBoundedString(40)),
  action: isOptional(isBoundedString(100)),
  cData: isOptional(isBoundedString(300)),
  pageData: isOptional(isBoundedString(10_000)),
  responseField: isOptional(isBoundedString(100)),
  callback: isOptional(isBoundedCallback),
});

const isProbeGeeTestReport = isShapeOf<ProbeGeeTestReport>({
  family: isOneOf(['geetest'] as const),
  version: (v: unknown): v is 3 | 4 => v === 3 || v === 4,
  gt: isBoundedString(100),
  challenge: isOptional(isBoundedString(200)),
  apiServer: isOptional(isBoundedString(253)),
  riskType: isOptional(isBoundedString(40)),
  ref: isBoundedString(40),
  released: isOptional((v: unknown): v is true => v === true),
});

const isProbeRecaptchaReport = isShapeOf<ProbeRecaptchaReport>({
  family: isOneOf(['recaptcha'] as const),
  siteKey: isBoundedString(100),
  widgetId: isOptional(isInteger),
  enterprise: isBoolean,
  invisible: isBoolean,
  v3: isBoolean,
  action: isOptional(isBoundedString(200)),
  dataS: isOptional(isBoundedString(8192)),
  callback: isOptional(isBoundedCallback),
  apiDomain: isOptional(isBoundedString(100)),
});

const isProbeFunCaptchaReport = isShapeOf<ProbeFunCaptchaReport>({
  family: isOneOf(['funcaptcha'] as const),
  publicKey: isOptional(isBoundedString(100)),
  blob: isOptional(isBoundedString(16384)),
  subdomain: isOptional(isBoundedString(253)),
});

export const isProbeReport: Guard<ProbeReport> = (v): v is ProbeReport => isProbeRecaptchaReport(v) || isProbeFunCaptchaReport(v) || isProbeTurnstileReport(v) || isProbeGeeTestReport(v);

export interface ProbeDecision {
  claim: string[];
  release: string[];
}
export const isProbeDecision = isShapeOf<ProbeDecision>({
  claim: isArrayOf(isBoundedString(40), 50),
  release: isArrayOf(isBoundedString(40), 50),
});

export interface DeliverRequest {
  family: 'recaptcha' | 'funcaptcha' | 'turnstile' | 'geetest';
  token: string;
  siteKey?: string;
  /** FunCaptcha: only this key's enforcement callbacks run (a page may run several setups). */
  publicKey?: string;
  widgetId?: number;
  /** Turnstile: the widget id; GeeTest: the probe's handle (the report's ref). */
  ref?: string;
  callback?: string;
  v3: boolean;
}

export const isDeliverRequest = isShapeOf<DeliverRequest>({
  family: isOneOf(['recaptcha', 'funcaptcha', 'turnstile', 'geetest'] as const),
  token: isBoundedString(TOKEN_MAX),
  siteKey: isOptional(isBoundedString(100)),
  publicKey: isOptional(isBoundedString(100)),
  widgetId: isOptional(isInteger),
  ref: isOptional(isBoundedString(40)),
  callback: isOptional(isBoundedCallback),
  v3: isBoolean,
});

// Taken when the module loads: in the page world that is document_start, before a page can replace it.
const parseJson = JSON.parse;

/** Parses an event detail that must be a JSON string of the given shape; anything else is null. */
export function parseDetail<T>(detail: unknown, guard: Guard<T>, maxLength = 65_536): T | null {
  if (typeof detail !== 'string' || detail.length > maxLength) return null;
  try {
    const value: unknown = parseJson(detail);
    return guard(value) ? value : null;
  } catch {
    return null;
  }
}
