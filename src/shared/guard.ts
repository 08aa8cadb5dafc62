/**
 * The spending guard. Every task asked of the service counts, whatever started it (a click,
 * Solve all, the shortcut or menu, auto-solve, an image, a re-creation). Auto-solve pauses once
 * the hourly or daily limit is reached; one gesture that solves several captchas starts no more
 * than the limits have left; a click on one captcha may still go past them.
 */
import type { Settings } from './settings';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

export type GuardStatus = { paused: false } | { paused: true; window: 'hour' | 'day'; count: number; limit: number };

/** `created` holds the times a task was asked of the service (any order). */
export function guardStatus(settings: Pick<Settings, 'maxTasksPerHour' | 'maxTasksPerDay'>, created: readonly number[], now: number): GuardStatus {
  const lastHour = created.filter((t) => now - t < HOUR_MS).length;
  const lastDay = created.filter((t) => now - t < DAY_MS).length;
  if (settings.maxTasksPerHour > 0 && lastHour >= settings.maxTasksPerHour) {
    return { paused: true, window: 'hour', count: lastHour, limit: settings.maxTasksPerHour };
  }
  if (settings.maxTasksPerDay > 0 && lastDay >= settings.maxTasksPerDay) {
    return { paused: true, window: 'day', count: lastDay, limit: settings.maxTasksPerDay };
  }
  return { paused: false };
}

/** Keeps only the last day's entries (and at most a bounded number). */
export function pruneSpendLog(created: readonly number[], now: number): number[] {
  return created.filter((t) => Number.isFinite(t) && now - t < DAY_MS && t <= now + 60_000).slice(-100_000);
}

/** How many more tasks the limits allow now (Infinity when none is set). */
export function guardRemaining(settings: Pick<Settings, 'maxTasksPerHour' | 'maxTasksPerDay'>, created: readonly number[], now: number): number {
  const left = (limit: number, window: number): number => (limit > 0 ? Math.max(0, limit - created.filter((t) => now - t < window).length) : Infinity);
  return Math.min(left(settings.maxTasksPerHour, HOUR_MS), left(settings.maxTasksPerDay, DAY_MS));
}
