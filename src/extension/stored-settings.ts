/**
 * Settings and key as they apply: what is stored in extension storage, under what a policy sets
 * (storage.managed: Chromium's managed_schema policies, Firefox's `3rdparty` policies). A field
 * the policy sets wins and cannot be changed in the UI. Read by the background and the pages.
 */
import browser from 'webextension-polyfill';
import { applySettingsPatch, parseSettings, patchPaths, readSetupInput, STORAGE_KEYS, type SettingsProblem, type SetupInput, type Settings } from '../shared/settings';

export interface LoadedSettings {
  settings: Settings;
  apiKey: string;
  /** The power-user block's secrets, stored apart like the key. */
  proxyPassword: string;
  fallbackApiKey: string;
  /** Paths of the fields a policy sets (`apiKey` among them when it sets the key). */
  managed: string[];
  /** The stored settings under the policy: where the UI saves, so lifting a policy brings them back. */
  own: Settings;
  /** What the policy set that could not be used, field and reason. */
  policyProblems: SettingsProblem[];
}

let policy: Promise<SetupInput> | undefined;
let watching = false;

/** The policy, read once per context and again when it changes. */
function readPolicy(): Promise<SetupInput> {
  if (!watching) {
    watching = true;
    browser.storage.onChanged.addListener((_changes, area) => {
      if (area === 'managed') policy = undefined;
    });
  }
  // Firefox rejects when no policy names the extension; a browser without the area has none either.
  policy ??= Promise.resolve()
    .then(() => browser.storage.managed.get())
    .then(
      (values) => (Object.keys(values).length ? readSetupInput(values) : { patch: {}, problems: [] }),
      () => ({ patch: {}, problems: [] }),
    );
  return policy;
}

export async function loadSettings(): Promise<LoadedSettings> {
  const [stored, managed] = await Promise.all([browser.storage.local.get([STORAGE_KEYS.settings, STORAGE_KEYS.apiKey, STORAGE_KEYS.proxyPassword, STORAGE_KEYS.fallbackApiKey]), readPolicy()]);
  const secret = (key: string): string => {
    const value = stored[key];
    return typeof value === 'string' ? value : '';
  };
  const own = parseSettings(stored[STORAGE_KEYS.settings]);
  return {
    settings: applySettingsPatch(own, managed.patch),
    apiKey: managed.apiKey ?? secret(STORAGE_KEYS.apiKey),
    proxyPassword: secret(STORAGE_KEYS.proxyPassword),
    fallbackApiKey: secret(STORAGE_KEYS.fallbackApiKey),
    managed: [...patchPaths(managed.patch), ...(managed.apiKey !== undefined ? ['apiKey'] : [])],
    own,
    policyProblems: managed.problems,
  };
}
