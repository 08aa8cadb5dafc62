/**
 * Solving (src/background/solving.ts) with the real engine, registry and spend log over memory
 * storage and a fake clock: frames report widgets (and stay live with them until told not
 * to), and the service takes every task (solving it when `result` says so).
 */
import { TaskEngine } from '../../../src/background/engine';
import { CaptchaRegistry, type FrameAnswer } from '../../../src/background/registry';
import type { ContentSender } from '../../../src/background/senders';
import { Solving } from '../../../src/background/solving';
import { SpendLog } from '../../../src/background/spend';
import type { TaskResult } from '../../../src/background/api';
import { StoredRecord, parseMap } from '../../../src/background/storage';
import type { Captcha } from '../../../src/shared/captcha';
import { DEFAULT_SETTINGS, type Settings } from '../../../src/shared/settings';
import { isTaskRecord, type TaskRecord } from '../../../src/shared/tasks';
import { MemoryArea } from './memory-area';

export const TOP = 'https://shop.example/signup';

export interface WorldOptions {
  /** What getTaskResult answers (processing by default: tasks stay open). */
  result?: TaskResult;
  random?: () => number;
}

export function world(patch: Partial<Settings> = {}, options: WorldOptions = {}) {
  let now = Date.UTC(2026, 11, 1, 12);
  const session = new MemoryArea();
  const local = new MemoryArea();
  const live = new Map<string, string[]>();
  const created: Record<string, unknown>[] = [];
  const popups: number[] = [];
  let settings: Settings = { ...structuredClone(DEFAULT_SETTINGS), ...patch };
  const registry = new CaptchaRegistry({
    area: session as never,
    now: () => now,
    ask: async (tabId, frameId): Promise<FrameAnswer> => live.get(`${tabId}/${frameId}`) ?? null,
    tabUrl: async () => undefined,
  });
  const spend = new SpendLog(local as never);
  const store = new StoredRecord(session as never, 'tasks', parseMap(isTaskRecord));
  const engine = new TaskEngine({
    now: () => now,
    random: () => 0.5,
    newId: () => `task-${created.length}-${Math.random().toString(36).slice(2)}`,
    store,
    config: async () => ({ apiKey: 'key-123456', serviceUrl: 'https://solver.test', recreateAttempts: 0, v3MinScore: 0.7, callbackUrl: '' }),
    client: () => ({
      createTask: async (task) => {
        created.push(task);
        return { ok: true, value: created.length };
      },
      getTaskResult: async () => ({ ok: true, value: options.result ?? { status: 'processing' } }),
    }),
    deliver: async () => ({ delivered: true }),
    wakeAt: () => undefined,
    onAsked: () => spend.add(now),
  });
  const solving = new Solving({
    registry,
    engine,
    spend,
    session: session as never,
    settings: async () => ({ settings, apiKey: 'key-123456' }),
    tasks: () => store.read(),
    now: () => now,
    showPopup: async (tabId) => void popups.push(tabId),
    ...(options.random && { random: options.random }),
  });
  const from = (tabId: number, frameId: number, url: string, topUrl = TOP): ContentSender => ({ tabId, frameId, url, topUrl });
  /** A frame reports its widgets (and stays live with them). */
  const report = async (tabId: number, frameId: number, captchas: Captcha[], url = frameId === 0 ? TOP : `https://shop.example/f${frameId}`, topUrl = TOP) => {
    live.set(
      `${tabId}/${frameId}`,
      captchas.map((c) => c.id),
    );
    return solving.onFrameReport(from(tabId, frameId, url, topUrl), url, captchas);
  };
  const settle = async () => {
    for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 0));
  };
  return {
    solving,
    engine,
    store,
    registry,
    spend,
    created,
    popups,
    live,
    report,
    settle,
    tasks: async () => Object.values<TaskRecord>(await store.read()),
    set: (next: Partial<Settings>) => (settings = { ...settings, ...next }),
    advance: (ms: number) => (now += ms),
    get settings() {
      return settings;
    },
    get now() {
      return now;
    },
  };
}
