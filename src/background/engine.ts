/**
 * The task engine: turns a click into a delivered token within the service's rules.
 *
 * queued → creating → solving → ready → delivered, or failed / expired / cancelled.
 * Each step is persisted before its network call, so a service worker stopped at any point
 * resumes from storage. A task found in `creating` after a restart is never re-sent: its
 * createTask may have reached the service, and sending it again could pay twice.
 */
import { captchaIdentity, isImageFamily, type TaskCaptcha } from '../shared/captcha';
import { classifyError, type ServiceError, taskError } from '../shared/errors';
import { proxyAppliesTo, type ProxyConfig, type TaskProxy } from '../shared/power-settings';
import type { ImageSettings } from '../shared/settings';
import { isWebUrl } from '../shared/urls';
import { ACTIVE_STATES, type TaskError, type TaskRecord, type TaskState } from '../shared/tasks';
import type { ApiResult, TaskResult } from './api';
import { buildTask, tokenOf } from './task-payload';
import { MIN_POLL_GAP_MS, type PollSchedule } from './families/common';
import { BACKGROUND_FAMILIES, familyFor } from './families';

export type { PollSchedule } from './families/common';
export { MIN_POLL_GAP_MS } from './families/common';

/** Each family's poll schedule, by family. */
function scheduleOf(captcha: TaskCaptcha): PollSchedule {
  return familyFor(captcha).schedule;
}

/** The same, as a table (for tests and the bench). */
export const SCHEDULES = Object.fromEntries(BACKGROUND_FAMILIES.map((f) => [f.family, f.schedule])) as Record<TaskCaptcha['family'], PollSchedule>;
/** createTask retries for answers that prove no task was made (no slot, 5xx, offline). */
export const MAX_CREATE_RETRIES = 5;
export const MAX_BACKOFF_MS = 30_000;
/** A token older than this is not put into a page: half the shortest lifetime of any family's (shared/families). */
export const TOKEN_DELIVERY_WINDOW_MS = 60_000;
/** Finished tasks stay visible this long, then only their history entry remains. */
const FINISHED_TASK_TTL_MS = 15 * 60_000;
/**
 * A step still running after this long is given up (the API client's own limit is 20 s per
 * request): a request or a delivery that never settles must not keep a task alive forever.
 */
export const STEP_TIMEOUT_MS = 60_000;
/** After a step threw (storage trouble, a bug), its task waits this long before the next try. */
const STEP_ERROR_RETRY_MS = 5_000;
/**
 * While a step runs, a wake-up stays booked this soon after its start: if the worker is stopped
 * mid-request or mid-delivery, the alarm starts the next one, which carries on from storage.
 */
export const STEP_RESUME_MS = 3_000;

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
  /** ImageToTextTask options, read when the task is sent (like v3MinScore). */
  imageText?: Pick<ImageSettings, 'numeric' | 'caseSensitive' | 'math' | 'threshold'>;
  /** Sent with ComplexImageTask. */
  userAgent?: string;
  /** The user's proxy for the token tasks that take one (read when the task is sent). */
  proxy?: ProxyConfig;
  /** The second service, for a task the first refused before making it (read when it is needed). */
  fallback?: { serviceUrl: string; apiKey: string };
}

/** The first service's refusals that move a task to the fallback at once: no money, no valid key. */
const FALLBACK_AT_ONCE: ReadonlySet<string> = new Set(['ERROR_ZERO_BALANCE', 'ERROR_KEY_DOES_NOT_EXIST']);

export interface EngineDeps {
  now(): number;
  random(): number;
  newId(): string;
  store: TaskStore;
  /**
   * The settings and keys. A poll may take them as last read (`known`): it asks about a task
   * that exists, and waiting on the browser's storage would delay the token; creating a task
   * always reads them afresh.
   */
  config(read?: 'known'): Promise<EngineConfig>;
  /** `proxyPassword`: a secret of the request besides the key, for the client to scrub from error text. */
  client(serviceUrl: string, apiKey: string, proxyPassword?: string): SolverClient;
  deliver(task: TaskRecord): Promise<DeliveryOutcome>;
  /** Ask to be ticked at this time (timers; alarms as a backup when the worker sleeps). */
  wakeAt(time: number): void;
  /** Every persisted change (badge, popup). */
  onChange?(task: TaskRecord): void;
  /** A task reached an end state (history). */
  onFinished?(task: TaskRecord): void;
  /**
   * A task is about to be asked of the service: a new one, or one created anew after an
   * unsolvable answer. The spending guard counts these, whatever started them.
   */
  onAsked?(task: TaskRecord): Promise<void>;
}

export interface SolveRequest {
  tabId: number;
  frameId: number;
  captcha: TaskCaptcha;
  websiteURL: string;
  /** Image families: the base64 image to send. */
  image?: string;
}

export type SolveResult = { ok: true; task: TaskRecord; existing: boolean } | { ok: false; error: TaskError };

const END_STATES: ReadonlySet<TaskState> = new Set(['delivered', 'failed', 'expired', 'cancelled']);

/** The running task for this captcha, if any: the same widget (or, by identity, the same setup) in that frame. */
export function activeTaskFor(tasks: Record<string, TaskRecord>, request: Pick<SolveRequest, 'tabId' | 'frameId' | 'captcha'>): TaskRecord | undefined {
  const identity = captchaIdentity(request.captcha);
  return Object.values(tasks).find(
    (t) => ACTIVE_STATES.has(t.state) && t.tabId === request.tabId && t.frameId === request.frameId && (t.captchaId === request.captcha.id || captchaIdentity(t.captcha) === identity),
  );
}

export class TaskEngine {
  /** Steps running in this worker, with the time each started (for the step watchdog). */
  private readonly running = new Map<string, number>();
  /** Tasks whose last step threw, with the time they may be tried again. */
  private readonly cooldown = new Map<string, number>();
  private scanChain: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: EngineDeps) {}

  /** A user asked to solve this captcha. Returns the running task for it if there is one. */
  async solve(request: SolveRequest): Promise<SolveResult> {
    const config = await this.deps.config();
    if (!config.apiKey) return { ok: false, error: taskError({ code: 'NO_API_KEY' }) };
    const serviceUrl = config.serviceUrl;
    if (!serviceUrl) return { ok: false, error: taskError({ code: 'NO_SERVICE_URL' }) };
    // Whatever asked, a task is only ever made for a web page's address.
    if (!isWebUrl(request.websiteURL)) return { ok: false, error: taskError({ code: 'NOT_A_WEB_PAGE' }) };
    const now = this.deps.now();
    // Booked before the task is stored: a worker stopped right after storing it still gets to it.
    this.deps.wakeAt(now);
    const result = await this.deps.store.mutate((tasks) => {
      const running = activeTaskFor(tasks, request);
      if (running) return { task: running, existing: true };
      const task = this.newTask(request, serviceUrl, 'queued', now);
      if (request.image !== undefined) task.image = request.image;
      tasks[task.id] = task;
      return { task, existing: false };
    });
    if (!result.existing) {
      await this.deps.onAsked?.(result.task);
      this.deps.onChange?.(result.task);
    }
    void this.tick();
    return { ok: true, ...result };
  }

  /** A task record for a click, before anything was asked of the service. */
  private newTask(request: SolveRequest, serviceUrl: string, state: TaskState, now: number): TaskRecord {
    return {
      id: this.deps.newId(),
      tabId: request.tabId,
      frameId: request.frameId,
      captchaId: request.captcha.id,
      captcha: request.captcha,
      websiteURL: request.websiteURL,
      serviceUrl,
      state,
      createdAt: now,
      updatedAt: now,
      dueAt: now,
      polls: 0,
      createAttempts: 0,
      transientFailures: 0,
    };
  }

  /**
   * Records a request that ended before any task could be asked of the service (an image the
   * page would not give up), so the popup and history show what happened to the user's click.
   */
  async fail(request: SolveRequest, error: TaskError): Promise<TaskRecord> {
    const now = this.deps.now();
    const task: TaskRecord = { ...this.newTask(request, '', 'failed', now), finishedAt: now, error };
    await this.deps.store.mutate((tasks) => {
      tasks[task.id] = task;
    });
    this.announce(task);
    return task;
  }

  /**
   * Starts every due step; safe to call any time (timers, alarms, start-up, messages). Each task
   * runs on its own, so a slow request for one never holds up another. Resolves when the steps
   * this call started, and the ones they made due, have settled.
   */
  async tick(): Promise<void> {
    const started = await this.serialized(() => this.scan());
    await Promise.all(started);
  }

  /** Cancels delivery for every task of a tab (closed or navigated away). */
  async cancelTab(tabId: number, frameId?: number): Promise<void> {
    const changed = await this.deps.store.mutate((tasks) => {
      const ended: TaskRecord[] = [];
      for (const task of Object.values(tasks)) {
        if (task.tabId !== tabId || !ACTIVE_STATES.has(task.state)) continue;
        if (frameId !== undefined && task.frameId !== frameId) continue;
        // Also a task whose step is running: the step's next save finds it ended and stops, so
        // no token reaches the next page in this tab. (A createTask already sent stays unused.)
        const done = this.finish(task, 'cancelled', taskError({ code: 'TAB_CLOSED' }));
        tasks[task.id] = done;
        ended.push(done);
      }
      return ended;
    });
    for (const task of changed) this.announce(task);
  }

  /** One scan at a time, so a step is never started twice. */
  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.scanChain.then(fn);
    this.scanChain = run.catch(() => undefined);
    return run;
  }

  /** Ends hung steps, starts due ones, and asks to be woken for the next. */
  private async scan(): Promise<Promise<void>[]> {
    const now = this.deps.now();
    for (const [id, until] of this.cooldown) if (until <= now) this.cooldown.delete(id);
    const { due, ended } = await this.deps.store.mutate((tasks) => {
      const due: string[] = [];
      const ended: TaskRecord[] = [];
      let wake = Infinity;
      for (const task of Object.values(tasks)) {
        if (!ACTIVE_STATES.has(task.state)) {
          // Drop finished tasks after a while; history keeps their summary.
          if (now - (task.finishedAt ?? task.updatedAt) > FINISHED_TASK_TTL_MS) delete tasks[task.id];
          continue;
        }
        const startedAt = this.running.get(task.id);
        if (startedAt !== undefined) {
          if (now - startedAt >= STEP_TIMEOUT_MS) {
            const done = this.abandon(task);
            tasks[task.id] = done;
            ended.push(done);
          } else {
            wake = Math.min(wake, now < startedAt + STEP_RESUME_MS ? startedAt + STEP_RESUME_MS : startedAt + STEP_TIMEOUT_MS);
          }
          continue;
        }
        const cooling = this.cooldown.get(task.id);
        if (cooling !== undefined) {
          wake = Math.min(wake, cooling);
          continue;
        }
        // A task left in `creating` is always due: only a stopped worker leaves one there.
        if (task.dueAt <= now || task.state === 'creating') due.push(task.id);
        else wake = Math.min(wake, task.dueAt);
      }
      // Booked for a stop mid-step (a step that settles looks again and books what comes next),
      // and before this write: a worker stopped while writing it still has its wake-up.
      const next = due.length ? Math.min(wake, now + STEP_RESUME_MS) : wake;
      if (next !== Infinity) this.deps.wakeAt(next);
      return { due, ended };
    });
    for (const task of ended) this.announce(task);
    for (const id of due) this.running.set(id, now);
    // Each finished step looks again: it may have made its task (or another) due at once.
    return due.map((id) => this.runStep(id).then(() => this.tick()));
  }

  private async runStep(id: string): Promise<void> {
    try {
      await this.step(id);
    } catch (error) {
      console.error('CapRelay: task step failed', error);
      this.cooldown.set(id, this.deps.now() + STEP_ERROR_RETRY_MS);
    } finally {
      this.running.delete(id);
    }
  }

  /** The end of a task whose step never settled. */
  private abandon(task: TaskRecord): TaskRecord {
    switch (task.state) {
      case 'creating':
        return this.finish(task, 'failed', taskError({ code: 'CREATE_UNCONFIRMED' }));
      case 'ready':
        return this.finish(task, 'expired', taskError({ code: 'TOKEN_EXPIRED_UNDELIVERED' }));
      default:
        return this.finish(task, 'failed', taskError({ code: 'TIMED_OUT' }));
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
    // A used or dead token (or image) has no reason to stay in storage.
    delete done.token;
    delete done.image;
    return done;
  }

  private async step(id: string): Promise<void> {
    const task = await this.load(id);
    if (!task || !ACTIVE_STATES.has(task.state)) return;
    switch (task.state) {
      case 'queued':
        return this.create(task);
      case 'creating':
        // Only a previous worker can have left it here (this one's steps are in `running`).
        await this.save(this.finish(task, 'failed', taskError({ code: 'CREATE_UNCONFIRMED' })));
        return;
      case 'solving':
        return this.poll(task);
      case 'ready':
        return this.deliver(task);
    }
  }

  private async create(task: TaskRecord): Promise<void> {
    const config = await this.deps.config();
    const apiKey = keyFor(task, config);
    if (!apiKey) {
      await this.save(this.finish(task, 'failed', taskError({ code: 'NO_API_KEY' })));
      return;
    }
    // createAttempts counts the tasks asked of the service for this click (the first and each
    // re-creation), which recreateAttempts bounds; re-sending one refused request is not one.
    const retry = task.transientFailures > 0;
    const creating = await this.save({ ...task, state: 'creating', createAttempts: task.createAttempts + (retry ? 0 : 1) });
    if (!creating) return;
    if (isImageFamily(task.captcha) && task.image === undefined) {
      // Nothing to send (a record without its image): asking the service could only fail.
      await this.save(this.finish(creating, 'failed', taskError({ code: 'IMAGE_UNREADABLE' })));
      return;
    }
    const proxy = proxyFor(task, config.proxy);
    if (proxy === 'invalid') {
      // Not half a proxy, nor silently none: the user set one for this task.
      await this.save(this.finish(creating, 'failed', taskError({ code: 'PROXY_INVALID' })));
      return;
    }
    const payload = buildTask(task.captcha, task.websiteURL, {
      serviceUrl: task.serviceUrl,
      v3MinScore: config.v3MinScore,
      ...(task.image !== undefined && { image: task.image }),
      ...(config.imageText && { imageText: config.imageText }),
      ...(config.userAgent && { userAgent: config.userAgent }),
      ...(proxy && { proxy }),
    });
    const client = this.deps.client(task.serviceUrl, apiKey, proxyPasswordOf(config));
    const result = await client.createTask(payload, config.callbackUrl || undefined);
    const now = this.deps.now();
    if (result.ok) {
      const schedule = scheduleOf(task.captcha);
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
      delete solving.lastPollAt;
      await this.save(solving);
      return;
    }
    if (result.ambiguous) {
      // The service may hold a task for this click: sending again could pay twice.
      const unconfirmed = taskError({ code: 'CREATE_UNCONFIRMED' });
      await this.save(this.finish(creating, 'failed', { code: unconfirmed.code, message: `${taskError(result.error).message} ${unconfirmed.message}` }));
      return;
    }
    // A definite refusal (nothing made at the first service): the fallback may take it.
    if (this.fallsBack(creating, result.error, config)) {
      await this.fallBack(creating, result.error, config.fallback!);
      return;
    }
    await this.afterFailure(creating, result.error, config.recreateAttempts, {
      retryAllowed: creating.transientFailures < MAX_CREATE_RETRIES,
      retry: (slowDown) => ({ state: 'queued', dueAt: now + slowDown + this.backoff(creating.transientFailures, 1_000) }),
    });
  }

  private async poll(task: TaskRecord): Promise<void> {
    const schedule = scheduleOf(task.captcha);
    const now = this.deps.now();
    const deadline = (task.submittedAt ?? task.createdAt) + schedule.deadlineMs;
    // No poll at or after the deadline, and every wait below ends by it: a task that gets no
    // answer ends as TIMED_OUT at its deadline, not one interval or backoff later.
    const until = (time: number): number => Math.min(time, deadline);
    if (now >= deadline || task.polls >= schedule.maxPolls || task.serviceTaskId === undefined) {
      await this.save(this.finish(task, 'failed', taskError({ code: 'TIMED_OUT' })));
      return;
    }
    if (task.lastPollAt !== undefined && now - task.lastPollAt < MIN_POLL_GAP_MS) {
      await this.save({ ...task, dueAt: until(task.lastPollAt + MIN_POLL_GAP_MS) });
      return;
    }
    // Count the poll before sending it: a restart mid-request must not poll again too soon.
    const polling = await this.save({ ...task, polls: task.polls + 1, lastPollAt: now, dueAt: until(now + schedule.intervalMs) });
    if (!polling) return;
    const config = await this.deps.config('known');
    const apiKey = keyFor(task, config);
    if (!apiKey) {
      await this.save(this.finish(polling, 'failed', taskError({ code: 'NO_API_KEY' })));
      return;
    }
    const result = await this.deps.client(task.serviceUrl, apiKey, proxyPasswordOf(config)).getTaskResult(task.serviceTaskId);
    const after = this.deps.now();
    // Polls are spaced from one send to the next; a slow answer is not followed by an instant poll.
    const next = Math.max(after, now + schedule.intervalMs);
    if (result.ok && result.value.status === 'processing') {
      const processing: TaskRecord = { ...polling, transientFailures: 0, dueAt: until(next) };
      delete processing.warning;
      await this.save(processing);
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
    await this.afterFailure(polling, result.error, config.recreateAttempts, {
      retryAllowed: true,
      retry: (slowDown) => ({ dueAt: until(next + slowDown + this.backoff(polling.transientFailures, 1_000)) }),
    });
  }

  /**
   * After a failed call: the same step again later (transient, while allowed), a new task
   * (recreate, if the user allowed it), or the end with the service's code.
   */
  private async afterFailure(
    task: TaskRecord,
    error: ServiceError,
    recreateAttempts: number,
    transient: { retryAllowed: boolean; retry: (slowDown: number) => Partial<TaskRecord> & { dueAt: number } },
  ): Promise<void> {
    const kind = classifyError(error);
    if (kind === 'transient' && transient.retryAllowed) {
      const slowDown = isSlowDown(error) ? MIN_POLL_GAP_MS : 0;
      await this.save({ ...task, ...transient.retry(slowDown), transientFailures: task.transientFailures + 1, warning: taskError(error) });
      return;
    }
    if (kind === 'recreate') {
      await this.failOrRecreate(task, error, recreateAttempts);
      return;
    }
    await this.save(this.finish(task, 'failed', taskError(error)));
  }

  /**
   * Whether a createTask refusal moves this task to the fallback: only from the first service,
   * only for a refusal that proves no task was made there (the caller passes no answer in doubt),
   * and only for no money, no valid key, or no capacity once its retries are used up.
   */
  private fallsBack(task: TaskRecord, error: ServiceError, config: EngineConfig): boolean {
    const fallback = config.fallback;
    if (task.account === 'fallback' || !fallback?.apiKey) return false;
    if (fallback.serviceUrl === task.serviceUrl && fallback.apiKey === config.apiKey) return false;
    return FALLBACK_AT_ONCE.has(error.code) || (classifyError(error) === 'transient' && task.transientFailures >= MAX_CREATE_RETRIES);
  }

  /**
   * Moves the task to the fallback, persisted before anything is sent there: a worker stopped
   * after this sends it to the fallback only; one stopped before finds it in `creating` and
   * sends it nowhere. Counted for the spending guard like every task asked of a service.
   */
  private async fallBack(task: TaskRecord, error: ServiceError, fallback: { serviceUrl: string }): Promise<void> {
    const moved: TaskRecord = {
      ...task,
      state: 'queued',
      account: 'fallback',
      serviceUrl: fallback.serviceUrl,
      // The first service made nothing: the fallback's task is this click's same task.
      createAttempts: Math.max(0, task.createAttempts - 1),
      transientFailures: 0,
      dueAt: this.deps.now(),
      warning: taskError(error),
    };
    if (await this.save(moved)) await this.deps.onAsked?.(moved);
  }

  /** Unsolvable / expired / unknown task: a new task if the user allowed it, else failed. */
  private async failOrRecreate(task: TaskRecord, error: ServiceError, recreateAttempts: number): Promise<void> {
    if (task.createAttempts <= recreateAttempts && familyFor(task.captcha).recreatable?.(task.captcha) !== false) {
      const requeued: TaskRecord = { ...task, state: 'queued', polls: 0, transientFailures: 0, dueAt: this.deps.now(), warning: taskError(error) };
      delete requeued.serviceTaskId;
      delete requeued.submittedAt;
      delete requeued.lastPollAt;
      if (await this.save(requeued)) await this.deps.onAsked?.(requeued);
      return;
    }
    await this.save(this.finish(task, 'failed', taskError(error)));
  }

  private async deliver(task: TaskRecord): Promise<void> {
    const now = this.deps.now();
    if (!task.token || task.tokenAt === undefined || now - task.tokenAt > TOKEN_DELIVERY_WINDOW_MS) {
      await this.save(this.finish(task, 'expired', taskError({ code: 'TOKEN_EXPIRED_UNDELIVERED' })));
      return;
    }
    // Look again right before the page gets the token: the tab may have moved on meanwhile.
    const current = await this.load(task.id);
    if (current?.state !== 'ready') return;
    const outcome = await this.deps.deliver(task);
    if (outcome.delivered) {
      await this.save(this.finish(task, 'delivered'));
      return;
    }
    await this.save(this.finish(task, 'cancelled', taskError({ code: outcome.code })));
  }

  /** Exponential backoff with jitter, capped; `failures` counts earlier failures in a row. */
  private backoff(failures: number, baseMs: number): number {
    const exp = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** failures);
    return Math.round(exp / 2 + this.deps.random() * (exp / 2));
  }
}

/** The proxy fields for this task: none, or `invalid` when the user's proxy is for it but not usable. */
function proxyFor(task: TaskRecord, config: ProxyConfig | undefined): TaskProxy | 'invalid' | undefined {
  if (!config || config.kind === 'none') return undefined;
  if (familyFor(task.captcha).takesProxy?.(task.captcha) !== true || !proxyAppliesTo(config.sites, task.websiteURL)) return undefined;
  return config.kind === 'invalid' ? 'invalid' : config.fields;
}

/** The key of the account the task is at: the first service's, or the fallback's. */
export function keyFor(task: Pick<TaskRecord, 'account'>, config: EngineConfig): string {
  return task.account === 'fallback' ? (config.fallback?.apiKey ?? '') : config.apiKey;
}

function proxyPasswordOf(config: EngineConfig): string | undefined {
  return config.proxy?.kind === 'proxy' ? config.proxy.fields.proxyPassword : undefined;
}

/** The service asked for fewer requests, by code or by HTTP 429. */
function isSlowDown(error: ServiceError): boolean {
  return error.code === 'ERROR_TOO_MUCH_REQUESTS' || error.httpStatus === 429;
}
