import { captchaLabel } from '../shared/captcha';
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
  return entry;
}

export class History {
  private readonly record: StoredRecord<HistoryEntry[]>;

  constructor(area: ConstructorParameters<typeof StoredRecord>[0]) {
    this.record = new StoredRecord(area, STORAGE_KEYS.history, parseHistory);
  }

  add(task: TaskRecord): Promise<void> {
    return this.record.mutate((entries) => {
      if (entries.some((e) => e.id === task.id)) return;
      entries.unshift(historyEntryOf(task));
      entries.splice(HISTORY_LIMIT);
    });
  }
}
