/**
 * Background service worker (an event page in Firefox). Listeners are registered at top level
 * so a stopped worker wakes for them; all state lives in storage and is re-read per event.
 *
 * Who may start a task: the extension's own pages (popup, options), the browser's own UI
 * (keyboard shortcut, context menu), a real click on CapRelay's in-page button when the user
 * switched it on, and auto-solve for the families the user set to auto. Never a page message.
 */
import browser, { type Runtime } from 'webextension-polyfill';
import { describeError } from '../shared/errors';
import { t } from '../shared/i18n';
import { isImageCaptcha } from '../shared/captcha';
import {
  isBalanceMessage,
  isDeliveryReport,
  isFrameCaptchasMessage,
  isImageActionMessage,
  isImageEndMessage,
  isImageRecallMessage,
  isImageRoundMessage,
  isImageTextMessage,
  isInPageSolveMessage,
  isSolveAllMessage,
  isSolveMessage,
  isTabStateMessage,
  type BackgroundToContentMessage,
  type BalanceReply,
  type DeliverTokenMessage,
  type FrameCaptcha,
  type FrameCaptchasReply,
  type SolveAllReply,
  type SolveReply,
  type TabStateReply,
} from '../shared/messages';
import { familyOf, isSiteAllowed, serviceUrlOf, STORAGE_KEYS, type Settings } from '../shared/settings';
import { isTaskRecord, toTaskView, type TaskRecord } from '../shared/tasks';
import { SolverApi } from './api';
import { updateBadge } from './badge';
import { TaskEngine, type DeliveryOutcome, type EngineConfig } from './engine';
import { History } from './history';
import { ImageFlows, type ImageStartRequest } from './image';
import { CaptchaRegistry } from './registry';
import { SpendLog } from './spend';
import { frameUrl } from './frame-url';
import { parseMap, StoredRecord } from './storage';
import { loadSettings } from '../shared/stored-settings';

const TICK_ALARM = 'caprelay-tick';
const MENU_SOLVE_PAGE = 'caprelay-solve-page';
const MENU_SOLVE_IMAGE = 'caprelay-solve-image';
const COMMAND_SOLVE_PAGE = 'solve-page';

const registry = new CaptchaRegistry(browser.storage.session);
const history = new History(browser.storage.local);
const spend = new SpendLog(browser.storage.local);
const taskStore = new StoredRecord(browser.storage.session, 'tasks', parseMap(isTaskRecord));

// Content scripts never read storage; in Chromium, make sure they cannot (the key lives in local).
// Firefox has no such switch for storage.local: there, content scripts simply never ask.
type AccessLevelArea = { setAccessLevel?: (options: { accessLevel: 'TRUSTED_CONTEXTS' }) => Promise<void> };
void (globalThis as { chrome?: { storage?: { local?: AccessLevelArea } } }).chrome?.storage?.local
  ?.setAccessLevel?.({ accessLevel: 'TRUSTED_CONTEXTS' })
  ?.catch(() => undefined);
/** Captchas auto-solve already started (or tried), so a widget is auto-solved once. */
const autoClaims = new StoredRecord(browser.storage.session, 'autoClaims', parseMap((v): v is number => typeof v === 'number'));


async function readConfig(): Promise<EngineConfig> {
  const { settings, apiKey } = await loadSettings();
  return {
    apiKey,
    serviceUrl: serviceUrlOf(settings),
    recreateAttempts: settings.recreateAttempts,
    v3MinScore: settings.v3MinScore,
    callbackUrl: settings.callbackUrl,
    imageText: settings.image,
    userAgent: navigator.userAgent,
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
  // An image task's answer goes to the image flow's own handler in the frame (typed, or clicked).
  const message: BackgroundToContentMessage | null = isImageCaptcha(task.captcha)
    ? images.deliveryMessage(task)
    : ({ type: 'deliver-token', captchaId: task.captchaId, token: task.token } satisfies DeliverTokenMessage);
  if (!message) return { delivered: false, code: 'WIDGET_GONE' };
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

/** The tab's captchas the user wants to see: site allowed, family switched on. */
async function visibleCaptchas(tabId: number, settings: Settings): Promise<{ visible: FrameCaptcha[]; hidden: number; siteAllowed: boolean }> {
  const all = await registry.list(tabId);
  const top = all.find((c) => c.frameId === 0) ?? all[0];
  const siteAllowed = top ? isSiteAllowed(settings, top.url) : true;
  const visible = siteAllowed ? all.filter((c) => settings.families[familyOf(c.captcha)].enabled && isSiteAllowed(settings, c.url)) : [];
  return { visible, hidden: all.length - visible.length, siteAllowed };
}

async function refreshBadge(tabId: number): Promise<void> {
  const [{ settings }, tasks] = await Promise.all([loadSettings(), taskStore.read()]);
  const { visible } = await visibleCaptchas(tabId, settings);
  const latest = Object.values(tasks)
    .filter((task) => task.tabId === tabId)
    .sort((a, b) => b.updatedAt - a.updatedAt)[0];
  await updateBadge(tabId, visible.length, latest?.state);
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

const images = new ImageFlows({
  session: browser.storage.session,
  local: browser.storage.local,
  now: () => Date.now(),
  newId: () => crypto.randomUUID(),
  send: (tabId, message, frameId) =>
    frameId === undefined ? browser.tabs.sendMessage(tabId, message) : browser.tabs.sendMessage(tabId, message, { frameId }),
  settings: async () => (await loadSettings()).settings.image,
  start: startImageTask,
  fail: async (request, code) => void (await engine.fail(request, errorReply(code))),
  taskState: async (captchaId) =>
    Object.values(await taskStore.read())
      .filter((task) => task.captchaId === captchaId)
      .sort((a, b) => b.createdAt - a.createdAt)[0]?.state,
});

/* ---------------- starting tasks ---------------- */

function errorReply(code: string): { code: string; message: string } {
  return { code, message: describeError({ code }) };
}

/** Starts (or finds) the task for one listed captcha; counts new tasks for the spending guard. */
async function startTask(tabId: number, item: FrameCaptcha): Promise<SolveReply> {
  const result = await engine.solve({ tabId, frameId: item.frameId, captcha: item.captcha, websiteURL: item.url });
  if (!result.ok) return { ok: false, error: result.error };
  if (!result.existing) await spend.add(Date.now());
  return { ok: true, taskId: result.task.id };
}

/** An image the user asked about (the image flows checked that they did). */
async function startImageTask(request: ImageStartRequest): Promise<SolveReply> {
  // The site lists hold for image captchas too, however the flow was started (menu, popup).
  const { settings } = await loadSettings();
  if (!isSiteAllowed(settings, request.websiteURL)) {
    const { image: _image, ...withoutImage } = request;
    await engine.fail(withoutImage, errorReply('SITE_NOT_ALLOWED'));
    return { ok: false, error: errorReply('SITE_NOT_ALLOWED') };
  }
  const result = await engine.solve({ tabId: request.tabId, frameId: request.frameId, captcha: request.captcha, websiteURL: request.websiteURL, image: request.image });
  if (!result.ok) return { ok: false, error: result.error };
  if (!result.existing) await spend.add(Date.now());
  return { ok: true, taskId: result.task.id };
}

async function solveOne(tabId: number, frameId: number, captchaId: string): Promise<SolveReply> {
  const { settings } = await loadSettings();
  const { visible } = await visibleCaptchas(tabId, settings);
  const item = visible.find((c) => c.frameId === frameId && c.captcha.id === captchaId);
  if (!item) return { ok: false, error: errorReply('CAPTCHA_NOT_FOUND') };
  return startTask(tabId, item);
}

async function solveAll(tabId: number): Promise<SolveAllReply> {
  const { settings } = await loadSettings();
  const { visible } = await visibleCaptchas(tabId, settings);
  const reply: SolveAllReply = { started: 0, errors: [] };
  for (const item of visible) {
    const result = await startTask(tabId, item);
    if (result.ok) reply.started += 1;
    else if (!reply.errors.some((e) => e.code === result.error.code)) reply.errors.push(result.error);
  }
  return reply;
}

let autoSolving: Promise<unknown> = Promise.resolve();

/** Auto-solve for families set to auto, once per widget, within the spending guard. Serialized. */
function autoSolve(tabId: number, items: FrameCaptcha[]): Promise<void> {
  const run = autoSolving.then(async () => {
    const { settings, apiKey } = await loadSettings();
    if (!apiKey) return;
    for (const item of items) {
      if (!isSiteAllowed(settings, item.url)) continue;
      const family = settings.families[familyOf(item.captcha)];
      if (!family.enabled || family.mode !== 'auto') continue;
      const key = `${tabId}|${item.frameId}|${item.captcha.id}`;
      const now = Date.now();
      if ((await spend.status(settings, now)).paused) continue;
      const claimed = await autoClaims.mutate((claims) => {
        if (claims[key] !== undefined) return false;
        claims[key] = now;
        return true;
      });
      if (claimed) await startTask(tabId, item);
    }
  });
  autoSolving = run.catch(() => undefined);
  return run;
}

async function tabState(tabId: number): Promise<TabStateReply> {
  const [{ settings }, tasks] = await Promise.all([loadSettings(), taskStore.read()]);
  const { visible, hidden, siteAllowed } = await visibleCaptchas(tabId, settings);
  return {
    captchas: visible,
    hiddenCount: hidden,
    siteAllowed,
    guard: await spend.status(settings, Date.now()),
    tasks: Object.values(tasks)
      .filter((task) => task.tabId === tabId)
      .sort((a, b) => b.createdAt - a.createdAt)
      .map(toTaskView),
  };
}

let balanceCache: { at: number; configKey: string; reply: BalanceReply } | undefined;
const BALANCE_CACHE_MS = 10_000;

async function balance(): Promise<BalanceReply> {
  const config = await readConfig();
  if (!config.apiKey) return { ok: false, error: errorReply('NO_API_KEY') };
  if (!config.serviceUrl) return { ok: false, error: errorReply('NO_SERVICE_URL') };
  const configKey = `${config.serviceUrl}\n${config.apiKey}`;
  if (balanceCache && balanceCache.configKey === configKey && Date.now() - balanceCache.at < BALANCE_CACHE_MS) return balanceCache.reply;
  const result = await new SolverApi({ baseUrl: config.serviceUrl, clientKey: config.apiKey, timeoutMs: 10_000 }).getBalance();
  const reply: BalanceReply = result.ok
    ? { ok: true, balance: result.value }
    : { ok: false, error: { code: result.error.code, message: describeError(result.error) } };
  balanceCache = { at: Date.now(), configKey, reply };
  return reply;
}

/* ---------------- messages ---------------- */

const extensionOrigin = new URL(browser.runtime.getURL('/')).origin;

/** Only the extension's own pages (popup, options) may ask for solving or account data. */
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

async function onFrameCaptchas(from: { tabId: number; frameId: number; url: string }, captchas: FrameCaptcha['captcha'][]): Promise<FrameCaptchasReply> {
  await registry.setFrame(from.tabId, from.frameId, from.url, captchas);
  void refreshBadge(from.tabId);
  const { settings } = await loadSettings();
  if (captchas.length) void autoSolve(from.tabId, captchas.map((captcha) => ({ frameId: from.frameId, url: from.url, captcha })));
  return { inPageButton: settings.inPageButton && isSiteAllowed(settings, from.url) };
}

async function onInPageSolve(from: { tabId: number; frameId: number }, captchaId: string): Promise<SolveReply> {
  const { settings } = await loadSettings();
  if (!settings.inPageButton) return { ok: false, error: errorReply('CAPTCHA_NOT_FOUND') };
  return solveOne(from.tabId, from.frameId, captchaId);
}

browser.runtime.onMessage.addListener((message: unknown, sender: Runtime.MessageSender) => {
  if (isFrameCaptchasMessage(message) || isInPageSolveMessage(message)) {
    const from = contentSender(sender);
    if (!from) return undefined;
    if (isInPageSolveMessage(message)) return onInPageSolve(from, message.captchaId);
    const origin = (sender as Runtime.MessageSender & { origin?: string }).origin;
    return onFrameCaptchas({ ...from, url: frameUrl(from.url, origin, message.inheritedUrl) }, message.captchas);
  }
  // Image flows: answers to a request the background made; ImageFlows ignores any other.
  if (isImageRecallMessage(message) || isImageTextMessage(message) || isImageRoundMessage(message) || isImageEndMessage(message)) {
    const from = contentSender(sender);
    if (!from) return undefined;
    if (isImageRecallMessage(message)) return images.recall(from, message.requestId);
    if (isImageTextMessage(message)) return images.onText(from, message);
    if (isImageRoundMessage(message)) return images.onRound(from, message);
    return images.onEnd(from, message).then(() => ({}));
  }
  // Everything below spends money or reads account data: extension pages only.
  if (!isExtensionPage(sender)) return undefined;
  if (isSolveMessage(message)) return solveOne(message.tabId, message.frameId, message.captchaId);
  if (isSolveAllMessage(message)) return solveAll(message.tabId);
  if (isTabStateMessage(message)) return tabState(message.tabId);
  if (isBalanceMessage(message)) return balance();
  if (isImageActionMessage(message)) return message.type === 'image-pick' ? images.pick(message.tabId, 0, 'pick') : images.challenge(message.tabId);
  return undefined;
});

browser.storage.onChanged.addListener((changes, area) => {
  if (area === 'local' && (STORAGE_KEYS.apiKey in changes || STORAGE_KEYS.settings in changes)) balanceCache = undefined;
});

browser.tabs.onRemoved.addListener((tabId) => {
  void registry.clearTab(tabId);
  void engine.cancelTab(tabId);
  void images.dropTab(tabId);
});

browser.tabs.onUpdated.addListener((tabId, changeInfo) => {
  // A new document in the tab: its captchas and pending deliveries belong to the old one.
  // (Content scripts report again after same-document navigations.)
  if (changeInfo.status === 'loading') {
    void registry.clearTab(tabId).then(() => refreshBadge(tabId));
    void engine.cancelTab(tabId);
    void images.dropTab(tabId);
  }
});

browser.alarms.onAlarm.addListener((alarm) => {
  if (alarm.name === TICK_ALARM) void engine.tick();
});

/* ---------------- browser UI: shortcut and context menu ---------------- */

browser.commands?.onCommand.addListener((command, tab) => {
  if (command !== COMMAND_SOLVE_PAGE) return;
  void (async () => {
    const tabId = tab?.id ?? (await browser.tabs.query({ active: true, currentWindow: true }))[0]?.id;
    if (tabId !== undefined) await solveAll(tabId);
  })();
});

browser.runtime.onInstalled.addListener(() => {
  void browser.contextMenus.removeAll().then(() => {
    browser.contextMenus.create({ id: MENU_SOLVE_PAGE, title: t('menuSolvePage'), contexts: ['page', 'frame', 'editable'] });
    browser.contextMenus.create({ id: MENU_SOLVE_IMAGE, title: t('menuSolveImage'), contexts: ['image'] });
  });
});

browser.contextMenus.onClicked.addListener((info, tab) => {
  if (tab?.id === undefined) return;
  if (info.menuItemId === MENU_SOLVE_PAGE) void solveAll(tab.id);
  // The browser says which frame and image the user right-clicked; the page has no say.
  if (info.menuItemId === MENU_SOLVE_IMAGE) void images.pick(tab.id, info.frameId ?? 0, 'menu', info.srcUrl);
});

// Resume whatever a stopped worker left behind.
void engine.tick();
