/**
 * Settings and key as the extension's pages edit them: saved on every change, and loaded again
 * whenever storage says another page (the popup, the options page, a settings file, a policy)
 * changed them, so two open pages never overwrite each other's changes. A field a policy sets is
 * shown with the policy's value and cannot be changed here; what is saved keeps the user's own
 * value for it, which applies again once the policy is lifted.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import browser from 'webextension-polyfill';
import { DEFAULT_SETTINGS, keepPaths, STORAGE_KEYS, type Settings, type SettingsProblem } from '../shared/settings';
import { loadSettings } from '../extension/stored-settings';

/** Saves whose echoes a page still tells apart from other pages' changes (a burst of typing). */
const SAVES_REMEMBERED = 50;
const WATCHED = [STORAGE_KEYS.settings, STORAGE_KEYS.apiKey, STORAGE_KEYS.proxyPassword, STORAGE_KEYS.fallbackApiKey];

async function saveSettings(settings: Settings): Promise<void> {
  await browser.storage.local.set({ [STORAGE_KEYS.settings]: settings });
}

async function saveApiKey(apiKey: string): Promise<void> {
  await saveSecret(STORAGE_KEYS.apiKey, apiKey);
}

/** A secret (the key, the proxy password, the fallback key) under its own storage key; empty removes it. */
async function saveSecret(storageKey: string, value: string): Promise<void> {
  if (value) await browser.storage.local.set({ [storageKey]: value });
  else await browser.storage.local.remove(storageKey);
}

export interface SettingsState {
  loaded: boolean;
  /** As they apply: the policy's values where it sets one. */
  settings: Settings;
  apiKey: string;
  /** Whether a policy sets this setting (a path such as `service` or `families.recaptchaV2.mode`; '' for any). */
  isManaged(path: string): boolean;
  /** What the policy set that could not be used. */
  policyProblems: SettingsProblem[];
  /**
   * A change: a patch, or one made from the settings as they are when it applies (for a nested
   * group, so two quick edits before the next render do not undo each other).
   */
  update(patch: Partial<Settings> | ((current: Settings) => Partial<Settings>)): void;
  replace(settings: Settings): void;
  setApiKey: (key: string) => void;
  /** The power-user block's secrets, stored apart like the key. */
  proxyPassword: string;
  fallbackApiKey: string;
  setProxyPassword: (password: string) => void;
  setFallbackApiKey: (key: string) => void;
}

interface Loaded {
  settings: Settings;
  own: Settings;
  managed: string[];
}

export function useSettings(): SettingsState {
  const [loaded, setLoaded] = useState(false);
  const [state, setState] = useState<Loaded>({ settings: DEFAULT_SETTINGS, own: DEFAULT_SETTINGS, managed: [] });
  const [policyProblems, setPolicyProblems] = useState<SettingsProblem[]>([]);
  const [apiKey, setKey] = useState('');
  const [proxyPassword, setPassword] = useState('');
  const [fallbackApiKey, setFallbackKey] = useState('');
  /** What this page saved lately, per storage key, to tell the echoes of its own changes from another page's. */
  const saved = useRef<Record<string, string[]>>({});
  const remember = (storageKey: string, value: string): void => {
    const list = (saved.current[storageKey] ??= []);
    list.splice(0, Math.max(0, list.push(value) - SAVES_REMEMBERED));
  };
  useEffect(() => {
    const load = (): void =>
      void loadSettings().then((stored) => {
        setState({ settings: stored.settings, own: stored.own, managed: stored.managed });
        setPolicyProblems(stored.policyProblems);
        setKey(stored.apiKey);
        setPassword(stored.proxyPassword);
        setFallbackKey(stored.fallbackApiKey);
        setLoaded(true);
      });
    load();
    // Another page's (or a file's, a policy's) change; not the echo of one of this page's own
    // saves (they arrive late, one per keystroke: loading then would undo what was typed since).
    const onChanged = (changes: Record<string, { newValue?: unknown }>, area: string): void => {
      if (area === 'managed') return load();
      if (area !== 'local') return;
      const foreign = WATCHED.some((storageKey) => {
        const change = changes[storageKey];
        if (!change) return false;
        const value = storageKey === STORAGE_KEYS.settings ? JSON.stringify(change.newValue) : typeof change.newValue === 'string' ? change.newValue : '';
        return !saved.current[storageKey]?.includes(value);
      });
      if (foreign) load();
    };
    browser.storage.onChanged.addListener(onChanged);
    return () => browser.storage.onChanged.removeListener(onChanged);
  }, []);
  /** The user's edit, saved with their own values where the policy decides; shown with the policy's. */
  const save = (edit: (current: Settings) => Settings): void =>
    setState((current) => {
      const own = keepPaths(edit(current.settings), current.own, current.managed);
      remember(STORAGE_KEYS.settings, JSON.stringify(own));
      void saveSettings(own);
      return { ...current, own, settings: keepPaths(own, current.settings, current.managed) };
    });
  return {
    loaded,
    settings: state.settings,
    apiKey,
    isManaged: (path) => state.managed.some((managed) => path === '' || managed === path || managed.startsWith(`${path}.`)),
    policyProblems,
    update: (patch) => save((current) => ({ ...current, ...(typeof patch === 'function' ? patch(current) : patch) })),
    replace: (next) => save(() => next),
    setApiKey(value) {
      if (state.managed.includes('apiKey')) return;
      const key = value.trim();
      setKey(key);
      remember(STORAGE_KEYS.apiKey, key);
      void saveApiKey(key);
    },
    proxyPassword,
    fallbackApiKey,
    setProxyPassword(value) {
      // A password may hold spaces at either end: kept as typed.
      setPassword(value);
      remember(STORAGE_KEYS.proxyPassword, value);
      void saveSecret(STORAGE_KEYS.proxyPassword, value);
    },
    setFallbackApiKey(value) {
      const key = value.trim();
      setFallbackKey(key);
      remember(STORAGE_KEYS.fallbackApiKey, key);
      void saveSecret(STORAGE_KEYS.fallbackApiKey, key);
    },
  };
}
