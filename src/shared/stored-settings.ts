/** Settings and key as stored in extension storage; read by the background and the extension's pages. */
import browser from 'webextension-polyfill';
import { parseSettings, STORAGE_KEYS, type Settings } from './settings';

export interface StoredSettings {
  settings: Settings;
  apiKey: string;
  /** The power-user block's secrets, stored apart like the key. */
  proxyPassword: string;
  fallbackApiKey: string;
}

export async function loadSettings(): Promise<StoredSettings> {
  const stored = await browser.storage.local.get([STORAGE_KEYS.settings, STORAGE_KEYS.apiKey, STORAGE_KEYS.proxyPassword, STORAGE_KEYS.fallbackApiKey]);
  const secret = (key: string): string => (typeof stored[key] === 'string' ? (stored[key] as string) : '');
  return {
    settings: parseSettings(stored[STORAGE_KEYS.settings]),
    apiKey: secret(STORAGE_KEYS.apiKey),
    proxyPassword: secret(STORAGE_KEYS.proxyPassword),
    fallbackApiKey: secret(STORAGE_KEYS.fallbackApiKey),
  };
}
