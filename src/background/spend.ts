/** The log of tasks asked of the service that the spending guard counts (storage.local, timestamps only). */
import { guardRemaining, guardStatus, pruneSpendLog, type GuardStatus } from '../shared/guard';
import { STORAGE_KEYS, type Settings } from '../shared/settings';
import { StoredRecord } from './storage';

const parseLog = (stored: unknown): number[] => (Array.isArray(stored) ? stored.filter((t): t is number => typeof t === 'number' && Number.isFinite(t)) : []);

export class SpendLog {
  private readonly record: StoredRecord<number[]>;

  constructor(area: ConstructorParameters<typeof StoredRecord>[0]) {
    this.record = new StoredRecord(area, STORAGE_KEYS.spend, parseLog);
  }

  add(time: number): Promise<void> {
    return this.record.mutate((log) => {
      const kept = pruneSpendLog([...log, time], time);
      log.splice(0, log.length, ...kept);
    });
  }

  async status(settings: Settings, now: number): Promise<GuardStatus> {
    return guardStatus(settings, await this.record.read(), now);
  }

  async remaining(settings: Settings, now: number): Promise<number> {
    return guardRemaining(settings, await this.record.read(), now);
  }
}
