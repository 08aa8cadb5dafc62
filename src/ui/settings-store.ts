/** Settings and key as the extension's pages edit them: loaded once, saved on every change. */
import { useEffect, useState } from 'preact/hooks';
import browser from 'webextension-polyfill';
import { DEFAULT_SETTINGS, STORAGE_KEYS, type Settings } from '../shared/settings';
import { loadSettings } from '../shared/stored-settings';


export async function saveSettings(settings: Settings): Promise<void> {
  await browser.storage.local.set({ [STORAGE_KEYS.settings]: settings });
}

export async function saveApiKey(apiKey: string): Promise<void> {
  if (apiKey) await browser.storage.local.set({ [STORAGE_KEYS.apiKey]: apiKey });
  else await browser.storage.local.remove(STORAGE_KEYS.apiKey);
}

export interface SettingsState {
  loaded: boolean;
  settings: Settings;
  apiKey: string;
  update(patch: Partial<Settings>): void;
  replace(settings: Settings): void;
  setApiKey(key: string): void;
}

export function useSettings(): SettingsState {
  const [loaded, setLoaded] = useState(false);
  const [settings, setSettings] = useState<Settings>(DEFAULT_SETTINGS);
  const [apiKey, setKey] = useState('');
  useEffect(() => {
    void loadSettings().then((stored) => {
      setSettings(stored.settings);
      setKey(stored.apiKey);
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
  };
}
