/**
 * Who may start a task, and for what: the policy SECURITY.md describes, in one place.
 *
 * - A click in the extension's own UI on one listed captcha (or the in-page button the user
 *   switched on): one task, even past an auto-solve limit.
 * - One gesture for several (Solve all, the shortcut, the page menu): only captchas listed
 *   now (their frame answers that it still has them), no more than the spending limits have
 *   left, and above CONFIRM_ABOVE only after the user confirmed that very count.
 * - Auto-solve, for the types the user set to auto, once per widget, while the guard allows;
 *   after the type's delay, if one is set, and only if the widget is still listed then.
 * - An image the user pointed at (the image flows check that they did).
 *
 * Everything obeys the site lists, decided by the tab's top page for every frame of it. Every
 * task asked of the service counts for the spending guard (the engine reports each one).
 */
import { taskError } from '../shared/errors';
import { CONFIRM_ABOVE, type FrameCaptcha, type FrameCaptchasReply, type Notice, type PendingGesture, type SolveAllReply, type SolveReply, type TabStateReply } from '../shared/messages';
import { familyOf, isFrameAllowed, isSiteAllowed, type DelayRange, type Settings } from '../shared/settings';
import { toTaskView, type TaskError, type TaskRecord } from '../shared/tasks';
import { hostOf, isArkoseHost } from '../shared/urls';
import { isInteger, isRecord } from '../shared/validate';
import { activeTaskFor, type TaskEngine } from './engine';
import type { ImageStartRequest } from './image';
import type { CaptchaRegistry } from './registry';
import type { ContentSender } from './senders';
import type { SpendLog } from './spend';
import { parseMap, StoredRecord, type StorageArea } from './storage';
import { STORAGE } from '../shared/storage-catalogue';

/** A gesture waiting for the user's yes lapses after this long. */
const GESTURE_TTL_MS = 2 * 60_000;
/** The popup's list takes a frame's report this young as it is (a frame that leaves says so on pagehide). */
const LISTING_TRUST_MS = 1_000;

function originOf(url: string | undefined): string | undefined {
  try {
    return url ? new URL(url).origin : undefined;
  } catch {
    return undefined;
  }
}

const isPendingGesture = (v: unknown): v is PendingGesture => isRecord(v) && isInteger(v.count) && v.count > 0 && typeof v.at === 'number' && (v.frameId === undefined || isInteger(v.frameId));

export interface SolvingDeps {
  registry: CaptchaRegistry;
  engine: TaskEngine;
  spend: SpendLog;
  session: StorageArea;
  settings(): Promise<{ settings: Settings; apiKey: string }>;
  /**
   * The settings as last read, for showing a tab's list: `settings` waits on the browser's
   * storage, slow while the tab loads. Starting anything reads `settings`.
   */
  knownSettings?(): Promise<{ settings: Settings }>;
  tasks(): Promise<Record<string, TaskRecord>>;
  now(): number;
  /** Shows the popup of this tab (to confirm a gesture, or to say why nothing started). */
  showPopup(tabId: number): Promise<void>;
  /** For the auto-solve delay (Math.random when not given). */
  random?: () => number;
}

/** An auto-solve waiting for its type's delay. */
export interface ScheduledStart {
  tabId: number;
  frameId: number;
  captchaId: string;
  /** When it will start (if the widget is still listed then). */
  at: number;
}

/** A delay drawn from the range, so auto-solve does not start at a fixed interval. */
export function delayFor(range: DelayRange, random: () => number): number {
  if (range.maxMs <= range.minMs) return range.minMs;
  return range.minMs + Math.floor(random() * (range.maxMs - range.minMs + 1));
}

interface Visible {
  visible: FrameCaptcha[];
  hidden: number;
  siteAllowed: boolean;
}

export class Solving {
  private readonly gestures: StoredRecord<Record<string, PendingGesture>>;
  private autoSolving: Promise<unknown> = Promise.resolve();
  private readonly scheduled = new Map<string, ScheduledStart & { timer: ReturnType<typeof setTimeout> }>();

  constructor(private readonly deps: SolvingDeps) {
    this.gestures = new StoredRecord(deps.session, STORAGE.gestures.key, parseMap(isPendingGesture));
  }

  /**
   * The tab's captchas the user wants to see: frame allowed by the site lists (as the top page
   * decides), family switched on. `live`: only those whose frame says they are still there.
   */
  async visible(tabId: number, settings: Settings, live: boolean, trustMs = 0): Promise<Visible> {
    const [all, top] = await Promise.all([this.deps.registry.list(tabId, live, trustMs), this.deps.registry.topUrl(tabId)]);
    const visible = all.filter((c) => settings.families[familyOf(c.captcha)].enabled && isFrameAllowed(settings, top, c.url));
    return { visible, hidden: all.length - visible.length, siteAllowed: top === undefined || isSiteAllowed(settings, top) };
  }

  /** A content script's report of its frame: stored, then auto-solve; says whether the in-page button may show, and what is not CapRelay's here. */
  async onFrameReport(from: ContentSender, url: string | null, captchas: FrameCaptcha['captcha'][], notices: Notice[] = []): Promise<FrameCaptchasReply> {
    const outcome = await this.deps.registry.report(from.tabId, from.frameId, url, from.topUrl, captchas, notices);
    const declineAll: FrameCaptchasReply = { inPageButton: false, declined: captchas.map((c) => c.id) };
    if (outcome !== 'stored' || url === null) return declineAll;
    const [{ settings }, top] = await Promise.all([this.deps.settings(), this.deps.registry.topUrl(from.tabId)]);
    if (!isFrameAllowed(settings, top, url)) return declineAll;
    const declined = captchas.filter((c) => !settings.families[familyOf(c)].enabled).map((c) => c.id);
    const wanted = captchas.filter((c) => !declined.includes(c.id));
    if (wanted.length)
      void this.autoSolve(
        from.tabId,
        wanted.map((captcha) => ({ frameId: from.frameId, url, captcha })),
      );
    return { inPageButton: settings.inPageButton, declined };
  }

  /** One captcha the user clicked (popup, or the in-page button). */
  async solveOne(tabId: number, frameId: number, captchaId: string): Promise<SolveReply> {
    const { settings } = await this.deps.settings();
    const { visible } = await this.visible(tabId, settings, true);
    const item = visible.find((c) => c.frameId === frameId && c.captcha.id === captchaId);
    if (!item) return { ok: false, error: taskError('CAPTCHA_NOT_FOUND') };
    return this.startTask(tabId, item);
  }

  /** Solve all (popup), the shortcut or the page menu: the tab, or one frame of it. */
  async solveMany(tabId: number, frameId: number | undefined, confirmed: number | undefined): Promise<SolveAllReply> {
    const { settings } = await this.deps.settings();
    const [{ visible }, tasks] = await Promise.all([this.visible(tabId, settings, true), this.deps.tasks()]);
    const fresh = visible.filter((c) => (frameId === undefined || c.frameId === frameId) && !activeTaskFor(tasks, { tabId, ...c }));
    const reply: SolveAllReply = { started: 0, errors: [] };
    if (fresh.length === 0) return reply;
    const remaining = await this.deps.spend.remaining(settings, this.deps.now());
    const batch = fresh.slice(0, remaining);
    if (batch.length > CONFIRM_ABOVE && confirmed !== batch.length) return { ...reply, confirm: batch.length };
    await this.dismiss(tabId);
    for (const item of batch) {
      const result = await this.startTask(tabId, item);
      if (result.ok) reply.started += 1;
      else if (!reply.errors.some((e) => e.code === result.error.code)) reply.errors.push(result.error);
    }
    if (batch.length < fresh.length) reply.errors.push(taskError('SPENDING_LIMIT'));
    return reply;
  }

  /** The shortcut or the page menu: no list was shown, so past the bound the popup asks. */
  async gesture(tabId: number, frameId?: number): Promise<void> {
    const reply = await this.solveMany(tabId, frameId, undefined);
    if (reply.confirm === undefined && reply.errors.length === 0) return;
    if (reply.confirm !== undefined) {
      const pending: PendingGesture = { count: reply.confirm, at: this.deps.now(), ...(frameId !== undefined && { frameId }) };
      await this.gestures.mutate((all) => {
        all[tabId] = pending;
      });
    }
    await this.deps.showPopup(tabId);
  }

  async dismiss(tabId: number): Promise<void> {
    await this.gestures.mutate((all) => {
      delete all[tabId];
    });
  }

  async tabState(tabId: number): Promise<TabStateReply> {
    const { settings } = await (this.deps.knownSettings ?? this.deps.settings)();
    const [{ visible, hidden, siteAllowed }, tasks, guard, gestures, notices, top] = await Promise.all([
      // What a frame has just reported is shown as it is; solving asks every frame first.
      this.visible(tabId, settings, true, LISTING_TRUST_MS),
      this.deps.tasks(),
      this.deps.spend.status(settings, this.deps.now()),
      this.gestures.read(),
      this.deps.registry.notices(tabId),
      this.deps.registry.topUrl(tabId),
    ]);
    const reply: TabStateReply = {
      captchas: visible,
      hiddenCount: hidden,
      siteAllowed,
      guard,
      tasks: Object.values(tasks)
        .filter((task) => task.tabId === tabId)
        .sort((a, b) => b.createdAt - a.createdAt)
        .map(toTaskView),
      challenges: [],
      notices: [...new Set(notices.filter((n) => isFrameAllowed(settings, top, n.url)).map((n) => n.notice))],
    };
    reply.challenges = (await this.challengeFrames(tabId, settings)).map((c) => ({ frameId: c.frameId, host: hostOf(c.url) }));
    const pending = gestures[tabId];
    if (pending && this.deps.now() - pending.at < GESTURE_TTL_MS) reply.pending = pending;
    return reply;
  }

  /**
   * Frames that may take a FunCaptcha image challenge: showing one now, on an allowed page, and
   * Arkose's own: its hosts, or the Arkose host the site itself names (the subdomain of a
   * FunCaptcha widget in a frame of the top page's origin). An ad frame with a look-alike tile
   * game is none of these.
   */
  async challengeFrames(tabId: number, settings: Settings): Promise<{ frameId: number; url: string }[]> {
    const [frames, top, listed] = await Promise.all([this.deps.registry.challenges(tabId), this.deps.registry.topUrl(tabId), this.deps.registry.list(tabId, false)]);
    const topOrigin = originOf(top);
    const siteArkoseHosts = new Set(listed.flatMap((c) => (c.captcha.family === 'funcaptcha' && c.captcha.subdomain && originOf(c.url) === topOrigin ? [c.captcha.subdomain] : [])));
    return frames.filter((f) => isFrameAllowed(settings, top, f.url) && (isArkoseHost(hostOf(f.url)) || siteArkoseHosts.has(hostOf(f.url))));
  }

  /** The frame whose challenge the popup's action is for: never a guess when several show one. */
  async challengeTarget(tabId: number, frameId: number | undefined): Promise<{ frameId: number } | { error: TaskError }> {
    const { settings } = await this.deps.settings();
    const frames = await this.challengeFrames(tabId, settings);
    const chosen = frameId === undefined ? (frames.length === 1 ? frames[0] : undefined) : frames.find((f) => f.frameId === frameId);
    if (chosen) return { frameId: chosen.frameId };
    return { error: taskError(frameId === undefined && frames.length > 1 ? 'CHALLENGE_CHOOSE' : 'CHALLENGE_NOT_FOUND') };
  }

  /** An image the user asked about; the site lists hold for it too, however it was started. */
  async startImageTask(request: ImageStartRequest): Promise<SolveReply> {
    const { settings } = await this.deps.settings();
    if (!isFrameAllowed(settings, await this.deps.registry.topUrl(request.tabId), request.websiteURL)) {
      const { image: _image, ...withoutImage } = request;
      await this.deps.engine.fail(withoutImage, taskError('SITE_NOT_ALLOWED'));
      return { ok: false, error: taskError('SITE_NOT_ALLOWED') };
    }
    return this.solve(request);
  }

  /** Forgets a tab's pending gesture and delayed auto-solves with its captchas (closed, or a new document). */
  async dropTab(tabId: number): Promise<void> {
    for (const [key, start] of this.scheduled) {
      if (start.tabId !== tabId) continue;
      clearTimeout(start.timer);
      this.scheduled.delete(key);
    }
    await this.dismiss(tabId);
  }

  /** Auto-solves waiting for their delay, soonest first. */
  scheduledStarts(): ScheduledStart[] {
    return [...this.scheduled.values()].map(({ timer: _timer, ...start }) => start).sort((a, b) => a.at - b.at);
  }

  private startTask(tabId: number, item: FrameCaptcha): Promise<SolveReply> {
    return this.solve({ tabId, frameId: item.frameId, captcha: item.captcha, websiteURL: item.url });
  }

  private async solve(request: Parameters<TaskEngine['solve']>[0]): Promise<SolveReply> {
    const result = await this.deps.engine.solve(request);
    return result.ok ? { ok: true, taskId: result.task.id } : { ok: false, error: result.error };
  }

  /** Auto-solve for families set to auto, once per widget, within the spending guard. Serialized. */
  private autoSolve(tabId: number, items: FrameCaptcha[]): Promise<void> {
    return this.serially(async () => {
      const { settings, apiKey } = await this.deps.settings();
      if (!apiKey) return;
      for (const item of items) {
        const family = familyOf(item.captcha);
        if (!settings.families[family].enabled || settings.families[family].mode !== 'auto') continue;
        const wait = delayFor(settings.delays[family], this.deps.random ?? Math.random);
        if (wait > 0) this.schedule(tabId, item, wait);
        else await this.autoStart(tabId, item, settings);
      }
    });
  }

  private async autoStart(tabId: number, item: FrameCaptcha, settings: Settings): Promise<void> {
    if ((await this.deps.spend.status(settings, this.deps.now())).paused) return;
    if (await this.deps.registry.claim(tabId, `${item.frameId}|${item.captcha.id}`)) await this.startTask(tabId, item);
  }

  /** Starts the auto-solve after the delay, with everything checked again then: the widget may be gone, or the settings changed. */
  private schedule(tabId: number, item: FrameCaptcha, wait: number): void {
    const key = `${tabId}|${item.frameId}|${item.captcha.id}`;
    if (this.scheduled.has(key)) return;
    const timer = setTimeout(() => {
      void this.serially(async () => {
        if (this.scheduled.get(key)?.timer !== timer) return;
        this.scheduled.delete(key);
        const { settings, apiKey } = await this.deps.settings();
        const family = settings.families[familyOf(item.captcha)];
        if (!apiKey || !family.enabled || family.mode !== 'auto') return;
        const { visible } = await this.visible(tabId, settings, true);
        const still = visible.find((c) => c.frameId === item.frameId && c.captcha.id === item.captcha.id);
        if (still) await this.autoStart(tabId, still, settings);
      });
    }, wait);
    this.scheduled.set(key, { tabId, frameId: item.frameId, captchaId: item.captcha.id, at: this.deps.now() + wait, timer });
  }

  private serially(fn: () => Promise<void>): Promise<void> {
    const run = this.autoSolving.then(fn);
    this.autoSolving = run.catch(() => undefined);
    return run;
  }
}
