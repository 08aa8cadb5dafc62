import { presetFor } from './services';
import { isBoolean, isFiniteNumber, isOneOf, isOptional, isShapeOf, isString } from './validate';

/** Entries kept (newest first): enough for the statistics of a few weeks; the lists show the latest. */
export const HISTORY_LIMIT = 1_000;
/** How many the history lists show. */
export const HISTORY_SHOWN = 50;

/** What a report of a wrong answer got: the service's word, kept so a task is reported once. */
export interface ReportOutcome {
  at: number;
  /** sending: asked, no answer yet (or the worker stopped meanwhile); never sent again. */
  state: 'sending' | 'accepted' | 'refused';
  /** The service's code and sentence, when it refused. */
  code?: string;
  message?: string;
}

/** One finished task as the history shows it: no key, no token, only the page's host. */
export interface HistoryEntry {
  id: string;
  site: string;
  type: string;
  outcome: string;
  createdAt: number;
  finishedAt: number;
  /** Click → token, when a token arrived. */
  solveMs?: number;
  errorCode?: string;
  /** USD: the service's `cost`, or the balance change when it sent none (then costEstimated). */
  cost?: number;
  costEstimated?: boolean;
  /** The service's base URL (which service solved it; never the key). */
  service?: string;
  /** 'fallback': the fallback service took it after the first refused it. */
  account?: 'fallback';
  /** The service's task id, for a report. */
  serviceTaskId?: number | string;
  /** Which report endpoint fits: a delivered token, or a delivered image answer. */
  reportKind?: 'token' | 'image';
  reported?: ReportOutcome;
}

const isTaskId = (v: unknown): v is number | string => (typeof v === 'number' && Number.isSafeInteger(v)) || (typeof v === 'string' && /^[\w-]{1,100}$/.test(v));

const isReportOutcome = isShapeOf<ReportOutcome>({
  at: isFiniteNumber,
  state: isOneOf(['sending', 'accepted', 'refused'] as const),
  code: isOptional(isString),
  message: isOptional(isString),
});

const isHistoryEntry = isShapeOf<HistoryEntry>({
  id: isString,
  site: isString,
  type: isString,
  outcome: isString,
  createdAt: isFiniteNumber,
  finishedAt: isFiniteNumber,
  solveMs: isOptional(isFiniteNumber),
  errorCode: isOptional(isString),
  cost: isOptional(isFiniteNumber),
  costEstimated: isOptional(isBoolean),
  service: isOptional(isString),
  account: isOptional(isOneOf(['fallback'] as const)),
  serviceTaskId: isOptional(isTaskId),
  reportKind: isOptional(isOneOf(['token', 'image'] as const)),
  reported: isOptional(isReportOutcome),
});

/** Whether the history may offer "Report wrong answer" for this entry: a solved task at a service that may take reports. */
export function reportOffered(entry: Pick<HistoryEntry, 'reportKind' | 'serviceTaskId' | 'service'>): boolean {
  if (!entry.reportKind || entry.serviceTaskId === undefined || !entry.service) return false;
  return presetFor(entry.service)?.reports !== false;
}

export function parseHistory(stored: unknown): HistoryEntry[] {
  return Array.isArray(stored) ? stored.filter(isHistoryEntry).slice(0, HISTORY_LIMIT) : [];
}
