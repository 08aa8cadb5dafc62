import { useEffect, useState } from 'preact/hooks';
import browser from 'webextension-polyfill';
import { t } from '../shared/i18n';
import { parseHistory, type HistoryEntry } from '../shared/history';
import { STORAGE_KEYS } from '../shared/settings';
import { onStorageChange } from './background';
import { formatUsd, seconds } from './common';

export function HistoryView() {
  const [entries, setEntries] = useState<HistoryEntry[] | null>(null);
  useEffect(() => {
    const load = (): void => void browser.storage.local.get(STORAGE_KEYS.history).then((s) => setEntries(parseHistory(s[STORAGE_KEYS.history])));
    load();
    return onStorageChange(['local'], load);
  }, []);
  if (!entries) return null;
  if (entries.length === 0) return <p class="muted">{t('historyEmpty')}</p>;
  return (
    <ul class="history" aria-label={t('history')}>
      {entries.map((entry) => (
        <li key={entry.id} class={`history-entry outcome-${entry.outcome}`} data-testid="history-entry">
          <div class="task-head">
            <strong>{entry.site || '—'}</strong>
            <time class="muted" dateTime={new Date(entry.finishedAt).toISOString()}>
              {new Date(entry.finishedAt).toLocaleString()}
            </time>
          </div>
          <div class="muted">
            {entry.type} · {t(`outcome_${entry.outcome}`)}
            {entry.solveMs !== undefined && <> · {seconds(entry.solveMs)}</>}
            {entry.cost !== undefined && <> · {formatUsd(entry.cost)}</>}
            {entry.errorCode && (
              <>
                {' '}
                · <code class="code">{entry.errorCode}</code>
              </>
            )}
          </div>
        </li>
      ))}
    </ul>
  );
}
