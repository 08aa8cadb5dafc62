import { useEffect, useState } from 'preact/hooks';
import browser from 'webextension-polyfill';
import { parseHistory, type HistoryEntry } from '../shared/history';
import { STORAGE_KEYS } from '../shared/settings';
import { onStorageChange } from './background';

/** The stored history, kept current (null until read). */
export function useHistory(): HistoryEntry[] | null {
  const [entries, setEntries] = useState<HistoryEntry[] | null>(null);
  useEffect(() => {
    const load = (): void => void browser.storage.local.get(STORAGE_KEYS.history).then((s) => setEntries(parseHistory(s[STORAGE_KEYS.history])));
    load();
    return onStorageChange(['local'], load);
  }, []);
  return entries;
}
