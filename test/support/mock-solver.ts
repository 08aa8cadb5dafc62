/**
 * A local stand-in for a CapMonster Cloud compatible service, on 127.0.0.1. It is strict
 * about the wire format (POST, JSON, required fields and their types per task type, the
 * client key) and about the polling rules (≥ 2 s between getTaskResult calls for a task,
 * ≤ 120 calls), and records every request so tests can assert what the extension sent.
 * Options make it misbehave on purpose (scripted answers, redirects, chosen solutions).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  body: Record<string, unknown>;
  at: number;
}

/** A scripted answer: JSON with a status, or a raw body (HTML error pages, truncated JSON). */
export type ScriptedAnswer = { status?: number; json: unknown; delayMs?: number } | { status?: number; raw: string; contentType?: string; delayMs?: number } | { hangup: true };

export interface MockSolverOptions {
  apiKey: string;
  balance?: number;
  /** How long after createTask the task becomes ready. */
  solveAfterMs?: number;
  /** Produces the solution for a task (default: a token derived from the task id). */
  solution?: (task: Record<string, unknown>, taskId: number) => Record<string, unknown>;
  cost?: number;
  /** Taken off the balance when a task is first answered ready (a service that bills without saying `cost`). */
  chargePerTask?: number;
  /**
   * Answers every request, once checked and recorded, with a redirect to the same method at
   * `to` (a relay that moved, or one that wants the key elsewhere).
   */
  redirect?: { to: string; status?: 301 | 302 | 303 | 307 | 308 };
  /** False: a service without the report endpoints (they answer 404 ERROR_NO_SUCH_METHOD). */
  reports?: boolean;
}

/** The report endpoints (families.md §5.4), by the tasks each covers. */
export const REPORT_METHODS = {
  reportIncorrectTokenCaptcha: 'token',
  reportIncorrectRecaptcha: 'token',
  reportIncorrectImageCaptcha: 'image',
} as const;
const IMAGE_TYPES = new Set(['ImageToTextTask', 'ComplexImageTask']);

interface MockTask {
  id: number;
  task: Record<string, unknown>;
  createdAt: number;
  readyAt: number;
  polls: number[];
  reported: boolean;
  charged?: boolean;
}

type Check = (value: unknown) => boolean;
const str: Check = (v) => typeof v === 'string' && v.length > 0;
const optStr: Check = (v) => v === undefined || typeof v === 'string';
const optBool: Check = (v) => v === undefined || typeof v === 'boolean';
const optNum: Check = (v) => v === undefined || typeof v === 'number';
const url: Check = (v) => typeof v === 'string' && /^https?:\/\//.test(v);
const optObj: Check = (v) => v === undefined || (typeof v === 'object' && v !== null && !Array.isArray(v));
const optOneOf =
  (values: unknown[]): Check =>
  (v) =>
    v === undefined || values.includes(v);
const optHost: Check = (v) => v === undefined || (typeof v === 'string' && /^[a-z0-9.-]+$/i.test(v));

/** A proxy address the service accepts: an IP or host name, never this machine or a private network (§3.1). */
const proxyHost: Check = (v) => {
  if (typeof v !== 'string' || v === '' || /^(localhost|.*\.local)$/i.test(v)) return false;
  const v4 = /^(\d+)\.(\d+)\.\d+\.\d+$/.exec(v);
  if (v4) {
    const [a, b] = [Number(v4[1]), Number(v4[2])];
    return !(a === 0 || a === 10 || a === 127 || a >= 224 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127));
  }
  if (v.includes(':')) return !/^(::1?|f[cde][0-9a-f]{2}:.*|::ffff:(10|127|192\.168)\..*)$/i.test(v);
  return /^[a-z0-9.-]+\.[a-z]{2,}$/i.test(v);
};
const noPercent: Check = (v) => v === undefined || (typeof v === 'string' && v.length > 0 && !v.includes('%'));
/** The shared proxy fields (§3.1), optional on every task type that takes a proxy; all-or-none is a cross-field rule. */
const PROXY: Record<string, Check> = {
  proxyType: optOneOf(['http', 'https', 'socks4', 'socks5']),
  proxyAddress: (v) => v === undefined || proxyHost(v),
  proxyPort: (v) => v === undefined || (Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65_535),
  proxyLogin: noPercent,
  proxyPassword: noPercent,
};

const TASK_SCHEMAS: Record<string, Record<string, Check>> = {
  RecaptchaV2Task: { websiteURL: url, websiteKey: str, isInvisible: optBool, recaptchaDataSValue: optStr, userAgent: optStr, cookies: optStr, nocache: optBool, ...PROXY },
  RecaptchaV2EnterpriseTask: { websiteURL: url, websiteKey: str, enterprisePayload: optObj, apiDomain: optStr, pageAction: optStr, userAgent: optStr, cookies: optStr, ...PROXY },
  RecaptchaV3TaskProxyless: { websiteURL: url, websiteKey: str, minScore: optNum, pageAction: optStr, isEnterprise: optBool, nocache: optBool },
  RecaptchaV3EnterpriseTask: { websiteURL: url, websiteKey: str, minScore: optNum, pageAction: optStr },
  FunCaptchaTask: { websiteURL: url, websitePublicKey: str, funcaptchaApiJSSubdomain: optStr, data: optStr, userAgent: optStr, cookies: optStr, ...PROXY },
  FunCaptchaTaskProxyless: { websiteURL: url, websitePublicKey: str, funcaptchaApiJSSubdomain: optStr, data: optStr, userAgent: optStr },
  TurnstileTask: {
    websiteURL: url,
    websiteKey: str,
    pageAction: optStr,
    data: optStr,
    pageData: optStr,
    cloudflareTaskType: optOneOf(['token', 'cf_clearance', 'wait_room']),
    htmlPageBase64: optStr,
    apiJsUrl: optStr,
    userAgent: optStr,
    nocache: optBool,
    ...PROXY,
  },
  GeeTestTask: {
    websiteURL: url,
    gt: (v) => typeof v === 'string' && /^[0-9a-f]{32}$/.test(v),
    challenge: optStr,
    version: (v) => v === 3 || v === 4,
    geetestApiServerSubdomain: optHost,
    geetestGetLib: optStr,
    initParameters: optObj,
    userAgent: optStr,
    ...PROXY,
  },
  ImageToTextTask: {
    body: imageBody,
    capMonsterModule: optStr,
    recognizingThreshold: (v) => v === undefined || (Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 100),
    case: optBool,
    numeric: (v) => v === undefined || v === 0 || v === 1,
    math: optBool,
  },
  ComplexImageTask: {
    class: (v) => v === 'funcaptcha' || v === 'recaptcha',
    imageUrls: (v) => v === undefined || (Array.isArray(v) && v.length === 1 && v.every(url)),
    imagesBase64: (v) => v === undefined || (Array.isArray(v) && v.length === 1 && v.every(imageBody)),
    metadata: (v) => typeof v === 'object' && v !== null && str((v as Record<string, unknown>).Task),
    userAgent: optStr,
    websiteURL: optStr,
  },
};

/** Rules across fields of one task (the docs' and SDKs' requirements); a message, or null. */
function crossCheck(t: Record<string, unknown>): string | null {
  const proxyParts = ['proxyType', 'proxyAddress', 'proxyPort'].filter((f) => t[f] !== undefined).length;
  if (proxyParts !== 0 && proxyParts !== 3) return 'ERROR_PROXY_MISSING: proxyType, proxyAddress and proxyPort go together';
  if (proxyParts === 0 && (t.proxyLogin !== undefined || t.proxyPassword !== undefined)) return 'ERROR_PROXY_MISSING: proxy credentials without a proxy';
  if (t.proxyPassword !== undefined && t.proxyLogin === undefined) return 'a proxy password without a login';
  if (t.type === 'TurnstileTask' && t.cloudflareTaskType !== undefined && proxyParts !== 0) return 'CapRelay sends no proxy with a Cloudflare challenge page task';
  if (t.type === 'TurnstileTask') {
    if (t.cloudflareTaskType === 'token') {
      for (const field of ['pageAction', 'data', 'pageData', 'userAgent']) if (!str(t[field])) return `cloudflareTaskType "token" needs ${field}`;
    } else if (t.cloudflareTaskType !== undefined) {
      return `cloudflareTaskType "${String(t.cloudflareTaskType)}" needs htmlPageBase64 and a proxy of the browser's own`;
    } else if (t.pageData !== undefined) {
      return 'pageData without cloudflareTaskType "token"';
    }
  }
  if (t.type === 'GeeTestTask') {
    if (t.version === 3 && !str(t.challenge)) return 'version 3 needs the challenge';
    if (t.version === 4 && t.challenge !== undefined) return 'version 4 has no challenge';
    if (t.version === 3 && t.initParameters !== undefined) return 'initParameters are for version 4';
  }
  return null;
}

/** The service's image rules: base64 on one line, no data: prefix, 100 B to 50 KB decoded (§3.8). */
export const IMAGE_LIMITS = { min: 100, max: 50_000 };
function imageBody(v: unknown): boolean {
  if (typeof v !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(v) || v.length % 4 !== 0) return false;
  const bytes = Buffer.from(v, 'base64').length;
  return bytes >= IMAGE_LIMITS.min && bytes <= IMAGE_LIMITS.max;
}

/**
 * The service's check of one createTask `task`, as documented: its type, each field's type, no
 * unknown field, and the rules across fields. Null when the service would take it.
 */
export function validateTask(t: Record<string, unknown>): { code: string; text: string; /** an unknown field: reported, the task still taken */ soft?: true } | null {
  const schema = typeof t.type === 'string' ? TASK_SCHEMAS[t.type] : undefined;
  if (!schema) return { code: 'ERROR_TASK_NOT_SUPPORTED', text: `unsupported type ${String(t.type)}` };
  for (const [field, check] of Object.entries(schema)) {
    if (!check(t[field])) return { code: field.startsWith('proxy') ? 'ERROR_PROXY_MISSING' : 'ERROR_INVALID_TASK', text: `bad ${field}=${JSON.stringify(t[field])}` };
  }
  let unknown: { code: string; text: string; soft: true } | undefined;
  for (const field of Object.keys(t)) {
    if (field !== 'type' && !(field in schema)) unknown ??= { code: 'ERROR_INVALID_TASK', text: `unknown field ${field}`, soft: true };
  }
  const crossed = crossCheck(t);
  if (crossed) return { code: crossed.startsWith('ERROR_PROXY') ? 'ERROR_PROXY_MISSING' : 'ERROR_INVALID_TASK', text: crossed };
  if (t.type === 'ComplexImageTask' && (t.imagesBase64 === undefined) === (t.imageUrls === undefined)) return { code: 'ERROR_INVALID_TASK', text: 'exactly one of imagesBase64 and imageUrls' };
  return unknown ?? null;
}

export const MIN_POLL_GAP_MS = 2_000;
const MAX_POLLS = 120;

export class MockSolver {
  readonly requests: RecordedRequest[] = [];
  /** Protocol problems the extension caused (bad format, too-fast polling); tests expect none. */
  readonly violations: string[] = [];
  private readonly tasks = new Map<number, MockTask>();
  private readonly scripted: Record<string, ScriptedAnswer[]> = {};
  private nextId = 100_000 + Math.floor(Math.random() * 1000);
  private server: http.Server | null = null;
  url = '';

  constructor(readonly options: MockSolverOptions) {}

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The next calls of `method` get these answers, in order, instead of the normal ones. */
  script(method: 'createTask' | 'getTaskResult' | 'getBalance' | keyof typeof REPORT_METHODS, ...answers: ScriptedAnswer[]): void {
    (this.scripted[method] ??= []).push(...answers);
  }

  set balance(value: number) {
    this.options.balance = value;
  }

  calls(method: string): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method);
  }

  /** Resolves when `count` calls of `method` have arrived. */
  async waitFor(method: string, count = 1, timeoutMs = 30_000): Promise<RecordedRequest[]> {
    const start = Date.now();
    while (this.calls(method).length < count) {
      if (Date.now() - start > timeoutMs) throw new Error(`mock: ${count} ${method} call(s) expected, got ${this.calls(method).length}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    return this.calls(method);
  }

  /** Poll timestamps per task, for checking the schedule. */
  pollsByTask(): Map<number, number[]> {
    return new Map(Array.from(this.tasks.values(), (t) => [t.id, [...t.polls]]));
  }

  tokenFor(taskId: number): string {
    return `03AFcWeA-mock-token-${taskId}-${'x'.repeat(480)}`;
  }

  private violation(text: string): void {
    this.violations.push(text);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const method = (req.url ?? '').replace(/^\//, '').split('?')[0] ?? '';
    const send = (status: number, body: string, contentType = 'application/json'): void => {
      // One connection per request: Chromium silently sends a request again when a reused
      // keep-alive connection closes before any answer, which would turn a scripted hang-up into
      // a second request the extension never made.
      res.writeHead(status, { 'content-type': contentType, connection: 'close' });
      res.end(body);
    };
    if (req.method !== 'POST') {
      this.violation(`${req.method} ${req.url}: only POST is allowed`);
      return send(405, JSON.stringify({ errorId: 1, errorCode: 'ERROR_NO_SUCH_METHOD' }));
    }
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      this.violation(`${method}: body is not JSON`);
      return send(200, JSON.stringify({ errorId: 1, errorCode: 'ERROR_TASK_ABSENT', errorDescription: 'invalid JSON' }));
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      this.violation(`${method}: body is not an object`);
      return send(200, JSON.stringify({ errorId: 1, errorCode: 'ERROR_TASK_ABSENT' }));
    }
    const record = body as Record<string, unknown>;
    this.requests.push({ method, body: record, at: Date.now() });

    const redirect = this.options.redirect;
    if (redirect) {
      res.writeHead(redirect.status ?? 307, { location: `${redirect.to}/${method}`, 'content-type': 'text/html' });
      res.end(`<a href="${redirect.to}/${method}">moved</a>`);
      return;
    }
    const scripted = this.scripted[method]?.shift();
    if (scripted) {
      if ('hangup' in scripted) {
        req.socket.destroy();
        return;
      }
      if (scripted.delayMs) await new Promise((r) => setTimeout(r, scripted.delayMs));
      if ('json' in scripted) return send(scripted.status ?? 200, JSON.stringify(scripted.json));
      return send(scripted.status ?? 200, scripted.raw, scripted.contentType ?? 'text/html');
    }

    if (typeof record.clientKey !== 'string' || record.clientKey !== this.options.apiKey) {
      return send(200, JSON.stringify({ errorId: 1, errorCode: 'ERROR_KEY_DOES_NOT_EXIST', errorDescription: 'Account authorization key not found in the system or has incorrect format', taskId: 0 }));
    }
    switch (method) {
      case 'getBalance':
        return send(200, JSON.stringify({ errorId: 0, balance: this.options.balance ?? 10 }));
      case 'createTask':
        return send(200, JSON.stringify(this.createTask(record)));
      case 'getTaskResult':
        return send(200, JSON.stringify(this.getTaskResult(record)));
      case 'reportIncorrectTokenCaptcha':
      case 'reportIncorrectRecaptcha':
      case 'reportIncorrectImageCaptcha':
        if (this.options.reports === false) return send(404, JSON.stringify({ errorId: 1, errorCode: 'ERROR_NO_SUCH_METHOD', errorDescription: 'Method not found' }));
        return send(200, JSON.stringify(this.report(method, record)));
      default:
        this.violation(`unknown method ${method}`);
        return send(404, JSON.stringify({ errorId: 1, errorCode: 'ERROR_NO_SUCH_METHOD' }));
    }
  }

  private createTask(body: Record<string, unknown>): Record<string, unknown> {
    for (const key of Object.keys(body)) {
      if (!['clientKey', 'task', 'callbackUrl', 'softId'].includes(key)) this.violation(`createTask: unknown field ${key}`);
    }
    const task = body.task;
    if (typeof task !== 'object' || task === null) {
      this.violation('createTask: no task');
      return { errorId: 1, errorCode: 'ERROR_TASK_ABSENT', taskId: 0 };
    }
    const t = task as Record<string, unknown>;
    const problem = validateTask(t);
    if (problem) this.violation(`createTask ${String(t.type)}: ${problem.text}`);
    if (problem && !problem.soft) {
      return { errorId: 1, errorCode: problem.code, errorDescription: problem.text, taskId: 0 };
    }
    if ((this.options.balance ?? 10) <= 0) return { errorId: 1, errorCode: 'ERROR_ZERO_BALANCE', errorDescription: 'Account has zero balance', taskId: 0 };
    const id = this.nextId++;
    const now = Date.now();
    this.tasks.set(id, { id, task: t, createdAt: now, readyAt: now + (this.options.solveAfterMs ?? 0), polls: [], reported: false });
    return { errorId: 0, taskId: id };
  }

  /** A wrong answer reported: exactly {clientKey, taskId}, a task this service solved, of the kind the endpoint covers, once. */
  private report(method: keyof typeof REPORT_METHODS, body: Record<string, unknown>): Record<string, unknown> {
    for (const key of Object.keys(body)) if (key !== 'clientKey' && key !== 'taskId') this.violation(`${method}: unknown field ${key}`);
    const task = typeof body.taskId === 'number' ? this.tasks.get(body.taskId) : undefined;
    if (!task) {
      this.violation(`${method}: unknown taskId ${JSON.stringify(body.taskId)}`);
      return { errorId: 1, errorCode: 'ERROR_NO_SUCH_CAPCHA_ID', errorDescription: 'Task not found' };
    }
    const kind = IMAGE_TYPES.has(String(task.task.type)) ? 'image' : 'token';
    if (kind !== REPORT_METHODS[method]) {
      this.violation(`${method}: task ${task.id} is a ${kind} task`);
      return { errorId: 1, errorCode: 'ERROR_NO_SUCH_CAPCHA_ID', errorDescription: 'Wrong report method for this task' };
    }
    if (task.reported) this.violation(`${method}: task ${task.id} reported twice`);
    task.reported = true;
    return { errorId: 0, status: 'success' };
  }

  private getTaskResult(body: Record<string, unknown>): Record<string, unknown> {
    const id = body.taskId;
    const task = typeof id === 'number' ? this.tasks.get(id) : undefined;
    if (!task) {
      this.violation(`getTaskResult: unknown taskId ${JSON.stringify(id)}`);
      return { errorId: 1, errorCode: 'ERROR_NO_SUCH_CAPCHA_ID', errorDescription: 'Task not found' };
    }
    const now = Date.now();
    const last = task.polls.at(-1);
    task.polls.push(now);
    // A little slack for timer jitter on a loaded machine: the rule is the service's, not ours.
    if (last !== undefined && now - last < MIN_POLL_GAP_MS - 50) {
      this.violation(`getTaskResult ${task.id}: polled ${now - last} ms after the previous poll`);
      return { errorId: 1, errorCode: 'ERROR_TOO_MUCH_REQUESTS', errorDescription: 'too many requests' };
    }
    if (task.polls.length > MAX_POLLS) this.violation(`getTaskResult ${task.id}: more than ${MAX_POLLS} polls`);
    if (now < task.readyAt) return { errorId: 0, errorCode: null, errorDescription: null, status: 'processing' };
    if (this.options.chargePerTask && !task.charged) {
      task.charged = true;
      this.options.balance = Math.round(((this.options.balance ?? 10) - this.options.chargePerTask) * 1e6) / 1e6;
    }
    const solution = this.options.solution?.(task.task, task.id) ?? this.defaultSolution(task);
    const answer: Record<string, unknown> = { errorId: 0, errorCode: null, errorDescription: null, status: 'ready', solution };
    if (this.options.cost !== undefined) answer.cost = this.options.cost;
    return answer;
  }

  private defaultSolution(task: MockTask): Record<string, unknown> {
    const type = String(task.task.type);
    // Image tasks: a fixed text, and the first of six tiles (tests that care pass `solution`).
    if (type === 'ImageToTextTask') return { text: 'MOCK42' };
    if (type === 'ComplexImageTask') return { answer: [true, false, false, false, false, false] };
    if (type.startsWith('FunCaptcha')) {
      return { token: `${task.id}.mock|r=eu-west-1|pk=${String(task.task.websitePublicKey)}|at=40|surl=https%3A%2F%2Fclient-api.arkoselabs.com` };
    }
    // The shapes of the service's answers (families.md §1.4, §2.3, §3.2), each carrying the task id.
    const hex = (seed: string, length: number): string => (seed + 'a3f9c2e7b1d4068f5e2c9a7b3d1f8e6c'.repeat(4)).slice(0, length);
    if (type === 'TurnstileTask') {
      return {
        token: `0.mock-${task.id}.${'Zx8Qm2'.repeat(80)}.${hex(String(task.id), 64)}`,
        userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
      };
    }
    if (type === 'GeeTestTask' && task.task.version === 4) {
      return {
        captcha_id: String(task.task.gt),
        lot_number: hex('', 32),
        pass_token: hex(String(task.id), 64),
        gen_time: String(Math.floor(Date.now() / 1000)),
        captcha_output: `mock_${task.id}_${'Hk3nT0pQ'.repeat(16)}`,
      };
    }
    if (type === 'GeeTestTask') {
      const validate = hex(String(task.id), 32);
      // The service's challenge is the one sent plus two characters.
      return { challenge: `${String(task.task.challenge)}k3`, validate, seccode: `${validate}|jordan` };
    }
    return { gRecaptchaResponse: this.tokenFor(task.id) };
  }
}
