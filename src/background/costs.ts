/**
 * What a task cost when the service did not say (no `cost` in its answer): the balance change
 * around it, marked as an estimate. The last balance read for each service is kept (from the
 * popup's balance line and from readings taken as tasks are asked); a finished task whose
 * service reads lower now than before it was sent is given the difference, and the reading
 * moves on, so two tasks never share one drop.
 */
import type { TaskRecord } from '../shared/tasks';
import { isFiniteNumber, isRecord } from '../shared/validate';
import { parseMap, StoredRecord, type StorageArea } from './storage';
import { STORAGE } from '../shared/storage-catalogue';

interface Reading {
  balance: number;
  at: number;
}

const isReading = (v: unknown): v is Reading => isRecord(v) && isFiniteNumber(v.balance) && isFiniteNumber(v.at);
/** A reading older than this is taken again when a task is asked. */
const READING_FRESH_MS = 30_000;

export class BalanceBook {
  private readonly record: StoredRecord<Record<string, Reading>>;

  constructor(area: StorageArea) {
    this.record = new StoredRecord(area, STORAGE.balances.key, parseMap(isReading));
  }

  /** A balance read from this service at `at` (when the request was sent). */
  note(serviceUrl: string, balance: number, at: number): Promise<void> {
    return this.record.mutate((all) => {
      const last = all[serviceUrl];
      if (!last || last.at <= at) all[serviceUrl] = { balance, at };
    });
  }

  /** Whether a reading from before `time` is fresh enough to be a task's "before". */
  async freshBefore(serviceUrl: string, time: number): Promise<boolean> {
    const last = (await this.record.read())[serviceUrl];
    return last !== undefined && last.at <= time && time - last.at < READING_FRESH_MS;
  }

  /**
   * The estimate for a finished task, given the balance now: the drop since a reading taken
   * before the task was sent, or undefined (no such reading, or the balance did not drop).
   */
  async estimate(task: TaskRecord, balance: number, at: number): Promise<number | undefined> {
    const sentAt = task.submittedAt ?? task.createdAt;
    return this.record.mutate((all) => {
      const before = all[task.serviceUrl];
      all[task.serviceUrl] = { balance, at };
      if (!before || before.at > sentAt) return undefined;
      const drop = Math.round((before.balance - balance) * 1e6) / 1e6;
      return drop > 0 ? drop : undefined;
    });
  }
}
