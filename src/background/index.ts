/**
 * Background service worker (an event page in Firefox): the wiring. Listeners are registered at
 * top level so a stopped worker wakes for them; all state lives in storage and is re-read per
 * event. Who may start a task is decided in solving.ts; who sent a message, in senders.ts.
 */
import browser, { type Runtime } from 'webextension-polyfill';
import { describeError, taskError } from '../shared/errors';
import { t } from '../extension/i18n';
import { isImageCaptcha } from '../shared/captcha';
import {
  type BackgroundToContentMessage,
  type BalanceReply,
  CONTENT_MESSAGES,
  type ContentProtocol,
  type DeliverTokenMessage,
  type GuardsOf,
  type ImageActionReply,
  isDeliveryReport,
  isFramePingReply,
  type Protocol,
  readMessage,
  type SolveReply,
  UI_MESSAGES,
  type UiProtocol,
} from '../shared/messages';
import { fallbackUrlOf, proxyConfigOf } from '../shared/power-settings';
import { afterDeliveryFor, serviceUrlOf, STORAGE_KEYS, type Settings } from '../shared/settings';
import { isTaskRecord, type TaskRecord } from '../shared/tasks';
import { SolverApi } from './api';
import { updateBadge } from './badge';
import { Control } from './control';
import { BalanceBook } from './costs';
import { keyFor, TaskEngine, type DeliveryOutcome, type EngineConfig } from './engine';
import { Reports } from './reports';
import { History } from './history';
import { ImageFlows } from './image';
import { CaptchaRegistry, type FrameAnswer } from './registry';
import { contentSender, isExtensionPage, type ContentSender, type SenderIdentity } from './senders';
import { Solving } from './solving';
import { SpendLog } from './spend';
import { frameUrl } from './frame-url';
import { parseMap, StoredRecord } from './storage';
import { loadSettings } from '../extension/stored-settings';
import { LAZY_SCRIPTS } from '../shared/lazy-scripts';
import { isArkoseFrame, isWebUrl } from '../shared/urls';
import { applySetupFile, readPackagedFile, SETUP_FILE } from './setup-file';
import { isSetupFileStatus } from '../shared/setup-status';
import { STORAGE } from '../shared/storage-catalogue';

const TICK_ALARM = 'caprelay-tick';
const MENU_SOLVE_PAGE = 'caprelay-solve-page';
const MENU_SOLVE_IMAGE = 'caprelay-solve-image';
const COMMAND_SOLVE_PAGE = 'solve-page';
/** A frame that has not said within this long whether its captchas are still there is not listed now. */
const FRAME_ANSWER_MS = 1_500;

const self: SenderIdentity = { id: browser.runtime.id, origin: browser.runtime.getURL('').replace(/\/$/, '') };

const history = new History(browser.storage.local);
const spend = new SpendLog(browser.storage.local);
const balances = new BalanceBook(browser.storage.local);
const taskStore = new StoredRecord(browser.storage.session, STORAGE.tasks.key, parseMap(isTaskRecord));

// caprelay.json beside the manifest, if the user put one there: applied when new or changed,
// before anything reads the settings (a page may report its captchas as soon as the worker runs).
const setupReady = applySetupFile({
  read: () => readPackagedFile(browser.runtime.getURL(SETUP_FILE)),
  local: browser.storage.local,
  now: () => Date.now(),
}).catch(() => null);

// Chromium's first read of the policy area in a browser session takes seconds (2.7 s measured):
// it starts with the worker, not when the first page reports or the popup asks for its tab.
void loadSettings().catch(() => undefined);

async function currentSettings(): ReturnType<typeof loadSettings> {
  await setupReady;
  return loadSettings();
}

/**
 * The settings as last read, until storage says they changed: for what must not wait on the
 * browser's storage while a tab is busy (a tab's listing, a poll, what follows a delivery).
 * Starting a task, or anything that spends, reads them afresh.
 */
let known: ReturnType<typeof loadSettings> | undefined;
browser.storage.onChanged.addListener((_changes, area) => {
  if (area === 'local' || area === 'managed') known = undefined;
});
function knownSettings(): ReturnType<typeof loadSettings> {
  const read = (known ??= currentSettings());
  read.catch(() => {
    if (known === read) known = undefined;
  });
  return read;
}

// Content scripts never read storage; in Chromium, make sure they cannot (the key lives in local).
// Firefox has no such switch for storage.local: there, content scripts simply never ask.
type AccessLevelArea = { setAccessLevel?: (options: { accessLevel: 'TRUSTED_CONTEXTS' }) => Promise<void> | undefined };
void (globalThis as { chrome?: { storage?: { local?: AccessLevelArea } } }).chrome?.storage?.local?.setAccessLevel?.({ accessLevel: 'TRUSTED_CONTEXTS' })?.catch(() => undefined);

/** Which of its captchas a frame still has; null when it is gone (nothing there answers). */
async function askFrame(tabId: number, frameId: number): Promise<FrameAnswer> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), FRAME_ANSWER_MS);
  });
  try {
    const reply: unknown = await Promise.race([browser.tabs.sendMessage(tabId, { type: 'frame-ping' } satisfies BackgroundToContentMessage, { frameId }), late]);
    if (reply === undefined) return undefined;
    return isFramePingReply(reply) ? reply.captchaIds : null;
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
  }
}

/** The tab's address, when it is a web page: the host permissions give tab.url there and nowhere else. */
async function webTabUrl(tabId: number): Promise<string | undefined> {
  try {
    // Throws at once for an id no tab can have (-1), rejects for a tab that is gone.
    const { url } = await browser.tabs.get(tabId);
    return url !== undefined && isWebUrl(url) ? url : undefined;
  } catch {
    return undefined;
  }
}

const registry = new CaptchaRegistry({ area: browser.storage.session, now: () => Date.now(), ask: askFrame, tabUrl: webTabUrl });

async function readConfig(read?: 'known'): Promise<EngineConfig> {
  const { settings, apiKey, proxyPassword, fallbackApiKey } = await (read === 'known' ? knownSettings() : currentSettings());
  const fallbackUrl = fallbackUrlOf(settings.fallback);
  return {
    proxy: proxyConfigOf(settings.proxy, proxyPassword),
    ...(fallbackUrl && fallbackApiKey && { fallback: { serviceUrl: fallbackUrl, apiKey: fallbackApiKey } }),
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
  wakeTimer = setTimeout(
    () => {
      wakeTimer = undefined;
      wakeTime = Infinity;
      void engine.tick();
    },
    Math.max(0, time - now),
  );
  // If the worker is stopped before the timer fires, the alarm starts it again.
  void browser.alarms.create(TICK_ALARM, { when: Math.max(time, now + 1_000) });
}

async function deliver(task: TaskRecord): Promise<DeliveryOutcome> {
  if (!task.token) return { delivered: false, code: 'WIDGET_GONE' };
  // An image task's answer goes to the image flow's own handler in the frame (typed, or clicked).
  const then = isImageCaptcha(task.captcha) ? undefined : afterDeliveryFor((await knownSettings()).settings, task.websiteURL);
  const message: BackgroundToContentMessage | null = isImageCaptcha(task.captcha)
    ? images.deliveryMessage(task)
    : ({ type: 'deliver-token', captchaId: task.captchaId, token: task.token, ...(then && { then }) } satisfies DeliverTokenMessage);
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

/** The badge shows what was last reported (asking every frame on every change would cost pages). */
async function refreshBadge(tabId: number): Promise<void> {
  const [{ settings }, tasks] = await Promise.all([currentSettings(), taskStore.read()]);
  const { visible } = await solving.visible(tabId, settings, false);
  const latest = Object.values(tasks)
    .filter((task) => task.tabId === tabId)
    .sort((a, b) => b.updatedAt - a.updatedAt)[0];
  await updateBadge(tabId, visible.length, latest?.state);
}

/**
 * One balance reading of the account a task is at (for the cost estimate), dated `at` (taken
 * before anything else is awaited, so a "before" reading is never dated after the task was
 * sent); null when it fails.
 */
async function readBalance(task: Pick<TaskRecord, 'serviceUrl' | 'account'>, at = Date.now()): Promise<{ balance: number; at: number } | null> {
  const apiKey = keyFor(task, await readConfig());
  if (!apiKey || !task.serviceUrl) return null;
  const result = await new SolverApi({ baseUrl: task.serviceUrl, clientKey: apiKey, timeoutMs: 10_000 }).getBalance();
  return result.ok ? { balance: result.value, at } : null;
}

/** A "before" reading for the cost estimate, unless a fresh one is there already. */
async function baselineFor(task: TaskRecord): Promise<void> {
  const at = Date.now();
  if (await balances.freshBefore(task.serviceUrl, at)) return;
  const reading = await readBalance(task, at);
  if (reading) await balances.note(task.serviceUrl, reading.balance, reading.at);
}

/** History, and for a solved task the service gave no cost for, the balance change as an estimate. */
async function recordFinished(task: TaskRecord): Promise<void> {
  await history.add(task);
  if (task.cost !== undefined || task.tokenAt === undefined || !task.serviceUrl) return;
  const reading = await readBalance(task);
  const estimate = reading ? await balances.estimate(task, reading.balance, reading.at) : undefined;
  if (estimate === undefined) return;
  await history.update(task.id, (entry) => {
    if (entry && entry.cost === undefined) Object.assign(entry, { cost: estimate, costEstimated: true });
  });
}

const engine = new TaskEngine({
  now: () => Date.now(),
  random: () => Math.random(),
  newId: () => crypto.randomUUID(),
  store: taskStore,
  config: readConfig,
  client: (serviceUrl, apiKey, proxyPassword) => new SolverApi({ baseUrl: serviceUrl, clientKey: apiKey, ...(proxyPassword && { proxyPassword }) }),
  deliver,
  wakeAt,
  onChange: (task) => void refreshBadge(task.tabId),
  onFinished: (task) => void recordFinished(task).catch(() => undefined),
  onAsked: (task) => {
    void baselineFor(task).catch(() => undefined);
    return spend.add(Date.now());
  },
});

const reports = new Reports({
  history,
  settings: currentSettings,
  client: (serviceUrl, apiKey) => new SolverApi({ baseUrl: serviceUrl, clientKey: apiKey, timeoutMs: 10_000 }),
  now: () => Date.now(),
});

/** Opens the popup for the confirmation; where the browser will not (no user gesture left), a small window of it. */
async function showPopup(tabId: number): Promise<void> {
  try {
    await browser.action.openPopup();
  } catch {
    await browser.windows.create({ url: browser.runtime.getURL(`src/popup/index.html?tabId=${tabId}`), type: 'popup', width: 400, height: 600 });
  }
}

const solving = new Solving({
  registry,
  engine,
  spend,
  session: browser.storage.session,
  settings: currentSettings,
  knownSettings,
  tasks: () => taskStore.read(),
  now: () => Date.now(),
  showPopup,
});

const images = new ImageFlows({
  session: browser.storage.session,
  local: browser.storage.local,
  now: () => Date.now(),
  newId: () => crypto.randomUUID(),
  send: (tabId, message, frameId) => browser.tabs.sendMessage(tabId, message, { frameId }),
  prepare: (tabId, frameId) => inject(tabId, frameId, 'images'),
  settings: async () => (await currentSettings()).settings.image,
  start: (request) => solving.startImageTask(request),
  fail: async (request, code) => {
    await engine.fail(request, taskError(code));
  },
  taskState: async (captchaId) =>
    Object.values(await taskStore.read())
      .filter((task) => task.captchaId === captchaId)
      .sort((a, b) => b.createdAt - a.createdAt)[0]?.state,
});

/** The last balance answer, and the request in flight: pages asking together share one call. */
let balanceCache: { at: number; configKey: string; reply: Promise<BalanceReply> } | undefined;
const BALANCE_CACHE_MS = 10_000;

async function balance(): Promise<BalanceReply> {
  const config = await readConfig();
  if (!config.apiKey) return { ok: false, error: taskError('NO_API_KEY') };
  if (!config.serviceUrl) return { ok: false, error: taskError('NO_SERVICE_URL') };
  const serviceUrl = config.serviceUrl;
  const configKey = `${serviceUrl}\n${config.apiKey}`;
  if (balanceCache && balanceCache.configKey === configKey && Date.now() - balanceCache.at < BALANCE_CACHE_MS) return balanceCache.reply;
  const sentAt = Date.now();
  const reply = new SolverApi({ baseUrl: serviceUrl, clientKey: config.apiKey, timeoutMs: 10_000 }).getBalance().then((result): BalanceReply => {
    if (!result.ok) return { ok: false, error: { code: result.error.code, message: describeError(result.error) } };
    void balances.note(serviceUrl, result.value, sentAt);
    return { ok: true, balance: result.value };
  });
  balanceCache = { at: Date.now(), configKey, reply };
  // The cache's ten seconds count from the answer.
  void reply.then(() => {
    if (balanceCache?.reply === reply) balanceCache.at = Date.now();
  });
  return reply;
}

/* ---------------- loading the parts a frame needs ---------------- */

/**
 * Loads a lazy part into one frame (src/shared/lazy-scripts.ts): the detectors with their
 * page-world hooks where a vendor marker showed, the image flows where the user starts one.
 * Each part runs once per frame however often it is injected.
 */
async function inject(tabId: number, frameId: number, what: 'agent' | 'images'): Promise<void> {
  const target = { tabId, frameIds: [frameId] };
  const parts =
    what === 'agent'
      ? [browser.scripting.executeScript({ target, files: [LAZY_SCRIPTS.hooks.file], world: 'MAIN' }), browser.scripting.executeScript({ target, files: [LAZY_SCRIPTS.agent.file] })]
      : [browser.scripting.executeScript({ target, files: [LAZY_SCRIPTS.images.file] })];
  await Promise.all(parts);
}

/** Resolves at the next change in the extension's storage, or after `ms`. */
function storageChanged(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      browser.storage.onChanged.removeListener(done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    browser.storage.onChanged.addListener(done);
  });
}

const control = new Control({
  solving,
  settings: currentSettings,
  save: async (settings: Settings, secrets: Record<string, string>) => {
    await browser.storage.local.set({ [STORAGE_KEYS.settings]: settings, ...secrets });
    // What the driver does next must see them, even before storage's change event comes.
    known = undefined;
  },
  balance,
  guard: (settings) => spend.status(settings, Date.now()),
  tasks: () => taskStore.read(),
  setupFile: async () => {
    await setupReady;
    const stored = (await browser.storage.local.get(STORAGE_KEYS.setupFile))[STORAGE_KEYS.setupFile];
    return isSetupFileStatus(stored) ? stored : null;
  },
  tabIds: async () => (await browser.tabs.query({})).flatMap((tab) => (tab.id === undefined ? [] : [tab.id])),
  activeTabId: async () => (await browser.tabs.query({ active: true, lastFocusedWindow: true }))[0]?.id,
  topUrl: (tabId) => registry.topUrl(tabId),
  now: () => Date.now(),
  changed: storageChanged,
});

// The control API on the background's own global, for whoever drives the browser: Playwright's
// serviceWorker.evaluate, Puppeteer's worker target, an extension page in Firefox. Web pages,
// content scripts and other extensions have no way into this realm.
Object.defineProperty(globalThis, 'caprelay', { value: control.api() });

/* ---------------- messages ---------------- */

/**
 * The top frame's address as the browser knows it now: the tab's, which follows the page's
 * same-document navigations (single-page apps, Cloudflare's challenge page), where the sender's
 * own URL can be the one the document loaded with. Both are the browser's word; the tab's is
 * taken only when it is the same origin as the sender's.
 */
function topFrameUrl(from: ContentSender): string {
  if (from.frameId !== 0 || !from.topUrl) return from.url;
  try {
    return new URL(from.topUrl).origin === new URL(from.url).origin ? from.topUrl : from.url;
  } catch {
    return from.url;
  }
}

/** The sender as the image flows know it: by the address of the page it belongs to. */
const imageFrame = (from: ContentSender): ContentSender => ({ ...from, url: topFrameUrl(from) });

async function solveChallenge(tabId: number, frameId: number | undefined): Promise<ImageActionReply> {
  const target = await solving.challengeTarget(tabId, frameId);
  return 'error' in target ? { ok: false, error: target.error } : images.challenge(tabId, target.frameId);
}

async function onInPageSolve(tabId: number, frameId: number, captchaId: string): Promise<SolveReply> {
  const { settings } = await currentSettings();
  if (!settings.inPageButton) return { ok: false, error: taskError('CAPTCHA_NOT_FOUND') };
  return solving.solveOne(tabId, frameId, captchaId);
}

/** What each message gets: a handler per type, checked against its protocol's replies. */
type Handlers<P extends Protocol, From> = {
  [K in keyof P]: (message: P[K]['message'], from: From) => Promise<P[K]['reply']> | undefined;
};

// Tier 1: our content scripts in page frames. They report and answer; they cannot spend.
const contentHandlers: Handlers<ContentProtocol, ContentSender> = {
  'frame-captchas': (message, from) => {
    const reply = solving.onFrameReport(from, frameUrl(topFrameUrl(from), from.origin, message.inheritedUrl), message.captchas, message.notices);
    void reply.then(() => refreshBadge(from.tabId));
    return reply;
  },
  'inpage-solve': (message, from) => onInPageSolve(from.tabId, from.frameId, message.captchaId),
  // Only an Arkose frame gets the image flows unasked: it is where FunCaptcha shows its challenges.
  load: (message, from) => (message.what === 'images' && !isArkoseFrame(from.url) ? undefined : inject(from.tabId, from.frameId, message.what).then(() => ({}))),
  'challenge-state': (message, from) => registry.setChallenge(from.tabId, from.frameId, message.open ? from.url : null).then(() => ({})),
  // Image flows: answers to a request the background made; ImageFlows ignores any other.
  'image-recall': (message, from) => images.recall(imageFrame(from), message.requestId),
  'image-text': (message, from) => images.onText(imageFrame(from), message),
  'image-round': (message, from) => images.onRound(imageFrame(from), message),
  'image-end': (message, from) => images.onEnd(imageFrame(from), message).then(() => ({})),
};

// Tier 2: everything here spends money or reads account data: extension pages only.
const uiHandlers: Handlers<UiProtocol, null> = {
  solve: (message) => solving.solveOne(message.tabId, message.frameId, message.captchaId),
  'solve-all': (message) => solving.solveMany(message.tabId, message.frameId, message.confirmed),
  'dismiss-gesture': (message) => solving.dismiss(message.tabId).then(() => ({})),
  'tab-state': (message) => solving.tabState(message.tabId),
  balance: () => balance(),
  'report-wrong': (message) => reports.report(message.entryId),
  'image-pick': (message) => images.pick(message.tabId, 0, 'pick'),
  'image-challenge': (message) => solveChallenge(message.tabId, message.frameId),
  // The control API from src/control/index.html (window.caprelay), same as the global above.
  control: (message) => control.call(message.method, message.params),
};

/** The message read by its protocol's guard (only the fields it knows), then its handler; silence for anything else. */
function route<P extends Protocol, From>(guards: GuardsOf<P>, handlers: Handlers<P, From>, value: unknown, from: From): Promise<unknown> | undefined {
  const message = readMessage(guards, value);
  if (!message) return undefined;
  // The guard under this type key took it, so it is that type's message.
  const handle = handlers[message.type as keyof P];
  return handle(message, from);
}

browser.runtime.onMessage.addListener((message: unknown, sender: Runtime.MessageSender) => {
  const from = contentSender(sender, self);
  if (from) return route(CONTENT_MESSAGES, contentHandlers, message, from);
  if (!isExtensionPage(sender, self)) return undefined;
  return route(UI_MESSAGES, uiHandlers, message, null);
});

browser.storage.onChanged.addListener((changes, area) => {
  if (area === 'local' && (STORAGE_KEYS.apiKey in changes || STORAGE_KEYS.settings in changes)) balanceCache = undefined;
});

function dropTab(tabId: number): void {
  void engine.cancelTab(tabId);
  void images.dropTab(tabId);
  void solving.dropTab(tabId);
}

browser.tabs.onRemoved.addListener((tabId) => {
  void registry.clearTab(tabId);
  dropTab(tabId);
});

browser.tabs.onUpdated.addListener((tabId, changeInfo) => {
  // A new document in the tab: its captchas and pending deliveries belong to the old one.
  // (Content scripts report again after same-document navigations.)
  if (changeInfo.status === 'loading') {
    void registry.clearTab(tabId).then(() => refreshBadge(tabId));
    dropTab(tabId);
  }
});

browser.alarms.onAlarm.addListener((alarm) => {
  if (alarm.name === TICK_ALARM) void engine.tick();
});

/* ---------------- browser UI: shortcut and context menu ---------------- */

// eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- not every browser has commands (Firefox for Android)
browser.commands?.onCommand.addListener((command, tab) => {
  if (command !== COMMAND_SOLVE_PAGE) return;
  void (async () => {
    const tabId = tab?.id ?? (await browser.tabs.query({ active: true, currentWindow: true }))[0]?.id;
    if (tabId !== undefined) await solving.gesture(tabId);
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
  // The browser says which frame (and image) the user right-clicked; the page has no say.
  // On the page itself that is the whole tab; in a frame, that frame.
  const frameId = info.frameId !== undefined && info.frameId > 0 ? info.frameId : undefined;
  if (info.menuItemId === MENU_SOLVE_PAGE) void solving.gesture(tab.id, frameId);
  if (info.menuItemId === MENU_SOLVE_IMAGE) void images.pick(tab.id, info.frameId ?? 0, 'menu', info.srcUrl);
});

// Resume whatever a stopped worker left behind.
void engine.tick();
