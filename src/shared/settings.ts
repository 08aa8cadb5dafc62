/**
 * The stored settings: one typed, versioned record, validated field by field on every read
 * (a bad or foreign value falls back to its default instead of breaking the extension).
 * The API key is stored apart from it, so settings can be shown or exported without it.
 */
import { normalizeServiceUrl, SERVICE_PRESETS, type ServiceId } from './services';
import { isRecord } from './validate';

export const SETTINGS_VERSION = 1;

export interface Settings {
  version: typeof SETTINGS_VERSION;
  service: ServiceId;
  /** Base URL when service is 'custom'. */
  customUrl: string;
  /** How many times an unsolvable / expired task may be created anew (0 = never, the default). */
  recreateAttempts: number;
  /** reCAPTCHA v3 minScore sent with v3 tasks. */
  v3MinScore: number;
  /** Optional createTask callbackUrl (advanced; the service POSTs results there). */
  callbackUrl: string;
}

export const DEFAULT_SETTINGS: Settings = {
  version: SETTINGS_VERSION,
  service: 'capmonster',
  customUrl: '',
  recreateAttempts: 0,
  v3MinScore: 0.7,
  callbackUrl: '',
};

export const STORAGE_KEYS = {
  settings: 'settings',
  apiKey: 'apiKey',
  history: 'history',
} as const;

function pick<T>(value: unknown, valid: (v: unknown) => v is T, fallback: T): T {
  return valid(value) ? value : fallback;
}

const isServiceId = (v: unknown): v is ServiceId => v === 'capmonster' || v === 'brocapgpt' || v === 'custom';
const isUrlOrEmpty = (v: unknown): v is string => typeof v === 'string' && (v === '' || normalizeServiceUrl(v) !== null);
const isAttempts = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 3;
const isScore = (v: unknown): v is number => typeof v === 'number' && v >= 0.1 && v <= 0.9;

/** Reads any stored value into valid settings, migrating older shapes. */
export function parseSettings(stored: unknown): Settings {
  const raw = isRecord(stored) ? stored : {};
  return {
    version: SETTINGS_VERSION,
    service: pick(raw.service, isServiceId, DEFAULT_SETTINGS.service),
    customUrl: pick(raw.customUrl, isUrlOrEmpty, DEFAULT_SETTINGS.customUrl),
    recreateAttempts: pick(raw.recreateAttempts, isAttempts, DEFAULT_SETTINGS.recreateAttempts),
    v3MinScore: pick(raw.v3MinScore, isScore, DEFAULT_SETTINGS.v3MinScore),
    callbackUrl: pick(raw.callbackUrl, isUrlOrEmpty, DEFAULT_SETTINGS.callbackUrl),
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
