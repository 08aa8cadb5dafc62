/**
 * The demo's solving service: the strict local mock of a CapMonster-compatible service
 * (test/support/mock-solver.ts) behind a thin front on 127.0.0.1 that adds what a demo needs:
 * a solve time that varies like a real one, demo keys that fail in a chosen way, and a control
 * endpoint that makes the next task fail.
 *
 * Everything the extension sends still reaches the mock, so its protocol checks (request shape,
 * polling rules) keep running; the front only answers for the failing keys and holds a ready
 * answer back until the task's solve time has passed.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { MockSolver, type ScriptedAnswer } from '../test/support/mock-solver';

/** The key that works. Any other key, apart from the variants below, gets ERROR_KEY_DOES_NOT_EXIST. */
export const DEMO_KEY = 'caprelay-demo-key';

type ApiMethod = 'createTask' | 'getTaskResult' | 'getBalance';

interface KeyVariant {
  /** What the variant is for, shown on the demo site. */
  description: string;
  /** Answers the front gives itself instead of forwarding. */
  answers: Partial<Record<ApiMethod, Record<string, unknown>>>;
}

/** Error answers as the service words them. */
const ERRORS: Record<string, string> = {
  ERROR_ZERO_BALANCE: 'Account has zero balance',
  ERROR_NO_SLOT_AVAILABLE: 'No idle workers are available at the moment. Please try a bit later',
  ERROR_CAPTCHA_UNSOLVABLE: 'Captcha could not be solved',
  ERROR_RECAPTCHA_INVALID_DOMAIN: 'Domain is not allowed for this site key',
  ERROR_IP_BANNED: 'Your IP address is banned for 10 minutes',
  ERROR_KEY_DOES_NOT_EXIST: 'Account authorization key not found in the system or has incorrect format',
};

function errorAnswer(code: string, method: ApiMethod): Record<string, unknown> {
  const answer: Record<string, unknown> = { errorId: 1, errorCode: code, errorDescription: ERRORS[code] ?? code };
  if (method === 'createTask') answer.taskId = 0;
  return answer;
}

export const KEY_VARIANTS: Record<string, KeyVariant> = {
  [`${DEMO_KEY}-zero-balance`]: {
    description: 'balance 0; every task fails with ERROR_ZERO_BALANCE',
    answers: { getBalance: { errorId: 0, balance: 0 }, createTask: errorAnswer('ERROR_ZERO_BALANCE', 'createTask') },
  },
  [`${DEMO_KEY}-no-slot`]: {
    description: 'createTask always answers ERROR_NO_SLOT_AVAILABLE (CapRelay retries, then gives up)',
    answers: { createTask: errorAnswer('ERROR_NO_SLOT_AVAILABLE', 'createTask') },
  },
  [`${DEMO_KEY}-unsolvable`]: {
    description: 'tasks are accepted, then end with ERROR_CAPTCHA_UNSOLVABLE',
    answers: { getTaskResult: errorAnswer('ERROR_CAPTCHA_UNSOLVABLE', 'getTaskResult') },
  },
  [`${DEMO_KEY}-invalid-domain`]: {
    description: 'reCAPTCHA tasks fail with ERROR_RECAPTCHA_INVALID_DOMAIN',
    answers: { createTask: errorAnswer('ERROR_RECAPTCHA_INVALID_DOMAIN', 'createTask') },
  },
};

/** Codes a task can only get from getTaskResult; the control endpoint scripts the others on createTask. */
const RESULT_ERRORS = new Set(['ERROR_CAPTCHA_UNSOLVABLE', 'ERROR_RECAPTCHA_TIMEOUT', 'ERROR_NO_SUCH_CAPCHA_ID', 'ERROR_TOKEN_EXPIRED']);
const ERROR_CODE = /^[A-Z][A-Z0-9_]{2,63}$/;

export interface SandboxOptions {
  /** Average time from createTask to a ready solution; each task gets ±30 %. */
  solveMs: number;
  balance?: number;
  /** For repeatable runs (tests). */
  random?: () => number;
}

export interface FailNextRequest {
  errorCode: string;
  /** Defaults to getTaskResult for errors only a result can carry, else createTask. */
  method?: 'createTask' | 'getTaskResult';
  /** How many calls in a row fail (ERROR_NO_SLOT_AVAILABLE needs several to outlast the retries). */
  times?: number;
}

export class Sandbox {
  readonly solver: MockSolver;
  url = '';
  private server: http.Server | null = null;
  /** When each task may first answer ready, by the service's task id. */
  private readonly readyAt = new Map<number, number>();
  private readonly random: () => number;

  constructor(private readonly options: SandboxOptions) {
    this.solver = new MockSolver({ apiKey: DEMO_KEY, balance: options.balance ?? 5, solveAfterMs: 0 });
    this.random = options.random ?? Math.random;
  }

  async start(port = 0): Promise<this> {
    await this.solver.start();
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, '127.0.0.1', resolve);
    });
    const { port: bound } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${bound}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    await this.solver.stop();
  }

  /** Makes the next `times` calls of a method fail with `errorCode`, whatever the key. */
  failNext(request: FailNextRequest): { method: ApiMethod; errorCode: string; times: number } {
    if (!ERROR_CODE.test(request.errorCode)) throw new Error(`not an error code: ${request.errorCode}`);
    const method = request.method ?? (RESULT_ERRORS.has(request.errorCode) ? 'getTaskResult' : 'createTask');
    const times = Math.min(Math.max(Math.trunc(request.times ?? 1), 1), 20);
    const answer: ScriptedAnswer = { json: errorAnswer(request.errorCode, method) };
    this.solver.script(method, ...Array.from({ length: times }, () => answer));
    return { method, errorCode: request.errorCode, times };
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };

    if (path === '/' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(this.describe());
      return;
    }
    if (path === '/demo/fail-next') {
      if (req.method !== 'POST') return json(405, { error: 'POST {"errorCode": "ERROR_ZERO_BALANCE"}' });
      const body = parseObject(raw);
      const errorCode = body?.errorCode;
      const method = body?.method;
      const times = body?.times;
      if (typeof errorCode !== 'string' || !ERROR_CODE.test(errorCode)) return json(400, { error: 'errorCode must be an error code such as ERROR_ZERO_BALANCE' });
      if (method !== undefined && method !== 'createTask' && method !== 'getTaskResult') return json(400, { error: 'method must be createTask or getTaskResult' });
      if (times !== undefined && typeof times !== 'number') return json(400, { error: 'times must be a number' });
      return json(200, this.failNext({ errorCode, ...(method ? { method } : {}), ...(times !== undefined ? { times } : {}) }));
    }

    const method = path.replace(/^\//, '');
    const body = parseObject(raw);
    const variant = typeof body?.clientKey === 'string' ? KEY_VARIANTS[body.clientKey] : undefined;
    const own = isApiMethod(method) ? variant?.answers[method] : undefined;
    if (own) return json(200, own);

    // Variant keys are the demo key for everything they do not answer themselves.
    const forwarded = variant && body ? JSON.stringify({ ...body, clientKey: DEMO_KEY }) : raw;
    let upstream: Response;
    try {
      upstream = await fetch(`${this.solver.url}${req.url ?? '/'}`, {
        method: req.method ?? 'POST',
        headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
        ...(req.method === 'GET' || req.method === 'HEAD' ? {} : { body: forwarded }),
      });
    } catch {
      // The mock hung up on purpose (a scripted network failure): do the same.
      req.socket.destroy();
      return;
    }
    let text = await upstream.text();
    if (upstream.ok && (method === 'createTask' || method === 'getTaskResult')) text = this.pace(method, body, text);
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
    res.end(text);
  }

  /** Gives each new task a solve time, and answers "processing" until it has passed. */
  private pace(method: 'createTask' | 'getTaskResult', request: Record<string, unknown> | null, text: string): string {
    const answer = parseObject(text);
    if (!answer || answer.errorId !== 0) return text;
    if (method === 'createTask' && typeof answer.taskId === 'number') {
      const spread = 0.7 + this.random() * 0.6;
      this.readyAt.set(answer.taskId, Date.now() + Math.round(this.options.solveMs * spread));
      return text;
    }
    const taskId = request?.taskId;
    const readyAt = typeof taskId === 'number' ? this.readyAt.get(taskId) : undefined;
    if (answer.status === 'ready' && readyAt !== undefined && Date.now() < readyAt) {
      return JSON.stringify({ errorId: 0, errorCode: null, errorDescription: null, status: 'processing' });
    }
    return text;
  }

  private describe(): string {
    const lines = [
      'CapRelay demo sandbox: a local CapMonster Cloud compatible service.',
      '',
      `Key: ${DEMO_KEY}`,
      ...Object.entries(KEY_VARIANTS).map(([key, v]) => `Key: ${key}  (${v.description})`),
      '',
      'POST /createTask, /getTaskResult, /getBalance as the real service.',
      'POST /demo/fail-next {"errorCode":"ERROR_ZERO_BALANCE"} makes the next task fail.',
    ];
    return `${lines.join('\n')}\n`;
  }
}

function isApiMethod(value: string): value is ApiMethod {
  return value === 'createTask' || value === 'getTaskResult' || value === 'getBalance';
}

function parseObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
