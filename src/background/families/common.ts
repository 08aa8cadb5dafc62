/** What the background knows of a captcha family: the task it asks for, what it delivers, how it polls. */
import type { TaskCaptcha } from '../../shared/captcha';
import type { TaskProxy } from '../../shared/power-settings';
import type { ImageSettings } from '../../shared/settings';
import { TOKEN_MAX } from '../../shared/validate';

export interface PollSchedule {
  /** Wait after createTask before the first getTaskResult. */
  firstPollMs: number;
  intervalMs: number;
  /** Give up this long after the task was created. */
  deadlineMs: number;
  /** Hard cap on getTaskResult calls per task (the service allows 120). */
  maxPolls: number;
}

/** The service's rule: never two getTaskResult calls for one task less than 2 s apart. */
export const MIN_POLL_GAP_MS = 2_000;
/**
 * The shortest interval a schedule uses: the rule plus room for the network, so two polls sent
 * 2 s apart never arrive closer together at the service.
 */
export const SHORTEST_INTERVAL_MS = 2_200;

/** The longest delivery a frame is sent (a token, or the fields a site submits). */
const DELIVERY_MAX = TOKEN_MAX;

export interface PayloadOptions {
  serviceUrl: string;
  v3MinScore: number;
  /** Image families: the base64 image (no data: prefix). */
  image?: string;
  imageText?: Pick<ImageSettings, 'numeric' | 'caseSensitive' | 'math' | 'threshold'>;
  /** The browser's user agent, for the tasks that take one. */
  userAgent?: string;
  /** The user's proxy: given only for a captcha whose family says it takes one (takesProxy). */
  proxy?: TaskProxy;
}

/**
 * One family in the background: one module per family in this folder, listed once in
 * ./index.ts. The engine and the payload code never branch on a family.
 */
export interface BackgroundFamily<C extends TaskCaptcha = TaskCaptcha> {
  readonly family: C['family'];
  /** The createTask `task` object the service expects for this captcha. */
  task(captcha: C, websiteURL: string, options: PayloadOptions): Record<string, unknown>;
  /**
   * What goes into the page from a ready solution: the token, or for families that submit
   * several values, those values as JSON; null when the solution has nothing usable.
   */
  delivery(captcha: C, solution: Record<string, unknown>): string | null;
  readonly schedule: PollSchedule;
  /**
   * Whether a new task may be made for this captcha after an unsolvable answer (the user's
   * "new tasks after an unsolvable one"); false where the task carries something single-use.
   */
  recreatable?(captcha: C): boolean;
  /** Whether this captcha's task takes the user's proxy (absent: never, e.g. reCAPTCHA v3 and images). */
  takesProxy?(captcha: C): boolean;
}

/**
 * A task with the user's proxy, when there is one for it: the proxy fields, and the browser's
 * user agent, so the service solves as this browser would through that proxy.
 */
export function proxied(task: Record<string, unknown>, options: PayloadOptions): Record<string, unknown> {
  if (!options.proxy) return task;
  return { ...task, ...options.proxy, ...(options.userAgent && { userAgent: options.userAgent }) };
}

/** A string the service sent, within bounds: what a delivery may carry. */
export function boundedString(value: unknown, max = DELIVERY_MAX): string | null {
  return typeof value === 'string' && value.length > 0 && value.length <= max ? value : null;
}
