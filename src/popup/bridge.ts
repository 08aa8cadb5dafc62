/** The popup's only ways out: runtime messages to the background, and its own settings storage. */
import browser from 'webextension-polyfill';
import type { BalanceReply, SolveReply, TabStateReply, UiMessage } from '../shared/messages';
import { parseSettings, STORAGE_KEYS, type Settings } from '../shared/settings';

function send<T>(message: UiMessage): Promise<T> {
  return browser.runtime.sendMessage(message) as Promise<T>;
}

export const background = {
  tabState: (tabId: number) => send<TabStateReply>({ type: 'tab-state', tabId }),
  solve: (tabId: number, frameId: number, captchaId: string) => send<SolveReply>({ type: 'solve', tabId, frameId, captchaId }),
  balance: () => send<BalanceReply>({ type: 'balance' }),
};

export async function loadSettings(): Promise<{ settings: Settings; apiKey: string }> {
  const stored = await browser.storage.local.get([STORAGE_KEYS.settings, STORAGE_KEYS.apiKey]);
  const apiKey = stored[STORAGE_KEYS.apiKey];
  return { settings: parseSettings(stored[STORAGE_KEYS.settings]), apiKey: typeof apiKey === 'string' ? apiKey : '' };
}

export async function saveSettings(settings: Settings): Promise<void> {
  await browser.storage.local.set({ [STORAGE_KEYS.settings]: settings });
}

export async function saveApiKey(apiKey: string): Promise<void> {
  if (apiKey) await browser.storage.local.set({ [STORAGE_KEYS.apiKey]: apiKey });
  else await browser.storage.local.remove(STORAGE_KEYS.apiKey);
}

/** The tab the popup is about: `?tabId=N` when given (tests, pinned views), else the active tab. */
export async function resolveTabId(): Promise<number | null> {
  const param = new URLSearchParams(location.search).get('tabId');
  if (param !== null && /^\d+$/.test(param)) return Number(param);
  const [tab] = await browser.tabs.query({ active: true, currentWindow: true });
  return tab?.id ?? null;
}

/** Calls `listener` when tasks or found captchas change (both live in session storage). */
export function onSessionChange(listener: () => void): () => void {
  const handler = (_changes: unknown, area: string): void => {
    if (area === 'session') listener();
  };
  browser.storage.onChanged.addListener(handler);
  return () => browser.storage.onChanged.removeListener(handler);
}
