/**
 * "Report wrong answer" for a finished task in the history: once per task, with the key of the
 * account that solved it, and the service's answer kept on the entry. Services without the
 * report endpoints (BroCapGPT) are not asked; an unknown custom service is, and its answer
 * (an ERROR_* code, an HTTP error) is what the user sees.
 */
import { failed } from '../shared/errors';
import type { ReportWrongReply } from '../shared/messages';
import { fallbackUrlOf } from '../shared/power-settings';
import { serviceUrlOf } from '../shared/settings';
import type { LoadedSettings } from '../extension/stored-settings';

/** What a report needs of the settings: the services and their keys. */
type Accounts = Pick<LoadedSettings, 'settings' | 'apiKey' | 'fallbackApiKey'>;
import { reportOffered, type HistoryEntry } from '../shared/history';
import type { ApiResult } from './api';
import type { History } from './history';

export interface ReportsDeps {
  history: History;
  settings(): Promise<Accounts>;
  client(serviceUrl: string, apiKey: string): { reportIncorrect(kind: 'token' | 'image', taskId: number | string): Promise<ApiResult<true>> };
  now(): number;
}

export class Reports {
  constructor(private readonly deps: ReportsDeps) {}

  async report(entryId: string): Promise<ReportWrongReply> {
    const entry = (await this.deps.history.read()).find((e) => e.id === entryId);
    if (!entry || entry.serviceTaskId === undefined || !entry.reportKind || !entry.service) return failed('REPORT_NOT_POSSIBLE');
    if (!reportOffered(entry)) return failed('REPORT_NOT_OFFERED');
    if (entry.reported) return failed('ALREADY_REPORTED');
    const apiKey = keyOf(await this.deps.settings(), entry);
    if (!apiKey) return failed('REPORT_SERVICE_CHANGED');
    // Marked before it is sent, in the same write that checks it was not: two clicks, or a
    // worker stopped mid-request, never send a second report.
    const claimed = await this.deps.history.update(entryId, (e) => {
      if (!e || e.reported) return false;
      e.reported = { at: this.deps.now(), state: 'sending' };
      return true;
    });
    if (!claimed) return failed('ALREADY_REPORTED');
    const result = await this.deps.client(entry.service, apiKey).reportIncorrect(entry.reportKind, entry.serviceTaskId);
    const reply: ReportWrongReply = result.ok ? { ok: true } : failed(result.error);
    await this.deps.history.update(entryId, (e) => {
      if (!e) return;
      e.reported = reply.ok ? { at: this.deps.now(), state: 'accepted' } : { at: this.deps.now(), state: 'refused', code: reply.error.code, message: reply.error.message };
    });
    return reply;
  }
}

/** The key of the account that solved the task, if that service is still in the settings. */
function keyOf(stored: Accounts, entry: HistoryEntry): string {
  const accounts = [
    { fallback: false, url: serviceUrlOf(stored.settings), key: stored.apiKey },
    { fallback: true, url: fallbackUrlOf(stored.settings.fallback), key: stored.fallbackApiKey },
  ];
  // The account it was solved at first; the other one only when it is the same service.
  const ordered = entry.account === 'fallback' ? accounts.reverse() : accounts;
  return ordered.find((a) => a.url === entry.service && a.key)?.key ?? '';
}
