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
      const cost = typeof body.cost === 'string' ? Number(body.cost) : body.cost;
      if (isFiniteNumber(cost)) value.cost = cost;
      return { ok: true, value };
    }
    return { ok: false, error: { code: 'BAD_RESPONSE', description: 'unknown task status' }, ambiguous: false };
  }

  async getBalance(): Promise<ApiResult<number>> {
    const result = await this.post('getBalance', { clientKey: this.options.clientKey });
    if (!result.ok) return result;
    const balance = result.value.balance;
    if (isFiniteNumber(balance)) return { ok: true, value: balance };
    return { ok: false, error: { code: 'BAD_RESPONSE', description: 'getBalance answer has no balance' }, ambiguous: false };
  }

  /** POSTs JSON; returns the body of a successful (errorId 0) answer or the error it carried. */
  private async post(method: string, body: Record<string, unknown>): Promise<ApiResult<Record<string, unknown>>> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    let response: Response;
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
      const timedOut = controller.signal.aborted;
      return {
        ok: false,
        error: {
          code: timedOut ? 'REQUEST_TIMEOUT' : 'NETWORK_ERROR',
          description: timedOut ? `no answer within ${this.timeoutMs / 1000} s` : errorText(error),
        },
        // A timeout means the request went out; a refused connection or offline means it did not.
        ambiguous: timedOut,
      };
    } finally {
      clearTimeout(timer);
    }

    const parsed = parseJson(text);
    if (isRecord(parsed) && 'errorId' in parsed) {
      const errorId = parsed.errorId;
      if (errorId === 0 && response.ok) return { ok: true, value: parsed };
      if (errorId !== 0) {
        const code = typeof parsed.errorCode === 'string' && parsed.errorCode ? parsed.errorCode.slice(0, 100) : `ERROR_ID_${String(errorId).slice(0, 20)}`;
        const error: ServiceError = { code };
        if (typeof parsed.errorDescription === 'string' && parsed.errorDescription) error.description = parsed.errorDescription.slice(0, 500);
        if (!response.ok) error.httpStatus = response.status;
        return { ok: false, error, ambiguous: false };
      }
    }
    if (!response.ok) return { ok: false, error: httpError(response.status, text), ambiguous: false };
    return { ok: false, error: { code: 'BAD_RESPONSE', description: parsed === undefined ? 'not JSON' : 'unexpected JSON' }, ambiguous: method === 'createTask' };
  }
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
