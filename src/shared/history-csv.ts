/** The task history as CSV, for the options page's export (its own module: the popup has no export). */
import type { HistoryEntry } from './history';
import { serviceName } from './services';

export const CSV_COLUMNS = ['finished', 'site', 'captcha type', 'service', 'fallback', 'outcome', 'error code', 'solve seconds', 'cost usd', 'cost estimated', 'service task id', 'reported'] as const;

/**
 * A field as RFC 4180 wants it (quoted when it holds a quote, comma or line break; quotes
 * doubled), and never read as a formula by a spreadsheet: text starting with = + - @ or a
 * control character gets a leading apostrophe. Numbers are written as plain decimals.
 */
export function csvField(value: string | number | undefined): string {
  if (value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** The history as CSV: a header row, one row per task (oldest first), CRLF line ends. */
export function historyCsv(entries: readonly HistoryEntry[]): string {
  const rows = [...entries]
    .sort((a, b) => a.finishedAt - b.finishedAt)
    .map((e) => [
      new Date(e.finishedAt).toISOString(),
      e.site,
      e.type,
      serviceName(e.service),
      e.account === 'fallback' ? 'yes' : 'no',
      e.outcome,
      e.errorCode,
      e.solveMs !== undefined ? Math.round(e.solveMs / 100) / 10 : undefined,
      e.cost,
      e.cost === undefined ? undefined : e.costEstimated ? 'yes' : 'no',
      e.serviceTaskId === undefined ? undefined : String(e.serviceTaskId),
      e.reported?.state,
    ]);
  return [CSV_COLUMNS as readonly (string | number | undefined)[], ...rows].map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n';
}
