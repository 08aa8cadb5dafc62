/**
 * What the content scripts found, per tab and frame: page-fed data, so it lives on a budget.
 *
 * Each tab has its own storage.session key (`frames:<tabId>`), and a small index keeps every
 * tab's size, so one tab can never fill the area for the others or for the task records: a tab
 * is held to a number of frames, captchas and bytes, and all tabs together to a total well
 * under the area's quota. A write that would go past a bound, or that the browser refuses, drops
 * page-fed data of that tab only. Frames that left the page are forgotten: the content script
 * reports an empty list on pagehide, and before captchas are listed or solved each frame is
 * asked which of them it still has; one that does not answer is not listed.
 */
import { isCaptcha, type Captcha } from '../shared/captcha';
import { NOTICES, type FrameCaptcha, type Notice } from '../shared/messages';
import { isInteger, isRecord, isString } from '../shared/validate';
import type { StorageArea } from './storage';
import { STORAGE } from '../shared/storage-catalogue';

export const REGISTRY_LIMITS = {
  /** Frames with captchas per tab: real pages have one or two. */
  framesPerTab: 32,
  captchasPerTab: 100,
  /** JSON bytes of one tab's entry. */
  bytesPerTab: 512_000,
  /** All tabs together: storage.session holds 10 MB, and task records need the rest. */
  bytesTotal: 4_000_000,
  /** Auto-solve claims remembered per tab (one per widget auto-solve started). */
  claimsPerTab: 200,
} as const;

const KEY_PREFIX = STORAGE.framesOfTab.key;
const INDEX_KEY = STORAGE.framesIndex.key;

interface FrameEntry {
  url: string;
  at: number;
  captchas: Captcha[];
  notices?: Notice[];
}

interface TabEntry {
  /** The top frame's address: what the site lists decide on for the whole tab. */
  top?: string;
  frames: Record<string, FrameEntry>;
  /** `frameId|captchaId` of widgets auto-solve has started (or tried), so each is auto-solved once. */
  claims: string[];
  /** Frames showing a FunCaptcha image challenge now, with their address. */
  challenges: Record<string, string>;
}

/** A frame's answer to "which of your captchas are still there": ids; null: gone; undefined: no answer in time. */
export type FrameAnswer = string[] | null | undefined;

export interface RegistryDeps {
  area: StorageArea;
  now(): number;
  ask(tabId: number, frameId: number): Promise<FrameAnswer>;
  /** The tab's web address as the browser knows it now (tabs.get), for a tab no frame has reported from. */
  tabUrl(tabId: number): Promise<string | undefined>;
}

export type ReportOutcome = 'stored' | 'refused';

const keyOf = (tabId: number): string => `${KEY_PREFIX}${tabId}`;

function parseTab(stored: unknown): TabEntry {
  const entry: TabEntry = { frames: {}, claims: [], challenges: {} };
  if (!isRecord(stored)) return entry;
  if (isString(stored.top)) entry.top = stored.top;
  if (isRecord(stored.frames)) {
    for (const [frameId, frame] of Object.entries(stored.frames)) {
      if (!isRecord(frame) || !isString(frame.url) || typeof frame.at !== 'number' || !Array.isArray(frame.captchas)) continue;
      entry.frames[frameId] = { url: frame.url, at: frame.at, captchas: frame.captchas.filter(isCaptcha) };
      const notices = Array.isArray(frame.notices) ? frame.notices.filter((n): n is Notice => (NOTICES as readonly unknown[]).includes(n)) : [];
      if (notices.length) entry.frames[frameId].notices = notices;
    }
  }
  if (Array.isArray(stored.claims)) entry.claims = stored.claims.filter(isString).slice(-REGISTRY_LIMITS.claimsPerTab);
  if (isRecord(stored.challenges)) {
    for (const [frameId, url] of Object.entries(stored.challenges)) if (isString(url)) entry.challenges[frameId] = url;
  }
  return entry;
}

function parseIndex(stored: unknown): Record<string, number> {
  const index: Record<string, number> = {};
  if (!isRecord(stored)) return index;
  for (const [tabId, bytes] of Object.entries(stored)) if (isInteger(bytes) && bytes > 0) index[tabId] = bytes;
  return index;
}

const sizeOf = (tabId: number, entry: TabEntry): number => keyOf(tabId).length + JSON.stringify(entry).length;
const captchaCount = (entry: TabEntry): number => Object.values(entry.frames).reduce((n, f) => n + f.captchas.length, 0);

function overBudget(entry: TabEntry, bytes: number): boolean {
  return Object.keys(entry.frames).length > REGISTRY_LIMITS.framesPerTab || captchaCount(entry) > REGISTRY_LIMITS.captchasPerTab || bytes > REGISTRY_LIMITS.bytesPerTab;
}

export class CaptchaRegistry {
  /** Every write goes through one chain: the index and the tab entries change together. */
  private chain: Promise<unknown> = Promise.resolve();
  /**
   * What this worker last read or wrote, by key: this registry is the area's only writer of its
   * keys, so each is read from storage once per worker life (after a restart, storage holds the
   * state). Listing a tab then waits on no storage read, only on the frames' answers.
   */
  private readonly known = new Map<string, unknown>();

  constructor(private readonly deps: RegistryDeps) {}

  /**
   * One frame's list (empty: the frame has none, or its document is going away). `url` is the
   * frame's address, or null when it has none a task may use; `topUrl` the tab's address as the
   * browser gave it with the message (sender.tab.url), when it did.
   */
  report(tabId: number, frameId: number, url: string | null, topUrl: string | undefined, captchas: Captcha[], notices: Notice[] = []): Promise<ReportOutcome> {
    return this.serialized(async () => {
      const entry = await this.read(tabId);
      // The browser's word for the tab's address comes first; the top frame's own next.
      const top = topUrl ?? (frameId === 0 ? (url ?? undefined) : undefined);
      if (top !== undefined) entry.top = top;
      if ((captchas.length === 0 && notices.length === 0) || url === null) delete entry.frames[frameId];
      else entry.frames[frameId] = { url, at: this.deps.now(), captchas, ...(notices.length && { notices }) };
      if (overBudget(entry, sizeOf(tabId, entry))) await this.pruneDead(tabId, entry);
      if (overBudget(entry, sizeOf(tabId, entry))) {
        // Still too much after forgetting the frames that left: this frame's list is refused.
        // (The top frame's address is kept: the site decision must not depend on a flood.)
        delete entry.frames[frameId];
        await this.write(tabId, entry);
        return 'refused';
      }
      return (await this.write(tabId, entry)) ? 'stored' : 'refused';
    });
  }

  clearTab(tabId: number): Promise<void> {
    return this.serialized(async () => {
      await this.drop(keyOf(tabId));
      await this.updateIndex(tabId, 0);
    });
  }

  /**
   * The tab's top address: as the browser gave it with a frame's report, else as it gives it now.
   * A page without a captcha sends nothing (its frames stay silent), yet an image the user picks
   * there is held to the site lists by this address.
   */
  async topUrl(tabId: number): Promise<string | undefined> {
    return (await this.read(tabId)).top ?? (await this.deps.tabUrl(tabId));
  }

  /**
   * The tab's captchas, top frame first. `live`: only those whose frame answers that it still
   * has them now (frames that are gone are forgotten); else what was last reported (the badge).
   * A frame that reported less than `trustMs` ago is taken at its word without being asked: its
   * answer would be its report again, after the frame's busy main thread gets to it.
   */
  async list(tabId: number, live: boolean, trustMs = 0): Promise<FrameCaptcha[]> {
    let entry = await this.read(tabId);
    const now = this.deps.now();
    const toAsk = Object.keys(entry.frames).filter((frameId) => now - entry.frames[frameId]!.at >= trustMs);
    if (live && toAsk.length > 0) {
      const answers = await this.askAll(tabId, toAsk);
      entry = await this.serialized(async () => {
        const current = await this.read(tabId);
        if (this.forget(current, answers)) await this.write(tabId, current);
        return current;
      });
      // A frame that did not answer in time is kept for later, but not listed now.
      for (const [frameId, answer] of answers) if (answer === undefined) delete entry.frames[frameId];
    }
    const list: FrameCaptcha[] = [];
    for (const [frameId, frame] of Object.entries(entry.frames)) {
      const id = Number(frameId);
      if (!isInteger(id)) continue;
      for (const captcha of frame.captchas) list.push({ frameId: id, url: frame.url, captcha });
    }
    return list.sort((a, b) => a.frameId - b.frameId);
  }

  /** A frame says a FunCaptcha image challenge is shown in it (its address), or no longer (null). */
  setChallenge(tabId: number, frameId: number, url: string | null): Promise<void> {
    return this.serialized(async () => {
      const entry = await this.read(tabId);
      if (url === null) delete entry.challenges[frameId];
      else if (frameId in entry.challenges || Object.keys(entry.challenges).length < REGISTRY_LIMITS.framesPerTab) entry.challenges[frameId] = url;
      await this.write(tabId, entry);
    });
  }

  /** The frames of the tab showing a FunCaptcha image challenge, by frame id. */
  async challenges(tabId: number): Promise<{ frameId: number; url: string }[]> {
    return Object.entries((await this.read(tabId)).challenges)
      .map(([frameId, url]) => ({ frameId: Number(frameId), url }))
      .filter((c) => isInteger(c.frameId))
      .sort((a, b) => a.frameId - b.frameId);
  }

  /** What the tab's frames show that is no captcha to solve (last reported). */
  async notices(tabId: number): Promise<{ url: string; notice: Notice }[]> {
    return Object.values((await this.read(tabId)).frames).flatMap((frame) => (frame.notices ?? []).map((notice) => ({ url: frame.url, notice })));
  }

  /** Records that auto-solve took this widget; false if it already had. */
  claim(tabId: number, key: string): Promise<boolean> {
    return this.serialized(async () => {
      const entry = await this.read(tabId);
      if (entry.claims.includes(key)) return false;
      entry.claims.push(key);
      entry.claims.splice(0, Math.max(0, entry.claims.length - REGISTRY_LIMITS.claimsPerTab));
      return this.write(tabId, entry);
    });
  }

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async read(tabId: number): Promise<TabEntry> {
    return parseTab(await this.stored(keyOf(tabId)));
  }

  private async readIndex(): Promise<Record<string, number>> {
    return parseIndex(await this.stored(INDEX_KEY));
  }

  /** A copy of the stored value (callers change what they read before writing it back). */
  private async stored(key: string): Promise<unknown> {
    if (!this.known.has(key)) {
      const value = (await this.deps.area.get(key))[key];
      // A write that came while reading is newer than what was read.
      if (!this.known.has(key)) this.known.set(key, value);
    }
    const value = this.known.get(key);
    return value === undefined ? undefined : structuredClone(value);
  }

  /** Known at once (a listing need not wait for the browser's write); unknown again if the write fails. */
  private async store(key: string, value: unknown): Promise<void> {
    this.known.set(key, structuredClone(value));
    try {
      await this.deps.area.set({ [key]: value });
    } catch (error) {
      this.known.delete(key);
      throw error;
    }
  }

  private async drop(key: string): Promise<void> {
    this.known.set(key, undefined);
    try {
      await this.deps.area.remove(key);
    } catch (error) {
      this.known.delete(key);
      throw error;
    }
  }

  private async askAll(tabId: number, frameIds: string[]): Promise<Map<string, FrameAnswer>> {
    const answers = await Promise.all(frameIds.map((frameId) => this.deps.ask(tabId, Number(frameId)).catch(() => null)));
    return new Map(frameIds.map((frameId, i) => [frameId, answers[i]]));
  }

  /** Drops frames that are gone and captchas their frame no longer has; true if anything changed. */
  private forget(entry: TabEntry, answers: Map<string, FrameAnswer>): boolean {
    let changed = false;
    for (const [frameId, answer] of answers) {
      const frame = entry.frames[frameId];
      if (!frame || answer === undefined) continue;
      const kept = answer === null ? [] : frame.captchas.filter((c) => answer.includes(c.id));
      if (kept.length === frame.captchas.length && answer !== null) continue;
      changed = true;
      // A frame still there keeps what else it showed (a notice); one that is gone keeps nothing.
      if (kept.length || (answer !== null && frame.notices)) frame.captchas = kept;
      else delete entry.frames[frameId];
    }
    return changed;
  }

  private async pruneDead(tabId: number, entry: TabEntry): Promise<void> {
    this.forget(entry, await this.askAll(tabId, Object.keys(entry.frames)));
  }

  /** Writes one tab's entry within the budgets; false when it had to be dropped instead. */
  private async write(tabId: number, entry: TabEntry): Promise<boolean> {
    const key = keyOf(tabId);
    const empty = Object.keys(entry.frames).length === 0 && Object.keys(entry.challenges).length === 0 && entry.claims.length === 0 && entry.top === undefined;
    if (empty) {
      await this.drop(key);
      await this.updateIndex(tabId, 0);
      return true;
    }
    const bytes = sizeOf(tabId, entry);
    const index = await this.readIndex();
    const others = Object.entries(index).reduce((sum, [id, size]) => (id === String(tabId) ? sum : sum + size), 0);
    try {
      if (others + bytes > REGISTRY_LIMITS.bytesTotal) throw new Error('page data over its total budget');
      await this.store(key, entry);
      await this.updateIndex(tabId, bytes);
      return true;
    } catch {
      // Over the budget, or the browser's quota: this tab's page-fed data goes, nothing else.
      await this.drop(key).catch(() => undefined);
      await this.updateIndex(tabId, 0).catch(() => undefined);
      return false;
    }
  }

  private async updateIndex(tabId: number, bytes: number): Promise<void> {
    const index = await this.readIndex();
    if ((index[tabId] ?? 0) === bytes) return;
    if (bytes > 0) index[tabId] = bytes;
    else delete index[tabId];
    await this.store(INDEX_KEY, index);
  }
}
