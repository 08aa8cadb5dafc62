/**
 * The page world has two parts. The probe runs in every frame at document_start and is small: it
 * sets the traps each family needs before the page's scripts run (the vendor globals, the
 * callbacks a vendor script will call) and records what passes through them. The hooks, which
 * read widget parameters from page memory and run the page's callbacks with a token, load only
 * in frames where a vendor marker showed, later; they attach to the probe through this channel
 * and take over what it recorded.
 *
 * The channel lives on the page's window, like everything in this world, so the page can see it:
 * it holds nothing secret, and whatever a page does with it only costs its own detection, as
 * forging the probe's events always could.
 */
import type * as PageDom from '../page-dom/dom';
import type { AnyFunction, Builtins, Interceptor } from './intercept';

export const CHANNEL_KEY = '__caprelayProbe';

/** One call that went through a trap. `name` is `<family>.<what>`, e.g. `recaptcha.render`. */
export interface TrapCall {
  name: string;
  original: AnyFunction;
  self: unknown;
  args: unknown[];
  result?: unknown;
  /** What the trap knew besides the call (e.g. the script an Arkose setup came from). */
  meta?: Record<string, string>;
  /** The hooks were asked to answer it (so they have seen it already). */
  offered?: boolean;
  /** Not passed to the page's function yet (see `held`); `release()` does it. */
  held?: boolean;
  release?: () => unknown;
}

export interface AttachedHooks {
  /** Each call after attaching (the earlier ones come back from attach()). */
  onCall: (call: TrapCall) => void;
  /**
   * Before a trapped function runs: the hooks may answer in its place ({ value }), or let it run
   * (undefined). Only names a family marked `answerable` are asked.
   */
  answer?(call: TrapCall): { value: unknown } | undefined;
}

export interface ProbeChannel {
  readonly builtins: Builtins;
  readonly intercept: Interceptor;
  /** The DOM helpers as the probe took them at document_start. */
  readonly dom: typeof PageDom;
  /** The JSON-string event detail parser the probe took at document_start. */
  readonly parseDetail: typeof import('../shared/page-protocol').parseDetail;
  /** Attaches the hooks once; returns the calls recorded so far. */
  attach(hooks: AttachedHooks): readonly TrapCall[];
}

/**
 * A family's part in the probe: which globals to trap at document_start, and which trapped calls
 * to hold until the hooks decide (a GeeTest v3 challenge is single-use: the real widget must not
 * take it before CapRelay has). Small by rule: it runs in every frame of every page.
 */
export interface FamilyTraps {
  family: string;
  install?(trap: TrapKit): void;
  /** A script of this family's (its src shows the family's marker) that the probe saw (see watchMarkup in ../probe.ts). */
  onScript?: (script: Element, src: string, trap: TrapKit) => void;
  /** At DOMContentLoaded, at load, and when the content script asks for a look: what a page may have defined by then. */
  onLoad?(trap: TrapKit): void;
}

export interface RecordOptions {
  meta?: Record<string, string>;
  /** The call waits for the hooks (released after a while if they never come, so the page still works). */
  hold?: boolean;
  /** The hooks may answer it instead of the page's function (see AttachedHooks.answer). */
  answerable?: boolean;
  /** A constructor: `new` calls are recorded too. */
  construct?: boolean;
}

export interface TrapKit {
  readonly intercept: Interceptor;
  readonly dom: typeof PageDom;
  /** Wraps `fn` so each call is recorded as `name` (and the family's marker raised). */
  record(name: string, fn: unknown, options?: RecordOptions): unknown;
  /** Raises the family's marker without a call (a vendor script seen, a global defined). */
  marker(): void;
}

/** A family's hooks, loaded with the others where a marker showed. */
export interface FamilyHooks {
  family: string;
  /** One call through the family's traps (earlier ones first, in order). */
  onCall?(call: TrapCall): void;
  answer?(call: TrapCall): { value: unknown } | undefined;
  /** Report what the page's memory tells about this family's widgets. */
  report(): void;
  /** Run the page's callbacks with a delivered token (request already validated). */
  deliver?(request: import('../shared/page-protocol').DeliverRequest): 'called' | 'none' | 'failed';
  /**
   * The content script's word on held widgets (by the `ref` their reports carry): CapRelay solves
   * these here (claimed), or it will not (released: the page's own call goes through).
   */
  decide?(claimed: readonly string[], released: readonly string[]): void;
}

export interface HookContext {
  readonly channel: ProbeChannel;
  /** Sends a report to the content script, on the widget's element when known. */
  emit: (report: import('../shared/page-protocol').ProbeReport, target: Element | null) => void;
}

export type HooksFactory = (context: HookContext) => FamilyHooks;
