/** Settings and key as stored in extension storage; read by the background and the extension's pages. */
import browser from 'webextension-polyfill';
import { parseSettings, STORAGE_KEYS, type Settings } from './settings';

export async function loadSettings(): Promise<{ settings: Settings; apiKey: string }> {
  const stored = await browser.storage.local.get([STORAGE_KEYS.settings, STORAGE_KEYS.apiKey]);
  const apiKey = stored[STORAGE_KEYS.apiKey];
  return { settings: parseSettings(stored[STORAGE_KEYS.settings]), apiKey: typeof apiKey === 'string' ? apiKey : '' };
}
