import { captchaLabel, isImageFamily } from '../shared/captcha';
import { HISTORY_LIMIT, parseHistory, type HistoryEntry } from '../shared/history';
import { STORAGE_KEYS } from '../shared/settings';
import type { TaskRecord } from '../shared/tasks';
import { hostOf } from '../shared/urls';
import { StoredRecord } from './storage';

export function historyEntryOf(task: TaskRecord): HistoryEntry {
  const entry: HistoryEntry = {
    id: task.id,
    site: hostOf(task.websiteURL),
    type: captchaLabel(task.captcha),
    outcome: task.state,
    createdAt: task.createdAt,
    finishedAt: task.finishedAt ?? task.updatedAt,
  };
  if (task.tokenAt !== undefined) entry.solveMs = task.tokenAt - task.createdAt;
  if (task.error) entry.errorCode = task.error.code;
  if (task.cost !== undefined) entry.cost = task.cost;
  // Which service, and its task id: what a report of a wrong answer needs (never the key).
  if (task.serviceUrl) entry.service = task.serviceUrl;
  if (task.account) entry.account = task.account;
  if (task.serviceTaskId !== undefined) {
    entry.serviceTaskId = task.serviceTaskId;
    if (task.state === 'delivered') entry.reportKind = isImageFamily(task.captcha) ? 'image' : 'token';
  }
  return entry;
}

export class History {
  private readonly record: StoredRecord<HistoryEntry[]>;

  constructor(area: ConstructorParameters<typeof StoredRecord>[0]) {
    this.record = new StoredRecord(area, STORAGE_KEYS.history, parseHistory);
  }

  read(): Promise<HistoryEntry[]> {
    return this.record.read();
  }

  /** Runs `fn` on one entry (which it may change in place), serialized with every other write. */
  update<R>(id: string, fn: (entry: HistoryEntry | undefined) => R): Promise<R> {
    return this.record.mutate((entries) => fn(entries.find((e) => e.id === id)));
  }

  add(task: TaskRecord): Promise<void> {
    return this.record.mutate((entries) => {
      if (entries.some((e) => e.id === task.id)) return;
      entries.unshift(historyEntryOf(task));
      entries.splice(HISTORY_LIMIT);
    });
  }
}
