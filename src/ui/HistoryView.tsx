import { useState } from 'preact/hooks';
import { t } from '../extension/i18n';
import { HISTORY_SHOWN, reportOffered, type HistoryEntry } from '../shared/history';
import { serviceName } from '../shared/services';
import type { TaskError } from '../shared/tasks';
import { background } from './background';
import { Cost, ErrorText, seconds } from './common';
import { useHistory } from './history-store';

export function HistoryView() {
  const entries = useHistory();
  if (!entries) return null;
  if (entries.length === 0) return <p class="muted">{t('historyEmpty')}</p>;
  return (
    <ul class="history" aria-label={t('history')}>
      {entries.slice(0, HISTORY_SHOWN).map((entry) => (
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
            {entry.cost !== undefined && (
              <>
                {' '}
                · <Cost cost={entry.cost} estimated={entry.costEstimated} />
              </>
            )}
            {entry.errorCode && (
              <>
                {' '}
                · <code class="code">{entry.errorCode}</code>
              </>
            )}
          </div>
          {entry.service && (
            <div class="muted small" data-testid="history-service">
              {entry.account === 'fallback' ? t('solvedByFallback', serviceName(entry.service)) : t('solvedBy', serviceName(entry.service))}
              {entry.serviceTaskId !== undefined && <span class="mono"> #{entry.serviceTaskId}</span>}
            </div>
          )}
          <Report entry={entry} />
        </li>
      ))}
    </ul>
  );
}

/** The report action of one entry, or what the service answered to it. */
function Report({ entry }: { entry: HistoryEntry }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<TaskError | null>(null);
  if (!reportOffered(entry)) return null;
  const reported = entry.reported;
  if (reported?.state === 'accepted')
    return (
      <p class="small ok" data-testid="report-outcome">
        {t('reportAccepted')}
      </p>
    );
  if (reported?.state === 'refused') {
    return (
      <p class="small error" data-testid="report-outcome">
        {t('reportRefused')} <ErrorText error={{ code: reported.code ?? 'REPORT_REJECTED', message: reported.message ?? '' }} />
      </p>
    );
  }
  if (reported?.state === 'sending')
    return (
      <p class="small muted" data-testid="report-outcome">
        {t('reportSending')}
      </p>
    );
  const send = async (): Promise<void> => {
    setBusy(true);
    setError(null);
    const reply = await background.reportWrong(entry.id).catch(() => ({ ok: false as const, error: { code: 'NETWORK_ERROR', message: t('reportUnavailable') } }));
    if (!reply.ok) setError(reply.error);
    setBusy(false);
  };
  return (
    <div class="row report">
      <button type="button" class="small secondary" disabled={busy} onClick={() => void send()}>
        {t('reportWrong')}
      </button>
      {error && (
        <span class="small error" role="alert" data-testid="report-outcome">
          <ErrorText error={error} />
        </span>
      )}
    </div>
  );
}
