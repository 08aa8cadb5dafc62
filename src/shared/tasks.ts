import type { ErrorReply } from './errors';
import { isImageBody, isTaskCaptcha, type TaskCaptcha } from './captcha';

export type TaskState =
  | 'queued' // clicked; createTask not sent yet (or will be retried)
  | 'creating' // createTask sent, answer pending
  | 'solving' // the service has the task; polling getTaskResult
  | 'ready' // token received, not yet in the page
  | 'delivered'
  | 'failed'
  | 'expired'
  | 'cancelled';

export const ACTIVE_STATES: ReadonlySet<TaskState> = new Set(['queued', 'creating', 'solving', 'ready']);

/** A task's failure: the one error shape (shared/errors.ts). */
export type TaskError = ErrorReply;

/** Persisted before every step, so a restarted service worker continues where it stopped. */
export interface TaskRecord {
  id: string;
  tabId: number;
  frameId: number;
  captchaId: string;
  captcha: TaskCaptcha;
  websiteURL: string;
  /** Image families: the base64 image sent with createTask (dropped when the task ends). */
  image?: string;
  /** Service base URL at click time; a settings change does not move a running task. */
  serviceUrl: string;
  /**
   * 'fallback': the first service refused the task before making it, and it moved to the
   * fallback service (serviceUrl is then the fallback's). Recorded before the fallback's
   * createTask, so a restarted worker sends it there only. Absent: the first service.
   */
  account?: 'fallback';
  state: TaskState;
  createdAt: number;
  updatedAt: number;
  /** The service's task id (opaque: numbers at CapMonster, strings elsewhere). */
  serviceTaskId?: number | string;
  /** When createTask was last answered; the poll schedule counts from here. */
  submittedAt?: number;
  /** When the next step is due (poll, create retry). */
  dueAt: number;
  polls: number;
  lastPollAt?: number;
  /** Tasks asked of the service for this click (the first and each re-creation; re-sends after a refusal do not count), and transient failures in a row. */
  createAttempts: number;
  transientFailures: number;
  token?: string;
  tokenAt?: number;
  cost?: number;
  error?: TaskError;
  /** Last transient problem, shown while retrying. */
  warning?: TaskError;
  finishedAt?: number;
}

/** Engine bookkeeping the popup has no use for; the token never leaves the background. */
type InternalTaskField = 'token' | 'image' | 'dueAt' | 'lastPollAt' | 'createAttempts' | 'transientFailures' | 'updatedAt';

/** What the popup may see of a task: no token, no image. */
export type TaskView = Omit<TaskRecord, InternalTaskField>;

export function toTaskView(task: TaskRecord): TaskView {
  const { token: _token, image: _image, dueAt: _due, lastPollAt: _last, createAttempts: _a, transientFailures: _t, updatedAt: _u, ...view } = task;
  return view;
}

const STATES: ReadonlySet<string> = new Set(['queued', 'creating', 'solving', 'ready', 'delivered', 'failed', 'expired', 'cancelled']);

/** Enough of a check that the engine can act on a stored task without tripping on it. */
export function isTaskRecord(v: unknown): v is TaskRecord {
  if (typeof v !== 'object' || v === null) return false;
  const t = v as Record<string, unknown>;
  return (
    typeof t.id === 'string' &&
    Number.isSafeInteger(t.tabId) &&
    Number.isSafeInteger(t.frameId) &&
    typeof t.captchaId === 'string' &&
    isTaskCaptcha(t.captcha) &&
    (t.image === undefined || isImageBody(t.image)) &&
    typeof t.websiteURL === 'string' &&
    typeof t.serviceUrl === 'string' &&
    (t.account === undefined || t.account === 'fallback') &&
    typeof t.state === 'string' &&
    STATES.has(t.state) &&
    typeof t.createdAt === 'number' &&
    typeof t.updatedAt === 'number' &&
    typeof t.dueAt === 'number' &&
    Number.isSafeInteger(t.polls) &&
    Number.isSafeInteger(t.createAttempts) &&
    Number.isSafeInteger(t.transientFailures)
  );
}
