/** Settings and key as the extension's pages edit them: loaded once, saved on every change. */
import { useEffect, useState } from 'preact/hooks';
import browser from 'webextension-polyfill';
import { DEFAULT_SETTINGS, STORAGE_KEYS, type Settings } from '../shared/settings';
import { loadSettings } from '../shared/stored-settings';


export async function saveSettings(settings: Settings): Promise<void> {
  await browser.storage.local.set({ [STORAGE_KEYS.settings]: settings });
}

export async function saveApiKey(apiKey: string): Promise<void> {
  await saveSecret(STORAGE_KEYS.apiKey, apiKey);
}

/** A secret (the key, the proxy password, the fallback key) under its own storage key; empty removes it. */
async function saveSecret(storageKey: string, value: string): Promise<void> {
  if (value) await browser.storage.local.set({ [storageKey]: value });
  else await browser.storage.local.remove(storageKey);
}

export interface SettingsState {
  loaded: boolean;
  settings: Settings;
  apiKey: string;
  update(patch: Partial<Settings>): void;
  replace(settings: Settings): void;
  setApiKey(key: string): void;
  /** The power-user block's secrets, stored apart like the key. */
  proxyPassword: string;
  fallbackApiKey: string;
  setProxyPassword(password: string): void;
  setFallbackApiKey(key: string): void;
}

export function useSettings(): SettingsState {
  const [loaded, setLoaded] = useState(false);
  const [settings, setSettings] = useState<Settings>(DEFAULT_SETTINGS);
  const [apiKey, setKey] = useState('');
  const [proxyPassword, setPassword] = useState('');
  const [fallbackApiKey, setFallbackKey] = useState('');
  useEffect(() => {
    void loadSettings().then((stored) => {
      setSettings(stored.settings);
      setKey(stored.apiKey);
      setPassword(stored.proxyPassword);
      setFallbackKey(stored.fallbackApiKey);
      setLoaded(true);
    });
  }, []);
  return {
    loaded,
    settings,
    apiKey,
    update(patch) {
      setSettings((current) => {
        const next = { ...current, ...patch };
        void saveSettings(next);
        return next;
      });
    },
    replace(next) {
      setSettings(next);
      void saveSettings(next);
    },
    setApiKey(value) {
      const key = value.trim();
      setKey(key);
      void saveApiKey(key);
    },
    proxyPassword,
    fallbackApiKey,
    setProxyPassword(value) {
      // A password may hold spaces at either end: kept as typed.
      setPassword(value);
      void saveSecret(STORAGE_KEYS.proxyPassword, value);
    },
    setFallbackApiKey(value) {
      const key = value.trim();
      setFallbackKey(key);
      void saveSecret(STORAGE_KEYS.fallbackApiKey, key);
    },
  };
}
