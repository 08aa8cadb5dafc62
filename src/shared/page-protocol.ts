/**
 * The page-world probe and the content script share the DOM, not memory. They talk with
 * CustomEvents whose detail is a JSON string (strings cross the world boundary in both
 * browsers; objects do not). The page can forge any of these events, so the content script
 * treats probe reports like any other page markup: validated, and never a reason to spend.
 */
import { isBoundedCallback } from './captcha';
import {
  isBoolean,
  isBoundedString,
  isInteger,
  isOneOf,
  isOptional,
  isShape,
  type Guard,
} from './validate';

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

export type ProbeReport = ProbeRecaptchaReport | ProbeFunCaptchaReport;

const isProbeRecaptchaReport = isShape({
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
}) as Guard<ProbeRecaptchaReport>;

const isProbeFunCaptchaReport = isShape({
  family: isOneOf(['funcaptcha'] as const),
  publicKey: isOptional(isBoundedString(100)),
  blob: isOptional(isBoundedString(16384)),
  subdomain: isOptional(isBoundedString(253)),
}) as Guard<ProbeFunCaptchaReport>;

export const isProbeReport: Guard<ProbeReport> = (v): v is ProbeReport =>
  isProbeRecaptchaReport(v) || isProbeFunCaptchaReport(v);

export interface DeliverRequest {
  family: 'recaptcha' | 'funcaptcha';
  token: string;
  siteKey?: string;
  /** FunCaptcha: only this key's enforcement callbacks run (a page may run several setups). */
  publicKey?: string;
  widgetId?: number;
  callback?: string;
  v3: boolean;
}

export const isDeliverRequest = isShape({
  family: isOneOf(['recaptcha', 'funcaptcha'] as const),
  token: isBoundedString(20_000),
  siteKey: isOptional(isBoundedString(100)),
  publicKey: isOptional(isBoundedString(100)),
  widgetId: isOptional(isInteger),
  callback: isOptional(isBoundedCallback),
  v3: isBoolean,
}) as Guard<DeliverRequest>;

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
