/**
 * Client for the CapMonster Cloud task API (createTask / getTaskResult / getBalance), as spoken
 * by CapMonster Cloud, BroCapGPT and compatible services. Every answer is validated; every
 * failure becomes a ServiceError with the service's code or one of CapRelay's own.
 */
import type { ServiceError } from '../shared/errors';
import { isFiniteNumber, isRecord } from '../shared/validate';

export type ApiResult<T> = { ok: true; value: T } | { ok: false; error: ServiceError; /** the request may have reached the service */ ambiguous: boolean };

export type TaskResult = { status: 'processing' } | { status: 'ready'; solution: Record<string, unknown>; cost?: number };

export interface SolverApiOptions {
  baseUrl: string;
  clientKey: string;
  fetch?: typeof fetch;
  /** Per-request time limit. */
  timeoutMs?: number;
  /** The proxy password sent with tasks: a secret like the key, scrubbed from error text too. */
  proxyPassword?: string;
}

const DEFAULT_TIMEOUT_MS = 20_000;
/** Bytes of an answer read at most; a longer one is cut off unread. */
export const MAX_BODY = 1_000_000;
/** What the protocol gives as a task id: CapMonster's integers, or a clone's UUID-like string. */
const TASK_ID = /^[\w-]{1,100}$/;
const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
/** readCapped's answer for a body over MAX_BODY. */
const TOO_BIG = Symbol('too big');

export class SolverApi {
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;
  /** The key as a service could send it back: as is or URL-encoded, in any letter case. */
  private readonly keyPattern: RegExp | null;
  /** The same for the proxy password (scrubbed from error text; a token may by chance contain a short one, so answers are not refused for it). */
  private readonly passwordPattern: RegExp | null;

  constructor(private readonly options: SolverApiOptions) {
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.keyPattern = secretPattern(options.clientKey);
    this.passwordPattern = secretPattern(options.proxyPassword);
  }

  async createTask(task: Record<string, unknown>, callbackUrl?: string): Promise<ApiResult<number | string>> {
    const body: Record<string, unknown> = { clientKey: this.options.clientKey, task };
    if (callbackUrl) body.callbackUrl = callbackUrl;
    const result = await this.post('createTask', body);
    if (!result.ok) return result;
    const taskId = result.value.taskId;
    if ((typeof taskId === 'number' && Number.isSafeInteger(taskId) && taskId > 0) || (typeof taskId === 'string' && TASK_ID.test(taskId))) {
      // The id is shown in the popup and stored with the task. One refused for carrying the
      // key is still an answer in doubt: the service may hold a task under it.
      return this.handOn(taskId, true);
    }
    // The service answered without an id: it did not say a task exists, but it may.
    return { ok: false, error: { code: 'BAD_RESPONSE', description: 'createTask answer has no taskId' }, ambiguous: true };
  }

  async getTaskResult(taskId: number | string): Promise<ApiResult<TaskResult>> {
    const result = await this.post('getTaskResult', { clientKey: this.options.clientKey, taskId });
    if (!result.ok) {
      if (result.error.code === 'CAPTCHA_NOT_READY') return { ok: true, value: { status: 'processing' } };
      return result;
    }
    const body = result.value;
    if (body.status === 'processing') return { ok: true, value: { status: 'processing' } };
    if (body.status === 'ready') {
      if (!isRecord(body.solution)) {
        return { ok: false, error: { code: 'NO_SOLUTION', description: 'ready without a solution' }, ambiguous: false };
      }
      const value: TaskResult = { status: 'ready', solution: body.solution };
      const cost = typeof body.cost === 'string' && body.cost.trim() !== '' ? Number(body.cost) : body.cost;
      if (isFiniteNumber(cost)) value.cost = cost;
      // The token (or image answer) goes into a page and storage, the cost into the history.
      return this.handOn(value, false);
    }
    return { ok: false, error: { code: 'BAD_RESPONSE', description: 'unknown task status' }, ambiguous: false };
  }

  async getBalance(): Promise<ApiResult<number>> {
    const result = await this.post('getBalance', { clientKey: this.options.clientKey });
    if (!result.ok) return result;
    // Some compatible services send the balance as a decimal string, as they do `cost`.
    const raw = result.value.balance;
    const balance = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
    if (isFiniteNumber(balance)) return this.handOn(balance, false);
    return { ok: false, error: { code: 'BAD_RESPONSE', description: 'getBalance answer has no balance' }, ambiguous: false };
  }

  /**
   * Reports a wrong answer (reportIncorrectTokenCaptcha / reportIncorrectImageCaptcha). The
   * service says `status: "success"` when it takes the report; without it, it refused.
   */
  async reportIncorrect(kind: 'token' | 'image', taskId: number | string): Promise<ApiResult<true>> {
    const result = await this.post(kind === 'image' ? 'reportIncorrectImageCaptcha' : 'reportIncorrectTokenCaptcha', { clientKey: this.options.clientKey, taskId });
    if (!result.ok) return result;
    if (result.value.status === 'success') return { ok: true, value: true };
    return { ok: false, error: { code: 'REPORT_REJECTED' }, ambiguous: false };
  }

  /** Error text is shown and stored: a service that echoes the key must not put it there. */
  private scrub(text: string): string {
    const withoutKey = this.keyPattern ? text.replace(this.keyPattern, '[API key]') : text;
    return this.passwordPattern ? withoutKey.replace(this.passwordPattern, '[proxy password]') : withoutKey;
  }

  /**
   * Everything the client hands on from a successful answer ends up shown, stored or put into a
   * page. A value that carries the key is refused whole: a token cannot be scrubbed and still work.
   */
  private handOn<T>(value: T, ambiguous: boolean): ApiResult<T> {
    if (this.keyPattern && carries(value, this.keyPattern)) {
      return { ok: false, error: { code: 'KEY_IN_ANSWER' }, ambiguous };
    }
    return { ok: true, value };
  }

  /** POSTs JSON; returns the body of a successful (errorId 0) answer or the error it carried. */
  private async post(method: string, body: Record<string, unknown>): Promise<ApiResult<Record<string, unknown>>> {
    if (isOffline()) {
      return { ok: false, error: { code: 'NETWORK_ERROR', description: 'the browser is offline' }, ambiguous: false };
    }
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    let response: Response | undefined;
    let text: string | typeof TOO_BIG;
    try {
      response = await this.fetchImpl(`${this.options.baseUrl}/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body),
        signal: controller.signal,
        credentials: 'omit',
        cache: 'no-store',
        // A followed 307/308 re-sends the body, key included, to wherever the answer points
        // (another host, plain http). The key goes only to the URL the user set.
        redirect: 'manual',
      });
      if (isRedirect(response)) {
        void response.body?.cancel().catch(() => undefined);
        // The service answered but did not do this request here. For createTask that is still
        // in doubt: a 303 is how a server says "done, see there" (post/redirect/get), and a
        // relay may have passed the task on before redirecting. Never pay twice: not re-sent.
        return { ok: false, error: { code: 'SERVICE_REDIRECT', ...(response.status > 0 && { httpStatus: response.status }) }, ambiguous: method === 'createTask' };
      }
      text = await readCapped(response, controller, MAX_BODY);
    } catch (error) {
      if (controller.signal.aborted) {
        // The request went out; the service may have acted on it.
        return { ok: false, error: { code: 'REQUEST_TIMEOUT', description: `no answer within ${this.timeoutMs / 1000} s` }, ambiguous: true };
      }
      // Only a connection that was never made proves the service saw nothing. A reset or a cut
      // body (or a browser that does not say which) may come after the service acted.
      const neverSent = response === undefined && (isOffline() || connectFailed(error));
      return { ok: false, error: { code: 'NETWORK_ERROR', description: errorText(error) }, ambiguous: !neverSent };
    } finally {
      clearTimeout(timer);
    }

    if (text === TOO_BIG) {
      // Cut off unread: for createTask, as unreadable as any other answer, so in doubt.
      return { ok: false, error: { code: 'BAD_RESPONSE', description: 'answer over 1 MB' }, ambiguous: method === 'createTask' };
    }
    const parsed = parseJson(text);
    if (isRecord(parsed) && 'errorId' in parsed) {
      const errorId = parsed.errorId;
      if (errorId === 0 && response.ok) return { ok: true, value: parsed };
      if (errorId !== 0) {
        // The service's own refusal: whatever the HTTP status, it says it did not do the work.
        const code = typeof parsed.errorCode === 'string' && parsed.errorCode ? this.scrub(parsed.errorCode).slice(0, 100) : `ERROR_ID_${String(errorId).slice(0, 20)}`;
        const error: ServiceError = { code };
        if (typeof parsed.errorDescription === 'string' && parsed.errorDescription) error.description = this.scrub(parsed.errorDescription).slice(0, 500);
        if (!response.ok) error.httpStatus = response.status;
        return { ok: false, error, ambiguous: false };
      }
    }
    if (!response.ok) return { ok: false, error: httpError(response.status, this.scrub(text)), ambiguous: method === 'createTask' && !refusedBeforeWork(response.status) };
    return { ok: false, error: { code: 'BAD_RESPONSE', description: parsed === undefined ? 'not JSON' : 'unexpected JSON' }, ambiguous: method === 'createTask' };
  }
}

/**
 * With `redirect: 'manual'` a browser hands back an opaque redirect (status 0); Node's fetch
 * hands back the 3xx answer itself.
 */
function isRedirect(response: Response): boolean {
  return response.type === 'opaqueredirect' || REDIRECT_STATUSES.has(response.status);
}

/**
 * The body as text, never more than `limit` bytes of it: a declared length over the limit is
 * refused before reading, and a longer stream is cancelled as soon as the count passes it (the
 * request is aborted too, so the browser stops receiving). Buffering it whole first would let a
 * service fill the extension's memory.
 */
async function readCapped(response: Response, controller: AbortController, limit: number): Promise<string | typeof TOO_BIG> {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- a fetch replacement may answer without headers
  const declared = Number(response.headers?.get('content-length') ?? NaN);
  const stream = response.body;
  if (declared > limit) {
    void stream?.cancel().catch(() => undefined);
    controller.abort();
    return TOO_BIG;
  }
  // No stream (an empty body, or a stand-in Response without one): nothing to bound.
  if (!stream) return response.text();
  const reader = stream.getReader();
  // A fetch stand-in may not tie its body to the signal: the time limit still ends the read.
  const onAbort = (): void => void reader.cancel().catch(() => undefined);
  controller.signal.addEventListener('abort', onAbort);
  const decoder = new TextDecoder();
  let size = 0;
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (controller.signal.aborted) throw new DOMException('the request was aborted', 'AbortError');
      if (done) return text + decoder.decode();
      size += value.byteLength;
      if (size > limit) {
        controller.signal.removeEventListener('abort', onAbort);
        void reader.cancel().catch(() => undefined);
        controller.abort();
        return TOO_BIG;
      }
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    controller.signal.removeEventListener('abort', onAbort);
  }
}

/** Whether any string, number or property name in `value` matches `pattern` (walked without recursion). */
function carries(value: unknown, pattern: RegExp): boolean {
  const pending: unknown[] = [value];
  while (pending.length) {
    const item = pending.pop();
    if (typeof item === 'string' || typeof item === 'number') {
      if (String(item).search(pattern) >= 0) return true;
    } else if (Array.isArray(item)) {
      // Not push(...item): a long array would overflow the argument list.
      for (const inner of item) pending.push(inner);
    } else if (isRecord(item)) {
      for (const [name, inner] of Object.entries(item)) {
        if (name.search(pattern) >= 0) return true;
        pending.push(inner);
      }
    }
  }
  return false;
}

/** A secret as a service could send it back: as is or URL-encoded, in any letter case. */
function secretPattern(secret: string | undefined): RegExp | null {
  const forms = secret ? [...new Set([secret, encodeURIComponent(secret)])] : [];
  return forms.length ? new RegExp(forms.map(escapeRegExp).join('|'), 'gi') : null;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Statuses that mean the request was turned away before any work: rate limits, an unavailable
 * service, auth and client errors. A 500, 502 or 504 may come after the service made the task.
 */
function refusedBeforeWork(status: number): boolean {
  return status < 500 || status === 503;
}

function isOffline(): boolean {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-boolean-literal-compare -- only a definite false is offline (a runtime may leave onLine undefined)
  return typeof navigator !== 'undefined' && navigator.onLine === false;
}

/** Error codes (Node and undici name them; browsers do not) for a connection that was never made. */
const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN', 'UND_ERR_CONNECT_TIMEOUT']);

function connectFailed(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && isRecord(current); depth++) {
    const code = current.code;
    if (typeof code === 'string' && CONNECT_FAILURES.has(code)) return true;
    // Node reports a refused dual-stack connect as an AggregateError of per-address errors.
    const errors = current.errors;
    if (Array.isArray(errors) && errors.length > 0 && errors.every((e) => connectFailed(e))) return true;
    current = current.cause;
  }
  return false;
}

/** An HTTP error without the JSON envelope. 402/403 mean money or key, as services send them. */
function httpError(status: number, text: string): ServiceError {
  if (status === 402) return { code: 'ERROR_ZERO_BALANCE', httpStatus: status };
  if (status === 401 || status === 403) return { code: 'ERROR_KEY_DOES_NOT_EXIST', httpStatus: status };
  const error: ServiceError = { code: 'HTTP_ERROR', httpStatus: status };
  const snippet = text
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 120);
  if (snippet) error.description = snippet;
  return error;
}

function parseJson(text: string): unknown {
  if (text.length > MAX_BODY) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message.slice(0, 200) : 'request failed';
}
