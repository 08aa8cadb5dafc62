/**
 * The stored settings: one typed, versioned record. Reading runs the numbered migrations from
 * the stored version up to the current one, then validates field by field (a bad or foreign
 * value falls back to its default instead of breaking the extension). The API key is stored
 * apart, so settings can be shown, exported and imported without it.
 */
import { TOKEN_FAMILIES, tokenFamilyOf, type Captcha } from './captcha';
import { normalizeServiceUrl, SERVICE_PRESETS, type ServiceId } from './services';
import { isRecord } from './validate';
// The power-user block (proxy, fallback service): its own file, its own migration.
import { defaultPowerSettings, fallbackUrlOf, migratePowerSettings, parsePowerSettings, reviewPowerImport, type PowerImportChange, type PowerSettings } from './power-settings';

export const SETTINGS_VERSION = 3;

/** Every captcha type's switch, from the families (shared/captcha.ts lists them). */
export const FAMILY_IDS = TOKEN_FAMILIES.flatMap((f) => f.settings.map((s) => s.id)) as unknown as readonly FamilyId[];
export type FamilyId = (typeof TOKEN_FAMILIES)[number]['settings'][number]['id'];
/** Its name in _locales, by switch. */
export const FAMILY_LABEL_KEYS = Object.fromEntries(TOKEN_FAMILIES.flatMap((f) => f.settings.map((s) => [s.id, s.label]))) as Record<FamilyId, string>;
export type SolveMode = 'click' | 'auto';

export interface FamilySettings {
  enabled: boolean;
  mode: SolveMode;
}

/** Image captchas (ImageToTextTask) and FunCaptcha image challenges (ComplexImageTask). */
export interface ImageSettings {
  /** The answer has digits only (sent as numeric: 1). */
  numeric: boolean;
  /** The answer is case-sensitive (case: true). */
  caseSensitive: boolean;
  /** The image shows a sum to work out (math: true). */
  math: boolean;
  /** recognizingThreshold 1–100: less sure answers are refused, not charged; 0 = not sent. */
  threshold: number;
  /** At most this many rounds (each a paid task) per request to solve a FunCaptcha image challenge. */
  maxRounds: number;
}

export interface Settings extends PowerSettings {
  version: typeof SETTINGS_VERSION;
  service: ServiceId;
  /** Base URL when service is 'custom'. */
  customUrl: string;
  families: Record<FamilyId, FamilySettings>;
  /** 'all' = everywhere except blockedSites; 'allowlist' = only allowedSites. */
  siteMode: 'all' | 'allowlist';
  blockedSites: string[];
  allowedSites: string[];
  /** Auto-solve pauses after this many tasks in the last hour / day (0 = no limit). */
  maxTasksPerHour: number;
  maxTasksPerDay: number;
  /** A Solve button next to each widget in the page (reacts to real clicks only). */
  inPageButton: boolean;
  /** How many times an unsolvable / expired task may be created anew (0 = never, the default). */
  recreateAttempts: number;
  /** reCAPTCHA v3 minScore sent with v3 tasks. */
  v3MinScore: number;
  /** Optional createTask callbackUrl (advanced; the service POSTs results there). */
  callbackUrl: string;
  image: ImageSettings;
}

function defaultFamilies(): Record<FamilyId, FamilySettings> {
  return Object.fromEntries(FAMILY_IDS.map((id) => [id, { enabled: true, mode: 'click' }])) as Record<FamilyId, FamilySettings>;
}

export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze({
  version: SETTINGS_VERSION,
  ...defaultPowerSettings(),
  service: 'capmonster',
  customUrl: '',
  families: defaultFamilies(),
  siteMode: 'all',
  blockedSites: [],
  allowedSites: [],
  maxTasksPerHour: 30,
  maxTasksPerDay: 200,
  inPageButton: false,
  recreateAttempts: 0,
  v3MinScore: 0.7,
  callbackUrl: '',
  image: Object.freeze({ numeric: false, caseSensitive: false, math: false, threshold: 0, maxRounds: 5 }),
});

export const STORAGE_KEYS = {
  settings: 'settings',
  apiKey: 'apiKey',
  history: 'history',
  spend: 'spend',
  // Secrets of the power-user block, stored apart like the key (never in Settings or an export).
  proxyPassword: 'proxyPassword',
  fallbackApiKey: 'fallbackApiKey',
} as const;

/**
 * Migrations from each older version to the next: index N turns version N into N + 1.
 * Version 0 is anything stored without a version.
 */
export const MIGRATIONS: ReadonlyArray<(old: Record<string, unknown>) => Record<string, unknown>> = [
  // 0 → 1: a record without a version holds version 1's fields.
  (old) => ({ ...old, version: 1 }),
  // 1 → 2: per-family switches and modes, site lists, the spending guard, the in-page button.
  (old) => ({ ...old, families: defaultFamilies(), siteMode: 'all', blockedSites: [], allowedSites: [], version: 2 }),
  // → POWER_SETTINGS_VERSION: the power-user block (power-settings.ts). Keep it the last entry.
  migratePowerSettings,
];

export function migrateSettings(stored: Record<string, unknown>): Record<string, unknown> {
  let value = stored;
  let version = Number.isInteger(value.version) ? (value.version as number) : 0;
  while (version < SETTINGS_VERSION && version >= 0) {
    const migrate = MIGRATIONS[version];
    if (!migrate) break;
    value = migrate(value);
    version += 1;
  }
  return value;
}

function pick<T>(value: unknown, valid: (v: unknown) => v is T, fallback: T): T {
  return valid(value) ? value : fallback;
}

const isServiceId = (v: unknown): v is ServiceId => v === 'capmonster' || v === 'brocapgpt' || v === 'custom';
const isUrlOrEmpty = (v: unknown): v is string => typeof v === 'string' && (v === '' || normalizeServiceUrl(v) !== null);
const isIntIn = (min: number, max: number) => (v: unknown): v is number => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
const isScore = (v: unknown): v is number => typeof v === 'number' && v >= 0.1 && v <= 0.9;
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isSiteMode = (v: unknown): v is Settings['siteMode'] => v === 'all' || v === 'allowlist';

/** A site pattern as the user types it: a host name, optionally starting with `*.`. */
export function normalizeSitePattern(raw: string): string | null {
  let text = raw.trim().toLowerCase();
  if (!text) return null;
  if (/^[a-z][a-z0-9+.-]*:\/\//.test(text)) {
    try {
      text = new URL(text).hostname;
    } catch {
      return null;
    }
  }
  text = text.replace(/^\*\./, '').replace(/\/.*$/, '').replace(/:\d+$/, '');
  return /^(?=.{1,253}$)[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(text) ? text : null;
}

export function parseSiteList(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  const sites = new Set<string>();
  for (const item of value.slice(0, 500)) {
    if (typeof item !== 'string') continue;
    const site = normalizeSitePattern(item);
    if (site) sites.add(site);
  }
  return [...sites];
}

function parseFamilies(value: unknown): Record<FamilyId, FamilySettings> {
  const families = defaultFamilies();
  if (!isRecord(value)) return families;
  for (const id of FAMILY_IDS) {
    const entry = value[id];
    if (!isRecord(entry)) continue;
    families[id] = {
      enabled: pick(entry.enabled, isBool, true),
      mode: entry.mode === 'auto' ? 'auto' : 'click',
    };
  }
  return families;
}

function parseImageSettings(value: unknown): ImageSettings {
  const d = DEFAULT_SETTINGS.image;
  const raw = isRecord(value) ? value : {};
  return {
    numeric: pick(raw.numeric, isBool, d.numeric),
    caseSensitive: pick(raw.caseSensitive, isBool, d.caseSensitive),
    math: pick(raw.math, isBool, d.math),
    threshold: pick(raw.threshold, isIntIn(0, 100), d.threshold),
    maxRounds: pick(raw.maxRounds, isIntIn(1, 10), d.maxRounds),
  };
}

/** Reads any stored value into valid current settings, migrating older shapes. */
export function parseSettings(stored: unknown): Settings {
  const raw = migrateSettings(isRecord(stored) ? stored : {});
  return {
    version: SETTINGS_VERSION,
    ...parsePowerSettings(raw),
    service: pick(raw.service, isServiceId, DEFAULT_SETTINGS.service),
    customUrl: pick(raw.customUrl, isUrlOrEmpty, DEFAULT_SETTINGS.customUrl),
    families: parseFamilies(raw.families),
    siteMode: pick(raw.siteMode, isSiteMode, DEFAULT_SETTINGS.siteMode),
    blockedSites: parseSiteList(raw.blockedSites),
    allowedSites: parseSiteList(raw.allowedSites),
    maxTasksPerHour: pick(raw.maxTasksPerHour, isIntIn(0, 10_000), DEFAULT_SETTINGS.maxTasksPerHour),
    maxTasksPerDay: pick(raw.maxTasksPerDay, isIntIn(0, 100_000), DEFAULT_SETTINGS.maxTasksPerDay),
    inPageButton: pick(raw.inPageButton, isBool, DEFAULT_SETTINGS.inPageButton),
    recreateAttempts: pick(raw.recreateAttempts, isIntIn(0, 3), DEFAULT_SETTINGS.recreateAttempts),
    v3MinScore: pick(raw.v3MinScore, isScore, DEFAULT_SETTINGS.v3MinScore),
    callbackUrl: pick(raw.callbackUrl, isUrlOrEmpty, DEFAULT_SETTINGS.callbackUrl),
    // Added without a version step: a record from before has none, and gets the defaults.
    image: parseImageSettings(raw.image),
  };
}

/** A key is printable ASCII without spaces; CapMonster keys are 32 hex characters. */
export function isPlausibleApiKey(key: string): boolean {
  return /^[\x21-\x7e]{8,128}$/.test(key);
}

/** The API base URL the settings point at, or null when Custom has no valid URL yet. */
export function serviceUrlOf(settings: Settings): string | null {
  if (settings.service === 'custom') return normalizeServiceUrl(settings.customUrl);
  return SERVICE_PRESETS.find((p) => p.id === settings.service)?.url ?? null;
}

/** Which switch governs a captcha. */
export function familyOf(captcha: Captcha): FamilyId {
  return tokenFamilyOf(captcha).settingOf(captcha) as FamilyId;
}

function hostMatches(host: string, pattern: string): boolean {
  return host === pattern || host.endsWith(`.${pattern}`);
}

/** Only web pages: a task for any other address is one no service can solve. */
export function isWebUrl(url: string): boolean {
  return /^https?:\/\//i.test(url);
}

/** Whether the site lists allow this address (a web page; any other address is never allowed). */
export function isSiteAllowed(settings: Settings, pageUrl: string): boolean {
  if (!isWebUrl(pageUrl)) return false;
  try {
    new URL(pageUrl);
  } catch {
    return false;
  }
  if (settings.siteMode === 'allowlist') return urlMatchesSites(pageUrl, settings.allowedSites);
  return !urlMatchesSites(pageUrl, settings.blockedSites);
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

/**
 * Whether CapRelay works in a frame of a tab (list, auto-solve, in-page button, image flows):
 * the top page decides for the whole tab, so no frame works on a site the user turned off; a
 * frame from a blocked site stays blocked on any page; "only on these sites" names the pages
 * the user visits, not every frame they embed.
 */
export function isFrameAllowed(settings: Settings, topUrl: string | undefined, frameUrl: string): boolean {
  if (topUrl === undefined || !isSiteAllowed(settings, topUrl) || !isWebUrl(frameUrl)) return false;
  return settings.siteMode === 'allowlist' || isSiteAllowed(settings, frameUrl);
}

/** Settings as exported to a file: everything but the key (which is never in Settings). */
export function exportSettings(settings: Settings): string {
  return JSON.stringify({ caprelaySettings: settings }, null, 2);
}

/**
 * A change an imported file would make that the user must see first: it sends the key or the
 * results to another host, or lets auto-solve spend more without a click.
 */
export type ImportChange =
  | { field: 'service'; from: ServiceId; to: ServiceId }
  | { field: 'customUrl' | 'callbackUrl'; from: string; to: string }
  | { field: 'maxTasksPerHour' | 'maxTasksPerDay'; from: number; to: number }
  | { field: 'family'; family: FamilyId; from: FamilySettings; to: FamilySettings }
  | PowerImportChange;

export interface ImportReview {
  /** In the order the settings show them; empty when the file can be applied at once. */
  changes: ImportChange[];
  /** Where the key goes once the file is applied (null: no valid service URL, so nowhere). */
  keyUrl: string | null;
  /** Where the service also posts every result once the file is applied (null: nowhere). */
  resultsUrl: string | null;
  /** Where the fallback key goes once the file is applied (absent: no fallback). */
  fallbackKeyUrl?: string;
}

const sameUrl = (a: string, b: string): boolean => (normalizeServiceUrl(a) ?? a.trim()) === (normalizeServiceUrl(b) ?? b.trim());
const autoSolves = (family: FamilySettings): boolean => family.enabled && family.mode === 'auto';
/** 0 is no limit: a limit loosens when it becomes 0 or grows. */
const loosens = (from: number, to: number): boolean => from !== 0 && (to === 0 || to > from);

/**
 * What applying `incoming` over `current` would change that needs a confirmation. A tighter
 * guard, a family switched off or back to clicks, or a callback removed can only lower risk
 * and is not listed.
 */
export function reviewImport(current: Settings, incoming: Settings): ImportReview {
  const changes: ImportChange[] = [];
  if (incoming.service !== current.service) changes.push({ field: 'service', from: current.service, to: incoming.service });
  // Listed even while another service is chosen: picking Custom later would use it at once.
  if (!sameUrl(incoming.customUrl, current.customUrl)) changes.push({ field: 'customUrl', from: current.customUrl, to: incoming.customUrl });
  if (incoming.callbackUrl !== '' && !sameUrl(incoming.callbackUrl, current.callbackUrl)) {
    changes.push({ field: 'callbackUrl', from: current.callbackUrl, to: incoming.callbackUrl });
  }
  for (const field of ['maxTasksPerHour', 'maxTasksPerDay'] as const) {
    if (loosens(current[field], incoming[field])) changes.push({ field, from: current[field], to: incoming[field] });
  }
  for (const family of FAMILY_IDS) {
    if (autoSolves(incoming.families[family]) && !autoSolves(current.families[family])) {
      changes.push({ field: 'family', family, from: current.families[family], to: incoming.families[family] });
    }
  }
  changes.push(...reviewPowerImport(current, incoming));
  const fallbackKeyUrl = fallbackUrlOf(incoming.fallback);
  return {
    changes,
    keyUrl: serviceUrlOf(incoming),
    resultsUrl: incoming.callbackUrl ? normalizeServiceUrl(incoming.callbackUrl) : null,
    ...(fallbackKeyUrl !== null && { fallbackKeyUrl }),
  };
}

/** Reads an exported file; throws a readable error for anything that is not one. */
export function importSettings(text: string): Settings {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error('not a JSON file');
  }
  if (!isRecord(parsed) || !isRecord(parsed.caprelaySettings)) throw new Error('not a CapRelay settings file');
  return parseSettings(parsed.caprelaySettings);
}
