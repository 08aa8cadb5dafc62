/**
 * The task engine: turns a click into a delivered token within the service's rules.
 *
 * queued → creating → solving → ready → delivered, or failed / expired / cancelled.
 * Each step is persisted before its network call, so a service worker stopped at any point
 * resumes from storage. A task found in `creating` after a restart is never re-sent: its
 * createTask may have reached the service, and sending it again could pay twice.
 */
import { captchaIdentity, type Captcha } from '../shared/captcha';
import { classifyError, describeError, type ServiceError } from '../shared/errors';
import { ACTIVE_STATES, type TaskError, type TaskRecord, type TaskState } from '../shared/tasks';
import type { ApiResult, TaskResult } from './api';
import { buildTask, tokenOf } from './task-payload';

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
export const SCHEDULES: Record<Captcha['family'], PollSchedule> = {
  recaptcha: { firstPollMs: 2_000, intervalMs: 3_000, deadlineMs: 180_000, maxPolls: 60 },
  funcaptcha: { firstPollMs: 3_000, intervalMs: 2_500, deadlineMs: 120_000, maxPolls: 48 },
};
/** createTask retries for answers that prove no task was made (no slot, 5xx, offline). */
export const MAX_CREATE_RETRIES = 5;
export const MAX_BACKOFF_MS = 30_000;
/** A token older than this is not put into a page (the reference plans for ~60 s of validity). */
export const TOKEN_DELIVERY_WINDOW_MS = 60_000;
/** Finished tasks stay visible this long, then only their history entry remains. */
export const FINISHED_TASK_TTL_MS = 15 * 60_000;

export interface SolverClient {
  createTask(task: Record<string, unknown>, callbackUrl?: string): Promise<ApiResult<number | string>>;
  getTaskResult(taskId: number | string): Promise<ApiResult<TaskResult>>;
}

export type DeliveryOutcome = { delivered: true } | { delivered: false; code: 'TAB_CLOSED' | 'WIDGET_GONE' };

export interface TaskStore {
  /** Serialized read-modify-write of all tasks; `fn` may change the record map in place. */
  mutate<T>(fn: (tasks: Record<string, TaskRecord>) => T): Promise<T>;
}

export interface EngineConfig {
  apiKey: string;
  serviceUrl: string | null;
  recreateAttempts: number;
  v3MinScore: number;
  callbackUrl: string;
}

export interface EngineDeps {
  now(): number;
  random(): number;
  newId(): string;
  store: TaskStore;
  config(): Promise<EngineConfig>;
  client(serviceUrl: string, apiKey: string): SolverClient;
  deliver(task: TaskRecord): Promise<DeliveryOutcome>;
  /** Ask to be ticked at this time (timers; alarms as a backup when the worker sleeps). */
  wakeAt(time: number): void;
  /** Every persisted change (badge, popup). */
  onChange?(task: TaskRecord): void;
  /** A task reached an end state (history). */
  onFinished?(task: TaskRecord): void;
}

export interface SolveRequest {
  tabId: number;
  frameId: number;
  captcha: Captcha;
  websiteURL: string;
}

export type SolveResult = { ok: true; task: TaskRecord; existing: boolean } | { ok: false; error: TaskError };

const END_STATES: ReadonlySet<TaskState> = new Set(['delivered', 'failed', 'expired', 'cancelled']);

export function errorOf(error: ServiceError): TaskError {
  return { code: error.code, message: describeError(error) };
}

export class TaskEngine {
  private readonly inFlight = new Set<string>();
  private ticking: Promise<void> | null = null;
  private tickAgain = false;

  constructor(private readonly deps: EngineDeps) {}

  /** A user asked to solve this captcha. Returns the running task for it if there is one. */
  async solve(request: SolveRequest): Promise<SolveResult> {
    const config = await this.deps.config();
    if (!config.apiKey) return { ok: false, error: errorOf({ code: 'NO_API_KEY' }) };
    const serviceUrl = config.serviceUrl;
    if (!serviceUrl) return { ok: false, error: errorOf({ code: 'NO_SERVICE_URL' }) };
    const now = this.deps.now();
    const identity = captchaIdentity(request.captcha);
    const result = await this.deps.store.mutate((tasks) => {
      const running = Object.values(tasks).find(
        (t) =>
          ACTIVE_STATES.has(t.state) &&
          t.tabId === request.tabId &&
          t.frameId === request.frameId &&
          (t.captchaId === request.captcha.id || captchaIdentity(t.captcha) === identity),
      );
      if (running) return { task: running, existing: true };
      const task: TaskRecord = {
        id: this.deps.newId(),
        tabId: request.tabId,
        frameId: request.frameId,
        captchaId: request.captcha.id,
        captcha: request.captcha,
        websiteURL: request.websiteURL,
        serviceUrl,
        state: 'queued',
        createdAt: now,
        updatedAt: now,
        dueAt: now,
        polls: 0,
        createAttempts: 0,
        transientFailures: 0,
      };
      tasks[task.id] = task;
      return { task, existing: false };
    });
    if (!result.existing) this.deps.onChange?.(result.task);
    void this.tick();
    return { ok: true, ...result };
  }

  /** Runs every due step; safe to call any time (timers, alarms, start-up, messages). */
  tick(): Promise<void> {
    if (this.ticking) {
      this.tickAgain = true;
      return this.ticking;
    }
    this.ticking = (async () => {
      try {
        do {
          this.tickAgain = false;
          await this.runDueSteps();
        } while (this.tickAgain);
      } finally {
        this.ticking = null;
      }
    })();
    return this.ticking;
  }

  /** Cancels delivery for every task of a tab (closed or navigated away). */
  async cancelTab(tabId: number, frameId?: number): Promise<void> {
    const changed = await this.deps.store.mutate((tasks) => {
      const ended: TaskRecord[] = [];
      for (const task of Object.values(tasks)) {
        if (task.tabId !== tabId || !ACTIVE_STATES.has(task.state)) continue;
        if (frameId !== undefined && task.frameId !== frameId) continue;
        // A task mid-createTask is still owned by its step; it will find the tab gone.
        if (this.inFlight.has(task.id)) continue;
        const done = this.finish(task, 'cancelled', errorOf({ code: 'TAB_CLOSED' }));
        tasks[task.id] = done;
        ended.push(done);
      }
      return ended;
    });
    for (const task of changed) this.announce(task);
  }

  private async runDueSteps(): Promise<void> {
    const now = this.deps.now();
    const due = await this.deps.store.mutate((tasks) => {
      // Drop finished tasks after a while; history keeps their summary.
      for (const task of Object.values(tasks)) {
        if (END_STATES.has(task.state) && now - (task.finishedAt ?? task.updatedAt) > FINISHED_TASK_TTL_MS) delete tasks[task.id];
      }
      return Object.values(tasks).filter((t) => ACTIVE_STATES.has(t.state) && !this.inFlight.has(t.id));
    });
    const ready = due.filter((t) => t.dueAt <= now || t.state === 'creating');
    await Promise.all(ready.map((task) => this.runStep(task.id)));
    const later = await this.deps.store.mutate((tasks) =>
      Object.values(tasks)
        .filter((t) => ACTIVE_STATES.has(t.state) && !this.inFlight.has(t.id))
        .map((t) => t.dueAt),
    );
    if (later.length) this.deps.wakeAt(Math.min(...later));
  }

  private async runStep(id: string): Promise<void> {
    if (this.inFlight.has(id)) return;
    this.inFlight.add(id);
    try {
      await this.step(id);
    } catch (error) {
      console.error('CapRelay: task step failed', error);
    } finally {
      this.inFlight.delete(id);
    }
  }

  private async load(id: string): Promise<TaskRecord | undefined> {
    return this.deps.store.mutate((tasks) => tasks[id]);
  }

  /** Persists a new version of the task; returns null if it ended meanwhile (e.g. tab closed). */
  private async save(task: TaskRecord): Promise<TaskRecord | null> {
    const saved = await this.deps.store.mutate((tasks) => {
      const current = tasks[task.id];
      if (!current || END_STATES.has(current.state)) return null;
      const next = { ...task, updatedAt: this.deps.now() };
      tasks[task.id] = next;
      return next;
    });
    if (saved) this.announce(saved);
    return saved;
  }

  private announce(task: TaskRecord): void {
    this.deps.onChange?.(task);
    if (END_STATES.has(task.state)) this.deps.onFinished?.(task);
  }

  private finish(task: TaskRecord, state: TaskState, error?: TaskError): TaskRecord {
    const now = this.deps.now();
    const done: TaskRecord = { ...task, state, updatedAt: now, finishedAt: now, dueAt: now };
    delete done.warning;
    if (error) done.error = error;
    // A used or dead token has no reason to stay in storage.
    delete done.token;
    return done;
  }

  private async step(id: string): Promise<void> {
    const task = await this.load(id);
    if (!task || !ACTIVE_STATES.has(task.state)) return;
    switch (task.state) {
      case 'queued':
        return this.create(task);
      case 'creating':
        // Only a previous worker can have left it here (this one holds no lock on it).
        await this.save(this.finish(task, 'failed', errorOf({ code: 'CREATE_UNCONFIRMED' })));
        return;
      case 'solving':
        return this.poll(task);
      case 'ready':
        return this.deliver(task);
    }
  }

  private async create(task: TaskRecord): Promise<void> {
    const config = await this.deps.config();
    if (!config.apiKey) {
      await this.save(this.finish(task, 'failed', errorOf({ code: 'NO_API_KEY' })));
      return;
    }
    const creating = await this.save({ ...task, state: 'creating', createAttempts: task.createAttempts + 1 });
    if (!creating) return;
    const payload = buildTask(task.captcha, task.websiteURL, { serviceUrl: task.serviceUrl, v3MinScore: config.v3MinScore });
    const client = this.deps.client(task.serviceUrl, config.apiKey);
    const result = await client.createTask(payload, config.callbackUrl || undefined);
    const now = this.deps.now();
    if (result.ok) {
      const schedule = SCHEDULES[task.captcha.family];
      const solving: TaskRecord = {
        ...creating,
        state: 'solving',
        serviceTaskId: result.value,
        submittedAt: now,
        dueAt: now + schedule.firstPollMs,
        polls: 0,
        transientFailures: 0,
      };
      delete solving.warning;
      await this.save(solving);
      return;
    }
    if (result.ambiguous) {
      await this.save(this.finish(creating, 'failed', { ...errorOf({ code: 'CREATE_UNCONFIRMED' }), message: `${errorOf(result.error).message} ${errorOf({ code: 'CREATE_UNCONFIRMED' }).message}` }));
      return;
    }
    const kind = classifyError(result.error);
    if (kind === 'transient' && creating.transientFailures < MAX_CREATE_RETRIES) {
      await this.save({
        ...creating,
        state: 'queued',
        transientFailures: creating.transientFailures + 1,
        dueAt: now + this.backoff(creating.transientFailures, 1_000),
        warning: errorOf(result.error),
      });
      return;
    }
    await this.save(this.finish(creating, 'failed', errorOf(result.error)));
  }

  private async poll(task: TaskRecord): Promise<void> {
    const schedule = SCHEDULES[task.captcha.family];
    const now = this.deps.now();
    const submittedAt = task.submittedAt ?? task.createdAt;
    if (now - submittedAt > schedule.deadlineMs || task.polls >= schedule.maxPolls) {
      await this.save(this.finish(task, 'failed', errorOf({ code: 'TIMED_OUT' })));
      return;
    }
    if (task.lastPollAt !== undefined && now - task.lastPollAt < MIN_POLL_GAP_MS) {
      await this.save({ ...task, dueAt: task.lastPollAt + MIN_POLL_GAP_MS });
      return;
    }
    // Count the poll before sending it: a restart mid-request must not poll again too soon.
    const polling = await this.save({ ...task, polls: task.polls + 1, lastPollAt: now, dueAt: now + schedule.intervalMs });
    if (!polling || polling.serviceTaskId === undefined) return;
    const config = await this.deps.config();
    const result = await this.deps.client(task.serviceUrl, config.apiKey).getTaskResult(polling.serviceTaskId);
    const after = this.deps.now();
    if (result.ok && result.value.status === 'processing') {
      const next: TaskRecord = { ...polling, transientFailures: 0, dueAt: Math.max(after, now + schedule.intervalMs) };
      delete next.warning;
      await this.save(next);
      return;
    }
    if (result.ok && result.value.status === 'ready') {
      const token = tokenOf(task.captcha, result.value.solution);
      if (!token) {
        await this.failOrRecreate(polling, { code: 'NO_SOLUTION', description: 'the solution has no token' }, config.recreateAttempts);
        return;
      }
      const ready: TaskRecord = { ...polling, state: 'ready', token, tokenAt: after, dueAt: after };
      delete ready.warning;
      if (result.value.cost !== undefined) ready.cost = result.value.cost;
      const saved = await this.save(ready);
      if (saved) await this.deliver(saved);
      return;
    }
    if (result.ok) return;
    const kind = classifyError(result.error);
    if (kind === 'transient') {
      const extra = result.error.code === 'ERROR_TOO_MUCH_REQUESTS' ? MIN_POLL_GAP_MS : 0;
      await this.save({
        ...polling,
        transientFailures: polling.transientFailures + 1,
        dueAt: now + schedule.intervalMs + extra + this.backoff(polling.transientFailures, 1_000),
        warning: errorOf(result.error),
      });
      return;
    }
    if (kind === 'recreate') {
      await this.failOrRecreate(polling, result.error, config.recreateAttempts);
      return;
    }
    await this.save(this.finish(polling, 'failed', errorOf(result.error)));
  }

  /** Unsolvable / expired / unknown task: a new task if the user allowed it, else failed. */
  private async failOrRecreate(task: TaskRecord, error: ServiceError, recreateAttempts: number): Promise<void> {
    if (task.createAttempts <= recreateAttempts) {
      const requeued: TaskRecord = { ...task, state: 'queued', polls: 0, transientFailures: 0, dueAt: this.deps.now(), warning: errorOf(error) };
      delete requeued.serviceTaskId;
      delete requeued.submittedAt;
      delete requeued.lastPollAt;
      await this.save(requeued);
      return;
    }
    await this.save(this.finish(task, 'failed', errorOf(error)));
  }

  private async deliver(task: TaskRecord): Promise<void> {
    const now = this.deps.now();
    if (!task.token || task.tokenAt === undefined || now - task.tokenAt > TOKEN_DELIVERY_WINDOW_MS) {
      await this.save(this.finish(task, 'expired', errorOf({ code: 'TOKEN_EXPIRED_UNDELIVERED' })));
      return;
    }
    const outcome = await this.deps.deliver(task);
    if (outcome.delivered) {
      await this.save(this.finish(task, 'delivered'));
      return;
    }
    await this.save(this.finish(task, 'cancelled', errorOf({ code: outcome.code })));
  }

  /** Exponential backoff with jitter, capped; `failures` counts earlier failures in a row. */
  private backoff(failures: number, baseMs: number): number {
    const exp = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** failures);
    return Math.round(exp / 2 + this.deps.random() * (exp / 2));
  }
}
