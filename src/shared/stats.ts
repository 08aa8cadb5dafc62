/**
 * Spend you can see: statistics of the task history (per day and per captcha type; the CSV export
 * is history-csv.ts). Pure functions over HistoryEntry; the day is the user's local calendar day.
 */
import type { HistoryEntry } from './history';

export interface StatsRow {
  /** The day (YYYY-MM-DD, local) or the captcha type. */
  key: string;
  tasks: number;
  delivered: number;
  /** delivered / tasks, 0–1. */
  successRate: number;
  /** Of the tasks whose token arrived; null when none did. */
  medianSolveMs: number | null;
  /** USD, the services' costs and the estimates together. */
  spend: number;
  /** Whether any of the spend is an estimate (the balance change). */
  estimated: boolean;
}

/** The local calendar day of a time, as YYYY-MM-DD. */
export function dayOf(time: number): string {
  const d = new Date(time);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Sums money without binary drift: services bill in millionths of a dollar at most. */
function sumUsd(values: readonly number[]): number {
  return Math.round(values.reduce((sum, v) => sum + v * 1e6, 0)) / 1e6;
}

function rowOf(key: string, entries: readonly HistoryEntry[]): StatsRow {
  const delivered = entries.filter((e) => e.outcome === 'delivered').length;
  const costed = entries.filter((e) => e.cost !== undefined);
  return {
    key,
    tasks: entries.length,
    delivered,
    successRate: entries.length ? delivered / entries.length : 0,
    medianSolveMs: median(entries.flatMap((e) => (e.solveMs !== undefined ? [e.solveMs] : []))),
    spend: sumUsd(costed.map((e) => e.cost!)),
    estimated: costed.some((e) => e.costEstimated === true),
  };
}

function groupBy(entries: readonly HistoryEntry[], keyOf: (entry: HistoryEntry) => string): Map<string, HistoryEntry[]> {
  const groups = new Map<string, HistoryEntry[]>();
  for (const entry of entries) {
    const key = keyOf(entry);
    groups.set(key, [...(groups.get(key) ?? []), entry]);
  }
  return groups;
}

/** One row per day with tasks (by when each finished), oldest first. */
export function statsByDay(entries: readonly HistoryEntry[]): StatsRow[] {
  return [...groupBy(entries, (e) => dayOf(e.finishedAt))].map(([day, group]) => rowOf(day, group)).sort((a, b) => a.key.localeCompare(b.key));
}

/** One row per captcha type, most tasks first. */
export function statsByType(entries: readonly HistoryEntry[]): StatsRow[] {
  return [...groupBy(entries, (e) => e.type)].map(([type, group]) => rowOf(type, group)).sort((a, b) => b.tasks - a.tasks || a.key.localeCompare(b.key));
}

/** All of it in one row (the totals under the tables). */
export function statsTotal(entries: readonly HistoryEntry[]): StatsRow {
  return rowOf('total', entries);
}

/** Today's spend (local day), for the popup's header. */
export function spendOn(entries: readonly HistoryEntry[], now: number): { spend: number; estimated: boolean } {
  const { spend, estimated } = rowOf(
    '',
    entries.filter((e) => dayOf(e.finishedAt) === dayOf(now)),
  );
  return { spend, estimated };
}
