/**
 * Parsers for the URLs and values that carry captcha parameters. They take arbitrary page
 * strings, so they never throw and only return keys that have the right shape.
 */
import { isArkosePublicKey, isHostName, isRecaptchaSiteKey, TOKEN_MAX } from './validate';

export type RecaptchaApiDomain = 'www.google.com' | 'www.recaptcha.net';

const RECAPTCHA_HOSTS = new Set(['www.google.com', 'google.com', 'www.recaptcha.net', 'recaptcha.net']);
const UUID = '[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}';
/** Arkose paths are distinctive enough to recognise on a site's own (CNAME) API host too. */
const ARKOSE_API_JS = /* @__PURE__ */ new RegExp(`^/v2/(${UUID})/api\\.js$`);
const ARKOSE_ENFORCEMENT = /^\/v2\/[\w.-]+\/enforcement\.[0-9a-f]+\.html$/;
const ARKOSE_GAME_CORE = /^\/fc\/gc\/?$/;
const FIRST_UUID = /* @__PURE__ */ new RegExp(UUID);

function parseUrl(raw: string, base?: string): URL | null {
  if (raw.length > 8192) return null;
  try {
    const url = new URL(raw, base);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url : null;
  } catch {
    return null;
  }
}

function recaptchaApiDomain(host: string): RecaptchaApiDomain {
  return host.endsWith('recaptcha.net') ? 'www.recaptcha.net' : 'www.google.com';
}

export interface RecaptchaAnchor {
  siteKey: string;
  enterprise: boolean;
  invisible: boolean;
  apiDomain: RecaptchaApiDomain;
  /** The one-time `s` value, when the widget was rendered with one. */
  dataS?: string;
}

/** `https://www.google.com/recaptcha/api2/anchor?…&k=KEY&…&size=invisible` (or /enterprise/anchor, or recaptcha.net). */
export function parseRecaptchaAnchorUrl(raw: string, base?: string): RecaptchaAnchor | null {
  const url = parseUrl(raw, base);
  if (!url || !RECAPTCHA_HOSTS.has(url.hostname)) return null;
  const match = /^\/recaptcha\/(api2|enterprise)\/anchor$/.exec(url.pathname);
  const siteKey = url.searchParams.get('k');
  if (!match || !isRecaptchaSiteKey(siteKey)) return null;
  const anchor: RecaptchaAnchor = {
    siteKey,
    enterprise: match[1] === 'enterprise',
    invisible: url.searchParams.get('size') === 'invisible',
    apiDomain: recaptchaApiDomain(url.hostname),
  };
  const s = url.searchParams.get('s');
  if (s) anchor.dataS = s;
  return anchor;
}

export interface RecaptchaScript {
  enterprise: boolean;
  /** The key in `render=KEY` (v3); absent for `render=explicit` or no render parameter. */
  v3SiteKey?: string;
  apiDomain: RecaptchaApiDomain;
}

/** `https://www.google.com/recaptcha/api.js?render=KEY` or `/recaptcha/enterprise.js?render=KEY`. */
export function parseRecaptchaScriptUrl(raw: string, base?: string): RecaptchaScript | null {
  const url = parseUrl(raw, base);
  if (!url || !RECAPTCHA_HOSTS.has(url.hostname)) return null;
  const match = /^\/recaptcha\/(api|enterprise)\.js$/.exec(url.pathname);
  if (!match) return null;
  const render = url.searchParams.get('render');
  const result: RecaptchaScript = { enterprise: match[1] === 'enterprise', apiDomain: recaptchaApiDomain(url.hostname) };
  if (isRecaptchaSiteKey(render)) result.v3SiteKey = render;
  return result;
}

export interface ArkoseSource {
  publicKey?: string;
  subdomain?: string;
}

export function isArkoseHost(host: string): boolean {
  return /(^|\.)(arkoselabs|funcaptcha)\.com$/.test(host);
}

/**
 * Arkose URLs: the v2 API script `/v2/<PK>/api.js`, the enforcement frame
 * `/v2/<version>/enforcement.<hash>.html#<PK>`, the game-core frame `/fc/gc/?token=…|pk=…`
 * (these three on any host: sites may serve Arkose from their own subdomain), and the v1
 * `/fc/api/?onload=…` script on Arkose's hosts. Returns null for anything else.
 */
export function parseArkoseUrl(raw: string, base?: string): ArkoseSource | null {
  const url = parseUrl(raw, base);
  if (!url) return null;
  const path = url.pathname;
  let publicKey: string | null | undefined;
  const apiScript = ARKOSE_API_JS.exec(path);
  if (apiScript) publicKey = apiScript[1];
  else if (ARKOSE_ENFORCEMENT.test(path)) publicKey = FIRST_UUID.exec(url.hash)?.[0];
  else if (ARKOSE_GAME_CORE.test(path)) publicKey = url.searchParams.get('pk') ?? tokenPart(url.searchParams.get('token') ?? '', 'pk');
  else if (isArkoseHost(url.hostname) && /^\/fc\/api\/?$/.test(path)) publicKey = url.searchParams.get('pkey') ?? url.searchParams.get('pk');
  else return null;
  const source: ArkoseSource = {};
  if (isHostName(url.hostname)) source.subdomain = url.hostname;
  if (isArkosePublicKey(publicKey)) source.publicKey = publicKey;
  return source;
}

/** A value in a pipe-separated Arkose token: `sessionid|r=eu-west-1|pk=KEY|surl=https%3A%2F%2F…`. */
function tokenPart(token: string, name: string): string | undefined {
  if (token.length > TOKEN_MAX) return undefined;
  for (const part of token.split('|')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq) === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1));
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** The `fc-token` input's value carries the public key and the API host of the site's Arkose setup. */
export function parseFunCaptchaToken(value: string): ArkoseSource | null {
  const publicKey = tokenPart(value, 'pk');
  if (!isArkosePublicKey(publicKey)) return null;
  const source: ArkoseSource = { publicKey };
  const surl = tokenPart(value, 'surl');
  const host = surl ? parseUrl(surl)?.hostname : undefined;
  if (host && isHostName(host)) source.subdomain = host;
  return source;
}

/** The host part of an Arkose `surl` / `data-surl` value, as funcaptchaApiJSSubdomain wants it. */
export function arkoseHostOf(surl: string | null | undefined): string | undefined {
  const host = surl ? parseUrl(surl)?.hostname : undefined;
  return host && isHostName(host) ? host : undefined;
}

/** The parts of an address the frame checks below read. */
interface FrameAddress {
  hostname: string;
  pathname: string;
}

/**
 * Host and path of an address as the browser serializes it (a document's URL): what `new URL`
 * gives for one, without the URL interface, which costs a content script's fresh world more than
 * the rest of its look at a page. Null for anything but http(s).
 */
const SERIALIZED_WEB_URL = /^https?:\/\/(?:[^@/?#]*@)?(\[[^\]/?#]*\]|[^:/?#]*)(?::\d*)?([^?#]*)/;
export function serializedAddress(href: string): FrameAddress | null {
  const match = href.length > 8192 ? null : SERIALIZED_WEB_URL.exec(href);
  return match ? { hostname: match[1]!, pathname: match[2] || '/' } : null;
}

const frameAddressOf = (href: string | FrameAddress | null): FrameAddress | null => (typeof href === 'string' ? parseUrl(href) : href);

/** An Arkose host, or its enforcement / game-core path on a site's own Arkose host. */
const isArkoseWidgetFrame = (url: FrameAddress): boolean => isArkoseHost(url.hostname) || ARKOSE_ENFORCEMENT.test(url.pathname) || ARKOSE_GAME_CORE.test(url.pathname);

/**
 * The widget's own frames (reCAPTCHA anchor/bframe, Arkose enforcement and game core): the
 * page frame already lists their captcha, so a second sighting from inside must not count.
 */
export function isVendorFrame(href: string | FrameAddress | null): boolean {
  const url = frameAddressOf(href);
  if (!url) return false;
  if (RECAPTCHA_HOSTS.has(url.hostname)) return url.pathname.startsWith('/recaptcha/');
  return isArkoseWidgetFrame(url);
}

/**
 * A frame of Arkose's own (its hosts, or its enforcement / game-core paths on a site's own
 * Arkose host): where a FunCaptcha image challenge is shown.
 */
export function isArkoseFrame(href: string | FrameAddress | null): boolean {
  const url = frameAddressOf(href);
  return !!url && (isArkoseWidgetFrame(url) || url.pathname.startsWith('/fc/assets/'));
}

/** The host (with its port) of an address, or `fallback` when it is none. */
export function hostOf(url: string | undefined, fallback = ''): string {
  try {
    return url ? new URL(url).host : fallback;
  } catch {
    return fallback;
  }
}

/** Whether a host is this site or one of its subdomains. */
export function hostMatches(host: string, pattern: string): boolean {
  return host === pattern || host.endsWith(`.${pattern}`);
}

/** Only web pages: a task for any other address is one no service can solve. */
export function isWebUrl(url: string): boolean {
  return /^https?:\/\//i.test(url);
}

/** Whether a web address is on one of these sites (or a subdomain of one); any other address is on none. */
export function urlMatchesSites(pageUrl: string, sites: readonly string[]): boolean {
  if (!isWebUrl(pageUrl)) return false;
  let host: string;
  try {
    host = new URL(pageUrl).hostname.toLowerCase();
  } catch {
    return false;
  }
  return sites.some((p) => hostMatches(host, p));
}
