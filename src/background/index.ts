/**
 * Background service worker (an event page in Firefox). Listeners are registered at top level
 * so a stopped worker wakes for them; all state lives in storage and is re-read per event.
 */
import browser, { type Runtime } from 'webextension-polyfill';
import { describeError } from '../shared/errors';
import {
  isBalanceMessage,
  isDeliveryReport,
  isFrameCaptchasMessage,
  isSolveMessage,
  isTabStateMessage,
  type BalanceReply,
  type DeliverTokenMessage,
  type SolveReply,
  type TabStateReply,
} from '../shared/messages';
import { parseSettings, serviceUrlOf, STORAGE_KEYS } from '../shared/settings';
import { isTaskRecord, toTaskView, type TaskRecord } from '../shared/tasks';
import { SolverApi } from './api';
import { updateBadge } from './badge';
import { TaskEngine, type DeliveryOutcome, type EngineConfig } from './engine';
import { History } from './history';
import { CaptchaRegistry } from './registry';
import { parseMap, StoredRecord } from './storage';

const TICK_ALARM = 'caprelay-tick';

const registry = new CaptchaRegistry(browser.storage.session);
const history = new History(browser.storage.local);
const taskStore = new StoredRecord(browser.storage.session, 'tasks', parseMap(isTaskRecord));

async function readConfig(): Promise<EngineConfig> {
  const stored = await browser.storage.local.get([STORAGE_KEYS.settings, STORAGE_KEYS.apiKey]);
  const settings = parseSettings(stored[STORAGE_KEYS.settings]);
  const apiKey = typeof stored[STORAGE_KEYS.apiKey] === 'string' ? (stored[STORAGE_KEYS.apiKey] as string) : '';
  return {
    apiKey,
    serviceUrl: serviceUrlOf(settings),
    recreateAttempts: settings.recreateAttempts,
    v3MinScore: settings.v3MinScore,
    callbackUrl: settings.callbackUrl,
  };
}

let wakeTimer: ReturnType<typeof setTimeout> | undefined;
let wakeTime = Infinity;

function wakeAt(time: number): void {
  const now = Date.now();
  if (time >= wakeTime && wakeTimer !== undefined) return;
  clearTimeout(wakeTimer);
  wakeTime = time;
  wakeTimer = setTimeout(() => {
    wakeTimer = undefined;
    wakeTime = Infinity;
    void engine.tick();
  }, Math.max(0, time - now));
  // If the worker is stopped before the timer fires, the alarm starts it again.
  void browser.alarms.create(TICK_ALARM, { when: Math.max(time, now + 1_000) });
}

async function deliver(task: TaskRecord): Promise<DeliveryOutcome> {
  if (!task.token) return { delivered: false, code: 'WIDGET_GONE' };
  const message: DeliverTokenMessage = { type: 'deliver-token', captchaId: task.captchaId, token: task.token };
  try {
    const reply: unknown = await browser.tabs.sendMessage(task.tabId, message, { frameId: task.frameId });
    if (isDeliveryReport(reply) && reply.delivered) return { delivered: true };
    return { delivered: false, code: 'WIDGET_GONE' };
  } catch {
    const tabExists = await browser.tabs.get(task.tabId).then(
      () => true,
      () => false,
    );
    return { delivered: false, code: tabExists ? 'WIDGET_GONE' : 'TAB_CLOSED' };
  }
}

async function refreshBadge(tabId: number): Promise<void> {
  const [captchas, tasks] = await Promise.all([registry.list(tabId), taskStore.read()]);
  const latest = Object.values(tasks)
    .filter((t) => t.tabId === tabId)
    .sort((a, b) => b.updatedAt - a.updatedAt)[0];
  await updateBadge(tabId, captchas.length, latest?.state);
}

const engine = new TaskEngine({
  now: () => Date.now(),
  random: () => Math.random(),
  newId: () => crypto.randomUUID(),
  store: taskStore,
  config: readConfig,
  client: (serviceUrl, apiKey) => new SolverApi({ baseUrl: serviceUrl, clientKey: apiKey }),
  deliver,
  wakeAt,
  onChange: (task) => void refreshBadge(task.tabId),
  onFinished: (task) => void history.add(task),
});

/* ---------------- messages ---------------- */

const extensionOrigin = new URL(browser.runtime.getURL('/')).origin;

/** Only the extension's own pages (popup, options) may ask for solving or balance. */
function isExtensionPage(sender: Runtime.MessageSender): boolean {
  if (sender.id !== browser.runtime.id || !sender.url) return false;
  try {
    return new URL(sender.url).origin === extensionOrigin;
  } catch {
    return false;
  }
}

/** A content script of ours in a web page frame; tab and frame come from here, never the payload. */
function contentSender(sender: Runtime.MessageSender): { tabId: number; frameId: number; url: string } | null {
  if (sender.id !== browser.runtime.id || isExtensionPage(sender)) return null;
  const tabId = sender.tab?.id;
  const frameId = sender.frameId;
  if (typeof tabId !== 'number' || tabId < 0 || typeof frameId !== 'number' || !sender.url) return null;
  return { tabId, frameId, url: sender.url };
}

async function tabState(tabId: number): Promise<TabStateReply> {
  const [captchas, tasks] = await Promise.all([registry.list(tabId), taskStore.read()]);
  return {
    captchas,
    tasks: Object.values(tasks)
      .filter((t) => t.tabId === tabId)
      .sort((a, b) => b.createdAt - a.createdAt)
      .map(toTaskView),
  };
}

async function solve(tabId: number, frameId: number, captchaId: string): Promise<SolveReply> {
  const found = await registry.find(tabId, frameId, captchaId);
  if (!found) return { ok: false, error: { code: 'CAPTCHA_NOT_FOUND', message: describeError({ code: 'CAPTCHA_NOT_FOUND' }) } };
  const result = await engine.solve({ tabId, frameId, captcha: found.captcha, websiteURL: found.url });
  return result.ok ? { ok: true, taskId: result.task.id } : { ok: false, error: result.error };
}

let balanceCache: { at: number; configKey: string; reply: BalanceReply } | undefined;
const BALANCE_CACHE_MS = 10_000;

async function balance(): Promise<BalanceReply> {
  const config = await readConfig();
  if (!config.apiKey) return { ok: false, error: { code: 'NO_API_KEY', message: describeError({ code: 'NO_API_KEY' }) } };
  if (!config.serviceUrl) return { ok: false, error: { code: 'NO_SERVICE_URL', message: describeError({ code: 'NO_SERVICE_URL' }) } };
  const configKey = `${config.serviceUrl}\n${config.apiKey}`;
  if (balanceCache && balanceCache.configKey === configKey && Date.now() - balanceCache.at < BALANCE_CACHE_MS) return balanceCache.reply;
  const result = await new SolverApi({ baseUrl: config.serviceUrl, clientKey: config.apiKey, timeoutMs: 10_000 }).getBalance();
  const reply: BalanceReply = result.ok
    ? { ok: true, balance: result.value }
    : { ok: false, error: { code: result.error.code, message: describeError(result.error) } };
  balanceCache = { at: Date.now(), configKey, reply };
  return reply;
}

browser.runtime.onMessage.addListener((message: unknown, sender: Runtime.MessageSender) => {
  if (isFrameCaptchasMessage(message)) {
    const from = contentSender(sender);
    if (!from) return undefined;
    return registry.setFrame(from.tabId, from.frameId, from.url, message.captchas).then(() => {
      void refreshBadge(from.tabId);
      return undefined;
    });
  }
  // Everything below spends money or reads account data: extension pages only.
  if (!isExtensionPage(sender)) return undefined;
  if (isSolveMessage(message)) return solve(message.tabId, message.frameId, message.captchaId);
  if (isTabStateMessage(message)) return tabState(message.tabId);
  if (isBalanceMessage(message)) return balance();
  return undefined;
});

browser.storage.onChanged.addListener((changes, area) => {
  if (area === 'local' && (STORAGE_KEYS.apiKey in changes || STORAGE_KEYS.settings in changes)) balanceCache = undefined;
});

browser.tabs.onRemoved.addListener((tabId) => {
  void registry.clearTab(tabId);
  void engine.cancelTab(tabId);
});

browser.tabs.onUpdated.addListener((tabId, changeInfo) => {
  // A new document in the tab: its captchas and pending deliveries belong to the old one.
  // (Content scripts report again after same-document navigations.)
  if (changeInfo.status === 'loading') {
    void registry.clearTab(tabId).then(() => refreshBadge(tabId));
    void engine.cancelTab(tabId);
  }
});

browser.alarms.onAlarm.addListener((alarm) => {
  if (alarm.name === TICK_ALARM) void engine.tick();
});

// Resume whatever a stopped worker left behind.
void engine.tick();
