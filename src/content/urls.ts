/**
 * Parsers for the URLs and values that carry captcha parameters. They take arbitrary page
 * strings, so they never throw and only return keys that have the right shape.
 */
import { isArkosePublicKey, isHostName, isRecaptchaSiteKey } from '../shared/validate';

const RECAPTCHA_HOSTS = new Set(['www.google.com', 'google.com', 'www.recaptcha.net', 'recaptcha.net']);

function parseUrl(raw: string, base?: string): URL | null {
  if (raw.length > 8192) return null;
  try {
    return new URL(raw, base);
  } catch {
    return null;
  }
}

function recaptchaApiDomain(host: string): 'www.google.com' | 'www.recaptcha.net' {
  return host.endsWith('recaptcha.net') ? 'www.recaptcha.net' : 'www.google.com';
}

export interface RecaptchaAnchor {
  siteKey: string;
  enterprise: boolean;
  invisible: boolean;
  apiDomain: 'www.google.com' | 'www.recaptcha.net';
}

/** `https://www.google.com/recaptcha/api2/anchor?…&k=KEY&…&size=invisible` (or /enterprise/anchor, or recaptcha.net). */
export function parseRecaptchaAnchorUrl(raw: string): RecaptchaAnchor | null {
  const url = parseUrl(raw);
  if (!url || !RECAPTCHA_HOSTS.has(url.hostname)) return null;
  const match = /^\/recaptcha\/(api2|enterprise)\/anchor$/.exec(url.pathname);
  if (!match) return null;
  const siteKey = url.searchParams.get('k');
  if (!isRecaptchaSiteKey(siteKey)) return null;
  return {
    siteKey,
    enterprise: match[1] === 'enterprise',
    invisible: url.searchParams.get('size') === 'invisible',
    apiDomain: recaptchaApiDomain(url.hostname),
  };
}

export interface RecaptchaScript {
  enterprise: boolean;
  /** The key in `render=KEY` (v3); absent for `render=explicit` or no render parameter. */
  v3SiteKey?: string;
  apiDomain: 'www.google.com' | 'www.recaptcha.net';
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

function isArkoseHost(host: string): boolean {
  return host === 'arkoselabs.com' || host.endsWith('.arkoselabs.com') || host === 'funcaptcha.com' || host.endsWith('.funcaptcha.com');
}

/**
 * Arkose URLs: the v2 API script `/v2/<PK>/api.js`, the enforcement frame
 * `/v2/<version>/enforcement.<hash>.html#<PK>`, the game-core frame `/fc/gc/?token=…&pk=…`,
 * and the v1 `/fc/api/?onload=…` script. Returns null for anything else.
 */
export function parseArkoseUrl(raw: string, base?: string): ArkoseSource | null {
  const url = parseUrl(raw, base);
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || !isArkoseHost(url.hostname)) return null;
  const subdomain = isHostName(url.hostname) ? url.hostname : undefined;
  const withKey = (publicKey: string | null | undefined): ArkoseSource => {
    const source: ArkoseSource = {};
    if (subdomain) source.subdomain = subdomain;
    if (isArkosePublicKey(publicKey)) source.publicKey = publicKey;
    return source;
  };
  const path = url.pathname;
  const apiScript = /^\/v2\/([0-9A-Fa-f-]{36})\/api\.js$/.exec(path);
  if (apiScript) return withKey(apiScript[1]);
  if (/^\/v2\/[\w.-]+\/enforcement\.[0-9a-f]+\.html$/.test(path)) return withKey(url.hash.slice(1));
  if (/^\/fc\/gc\/?$/.test(path)) return withKey(url.searchParams.get('pk') ?? tokenPart(url.searchParams.get('token') ?? '', 'pk'));
  if (/^\/fc\/api\/?$/.test(path) || /^\/fc\/assets\//.test(path)) return withKey(url.searchParams.get('pkey') ?? url.searchParams.get('pk'));
  return null;
}

/** A value in a pipe-separated Arkose token: `sessionid|r=eu-west-1|pk=KEY|surl=https%3A%2F%2F…`. */
function tokenPart(token: string, name: string): string | undefined {
  if (token.length > 20_000) return undefined;
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

/** The widget's own frames (reCAPTCHA anchor/bframe, Arkose enforcement): nothing to detect in them. */
export function isVendorFrame(href: string): boolean {
  const url = parseUrl(href);
  if (!url) return false;
  if (RECAPTCHA_HOSTS.has(url.hostname) && url.pathname.startsWith('/recaptcha/')) return true;
  return isArkoseHost(url.hostname);
}
