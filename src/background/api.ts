/**
 * Client for the CapMonster Cloud task API (createTask / getTaskResult / getBalance), as spoken
 * by CapMonster Cloud, BroCapGPT and compatible services. Every answer is validated; every
 * failure becomes a ServiceError with the service's code or one of CapRelay's own.
 */
import type { ServiceError } from '../shared/errors';
import { isFiniteNumber, isRecord } from '../shared/validate';

export type ApiResult<T> = { ok: true; value: T } | { ok: false; error: ServiceError; /** the request may have reached the service */ ambiguous: boolean };

export type TaskResult =
  | { status: 'processing' }
  | { status: 'ready'; solution: Record<string, unknown>; cost?: number };

export interface SolverApiOptions {
  baseUrl: string;
  clientKey: string;
  fetch?: typeof fetch;
  /** Per-request time limit. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 20_000;
const MAX_BODY = 1_000_000;

export class SolverApi {
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;

  constructor(private readonly options: SolverApiOptions) {
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  async createTask(task: Record<string, unknown>, callbackUrl?: string): Promise<ApiResult<number | string>> {
    const body: Record<string, unknown> = { clientKey: this.options.clientKey, task };
    if (callbackUrl) body.callbackUrl = callbackUrl;
    const result = await this.post('createTask', body);
    if (!result.ok) return result;
    const taskId = result.value.taskId;
    if ((typeof taskId === 'number' && Number.isSafeInteger(taskId) && taskId > 0) || (typeof taskId === 'string' && taskId.length > 0 && taskId.length <= 100)) {
      return { ok: true, value: taskId };
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
      return { ok: true, value };
    }
    return { ok: false, error: { code: 'BAD_RESPONSE', description: 'unknown task status' }, ambiguous: false };
  }

  async getBalance(): Promise<ApiResult<number>> {
    const result = await this.post('getBalance', { clientKey: this.options.clientKey });
    if (!result.ok) return result;
    // Some compatible services send the balance as a decimal string, as they do `cost`.
    const raw = result.value.balance;
    const balance = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
    if (isFiniteNumber(balance)) return { ok: true, value: balance };
    return { ok: false, error: { code: 'BAD_RESPONSE', description: 'getBalance answer has no balance' }, ambiguous: false };
  }

  /** Error text is shown and stored: a service that echoes the key must not put it there. */
  private scrub(text: string): string {
    const key = this.options.clientKey;
    if (!key) return text;
    return text.split(key).join('[API key]').split(encodeURIComponent(key)).join('[API key]');
  }

  /** POSTs JSON; returns the body of a successful (errorId 0) answer or the error it carried. */
  private async post(method: string, body: Record<string, unknown>): Promise<ApiResult<Record<string, unknown>>> {
    if (isOffline()) {
      return { ok: false, error: { code: 'NETWORK_ERROR', description: 'the browser is offline' }, ambiguous: false };
    }
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    let response: Response | undefined;
    let text: string;
    try {
      response = await this.fetchImpl(`${this.options.baseUrl}/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body),
        signal: controller.signal,
        credentials: 'omit',
        cache: 'no-store',
      });
      text = await response.text();
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
 * Statuses that mean the request was turned away before any work: rate limits, an unavailable
 * service, auth and client errors. A 500, 502 or 504 may come after the service made the task.
 */
function refusedBeforeWork(status: number): boolean {
  return status < 500 || status === 503;
}

function isOffline(): boolean {
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
  const snippet = text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 120);
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
