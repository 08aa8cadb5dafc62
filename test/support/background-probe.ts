/**
 * Chromium: instruments the extension's service worker from the test (the product is unchanged),
 * so a test can wait for what the background did instead of sleeping.
 *
 * - A log of the runtime messages the background receives from content scripts: a second
 *   `onMessage` listener beside the extension's own sees each one as it is dispatched.
 * - A barrier: a message sent from a frame's content-script world, which that listener answers.
 *   A frame's messages reach the worker in the order it sent them, so the reply proves that every
 *   message the frame sent before has been dispatched to the background.
 * - idle(): resolves once none of the background's asynchronous calls (storage, fetch, tabs,
 *   badge, alarms) is pending and none starts for a few task turns: it has finished acting on
 *   everything it received (work it booked for later, like the next poll in 2 s, is not waited for).
 *
 * A restarted worker loses all of it, so each call checks it is talking to the same installation.
 */
import type { Worker } from 'playwright';
import type { ContentWorlds } from './key-leak';

export interface ReceivedMessage {
  type: string;
  tabId: number;
  frameId: number;
  message: unknown;
}

interface ProbeState {
  id: string;
  received: ReceivedMessage[];
  pending: number;
  /** Bumped by every call and every settlement, so idle() sees work that starts and ends between two looks. */
  activity: number;
  idle(timeoutMs: number): Promise<void>;
}

type ProbeGlobal = typeof globalThis & { __caprelayTestProbe?: ProbeState };

const BARRIER = 'caprelay-test-barrier';

export class BackgroundProbe {
  private constructor(
    private readonly worker: () => Promise<Worker>,
    private readonly id: string,
  ) {}

  /** Installs the probe in the running worker (`worker` finds it, as ChromiumSession.worker does). */
  static async install(worker: () => Promise<Worker>): Promise<BackgroundProbe> {
    const id = await (await worker()).evaluate(installProbe, BARRIER);
    return new BackgroundProbe(worker, id);
  }

  /** The installation in the running worker, checked to be the one this probe made. */
  private check(id: string): void {
    if (id !== this.id) throw new Error('the background probe is gone: the service worker restarted');
  }

  /** Messages the background received from content scripts of this tab (all tabs without one), in order. */
  async received(tabId?: number): Promise<ReceivedMessage[]> {
    const [id, all] = await (
      await this.worker()
    ).evaluate(() => {
      const state = (globalThis as ProbeGlobal).__caprelayTestProbe;
      return [state?.id ?? '', state?.received ?? []] as const;
    });
    this.check(id);
    return tabId === undefined ? [...all] : all.filter((m) => m.tabId === tabId);
  }

  /** Of those, the ones of this type. */
  async receivedOfType(type: string, tabId?: number): Promise<ReceivedMessage[]> {
    return (await this.received(tabId)).filter((m) => m.type === type);
  }

  /** Resolves once the background has nothing left in flight (see above); throws after `timeoutMs`. */
  async idle(timeoutMs = 20_000): Promise<void> {
    const id = await (
      await this.worker()
    ).evaluate(async (timeout) => {
      const state = (globalThis as ProbeGlobal).__caprelayTestProbe;
      if (!state) return '';
      await state.idle(timeout);
      return state.id;
    }, timeoutMs);
    this.check(id);
  }

  /**
   * A round trip from a content-script world (the top frame's, or `contextId`'s): when it returns,
   * everything that frame sent before has reached the background.
   */
  async barrier(worlds: ContentWorlds, contextId?: number): Promise<void> {
    const reply = await worlds.evaluate<{ probe?: string } | undefined>(`chrome.runtime.sendMessage({ type: ${JSON.stringify(BARRIER)} })`, contextId);
    if (reply?.probe !== this.id) throw new Error(`no answer from the background probe to the barrier (got ${JSON.stringify(reply)})`);
  }

  /** The barrier in every frame's content-script world of the page. */
  async barrierAll(worlds: ContentWorlds): Promise<void> {
    await worlds.waitForWorld();
    for (const id of worlds.ids()) await this.barrier(worlds, id);
  }

  /**
   * The barrier, idle(), and the barrier again: the background has received and acted on all the
   * page's frames sent, and its answers to them have reached the frames (they went out before the
   * second barrier's reply, on the same way back).
   */
  async settled(worlds: ContentWorlds): Promise<void> {
    await this.barrierAll(worlds);
    await this.idle();
    await this.barrierAll(worlds);
  }
}

/** Runs in the service worker. Returns the installation's id (the existing one if already installed). */
function installProbe(barrier: string): string {
  const g = globalThis as ProbeGlobal;
  if (g.__caprelayTestProbe) return g.__caprelayTestProbe.id;
  const state: ProbeState = {
    id: Math.random().toString(36).slice(2),
    received: [],
    pending: 0,
    activity: 0,
    idle: (timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        const deadline = Date.now() + timeoutMs;
        let seen = -1;
        let quietTurns = 0;
        const look = (): void => {
          if (state.pending === 0 && state.activity === seen) quietTurns++;
          else quietTurns = 0;
          seen = state.activity;
          // Three task turns with nothing pending and nothing new: also lets 0 ms timers the
          // background set (a task's first step) run and show up as activity.
          if (quietTurns >= 3) return resolve();
          if (Date.now() > deadline) return reject(new Error(`the background never went idle (${state.pending} calls pending)`));
          setTimeout(look, 0);
        };
        setTimeout(look, 0);
      }),
  };
  const settle = (): void => {
    state.pending--;
    state.activity++;
  };
  const track = (owner: Record<string, unknown> | undefined, name: string): void => {
    const original = owner?.[name];
    if (!owner || typeof original !== 'function') return;
    owner[name] = function (this: unknown, ...args: unknown[]): unknown {
      state.pending++;
      state.activity++;
      const last = args.length - 1;
      const callback = args[last];
      if (typeof callback === 'function') {
        // Callback style (webextension-polyfill calls the chrome.* APIs this way).
        args[last] = function (this: unknown, ...results: unknown[]): unknown {
          settle();
          return (callback as (...a: unknown[]) => unknown).apply(this, results);
        };
        return (original as (...a: unknown[]) => unknown).apply(this, args);
      }
      let result: unknown;
      try {
        result = (original as (...a: unknown[]) => unknown).apply(this, args);
      } catch (error) {
        settle();
        throw error;
      }
      if (result && typeof (result as Promise<unknown>).then === 'function') (result as Promise<unknown>).then(settle, settle);
      else settle();
      return result;
    };
  };
  const api = chrome as unknown as Record<string, Record<string, unknown> | undefined>;
  const storage = api.storage as unknown as Record<string, Record<string, unknown> | undefined> | undefined;
  for (const area of ['local', 'session']) for (const name of ['get', 'set', 'remove']) track(storage?.[area], name);
  for (const name of ['sendMessage', 'get', 'query']) track(api.tabs, name);
  for (const name of ['setBadgeText', 'setBadgeBackgroundColor']) track(api.action, name);
  for (const name of ['create', 'clear']) track(api.alarms, name);
  track(g, 'fetch');

  chrome.runtime.onMessage.addListener((message: unknown, sender, sendResponse) => {
    const type = typeof message === 'object' && message !== null ? String((message as { type?: unknown }).type) : typeof message;
    if (type === barrier) {
      sendResponse({ probe: state.id });
      return false;
    }
    if (sender.tab?.id !== undefined) state.received.push({ type, tabId: sender.tab.id, frameId: sender.frameId ?? -1, message });
    return false;
  });
  g.__caprelayTestProbe = state;
  return state.id;
}
