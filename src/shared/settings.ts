/**
 * The stored settings: one typed, versioned record. Reading runs the numbered migrations from
 * the stored version up to the current one, then validates field by field (a bad or foreign
 * value falls back to its default instead of breaking the extension). The API key is stored
 * apart, so settings can be shown, exported and imported without it.
 */
import { TOKEN_FAMILIES, tokenFamilyOf, type Captcha } from './captcha';
import { MAX_SELECTOR, type AfterDelivery } from './messages';
import { normalizeServiceUrl, sameServiceUrl, SERVICE_PRESETS, type ServiceId } from './services';
import { STORAGE_KEYS } from './storage-catalogue';
import { hostMatches, isWebUrl, urlMatchesSites } from './urls';
import { isRecord } from './validate';
// The power-user block (proxy, fallback service): its own file, its own migration.
import {
  defaultPowerSettings,
  fallbackUrlOf,
  MAX_POWER_FIELD,
  migratePowerSettings,
  PROXY_TYPES,
  reviewPowerImport,
  type FallbackSettings,
  type PowerImportChange,
  type PowerSettings,
  type ProxySettings,
} from './power-settings';

export const SETTINGS_VERSION = 4;

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

/** Auto-solve waits a random time in this range before it starts a task (0–0: at once). */
export interface DelayRange {
  minMs: number;
  maxMs: number;
}

/**
 * The longest wait before an auto-solve: the browser may stop an idle background after 30 s,
 * and a wait it does not outlive is a solve that never starts.
 */
export const MAX_DELAY_MS = 20_000;

/** On this site (and its subdomains), auto-submit clicks this element instead of submitting the widget's form. */
export interface SubmitRule {
  site: string;
  selector: string;
}

const MAX_SUBMIT_RULES = 100;

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
  /** Per captcha type, how long auto-solve waits first. */
  delays: Record<FamilyId, DelayRange>;
  /** After a token is in the page: submit the widget's form, or click a site's selector (submitRules). */
  autoSubmit: boolean;
  submitRules: SubmitRule[];
  /** After a token is in the page: an attribute and an event on the widget for the page's own scripts. */
  pageSignal: boolean;
}

function defaultFamilies(): Record<FamilyId, FamilySettings> {
  return Object.fromEntries(FAMILY_IDS.map((id) => [id, { enabled: true, mode: 'click' }])) as Record<FamilyId, FamilySettings>;
}

function defaultDelays(): Record<FamilyId, DelayRange> {
  return Object.fromEntries(FAMILY_IDS.map((id) => [id, { minMs: 0, maxMs: 0 }])) as Record<FamilyId, DelayRange>;
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
  delays: defaultDelays(),
  autoSubmit: false,
  submitRules: [],
  pageSignal: false,
});

/** Where the settings and the secrets are kept: the storage catalogue names every key. */
export { STORAGE_KEYS };

/**
 * Migrations from each older version to the next: index N turns version N into N + 1.
 * Version 0 is anything stored without a version.
 */
export const MIGRATIONS: ReadonlyArray<(old: Record<string, unknown>) => Record<string, unknown>> = [
  // 0 → 1: a record without a version holds version 1's fields.
  (old) => ({ ...old, version: 1 }),
  // 1 → 2: per-family switches and modes, site lists, the spending guard, the in-page button.
  (old) => ({ ...old, families: defaultFamilies(), siteMode: 'all', blockedSites: [], allowedSites: [], version: 2 }),
  // 2 → 3: auto-solve delays per type, auto-submit and the page signal (all off).
  (old) => ({ ...old, delays: defaultDelays(), autoSubmit: false, submitRules: [], pageSignal: false, version: 3 }),
  // 3 → POWER_SETTINGS_VERSION (4): the power-user block (power-settings.ts). Keep it the last entry.
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

const isUrlOrEmpty = (v: unknown): v is string => typeof v === 'string' && (v === '' || normalizeServiceUrl(v) !== null);
const isIntIn =
  (min: number, max: number) =>
  (v: unknown): v is number =>
    Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
const isScore = (v: unknown): v is number => typeof v === 'number' && v >= 0.1 && v <= 0.9;
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
// eslint-disable-next-line no-control-regex -- a selector with a control character is refused
const isSelector = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '' && v.length <= MAX_SELECTOR && !/[\u0000-\u001f]/.test(v);

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

/**
 * Why a value was not taken; the UI words each reason (`problem_<reason>` in _locales) with
 * `args`. Never the value itself: it may be the key.
 */
export const PROBLEM_REASONS = ['unknown', 'boolean', 'integer', 'number', 'choice', 'url', 'site', 'list', 'tooMany', 'object', 'selector', 'range', 'key', 'json', 'file', 'text'] as const;
export type ProblemReason = (typeof PROBLEM_REASONS)[number];

export interface SettingsProblem {
  /** The setting as a path (`maxTasksPerHour`, `families.recaptchaV2.mode`, `blockedSites[2]`); '' for the whole input. */
  field: string;
  reason: ProblemReason;
  args?: string[];
}

/** Settings a file, a policy or the control API may set: any subset, nested groups per field. */
export type SettingsPatch = Partial<Omit<Settings, 'version' | 'families' | 'image' | 'delays' | 'proxy' | 'fallback'>> & {
  families?: Partial<Record<FamilyId, Partial<FamilySettings>>>;
  image?: Partial<ImageSettings>;
  proxy?: Partial<ProxySettings>;
  fallback?: Partial<FallbackSettings>;
  delays?: Partial<Record<FamilyId, DelayRange>>;
};

/** Reads one value: the valid value, or undefined after noting why not. */
type Reader<T> = (value: unknown, field: string, problems: SettingsProblem[]) => T | undefined;

const MAX_PROBLEMS = 50;
const MAX_SITES = 500;

function problem(problems: SettingsProblem[], field: string, reason: ProblemReason, args?: string[]): undefined {
  if (problems.length < MAX_PROBLEMS) problems.push({ field: field.slice(0, 120), reason, ...(args && { args }) });
  return undefined;
}

const reader =
  <T>(valid: (v: unknown) => v is T, reason: ProblemReason, args?: string[]): Reader<T> =>
  (value, field, problems) =>
    valid(value) ? value : problem(problems, field, reason, args);

const bool = reader(isBool, 'boolean');
const intIn = (min: number, max: number): Reader<number> => reader(isIntIn(min, max), 'integer', [String(min), String(max)]);
const choice = <const T extends readonly string[]>(values: T): Reader<T[number]> => reader((v: unknown): v is T[number] => typeof v === 'string' && values.includes(v), 'choice', [values.join(', ')]);
const url = reader(isUrlOrEmpty, 'url');
const site: Reader<string> = (value, field, problems) => (typeof value === 'string' ? normalizeSitePattern(value) : null) ?? problem(problems, field, 'site');

type Readers<T> = { [K in keyof T]-?: Reader<NonNullable<T[K]>> };

/** An object's known fields, each read on its own; unknown ones are reported and left out. */
function fields<T extends object>(readers: Readers<T>): Reader<Partial<T>> {
  return (value, field, problems) => {
    if (!isRecord(value)) return problem(problems, field, 'object');
    const out: Partial<T> = {};
    for (const [key, item] of Object.entries(value)) {
      const path = field ? `${field}.${key}` : key;
      if (!Object.hasOwn(readers, key)) {
        problem(problems, path, 'unknown');
        continue;
      }
      const read = readers[key as keyof T](item, path, problems);
      if (read !== undefined) out[key as keyof T] = read;
    }
    return out;
  };
}

/** The same, but only whole: every field present and valid (a missing one is reported). */
function whole<T extends object>(readers: Readers<T>): Reader<T> {
  const partial = fields(readers);
  return (value, field, problems) => {
    const read = partial(value, field, problems);
    if (read === undefined) return undefined;
    let complete = true;
    for (const key of Object.keys(readers) as (keyof T & string)[]) {
      if (read[key] !== undefined) continue;
      complete = false;
      if (isRecord(value) && !(key in value)) readers[key](undefined, `${field}.${key}`, problems);
    }
    return complete ? (read as T) : undefined;
  };
}

function list<T>(item: Reader<T>, max: number): Reader<T[]> {
  return (value, field, problems) => {
    if (!Array.isArray(value)) return problem(problems, field, 'list');
    if (value.length > max) problem(problems, field, 'tooMany', [String(max)]);
    const out: T[] = [];
    value.slice(0, max).forEach((entry, i) => {
      const read = item(entry, `${field}[${i}]`, problems);
      if (read !== undefined) out.push(read);
    });
    return out;
  };
}

const sites: Reader<string[]> = (value, field, problems) => {
  const read = list(site, MAX_SITES)(value, field, problems);
  return read && [...new Set(read)];
};

const delayMs = intIn(0, MAX_DELAY_MS);
const delay: Reader<DelayRange> = (value, field, problems) => {
  const range = whole<DelayRange>({ minMs: delayMs, maxMs: delayMs })(value, field, problems);
  if (range && range.minMs > range.maxMs) return problem(problems, field, 'range');
  return range;
};

const submitRule: Reader<SubmitRule> = (value, field, problems) => {
  const rule = whole<SubmitRule>({ site, selector: reader(isSelector, 'selector', [String(MAX_SELECTOR)]) })(value, field, problems);
  return rule && { site: rule.site, selector: rule.selector.trim() };
};

/** A proxy field as typed (trimmed, bounded): kept even while not valid yet, the settings page says why beside it. */
const typed: Reader<string> = (value, field, problems) =>
  typeof value === 'string' && value.trim().length <= MAX_POWER_FIELD ? value.trim() : problem(problems, field, 'text', [String(MAX_POWER_FIELD)]);

const SERVICE_IDS = ['capmonster', 'brocapgpt', 'custom'] as const satisfies readonly ServiceId[];

const perFamily = <T>(read: Reader<T>): Readers<Record<FamilyId, T>> => Object.fromEntries(FAMILY_IDS.map((id) => [id, read])) as Readers<Record<FamilyId, T>>;

/** The one set of validators: stored settings, imported files, caprelay.json, policies and the control API. */
const SETTINGS_READERS: Readers<SettingsPatch> = {
  service: choice(SERVICE_IDS),
  customUrl: url,
  families: fields(perFamily(fields<FamilySettings>({ enabled: bool, mode: choice(['click', 'auto'] as const) }))),
  siteMode: choice(['all', 'allowlist'] as const),
  blockedSites: sites,
  allowedSites: sites,
  maxTasksPerHour: intIn(0, 10_000),
  maxTasksPerDay: intIn(0, 100_000),
  inPageButton: bool,
  recreateAttempts: intIn(0, 3),
  v3MinScore: reader(isScore, 'number', ['0.1', '0.9']),
  callbackUrl: url,
  image: fields<ImageSettings>({ numeric: bool, caseSensitive: bool, math: bool, threshold: intIn(0, 100), maxRounds: intIn(1, 10) }),
  delays: fields(perFamily(delay)),
  autoSubmit: bool,
  submitRules: list(submitRule, MAX_SUBMIT_RULES),
  pageSignal: bool,
  proxy: fields<ProxySettings>({ type: choice(['', ...PROXY_TYPES] as const), address: typed, port: intIn(0, 65_535), login: typed, sites }),
  fallback: fields<FallbackSettings>({ service: choice(['off', ...SERVICE_IDS] as const), customUrl: url }),
};

/** Every setting a patch may name (what the managed schema and the docs list). */
export const SETTINGS_FIELDS = Object.keys(SETTINGS_READERS) as (keyof SettingsPatch)[];

/** Reads settings fields (without `version`): what is valid, and why the rest is not. */
export function readSettingsPatch(value: unknown, problems: SettingsProblem[] = []): { patch: SettingsPatch; problems: SettingsProblem[] } {
  return { patch: fields(SETTINGS_READERS)(value, '', problems) ?? {}, problems };
}

function defaultSettings(): Settings {
  return { ...DEFAULT_SETTINGS, ...defaultPowerSettings(), families: defaultFamilies(), delays: defaultDelays(), image: { ...DEFAULT_SETTINGS.image } };
}

/** `base` with what the patch sets: nested groups field by field. */
export function applySettingsPatch(base: Settings, patch: SettingsPatch): Settings {
  const { families, image, delays, proxy, fallback, ...flat } = patch;
  const next: Settings = {
    ...base,
    ...flat,
    families: { ...base.families },
    image: { ...base.image, ...image },
    delays: { ...base.delays },
    proxy: { ...base.proxy, ...proxy, sites: [...(proxy?.sites ?? base.proxy.sites)] },
    fallback: { ...base.fallback, ...fallback },
  };
  for (const id of FAMILY_IDS) {
    const family = families?.[id];
    if (family) next.families[id] = { ...base.families[id], ...family };
    const range = delays?.[id];
    if (range) next.delays[id] = { ...range };
  }
  return next;
}

/** Each setting a patch sets, as a path (`service`, `families.recaptchaV2.mode`, `image.numeric`, `delays.funcaptcha`). */
export function patchPaths(patch: SettingsPatch): string[] {
  const paths: string[] = [];
  for (const [key, value] of Object.entries(patch)) {
    if ((key === 'families' || key === 'image' || key === 'proxy' || key === 'fallback') && isRecord(value)) {
      for (const [sub, inner] of Object.entries(value)) {
        if (key !== 'families') paths.push(`${key}.${sub}`);
        else if (isRecord(inner)) for (const leaf of Object.keys(inner)) paths.push(`families.${sub}.${leaf}`);
      }
    } else if (key === 'delays' && isRecord(value)) {
      for (const id of Object.keys(value)) paths.push(`delays.${id}`);
    } else paths.push(key);
  }
  return paths;
}

/** `next`, except that at each of `paths` it keeps the value `kept` has (a policy's fields stay the user's own underneath). */
export function keepPaths(next: Settings, kept: Settings, paths: readonly string[]): Settings {
  const out = structuredClone(next) as unknown as Record<string, unknown>;
  for (const path of paths) {
    const keys = path.split('.');
    const last = keys.pop()!;
    let target: unknown = out;
    let source: unknown = kept;
    for (const key of keys) {
      target = isRecord(target) ? target[key] : undefined;
      source = isRecord(source) ? source[key] : undefined;
    }
    if (isRecord(target) && isRecord(source) && last in source) target[last] = structuredClone(source[last]);
  }
  return out as unknown as Settings;
}

/** Reads any stored value into valid current settings, migrating older shapes. */
export function parseSettings(stored: unknown): Settings {
  const { version: _version, ...rest } = migrateSettings(isRecord(stored) ? stored : {});
  // Field by field: a bad or foreign value falls back to its default, the rest is kept.
  return applySettingsPatch(defaultSettings(), readSettingsPatch(rest).patch);
}

/** What a settings file (caprelay.json), a policy or the control API sets: settings, and the secrets. */
export interface SetupInput {
  patch: SettingsPatch;
  apiKey?: string;
  /** The power-user block's secrets (a policy does not set these). */
  proxyPassword?: string;
  fallbackApiKey?: string;
  problems: SettingsProblem[];
}

/** An API key as a file or a script gives it (trimmed). */
const apiKeyReader: Reader<string> = (value, field, problems) => {
  const key = typeof value === 'string' ? value.trim() : '';
  return isPlausibleApiKey(key) ? key : problem(problems, field, 'key');
};

/** The secrets' readers, in the order their problems are reported. A password is kept as typed (it may start or end with a space), within the field's bound. */
const SECRET_READERS: Readers<Pick<SetupInput, 'apiKey' | 'fallbackApiKey' | 'proxyPassword'>> = {
  apiKey: apiKeyReader,
  fallbackApiKey: apiKeyReader,
  proxyPassword: reader((v: unknown): v is string => typeof v === 'string' && v.length <= MAX_POWER_FIELD, 'text', [String(MAX_POWER_FIELD)]),
};

/** The secrets a set-up input may carry, each stored apart under its own key. */
const SETUP_SECRETS = ['apiKey', 'proxyPassword', 'fallbackApiKey'] as const;

/** The secrets the input sets, as the storage writes that set them. */
export function setupSecretWrites(input: SetupInput): Record<string, string> {
  return Object.fromEntries(SETUP_SECRETS.flatMap((name) => (input[name] !== undefined ? [[STORAGE_KEYS[name], input[name]]] : [])));
}

/** What the input sets, as paths: its settings, then the secrets by name (never their values). */
export function setupPaths(input: SetupInput): string[] {
  return [...patchPaths(input.patch), ...SETUP_SECRETS.filter((name) => input[name] !== undefined)];
}

/**
 * Reads set-up input with the validators of stored settings: the settings fields flat, or as an
 * exported file (`{ "caprelaySettings": {…} }`), and `apiKey` beside them. Each field is taken
 * on its own where it is valid; the rest is reported (field and reason) and left out.
 */
export function readSetupInput(value: unknown): SetupInput {
  const problems: SettingsProblem[] = [];
  if (!isRecord(value)) return { patch: {}, problems: [{ field: '', reason: 'file' }] };
  const { apiKey, proxyPassword, fallbackApiKey, caprelaySettings, version: _version, ...flat } = value;
  let settings: unknown = flat;
  if (caprelaySettings !== undefined) {
    for (const key of Object.keys(flat)) problem(problems, key, 'unknown');
    // An exported file carries its version: brought up to this one, as an import is.
    const exported = isRecord(caprelaySettings) && typeof caprelaySettings.version === 'number' ? migrateSettings(caprelaySettings) : caprelaySettings;
    if (isRecord(exported)) {
      const { version: _exportedVersion, ...rest } = exported;
      settings = rest;
    } else settings = exported;
  }
  const input: SetupInput = { patch: fields(SETTINGS_READERS)(settings, caprelaySettings === undefined ? '' : 'caprelaySettings', problems) ?? {}, problems };
  const secrets = { apiKey, fallbackApiKey, proxyPassword };
  for (const name of Object.keys(SECRET_READERS) as (keyof typeof SECRET_READERS)[]) {
    if (secrets[name] === undefined) continue;
    const value = SECRET_READERS[name](secrets[name], name, problems);
    if (value !== undefined) input[name] = value;
  }
  return input;
}

/** A key is printable ASCII without spaces; CapMonster keys are 32 hex characters. */
function isPlausibleApiKey(key: string): boolean {
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

/** The submit rule for a frame at this address: the most specific site that matches it. */
function submitRuleFor(settings: Settings, frameUrl: string): SubmitRule | undefined {
  let host: string;
  try {
    host = new URL(frameUrl).hostname.toLowerCase();
  } catch {
    return undefined;
  }
  return settings.submitRules.filter((rule) => hostMatches(host, rule.site)).sort((a, b) => b.site.length - a.site.length)[0];
}

/**
 * What the frame does once a token is in, as set: submit (the widget's form, or the site's
 * selector, which names an element of the frame the widget is in) and the page signal.
 */
export function afterDeliveryFor(settings: Settings, frameUrl: string): AfterDelivery | undefined {
  if (!settings.autoSubmit && !settings.pageSignal) return undefined;
  const then: AfterDelivery = {};
  if (settings.pageSignal) then.signal = true;
  if (settings.autoSubmit) {
    const rule = submitRuleFor(settings, frameUrl);
    then.submit = rule ? { click: rule.selector } : 'form';
  }
  return then;
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
  | { field: 'autoSubmit' | 'pageSignal'; from: boolean; to: boolean }
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
  if (!sameServiceUrl(incoming.customUrl, current.customUrl)) changes.push({ field: 'customUrl', from: current.customUrl, to: incoming.customUrl });
  if (incoming.callbackUrl !== '' && !sameServiceUrl(incoming.callbackUrl, current.callbackUrl)) {
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
  // Acting in the page without a click (submitting a form), or telling sites CapRelay is there.
  for (const field of ['autoSubmit', 'pageSignal'] as const) {
    if (incoming[field] && !current[field]) changes.push({ field, from: false, to: true });
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
