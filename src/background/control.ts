/**
 * The control API for whoever drives the browser (Playwright, Puppeteer, Selenium): configure,
 * read status, solve a tab's captchas, wait for them. It is `globalThis.caprelay` in the
 * background (Chromium's service worker, Firefox's event page), and `window.caprelay` in the
 * extension page src/control/index.html, which forwards here by runtime message. Neither is
 * reachable from a web page, a content script or another extension (SECURITY.md).
 *
 * Nothing here is a way around the rules: a solve goes through Solving.solveMany, so the site
 * lists, the spending guard and "more than 3 at once needs the confirmed count" hold exactly as
 * for a click; configure reads its input with the validators of every other settings source,
 * and a policy still wins over it. Replies are plain data and never carry the key or a token.
 */
import type { GuardStatus } from '../shared/guard';
import type { BalanceReply, ControlMethod, SolveAllReply, TabStateReply } from '../shared/messages';
import { applySettingsPatch, readSetupInput, serviceUrlOf, type Settings, type SettingsPatch, type SettingsProblem, setupPaths, setupSecretWrites } from '../shared/settings';
import type { SetupFileStatus } from '../shared/setup-status';
import type { LoadedSettings } from '../extension/stored-settings';
import { ACTIVE_STATES, toTaskView, type TaskError, type TaskRecord, type TaskView } from '../shared/tasks';
import { type Guard, isBoundedString, isInteger, isOptional, isRecord, isShapeOf } from '../shared/validate';
import type { ScheduledStart, Solving } from './solving';
import { taskError } from '../shared/errors';

const WAIT_DEFAULT_MS = 120_000;
const WAIT_MAX_MS = 600_000;

export interface ControlDeps {
  solving: Solving;
  /** The settings as they apply (the control API never sees the proxy password or the fallback key). */
  settings(): Promise<Omit<LoadedSettings, 'proxyPassword' | 'fallbackApiKey'>>;
  /** Stores the user's own settings (under any policy), and the key when given. */
  /** The settings, and the secrets to store (by storage key). */
  save(settings: Settings, secrets: Record<string, string>): Promise<void>;
  balance(): Promise<BalanceReply>;
  guard(settings: Settings): Promise<GuardStatus>;
  tasks(): Promise<Record<string, TaskRecord>>;
  setupFile(): Promise<SetupFileStatus | null>;
  /** The ids of the browser's tabs, and the active one of the window last in front. */
  tabIds(): Promise<number[]>;
  activeTabId(): Promise<number | undefined>;
  /** The address of a tab's page, as CapRelay's content script saw it (undefined: none seen). */
  topUrl(tabId: number): Promise<string | undefined>;
  now(): number;
  /** Resolves when the extension's storage changes, or after `ms`. */
  changed(ms: number): Promise<void>;
}

/** Which tab (by id, or by the address of its page), and optionally one frame of it. */
export interface Target {
  tabId?: number;
  url?: string;
  frameId?: number;
}

export interface ConfigureReply {
  /** The settings it set, as paths (`apiKey` when it set the key). */
  applied: string[];
  /** What it did not take, field and reason. */
  problems: SettingsProblem[];
  /** Of `applied`, the ones a policy decides: stored, but the policy's value is what applies. */
  managed: string[];
}

export interface StatusReply {
  /** A key and a service URL are set: tasks can be made. */
  ready: boolean;
  keySet: boolean;
  serviceUrl: string | null;
  balance: BalanceReply | null;
  guard: GuardStatus;
  /** The settings as they apply (policy included); the key is never in them. */
  settings: Settings;
  managed: string[];
  setupFile: Omit<SetupFileStatus, 'hash'> | null;
  /** Every tab's tasks, newest first (no token: it goes only into the page). */
  tasks: TaskView[];
  /** Auto-solves waiting for their type's delay. */
  scheduled: ScheduledStart[];
}

export interface WaitReply {
  solved: boolean;
  tabId?: number;
  /** How many captchas the tab (or frame) lists. */
  captchas: number;
  tasks: TaskView[];
  error?: TaskError;
}

/** What configure() and caprelay.json take: settings fields (any subset) and the key. */
export type ConfigureInput = SettingsPatch & { apiKey?: string };

/** `globalThis.caprelay` (the background) and `window.caprelay` (the control page), as a driver sees them. */
export interface CapRelayControl {
  configure(input: ConfigureInput): Promise<ConfigureReply>;
  status(): Promise<StatusReply>;
  tabs(): Promise<{ tabId: number; url: string }[]>;
  captchas(target?: Target): Promise<TabStateReply & { tabId: number }>;
  solve(target?: Target & { confirmed?: number }): Promise<SolveAllReply & { tabId: number }>;
  waitForSolved(target?: Target & { timeoutMs?: number }): Promise<WaitReply>;
}

export class ControlError extends Error {
  constructor(readonly code: string) {
    super(`${code}: ${taskError(code).message}`);
    this.name = 'ControlError';
  }
}

const isTarget = isShapeOf<Target>({
  tabId: isOptional(isInteger),
  url: isOptional(isBoundedString(8_192)),
  frameId: isOptional(isInteger),
});
const isSolveParams = isShapeOf<{ confirmed?: number }>({ confirmed: isOptional(isInteger) });
const isWaitParams = isShapeOf<{ timeoutMs?: number }>({ timeoutMs: isOptional(isInteger) });

/** Parameters as given, checked; only the known fields are kept. */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the shape its guards checked
function params<T>(value: unknown, ...guards: Guard<unknown>[]): T {
  const given = value ?? {};
  if (!isRecord(given) || !guards.every((guard) => guard(given))) throw new ControlError('BAD_CALL');
  return given as T;
}

function sameAddress(a: string, b: string): boolean {
  try {
    return new URL(a).href === new URL(b).href;
  } catch {
    return a === b;
  }
}

export class Control {
  constructor(private readonly deps: ControlDeps) {}

  /** The API as drivers call it: every input is checked here, whatever its declared type. */
  api(): CapRelayControl {
    return Object.freeze({
      configure: (input: unknown) => this.configure(input),
      status: () => this.status(),
      tabs: () => this.tabs(),
      captchas: (target?: unknown) => this.captchas(target),
      solve: (target?: unknown) => this.solve(target),
      waitForSolved: (target?: unknown) => this.waitForSolved(target),
    });
  }

  /** One entry point for the message route: the method by name, its parameters as sent. */
  call(method: ControlMethod, input: unknown): Promise<unknown> {
    return (this.api()[method] as (input?: unknown) => Promise<unknown>)(input);
  }

  /** Sets what the input names (settings fields and the secrets, as in caprelay.json); leaves the rest. */
  async configure(input: unknown): Promise<ConfigureReply> {
    const setup = readSetupInput(input ?? {});
    const loaded = await this.deps.settings();
    await this.deps.save(applySettingsPatch(loaded.own, setup.patch), setupSecretWrites(setup));
    const applied = setupPaths(setup);
    return { applied, problems: setup.problems, managed: applied.filter((path) => loaded.managed.includes(path)) };
  }

  async status(): Promise<StatusReply> {
    const [{ settings, apiKey, managed }, tasks, file] = await Promise.all([this.deps.settings(), this.deps.tasks(), this.deps.setupFile()]);
    const serviceUrl = serviceUrlOf(settings);
    const ready = Boolean(apiKey) && serviceUrl !== null;
    const { hash: _hash, ...setupFile } = file ?? { hash: '' };
    return {
      ready,
      keySet: Boolean(apiKey),
      serviceUrl,
      balance: ready ? await this.deps.balance() : null,
      guard: await this.deps.guard(settings),
      settings,
      managed,
      setupFile: file ? (setupFile as Omit<SetupFileStatus, 'hash'>) : null,
      tasks: Object.values(tasks)
        .sort((a, b) => b.createdAt - a.createdAt)
        .map(toTaskView),
      scheduled: this.deps.solving.scheduledStarts(),
    };
  }

  /** The tabs in which CapRelay has seen a page, with its address. */
  async tabs(): Promise<{ tabId: number; url: string }[]> {
    const ids = await this.deps.tabIds();
    const urls = await Promise.all(ids.map((id) => this.deps.topUrl(id)));
    return ids.flatMap((tabId, i) => (urls[i] === undefined ? [] : [{ tabId, url: urls[i] }]));
  }

  /** What the popup would list for the tab (or frame), and its tasks. */
  async captchas(input: unknown): Promise<TabStateReply & { tabId: number }> {
    const target = params<Target>(input, isTarget);
    const tabId = await this.tabOf(target);
    const state = await this.deps.solving.tabState(tabId);
    if (target.frameId !== undefined) state.captchas = state.captchas.filter((c) => c.frameId === target.frameId);
    return { ...state, tabId };
  }

  /**
   * Solves what the tab (or frame) lists now, as Solve all does: past 3 the reply's `confirm`
   * names the count, and nothing starts until it is passed back as `confirmed`.
   */
  async solve(input: unknown): Promise<SolveAllReply & { tabId: number }> {
    const target = params<Target & { confirmed?: number }>(input, isTarget, isSolveParams);
    const tabId = await this.tabOf(target);
    return { ...(await this.deps.solving.solveMany(tabId, target.frameId, target.confirmed)), tabId };
  }

  /**
   * Resolves once the tab (or frame) lists at least one captcha and the newest task of each is
   * delivered; `solved: false` with the error when one of them ended otherwise, or at the
   * timeout. It starts nothing: auto-solve or a solve() call does.
   */
  async waitForSolved(input: unknown): Promise<WaitReply> {
    const target = params<Target & { timeoutMs?: number }>(input, isTarget, isWaitParams);
    const timeout = Math.min(Math.max(target.timeoutMs ?? WAIT_DEFAULT_MS, 0), WAIT_MAX_MS);
    const deadline = this.deps.now() + timeout;
    for (;;) {
      // An address may name a tab whose page has not reported yet: it is looked for again.
      const tabId = await this.tabOf(target).catch((error: unknown) => {
        if (error instanceof ControlError && error.code === 'TAB_NOT_FOUND' && target.tabId === undefined) return undefined;
        throw error;
      });
      if (tabId !== undefined) {
        const outcome = await this.outcome(tabId, target.frameId);
        if (outcome) return outcome;
      }
      const left = deadline - this.deps.now();
      if (left <= 0) return { solved: false, captchas: 0, tasks: [], ...(tabId !== undefined && { tabId }), error: taskError('WAIT_TIMED_OUT') };
      await this.deps.changed(Math.min(left, 1_000));
    }
  }

  private async outcome(tabId: number, frameId: number | undefined): Promise<WaitReply | undefined> {
    const state = await this.deps.solving.tabState(tabId);
    const listed = state.captchas.filter((c) => frameId === undefined || c.frameId === frameId);
    if (listed.length === 0) return undefined;
    // tabState lists tasks newest first: the first one for a captcha is its newest.
    const newest = listed.map((c) => state.tasks.find((task) => task.frameId === c.frameId && task.captchaId === c.captcha.id));
    const tasks = newest.filter((task): task is TaskView => task !== undefined);
    const ended = tasks.find((task) => !ACTIVE_STATES.has(task.state) && task.state !== 'delivered');
    if (ended) return { solved: false, tabId, captchas: listed.length, tasks, error: ended.error ?? taskError(ended.state === 'cancelled' ? 'TAB_CLOSED' : 'TIMED_OUT') };
    if (tasks.length === listed.length && tasks.every((task) => task.state === 'delivered')) return { solved: true, tabId, captchas: listed.length, tasks };
    return undefined;
  }

  private async tabOf(target: Target): Promise<number> {
    if (target.tabId !== undefined) return target.tabId;
    if (target.url === undefined) {
      const active = await this.deps.activeTabId();
      if (active === undefined) throw new ControlError('TAB_NOT_FOUND');
      return active;
    }
    const matching = (await this.tabs()).filter((tab) => sameAddress(tab.url, target.url!));
    if (matching.length > 1) throw new ControlError('TAB_AMBIGUOUS');
    if (!matching[0]) throw new ControlError('TAB_NOT_FOUND');
    return matching[0].tabId;
  }
}
