/**
 * A deterministic world for the task engine: a fake clock, an in-memory TaskStore, an in-memory
 * solving service spoken to through a fake `fetch` (so the real SolverApi maps every answer),
 * and a fake page to deliver to. The service worker can be stopped at any await: the stopped
 * engine's pending calls never settle and it writes nothing more, as in a browser. The next
 * worker starts when the alarm the stopped one booked goes off (or at the next click): a new
 * TaskEngine over the same store, with no memory of the old one.
 */
import { SolverApi } from '../../../src/background/api';
import { TaskEngine, type DeliveryOutcome, type EngineConfig, type TaskStore } from '../../../src/background/engine';
import type { Captcha, FunCaptchaCaptcha, RecaptchaCaptcha } from '../../../src/shared/captcha';
import { ACTIVE_STATES, type TaskRecord } from '../../../src/shared/tasks';

export const START_TIME = Date.UTC(2026, 0, 1, 12, 0, 0);
export const SERVICE_URL = 'https://solver.test';
export const API_KEY = 'test-key-0123456789abcdef';
/** The fallback service (HarnessOptions.fallback): another host, another account. */
export const FALLBACK_URL = 'https://second.test';
export const FALLBACK_KEY = 'fallback-key-fedcba9876543210';

class FakeClock {
  constructor(public time = START_TIME) {}
  readonly now = (): number => this.time;
  advance(ms: number): void {
    this.time += ms;
  }
  /** Moves forward only: a wake-up asked for in the past runs now. */
  advanceTo(time: number): void {
    this.time = Math.max(this.time, time);
  }
}

/** Never settles: what a call looks like from a service worker that was stopped during it. */
function never<T>(): Promise<T> {
  return new Promise<T>(() => undefined);
}

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** Where a stop may fall around one storage write. */
export type WriteFault = 'die-before-write' | 'die-after-write';

/** chrome.storage-like: every read gets a copy, every write is whole and atomic. */
class MemoryTaskStore {
  private tasks: Record<string, TaskRecord> = {};
  /** The last stored version of every task ever stored, including ones since dropped. */
  readonly latest = new Map<string, TaskRecord>();
  writes = 0;
  /** Consulted on every write; may stop the worker around it. */
  onWrite: ((index: number) => WriteFault | undefined) | undefined;

  /** The store as one worker sees it; calls from a stopped worker never settle. */
  view(alive: () => boolean, kill: () => void): TaskStore {
    return {
      mutate: async <T>(fn: (tasks: Record<string, TaskRecord>) => T): Promise<T> => {
        // eslint-disable-next-line @typescript-eslint/await-thenable -- one microtask, as a real store's read takes at least
        await null;
        if (!alive()) return never();
        const value = clone(this.tasks);
        const before = JSON.stringify(value);
        const result = fn(value);
        if (JSON.stringify(value) === before) return result;
        const fault = this.onWrite?.(this.writes++);
        if (fault === 'die-before-write') {
          kill();
          return never();
        }
        this.tasks = clone(value);
        for (const task of Object.values(this.tasks)) this.latest.set(task.id, clone(task));
        if (fault === 'die-after-write') {
          kill();
          return never();
        }
        return result;
      },
    };
  }

  all(): TaskRecord[] {
    return Object.values(clone(this.tasks));
  }

  get(id: string): TaskRecord | undefined {
    const task = this.tasks[id];
    return task ? clone(task) : undefined;
  }

  put(task: TaskRecord): void {
    this.tasks[task.id] = clone(task);
    this.latest.set(task.id, clone(task));
  }

  active(): TaskRecord[] {
    return this.all().filter((t) => ACTIVE_STATES.has(t.state));
  }
}

/**
 * What the fake service does with one request.
 * normal: what it would do by itself (create a task; report processing until the task is ready).
 * refused: the connection is refused, nothing arrives. reset: the request arrives and is acted
 * on, then the connection drops. lost: acted on, the answer never comes (the client times out).
 * kill-before / kill-after: the worker stops while sending (the request does not / does arrive).
 */
export type Answer =
  | 'normal'
  | 'processing'
  | 'ready'
  | 'not-ready'
  | { ready: Record<string, unknown>; cost?: unknown }
  | { error: string; description?: string; status?: number }
  | { http: number; body?: string }
  | { raw: string; status?: number }
  | 'refused'
  | 'reset'
  | 'lost'
  | 'kill-before'
  | 'kill-after';

export type Method = 'createTask' | 'getTaskResult' | 'getBalance';

export interface ServiceCall {
  method: Method;
  /** Simulated time the request arrived (or was attempted, for refused ones). */
  at: number;
  body: Record<string, unknown>;
  answer: Answer;
  /** False when nothing reached the service (refused, worker stopped before sending). */
  arrived: boolean;
  /** The engine task (click) the request belongs to, by its page URL. */
  recordId?: string;
  /** createTask: the task the service made, if it made one. getTaskResult: the task asked about. */
  taskId?: number;
  /** What the service answered, if it answered. */
  response?: { status: number; body: unknown };
}

export interface ServiceTask {
  id: number;
  recordId?: string;
  type: string;
  websiteURL: string;
  createdAt: number;
  readyAt: number;
  polls: number[];
  token: string;
}

class FakeService {
  readonly calls: ServiceCall[] = [];
  readonly tasks = new Map<number, ServiceTask>();
  /** Protocol rules the client broke (too-fast polls, more than 120 polls, unknown ids). */
  readonly violations: string[] = [];
  /** Scripted answers, per method, used before `fallback`. */
  readonly scripts: Record<Method, Answer[]> = { createTask: [], getTaskResult: [], getBalance: [] };
  /** Answer once a method's script is used up. */
  fallback: Record<Method, Answer> = { createTask: 'normal', getTaskResult: 'normal', getBalance: 'normal' };
  /** How long after createTask a task becomes ready (normal answers). */
  solveAfterMs = 10_000;
  balance = 12.5;
  /** Simulated time each answered request takes. */
  latencyMs = 0;
  /** Maps a page URL to the engine task it belongs to. */
  attribute: (websiteURL: string) => string | undefined = () => undefined;
  private nextId = 7000;

  constructor(
    private readonly clock: FakeClock,
    /** The key this service's account has. */
    private readonly key = API_KEY,
  ) {}

  script(method: Method, ...answers: Answer[]): this {
    this.scripts[method].push(...answers);
    return this;
  }

  of(method: Method): ServiceCall[] {
    return this.calls.filter((c) => c.method === method && c.arrived);
  }

  /** Tasks the service made, in order. */
  created(): ServiceTask[] {
    return [...this.tasks.values()];
  }

  /** Handles one request; `stop` stops the calling worker. */
  handle(method: Method, body: Record<string, unknown>): { kind: 'answer'; status: number; text: string } | { kind: 'refused' | 'reset' | 'lost' | 'kill' } {
    const answer = this.scripts[method].shift() ?? this.fallback[method];
    const at = this.clock.now();
    const call: ServiceCall = { method, at, body, answer, arrived: answer !== 'refused' && answer !== 'kill-before' };
    const task = body.task;
    if (method === 'createTask' && isObject(task) && typeof task.websiteURL === 'string') {
      const recordId = this.attribute(task.websiteURL);
      if (recordId !== undefined) call.recordId = recordId;
    }
    this.calls.push(call);
    if (!call.arrived) return { kind: answer === 'refused' ? 'refused' : 'kill' };

    const reply = this.respond(call, answer);
    if (answer === 'reset' || answer === 'lost') return { kind: answer };
    if (answer === 'kill-after') return { kind: 'kill' };
    call.response = { status: reply.status, body: reply.json ?? reply.text };
    return { kind: 'answer', status: reply.status, text: reply.text };
  }

  private respond(call: ServiceCall, answer: Answer): { status: number; text: string; json?: unknown } {
    const json = (value: unknown, status = 200) => ({ status, text: JSON.stringify(value), json: value });
    if (typeof answer === 'object') {
      if ('error' in answer) {
        if (call.method === 'getTaskResult') this.notePoll(call);
        return json({ errorId: 1, errorCode: answer.error, errorDescription: answer.description ?? `${answer.error} (fake)`, taskId: 0 }, answer.status ?? 200);
      }
      if ('http' in answer) {
        if (call.method === 'getTaskResult') this.notePoll(call);
        return { status: answer.http, text: answer.body ?? `<html><body><h1>${answer.http}</h1></body></html>` };
      }
      if ('raw' in answer) {
        if (call.method === 'getTaskResult') this.notePoll(call);
        return { status: answer.status ?? 200, text: answer.raw };
      }
    }
    switch (call.method) {
      case 'getBalance':
        return json({ errorId: 0, balance: this.balance });
      case 'createTask':
        return json(this.createTask(call));
      case 'getTaskResult': {
        const task = this.notePoll(call);
        if (!task) return json({ errorId: 1, errorCode: 'ERROR_NO_SUCH_CAPCHA_ID', errorDescription: 'Task not found', taskId: 0 });
        if (typeof answer === 'object' && 'ready' in answer) {
          const reply: Record<string, unknown> = { errorId: 0, status: 'ready', solution: answer.ready };
          if (answer.cost !== undefined) reply.cost = answer.cost;
          return json(reply);
        }
        if (answer === 'not-ready') return json({ errorId: 1, errorCode: 'CAPTCHA_NOT_READY', errorDescription: 'not ready' });
        const ready = answer === 'ready' || (answer !== 'processing' && call.at >= task.readyAt);
        if (!ready) return json({ errorId: 0, errorCode: null, errorDescription: null, status: 'processing' });
        // Solved stays solved: later polls of this task get the same token.
        task.readyAt = Math.min(task.readyAt, call.at);
        const solution = task.type.startsWith('FunCaptcha') ? { token: task.token } : { gRecaptchaResponse: task.token };
        return json({ errorId: 0, errorCode: null, errorDescription: null, status: 'ready', solution, cost: 0.001 });
      }
    }
  }

  private createTask(call: ServiceCall): Record<string, unknown> {
    const task = call.body.task;
    if (!isObject(task) || typeof task.type !== 'string' || typeof task.websiteURL !== 'string') {
      this.violations.push(`createTask without a task: ${JSON.stringify(call.body)}`);
      return { errorId: 1, errorCode: 'ERROR_TASK_ABSENT', taskId: 0 };
    }
    if (call.body.clientKey !== this.key) return { errorId: 1, errorCode: 'ERROR_KEY_DOES_NOT_EXIST', taskId: 0 };
    const id = this.nextId++;
    const made: ServiceTask = {
      id,
      type: task.type,
      websiteURL: task.websiteURL,
      createdAt: call.at,
      readyAt: call.at + this.solveAfterMs,
      polls: [],
      token: `token-${id}-${'x'.repeat(40)}`,
    };
    if (call.recordId !== undefined) made.recordId = call.recordId;
    this.tasks.set(id, made);
    call.taskId = id;
    return { errorId: 0, taskId: id };
  }

  /** Records a poll's arrival against its task and checks the service's polling rules. */
  private notePoll(call: ServiceCall): ServiceTask | undefined {
    const id = call.body.taskId;
    const task = typeof id === 'number' ? this.tasks.get(id) : undefined;
    if (!task) {
      this.violations.push(`getTaskResult for unknown task ${JSON.stringify(id)}`);
      return undefined;
    }
    call.taskId = task.id;
    call.recordId = task.recordId;
    const last = task.polls.at(-1);
    if (last !== undefined && call.at - last < 2_000) this.violations.push(`task ${task.id}: polled ${call.at - last} ms after the previous poll`);
    task.polls.push(call.at);
    if (task.polls.length > 120) this.violations.push(`task ${task.id}: more than 120 polls`);
    return task;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A fetch() Response with just what SolverApi reads. Not a real Response: its body would be read
 * through streams, and the fake world must settle in microtasks, before any real timer.
 */
function response(status: number, text: string): Response {
  // No body stream: SolverApi then reads text(), which settles in a microtask.
  const partial: Pick<Response, 'ok' | 'status' | 'text' | 'headers' | 'body' | 'type'> = {
    ok: status >= 200 && status < 300,
    status,
    type: 'basic',
    headers: new Headers(),
    body: null,
    text: async () => text,
  };
  return partial as Response;
}

export interface Delivery {
  recordId: string;
  tabId: number;
  frameId: number;
  captchaId: string;
  token: string;
  at: number;
  outcome: DeliveryOutcome;
}

export type DeliveryFault = 'kill-before' | 'kill-after' | 'hang';

export interface HarnessOptions {
  recreateAttempts?: number;
  callbackUrl?: string;
  /** Jitter source; defaults to 0.5 (the middle of every backoff range). */
  random?: () => number;
  /** A fallback service at FALLBACK_URL (Harness.fallback), set in the config. */
  fallback?: boolean;
}

/**
 * The engine wired as the background worker wires it, over the fake world. `stop()` stops the
 * worker as the browser does (mid-call if one is running); the next starts at its alarm or at the
 * next click. `restart()` stops it and starts the next at once. Scripted answers and storage or
 * delivery faults can stop it in the middle of a step.
 */
export class Harness {
  readonly clock = new FakeClock();
  readonly store = new MemoryTaskStore();
  readonly service = new FakeService(this.clock);
  /** The second service; in the config only with HarnessOptions.fallback. */
  readonly fallback = new FakeService(this.clock, FALLBACK_KEY);
  /** Tasks asked of any service, as the spending guard counts them (EngineDeps.onAsked). */
  readonly asked: TaskRecord[] = [];
  readonly deliveries: Delivery[] = [];
  readonly finished: TaskRecord[] = [];
  readonly config: EngineConfig;
  readonly closedTabs = new Set<number>();
  readonly goneWidgets = new Set<string>();
  /** Faults for the next deliveries, in order. */
  readonly deliveryFaults: DeliveryFault[] = [];
  /** The earliest wake-up the running worker asked for since the last one ran. */
  wake = Infinity;
  /** How many workers have run (1 + restarts). */
  workers = 0;
  /** Spans of simulated time with no worker running (from a stop to the next start). */
  readonly downtime: Array<{ from: number; to: number }> = [];
  /** The running worker's number; 0 between a stop and the next start. */
  private live = 0;
  engine!: TaskEngine;
  /** Requests waiting for a real timer (a lost answer waits for the client's abort). */
  private waitingOnTimers = 0;
  private nextId = 1;
  private readonly random: () => number;

  constructor(options: HarnessOptions = {}) {
    this.config = {
      apiKey: API_KEY,
      serviceUrl: SERVICE_URL,
      recreateAttempts: options.recreateAttempts ?? 0,
      v3MinScore: 0.7,
      callbackUrl: options.callbackUrl ?? '',
      ...(options.fallback && { fallback: { serviceUrl: FALLBACK_URL, apiKey: FALLBACK_KEY } }),
    };
    this.random = options.random ?? (() => 0.5);
    this.service.attribute = (url) =>
      this.store
        .all()
        .filter((t) => t.websiteURL === url)
        .at(-1)?.id;
    this.fallback.attribute = this.service.attribute;
    this.boot();
  }

  /** Starts a worker: a new engine over the same store, ticking once as index.ts does at start-up. */
  private boot(): void {
    const worker = ++this.workers;
    this.live = worker;
    const down = this.downtime.at(-1);
    if (down && down.to === Infinity) down.to = this.clock.now();
    const alive = (): boolean => this.live === worker;
    // Stopped at once; `wake` keeps the alarm it booked, which starts the next worker.
    const kill = (): void => {
      if (alive()) this.halt();
    };
    const fetchFake = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
      if (!alive()) return never();
      const at = String(input);
      const service = at.startsWith(`${FALLBACK_URL}/`) ? this.fallback : this.service;
      const method = at.slice(at.lastIndexOf('/') + 1) as Method;
      const body = JSON.parse(String(init?.body)) as Record<string, unknown>;
      const result = service.handle(method, body);
      switch (result.kind) {
        case 'kill':
          kill();
          return never();
        case 'refused':
          return Promise.reject(new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) }));
        case 'reset':
          return Promise.reject(new TypeError('fetch failed', { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) }));
        case 'lost':
          this.waitingOnTimers++;
          return new Promise<Response>((_resolve, reject) => {
            init?.signal?.addEventListener('abort', () => {
              this.waitingOnTimers--;
              if (alive()) reject(new DOMException('The operation was aborted.', 'AbortError'));
            });
          });
        case 'answer':
          this.clock.advance(this.service.latencyMs);
          return Promise.resolve(response(result.status, result.text));
      }
    };
    // The alarm a stopped worker booked stays booked (the browser keeps it until it fires): a
    // worker an event starts does not forget it; one its alarm starts found it fired already.
    this.engine = new TaskEngine({
      now: this.clock.now,
      random: this.random,
      newId: () => `task-${this.nextId++}`,
      store: this.store.view(alive, kill),
      config: async () => (alive() ? { ...this.config } : never()),
      // A 1 ms real limit stands for the client's timeout: only lost answers ever reach it.
      client: (baseUrl, clientKey) => new SolverApi({ baseUrl, clientKey, fetch: fetchFake, timeoutMs: 1 }),
      deliver: async (task) => {
        if (!alive()) return never();
        const fault = this.deliveryFaults.shift();
        if (fault === 'kill-before' || fault === 'hang') {
          if (fault === 'kill-before') kill();
          return never();
        }
        const outcome: DeliveryOutcome = this.closedTabs.has(task.tabId)
          ? { delivered: false, code: 'TAB_CLOSED' }
          : this.goneWidgets.has(task.captchaId)
            ? { delivered: false, code: 'WIDGET_GONE' }
            : { delivered: true };
        this.deliveries.push({
          recordId: task.id,
          tabId: task.tabId,
          frameId: task.frameId,
          captchaId: task.captchaId,
          token: task.token ?? '',
          at: this.clock.now(),
          outcome,
        });
        if (fault === 'kill-after') {
          kill();
          return never();
        }
        return outcome;
      },
      wakeAt: (time) => {
        if (alive()) this.wake = Math.min(this.wake, time);
      },
      onFinished: (task) => {
        if (alive()) this.finished.push(task);
      },
      onAsked: async (task) => {
        if (alive()) this.asked.push(task);
      },
    });
    void this.engine.tick();
  }

  /** Stops the worker now (pending calls never settle) and starts a new one, as a click would. */
  restart(): void {
    this.halt();
    this.boot();
  }

  /** Stops the worker now; the next starts when its alarm goes off (or at the next click). */
  stop(): void {
    this.halt();
  }

  private halt(): void {
    this.live = 0;
    this.downtime.push({ from: this.clock.now(), to: Infinity });
  }

  /** When a deadline at `time` can be acted on: then, or when a worker next starts if none runs. */
  actionableAt(time: number): number {
    let at = time;
    for (let down = this.downtime.find((d) => d.from <= at && at < d.to); down; down = this.downtime.find((d) => d.from <= at && at < d.to)) at = down.to;
    return at;
  }

  /** Simulated time without a worker between two moments. */
  downtimeWithin(from: number, to: number): number {
    return this.downtime.reduce((sum, d) => sum + Math.max(0, Math.min(to, d.to) - Math.max(from, d.from)), 0);
  }

  /** Whether a worker is running. */
  get running(): boolean {
    return this.live !== 0;
  }

  /** A message from the popup or a tab starts a stopped worker. */
  ensureWorker(): void {
    if (this.live === 0) this.boot();
  }

  /** Waits until the running worker has nothing left to do before time moves on. */
  async settle(): Promise<void> {
    // Engine work is promise chains over fake calls; only a lost answer waits on a real timer.
    // A macrotask turn runs every pending promise chain to its end or to such a timer.
    for (let round = 0; round < 10_000; round++) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.waitingOnTimers === 0) return;
    }
    throw new Error('the engine did not settle');
  }

  /** Lets promise chains run (no timers) until `ready()` holds, e.g. until a request is on the wire. */
  async until(ready: () => boolean): Promise<void> {
    for (let i = 0; i < 10_000; i++) {
      if (ready()) return;
      await Promise.resolve();
    }
    throw new Error('condition never held');
  }

  /** A click on Solve. */
  async solve(captcha: Captcha, tabId = 1, frameId = 0, websiteURL = pageUrl(tabId, frameId, captcha.id)) {
    this.ensureWorker();
    const result = await this.engine.solve({ tabId, frameId, captcha, websiteURL });
    await this.settle();
    return result;
  }

  /**
   * Lets time run: settles, then jumps to the wake-up the worker asked for, ticks as its timer
   * or alarm would, and repeats, until no task is active or `until` is reached. Throws if a
   * task is active and the worker asked to be woken for nothing, or if it never finishes.
   */
  async run(options: { until?: number; maxWakes?: number; between?: () => void | Promise<void> } = {}): Promise<void> {
    const until = options.until ?? Infinity;
    const maxWakes = options.maxWakes ?? 5_000;
    for (let wakes = 0; ; wakes++) {
      await this.settle();
      if (this.store.active().length === 0 && until === Infinity) return;
      if (wakes >= maxWakes) throw new Error(`still running after ${maxWakes} wake-ups: ${JSON.stringify(this.store.active())}`);
      // Idle between steps: the test may stop (or restart) the worker here.
      const workers = this.workers;
      await options.between?.();
      if (this.workers !== workers) await this.settle();
      const wake = this.wake;
      if (wake === Infinity) {
        if (this.store.active().length === 0) {
          this.clock.advanceTo(until);
          return;
        }
        throw new Error(`active tasks but no wake-up booked${this.running ? '' : ' by the stopped worker'}: ${JSON.stringify(this.store.active())}`);
      }
      if (wake > until) {
        this.clock.advanceTo(until);
        return;
      }
      this.wake = Infinity;
      this.clock.advanceTo(wake);
      // A stopped worker's alarm starts a new one, which ticks at start-up.
      if (this.running) void this.engine.tick();
      else this.boot();
    }
  }

  /** Runs until this task has ended; returns its final record. */
  async finish(id: string): Promise<TaskRecord> {
    await this.run();
    const task = this.store.get(id);
    if (!task) throw new Error(`no task ${id}`);
    return task;
  }

  /** The tab closed (or navigated): what index.ts does on tabs.onRemoved. */
  async closeTab(tabId: number): Promise<void> {
    this.closedTabs.add(tabId);
    this.ensureWorker();
    await this.engine.cancelTab(tabId);
    await this.settle();
  }
}

/** A distinct page per tab, frame and widget, so the fake service can tell clicks apart. */
export function pageUrl(tabId: number, frameId: number, captchaId: string): string {
  return `https://shop.test/tab${tabId}/frame${frameId}/${captchaId}`;
}

export function recaptcha(id = 'rc-1', extra: Partial<RecaptchaCaptcha> = {}): RecaptchaCaptcha {
  return {
    family: 'recaptcha',
    id,
    version: 'v2',
    siteKey: `6L${id
      .replace(/[^A-Za-z0-9]/g, '')
      .padEnd(38, 'A')
      .slice(0, 38)}`,
    enterprise: false,
    invisible: false,
    ...extra,
  };
}

export function funcaptcha(id = 'fc-1', extra: Partial<FunCaptchaCaptcha> = {}): FunCaptchaCaptcha {
  return { family: 'funcaptcha', id, publicKey: '00000000-AAAA-BBBB-CCCC-000000000001', ...extra };
}
