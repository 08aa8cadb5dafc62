import { isFiniteNumber, isOptional, isShape, isString, type Guard } from './validate';

export const HISTORY_LIMIT = 50;

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
  cost?: number;
}

export const isHistoryEntry = isShape({
  id: isString,
  site: isString,
  type: isString,
  outcome: isString,
  createdAt: isFiniteNumber,
  finishedAt: isFiniteNumber,
  solveMs: isOptional(isFiniteNumber),
  errorCode: isOptional(isString),
  cost: isOptional(isFiniteNumber),
}) as Guard<HistoryEntry>;

export function parseHistory(stored: unknown): HistoryEntry[] {
  return Array.isArray(stored) ? stored.filter(isHistoryEntry).slice(0, HISTORY_LIMIT) : [];
}
