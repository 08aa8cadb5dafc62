/**
 * The power-user block of the settings: a proxy for token tasks and a fallback service. It is
 * part of Settings (exported, imported, validated like the rest); the two secrets that go with
 * it, the proxy password and the fallback key, are stored apart like the API key
 * (STORAGE_KEYS.proxyPassword, STORAGE_KEYS.fallbackApiKey) and never in Settings.
 *
 * settings.ts calls into this file only from inside its functions (and through hoisted function
 * declarations), so the two modules may import each other in either order.
 */
import { normalizeServiceUrl, sameServiceUrl, SERVICE_PRESETS, type ServiceId } from './services';
import { urlMatchesSites } from './urls';

/**
 * The settings version that adds this block. Its migration (migratePowerSettings) is the last
 * entry of MIGRATIONS in settings.ts; when another block takes this number first, this is the
 * one line to change (and the entry stays last).
 */
export const POWER_SETTINGS_VERSION = 4;

export const PROXY_TYPES = ['http', 'https', 'socks4', 'socks5'] as const;
export type ProxyType = (typeof PROXY_TYPES)[number];

export interface ProxySettings {
  /** '' = no proxy. */
  type: ProxyType | '';
  /** An IPv4 or IPv6 address or a host name, never a private, loopback or link-local one. */
  address: string;
  /** 1–65535; 0 = not set. */
  port: number;
  login: string;
  /** "Use the proxy only on these sites" (the task's page); empty = on every site. */
  sites: string[];
}

export interface FallbackSettings {
  /** 'off' = no second service. */
  service: ServiceId | 'off';
  /** Base URL when service is 'custom'. */
  customUrl: string;
}

export interface PowerSettings {
  proxy: ProxySettings;
  fallback: FallbackSettings;
}

/** A function declaration, so settings.ts can build its defaults whichever module loads first. */
export function defaultPowerSettings(): PowerSettings {
  return { proxy: { type: '', address: '', port: 0, login: '', sites: [] }, fallback: { service: 'off', customUrl: '' } };
}

/** Settings version N → POWER_SETTINGS_VERSION: the block's defaults, keeping anything already there. */
export function migratePowerSettings(old: Record<string, unknown>): Record<string, unknown> {
  const defaults = defaultPowerSettings();
  return { ...old, proxy: old.proxy ?? defaults.proxy, fallback: old.fallback ?? defaults.fallback, version: POWER_SETTINGS_VERSION };
}

/** The longest proxy address, login or password the settings keep. */
export const MAX_POWER_FIELD = 255;

/* ---------------- the proxy ---------------- */

/** Why a proxy field is not valid, by field: each value is a message key (en and ru). */
export type ProxyProblems = Partial<Record<'type' | 'address' | 'port' | 'login' | 'password', string>>;

/** The proxy fields of a createTask task (solver-api.md §3.1). */
export interface TaskProxy {
  proxyType: ProxyType;
  proxyAddress: string;
  proxyPort: number;
  proxyLogin?: string;
  proxyPassword?: string;
}

function ipv4Parts(host: string): number[] | null {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!match) return null;
  const parts = match.slice(1).map(Number);
  return parts.every((p) => p <= 255) ? parts : null;
}

/** Addresses a solving service cannot (and must not be made to) reach: this machine, the local network, link-local, reserved. */
function isPrivateIpv4([a, b]: number[]): boolean {
  return a === 0 || a === 10 || a === 127 || (a === 100 && b! >= 64 && b! <= 127) || (a === 169 && b === 254) || (a === 172 && b! >= 16 && b! <= 31) || (a === 192 && b === 168) || a! >= 224;
}

/** The 16-bit groups of an IPv6 literal (with an embedded IPv4 tail), or null. */
function ipv6Groups(host: string): number[] | null {
  if (!host.includes(':') || !/^[0-9a-f:.]+$/i.test(host)) return null;
  let text = host;
  const tail = /:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  const extra: number[] = [];
  if (tail) {
    const v4 = ipv4Parts(tail[1]!);
    if (!v4) return null;
    extra.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    text = text.slice(0, -tail[1]!.length - 1) + (text.endsWith(`::${tail[1]}`) ? ':' : '');
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parse = (part: string): number[] | null => {
    if (part === '') return [];
    const groups = part.split(':');
    return groups.every((g) => /^[0-9a-f]{1,4}$/i.test(g)) ? groups.map((g) => parseInt(g, 16)) : null;
  };
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  if (!head || !rest) return null;
  const known = head.length + rest.length + extra.length;
  if (halves.length === 1 ? known !== 8 : known > 7) return null;
  return [...head, ...new Array<number>(8 - known).fill(0), ...rest, ...extra];
}

function isPrivateIpv6(groups: number[]): boolean {
  const [first] = groups as [number];
  if (groups.every((g) => g === 0)) return true; // ::
  if (groups.slice(0, 7).every((g) => g === 0) && groups[7] === 1) return true; // ::1
  if ((first & 0xffc0) === 0xfe80 || (first & 0xffc0) === 0xfec0) return true; // link-local, site-local
  if ((first & 0xfe00) === 0xfc00) return true; // unique local
  if ((first & 0xff00) === 0xff00) return true; // multicast
  // IPv4-mapped (::ffff:a.b.c.d): the IPv4 address decides.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return isPrivateIpv4([groups[6]! >> 8, groups[6]! & 0xff]);
  }
  return false;
}

const HOST_LABELS = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/i;
/** Names that only mean something on this machine or its network. */
const LOCAL_NAMES = /(^|\.)(localhost|local|localdomain|internal|intranet|lan|home|corp|home\.arpa)$/i;

/** The problem with a proxy address, as a message key, or null when the service may use it. */
export function proxyAddressProblem(raw: string): string | null {
  const host = raw.trim().replace(/^\[(.*)\]$/, '$1');
  if (host === '') return 'proxyAddressMissing';
  const v4 = ipv4Parts(host);
  if (v4) return isPrivateIpv4(v4) ? 'proxyAddressPrivate' : null;
  const v6 = ipv6Groups(host);
  if (v6) return isPrivateIpv6(v6) ? 'proxyAddressPrivate' : null;
  if (host.includes(':') || /^[\d.]+$/.test(host)) return 'proxyAddressInvalid';
  if (LOCAL_NAMES.test(host)) return 'proxyAddressPrivate';
  return HOST_LABELS.test(host) ? null : 'proxyAddressInvalid';
}

/** Whether the user has started to set a proxy (any of its fields, the password included). */
function proxyIsSet(proxy: ProxySettings, password: string): boolean {
  return proxy.type !== '' || proxy.address !== '' || proxy.port !== 0 || proxy.login !== '' || password !== '';
}

/**
 * What is wrong with the proxy as the services require it: all of type, address and port or
 * none; a public address; a port in range; no `%` in the login or password (the service refuses
 * it); a password only with a login. Empty when valid (or when nothing is set).
 */
export function proxyProblems(proxy: ProxySettings, password: string): ProxyProblems {
  const problems: ProxyProblems = {};
  if (!proxyIsSet(proxy, password)) return problems;
  if (proxy.type === '') problems.type = 'proxyTypeMissing';
  const address = proxyAddressProblem(proxy.address);
  if (address) problems.address = address;
  if (!(Number.isInteger(proxy.port) && proxy.port >= 1 && proxy.port <= 65_535)) problems.port = 'proxyPortInvalid';
  if (proxy.login.includes('%')) problems.login = 'proxyCredentialsPercent';
  if (password.includes('%')) problems.password = 'proxyCredentialsPercent';
  else if (password !== '' && proxy.login === '') problems.password = 'proxyPasswordWithoutLogin';
  if (password.length > MAX_POWER_FIELD) problems.password = 'proxyFieldTooLong';
  return problems;
}

/**
 * The proxy as the engine uses it: `none` (nothing set), `invalid` (set, but not as the services
 * require: no task is sent through half a proxy, nor silently without it), or the task fields.
 */
export type ProxyConfig = { kind: 'none' } | { kind: 'invalid'; sites: string[] } | { kind: 'proxy'; fields: TaskProxy; sites: string[] };

export function proxyConfigOf(proxy: ProxySettings, password: string): ProxyConfig {
  if (!proxyIsSet(proxy, password)) return { kind: 'none' };
  if (Object.keys(proxyProblems(proxy, password)).length > 0 || proxy.type === '') return { kind: 'invalid', sites: proxy.sites };
  const fields: TaskProxy = { proxyType: proxy.type, proxyAddress: proxy.address.replace(/^\[(.*)\]$/, '$1'), proxyPort: proxy.port };
  if (proxy.login) fields.proxyLogin = proxy.login;
  if (password) fields.proxyPassword = password;
  return { kind: 'proxy', fields, sites: proxy.sites };
}

/** Whether a proxy with this site rule is for a task on this page (empty list = every site). */
export function proxyAppliesTo(sites: readonly string[], websiteURL: string): boolean {
  return sites.length === 0 || urlMatchesSites(websiteURL, sites);
}

/* ---------------- the fallback service ---------------- */

/** The fallback's API base URL, or null when it is off (or Custom has no valid URL yet). */
export function fallbackUrlOf(fallback: FallbackSettings): string | null {
  if (fallback.service === 'off') return null;
  if (fallback.service === 'custom') return normalizeServiceUrl(fallback.customUrl);
  return SERVICE_PRESETS.find((p) => p.id === fallback.service)?.url ?? null;
}

/* ---------------- importing a file ---------------- */

/** What an imported file would change in this block that the user must see first. */
export type PowerImportChange =
  | { field: 'fallbackService'; from: FallbackSettings['service']; to: FallbackSettings['service'] }
  | { field: 'fallbackUrl'; from: string; to: string }
  | { field: 'proxyAddress'; from: string; to: string };

/**
 * The fallback key goes wherever the fallback points, and the proxy password to whatever proxy
 * the service is told to use: a file that moves either waits for the user's yes.
 */
export function reviewPowerImport(current: PowerSettings, incoming: PowerSettings): PowerImportChange[] {
  const changes: PowerImportChange[] = [];
  if (incoming.fallback.service !== current.fallback.service) changes.push({ field: 'fallbackService', from: current.fallback.service, to: incoming.fallback.service });
  if (!sameServiceUrl(incoming.fallback.customUrl, current.fallback.customUrl)) changes.push({ field: 'fallbackUrl', from: current.fallback.customUrl, to: incoming.fallback.customUrl });
  const endpoint = (p: ProxySettings): string => (p.address ? `${p.address}:${p.port}` : '');
  if (endpoint(incoming.proxy) !== '' && endpoint(incoming.proxy) !== endpoint(current.proxy)) {
    changes.push({ field: 'proxyAddress', from: endpoint(current.proxy), to: endpoint(incoming.proxy) });
  }
  return changes;
}
