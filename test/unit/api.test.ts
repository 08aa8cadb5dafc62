// @vitest-environment node
/**
 * SolverApi against a scripted fetch (every answer shape the protocol reference describes) and
 * against a real HTTP server on 127.0.0.1 (refused connections, answers that never come, cut
 * bodies, HTML error pages). Also the error taxonomy each code falls into.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { MAX_BODY, SolverApi, type ApiResult } from '../../src/background/api';
import { classifyError, describeError, KNOWN_ERROR_CODES, type ErrorClass } from '../../src/shared/errors';

const BASE = 'https://solver.test';
const KEY = 'key-0123456789';

interface Sent {
  url: string;
  init: RequestInit;
  body: Record<string, unknown>;
}

/** A fetch that records each request and answers with the next scripted reply. */
function scripted(...replies: Array<(init: RequestInit) => Promise<Response>>) {
  const sent: Sent[] = [];
  const fetchFake = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const options = init ?? {};
    sent.push({ url: String(input), init: options, body: JSON.parse(String(options.body)) as Record<string, unknown> });
    const reply = replies.shift();
    if (!reply) throw new Error('no scripted reply left');
    return reply(options);
  };
  return { sent, api: new SolverApi({ baseUrl: BASE, clientKey: KEY, fetch: fetchFake, timeoutMs: 50 }) };
}

const json =
  (value: unknown, status = 200) =>
  async (): Promise<Response> =>
    new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json' } });
const text =
  (body: string, status = 200, type = 'text/html') =>
  async (): Promise<Response> =>
    new Response(body, { status, headers: { 'content-type': type } });
const reject = (error: unknown) => async (): Promise<Response> => Promise.reject(error);
const connectError = (code: string) => new TypeError('fetch failed', { cause: Object.assign(new Error(`connect ${code}`), { code }) });
/** Never answers; rejects as fetch does once the client's signal aborts. */
const silence = (init: RequestInit): Promise<Response> => new Promise((_resolve, rejectWith) => init.signal?.addEventListener('abort', () => rejectWith(new DOMException('aborted', 'AbortError'))));

function failure<T>(result: ApiResult<T>) {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result.value)}`);
  return result;
}

const TASK = { type: 'RecaptchaV2Task', websiteURL: 'https://shop.test/login', websiteKey: '6Lc_EXAMPLE' };

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('requests', () => {
  it('POSTs JSON with the key and the task to <base>/createTask, without cookies or cache', async () => {
    const { sent, api } = scripted(json({ errorId: 0, taskId: 918273645 }));
    expect(await api.createTask(TASK)).toEqual({ ok: true, value: 918273645 });
    expect(sent).toHaveLength(1);
    expect(sent[0]!.url).toBe(`${BASE}/createTask`);
    expect(sent[0]!.init).toMatchObject({ method: 'POST', credentials: 'omit', cache: 'no-store', headers: { 'content-type': 'application/json' } });
    expect(sent[0]!.body).toEqual({ clientKey: KEY, task: TASK });
  });

  it('adds callbackUrl only when one is given', async () => {
    const { sent, api } = scripted(json({ errorId: 0, taskId: 1 }), json({ errorId: 0, taskId: 2 }));
    await api.createTask(TASK, 'https://hooks.example.org/cb');
    await api.createTask(TASK, '');
    expect(sent[0]!.body.callbackUrl).toBe('https://hooks.example.org/cb');
    expect('callbackUrl' in sent[1]!.body).toBe(false);
  });

  it.each([
    ['FunCaptchaTask', { type: 'FunCaptchaTask', websiteURL: 'https://a.test/', websitePublicKey: 'PK', data: '{"blob":"B"}' }],
    ['FunCaptchaTaskProxyless', { type: 'FunCaptchaTaskProxyless', websiteURL: 'https://a.test/', websitePublicKey: 'PK' }],
    ['RecaptchaV2EnterpriseTask', { type: 'RecaptchaV2EnterpriseTask', websiteURL: 'https://a.test/', websiteKey: 'K', enterprisePayload: { s: 'S' } }],
    ['RecaptchaV3TaskProxyless', { type: 'RecaptchaV3TaskProxyless', websiteURL: 'https://a.test/', websiteKey: 'K', minScore: 0.7, pageAction: 'verify' }],
    ['RecaptchaV3EnterpriseTask', { type: 'RecaptchaV3EnterpriseTask', websiteURL: 'https://a.test/', websiteKey: 'K', minScore: 0.3, pageAction: 'login' }],
  ])('sends a %s task exactly as given', async (_type, task) => {
    const { sent, api } = scripted(json({ errorId: 0, taskId: 5 }));
    await api.createTask(task);
    expect(sent[0]!.body.task).toEqual(task);
  });

  it('echoes a task id back unchanged, number or string', async () => {
    const { sent, api } = scripted(json({ errorId: 0, status: 'processing' }), json({ errorId: 0, status: 'processing' }));
    await api.getTaskResult(918273645);
    await api.getTaskResult('3f1c-uuid-like');
    expect(sent.map((s) => [s.url, s.body])).toEqual([
      [`${BASE}/getTaskResult`, { clientKey: KEY, taskId: 918273645 }],
      [`${BASE}/getTaskResult`, { clientKey: KEY, taskId: '3f1c-uuid-like' }],
    ]);
  });
});

describe('createTask answers', () => {
  it('accepts string task ids (services other than CapMonster use them)', async () => {
    const { api } = scripted(json({ errorId: 0, taskId: 'a1b2c3' }), json({ errorId: 0, taskId: '3f1c9a2e-7b4d-4e0a-9c1f-0d2b6e8a4c17' }), json({ errorId: 0, taskId: 'x'.repeat(100) }));
    expect(await api.createTask(TASK)).toEqual({ ok: true, value: 'a1b2c3' });
    expect(await api.createTask(TASK)).toEqual({ ok: true, value: '3f1c9a2e-7b4d-4e0a-9c1f-0d2b6e8a4c17' });
    expect(await api.createTask(TASK)).toEqual({ ok: true, value: 'x'.repeat(100) });
  });

  it.each([
    ['no taskId', { errorId: 0 }],
    ['taskId 0', { errorId: 0, taskId: 0 }],
    ['a negative taskId', { errorId: 0, taskId: -4 }],
    ['a fractional taskId', { errorId: 0, taskId: 1.5 }],
    ['an empty taskId', { errorId: 0, taskId: '' }],
    ['an object taskId', { errorId: 0, taskId: { id: 1 } }],
    ['a taskId over 100 characters', { errorId: 0, taskId: 'a'.repeat(101) }],
    ['a taskId with markup', { errorId: 0, taskId: '<img src=x onerror=alert(1)>' }],
    ['a taskId with spaces', { errorId: 0, taskId: 'task 42' }],
    ['a taskId with a path', { errorId: 0, taskId: '../getBalance' }],
    ['an unsafe integer taskId', { errorId: 0, taskId: 2 ** 53 }],
  ])('with %s is BAD_RESPONSE and in doubt (a task may exist)', async (_name, body) => {
    const { api } = scripted(json(body));
    expect(failure(await api.createTask(TASK))).toEqual({ ok: false, error: { code: 'BAD_RESPONSE', description: 'createTask answer has no taskId' }, ambiguous: true });
  });

  it('reports the service code and description of an errorId answer, sure that no task exists', async () => {
    const { api } = scripted(json({ errorId: 1, errorCode: 'ERROR_ZERO_BALANCE', errorDescription: 'Account has zero balance', taskId: 0 }));
    expect(failure(await api.createTask(TASK))).toEqual({
      ok: false,
      error: { code: 'ERROR_ZERO_BALANCE', description: 'Account has zero balance' },
      ambiguous: false,
    });
  });

  it('tests errorId !== 0, not === 1 (2captcha and anti-captcha use other numbers)', async () => {
    const { api } = scripted(json({ errorId: 12, errorCode: 'ERROR_CAPTCHA_UNSOLVABLE' }), json({ errorId: 10 }), json({ errorId: '1', errorCode: 'ERROR_IP_BANNED' }));
    expect(failure(await api.createTask(TASK)).error.code).toBe('ERROR_CAPTCHA_UNSOLVABLE');
    expect(failure(await api.createTask(TASK)).error).toEqual({ code: 'ERROR_ID_10' });
    expect(failure(await api.createTask(TASK)).error.code).toBe('ERROR_IP_BANNED');
  });

  it('keeps the JSON error code of a non-2xx answer, with its status', async () => {
    const { api } = scripted(json({ errorId: 1, errorCode: 'ERROR_KEY_DOES_NOT_EXIST' }, 403));
    expect(failure(await api.createTask(TASK))).toEqual({ ok: false, error: { code: 'ERROR_KEY_DOES_NOT_EXIST', httpStatus: 403 }, ambiguous: false });
  });

  it('bounds what it keeps of a service error', async () => {
    const { api } = scripted(json({ errorId: 1, errorCode: `ERROR_${'X'.repeat(300)}`, errorDescription: 'd'.repeat(5_000) }));
    const { error } = failure(await api.createTask(TASK));
    expect(error.code).toHaveLength(100);
    expect(error.description).toHaveLength(500);
  });

  it.each([
    [402, 'ERROR_ZERO_BALANCE', false],
    [401, 'ERROR_KEY_DOES_NOT_EXIST', false],
    [403, 'ERROR_KEY_DOES_NOT_EXIST', false],
    [404, 'HTTP_ERROR', false],
    [429, 'HTTP_ERROR', false],
    [503, 'HTTP_ERROR', false],
    [500, 'HTTP_ERROR', true],
    [502, 'HTTP_ERROR', true],
    [504, 'HTTP_ERROR', true],
  ])('a bare HTTP %i is %s; in doubt: %s', async (status, code, ambiguous) => {
    const { api } = scripted(text('<html><body><h1>Oops</h1></body></html>', status));
    const result = failure(await api.createTask(TASK));
    expect(result.error.code).toBe(code);
    expect(result.error.httpStatus).toBe(status);
    expect(result.ambiguous).toBe(ambiguous);
  });

  it.each([
    ['HTML with status 200', text('<html>Welcome to nginx</html>')],
    ['JSON without errorId', json({ taskId: 5 })],
    ['a JSON array', json([1, 2])],
    ['JSON null', json(null)],
    ['truncated JSON', text('{"errorId":0,"taskI', 200, 'application/json')],
    ['a success envelope on an HTTP 500', json({ errorId: 0, taskId: 77 }, 500)],
  ])('%s is an answer in doubt', async (_name, reply) => {
    const { api } = scripted(reply);
    expect(failure(await api.createTask(TASK)).ambiguous).toBe(true);
  });
});

describe('getTaskResult answers', () => {
  it('reads processing, whether said by status or by CAPTCHA_NOT_READY', async () => {
    const { api } = scripted(json({ errorId: 0, errorCode: null, errorDescription: null, status: 'processing' }), json({ errorId: 1, errorCode: 'CAPTCHA_NOT_READY' }));
    expect(await api.getTaskResult(1)).toEqual({ ok: true, value: { status: 'processing' } });
    expect(await api.getTaskResult(1)).toEqual({ ok: true, value: { status: 'processing' } });
  });

  it('returns the solution and a numeric cost, number or string', async () => {
    const solution = { gRecaptchaResponse: '03AFcWeA', userAgent: 'UA', cookies: { nocookies: 'true' } };
    const { api } = scripted(
      json({ errorId: 0, status: 'ready', solution, cost: 0.0005 }),
      json({ errorId: 0, status: 'ready', solution, cost: '0.000700' }),
      json({ errorId: 0, status: 'ready', solution, cost: 'free' }),
      json({ errorId: 0, status: 'ready', solution, cost: '' }),
      json({ errorId: 0, status: 'ready', solution }),
    );
    expect(await api.getTaskResult(1)).toEqual({ ok: true, value: { status: 'ready', solution, cost: 0.0005 } });
    expect(await api.getTaskResult(1)).toEqual({ ok: true, value: { status: 'ready', solution, cost: 0.0007 } });
    for (let i = 0; i < 3; i++) expect(await api.getTaskResult(1)).toEqual({ ok: true, value: { status: 'ready', solution } });
  });

  it('treats ready without a solution object as NO_SOLUTION', async () => {
    const { api } = scripted(json({ errorId: 0, status: 'ready' }), json({ errorId: 0, status: 'ready', solution: 'token' }));
    expect(failure(await api.getTaskResult(1)).error.code).toBe('NO_SOLUTION');
    expect(failure(await api.getTaskResult(1)).error.code).toBe('NO_SOLUTION');
  });

  it('treats an unknown status as BAD_RESPONSE', async () => {
    const { api } = scripted(json({ errorId: 0, status: 'done' }), json({ errorId: 0 }));
    expect(failure(await api.getTaskResult(1)).error).toEqual({ code: 'BAD_RESPONSE', description: 'unknown task status' });
    expect(failure(await api.getTaskResult(1)).error.code).toBe('BAD_RESPONSE');
  });

  it('reports service errors with their code', async () => {
    const { api } = scripted(json({ errorId: 1, errorCode: 'ERROR_NO_SUCH_CAPCHA_ID', errorDescription: 'Task not found' }));
    expect(failure(await api.getTaskResult(1)).error).toEqual({ code: 'ERROR_NO_SUCH_CAPCHA_ID', description: 'Task not found' });
  });

  it('reports HTTP errors and unreadable bodies without calling them in doubt (a poll can be repeated)', async () => {
    const { api } = scripted(text('<h1>500</h1>', 500), text('<html/>'));
    expect(failure(await api.getTaskResult(1))).toMatchObject({ error: { code: 'HTTP_ERROR', httpStatus: 500 }, ambiguous: false });
    expect(failure(await api.getTaskResult(1))).toMatchObject({ error: { code: 'BAD_RESPONSE', description: 'not JSON' }, ambiguous: false });
  });

  it('keeps a short text of an HTML error page, without its tags', async () => {
    const page = `<html><head><title>502</title></head><body><h1>Bad   Gateway</h1><p>${'y'.repeat(500)}</p></body></html>`;
    const { api } = scripted(text(page, 502));
    const { error } = failure(await api.getTaskResult(1));
    expect(error.description).toMatch(/^502 Bad Gateway y+$/);
    expect(error.description!.length).toBeLessThanOrEqual(120);
    expect(describeError(error)).toMatch(/^The service answered HTTP 502\. \(502 Bad Gateway y+\)$/);
  });

  it('does not parse a body over 1 MB', async () => {
    const { api } = scripted(text(JSON.stringify({ errorId: 0, status: 'ready', solution: { gRecaptchaResponse: 'x'.repeat(1_100_000) } })));
    expect(failure(await api.getTaskResult(1)).error).toEqual({ code: 'BAD_RESPONSE', description: 'answer over 1 MB' });
  });
});

describe('getBalance answers', () => {
  it('reads the balance as a number, or a decimal string', async () => {
    const { sent, api } = scripted(json({ errorId: 0, balance: 12.3456 }), json({ errorId: 0, balance: '7.50' }));
    expect(await api.getBalance()).toEqual({ ok: true, value: 12.3456 });
    expect(await api.getBalance()).toEqual({ ok: true, value: 7.5 });
    expect(sent[0]!.url).toBe(`${BASE}/getBalance`);
    expect(sent[0]!.body).toEqual({ clientKey: KEY });
  });

  it('rejects an answer without a readable balance, and passes service errors on', async () => {
    const { api } = scripted(json({ errorId: 0 }), json({ errorId: 0, balance: 'lots' }), json({ errorId: 1, errorCode: 'ERROR_KEY_DOES_NOT_EXIST' }));
    expect(failure(await api.getBalance()).error.code).toBe('BAD_RESPONSE');
    expect(failure(await api.getBalance()).error.code).toBe('BAD_RESPONSE');
    expect(failure(await api.getBalance()).error.code).toBe('ERROR_KEY_DOES_NOT_EXIST');
  });
});

describe('network failures and time limits (scripted)', () => {
  it('does not send anything while the browser is offline', async () => {
    vi.stubGlobal('navigator', { onLine: false });
    const { sent, api } = scripted();
    expect(failure(await api.createTask(TASK))).toEqual({ ok: false, error: { code: 'NETWORK_ERROR', description: 'the browser is offline' }, ambiguous: false });
    expect(sent).toEqual([]);
  });

  it.each([
    ['refused', false, connectError('ECONNREFUSED')],
    ['a failed DNS lookup', false, connectError('ENOTFOUND')],
    ['refused on every address', false, new TypeError('fetch failed', { cause: new AggregateError([connectError('ECONNREFUSED').cause, connectError('EHOSTUNREACH').cause]) })],
    ['a reset after sending', true, new TypeError('fetch failed', { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) })],
    ['a browser "Failed to fetch" that does not say why', true, new TypeError('Failed to fetch')],
  ])('a connection failure (%s) is NETWORK_ERROR; in doubt: %s', async (_name, ambiguous, error) => {
    const { api } = scripted(reject(error));
    const result = failure(await api.createTask(TASK));
    expect(result.error.code).toBe('NETWORK_ERROR');
    expect(result.ambiguous).toBe(ambiguous);
  });

  it('treats the browser going offline during a request as a request that never left', async () => {
    const { api } = scripted(async () => {
      vi.stubGlobal('navigator', { onLine: false });
      throw new TypeError('Failed to fetch');
    });
    expect(failure(await api.createTask(TASK)).ambiguous).toBe(false);
  });

  it('a body cut off after the headers arrived is in doubt, whatever the error says', async () => {
    const { api } = scripted(async () => {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"errorId":0,'));
          controller.error(connectError('ECONNREFUSED'));
        },
      });
      return new Response(body, { headers: { 'content-type': 'application/json' } });
    });
    expect(failure(await api.createTask(TASK))).toMatchObject({ error: { code: 'NETWORK_ERROR' }, ambiguous: true });
  });

  it('gives up after its time limit through the AbortSignal, in doubt', async () => {
    const { sent, api } = scripted(silence);
    const started = Date.now();
    expect(failure(await api.createTask(TASK))).toEqual({ ok: false, error: { code: 'REQUEST_TIMEOUT', description: 'no answer within 0.05 s' }, ambiguous: true });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(sent[0]!.init.signal?.aborted).toBe(true);
  });

  it('gives up on a body that stops arriving, through the same signal', async () => {
    // The first bytes come, then nothing; this stand-in does not tie its body to the signal.
    const { api } = scripted(async () => {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"errorId":0,'));
        },
        pull: () => new Promise<void>(() => undefined),
      });
      return new Response(body);
    });
    expect(failure(await api.getTaskResult(3)).error.code).toBe('REQUEST_TIMEOUT');
  });

  it('uses a 20 s limit by default', async () => {
    vi.useFakeTimers();
    try {
      let signal: AbortSignal | undefined;
      const api = new SolverApi({
        baseUrl: BASE,
        clientKey: KEY,
        fetch: (_input, init) => {
          signal = init?.signal ?? undefined;
          return silence(init ?? {});
        },
      });
      const pending = api.getBalance();
      await vi.advanceTimersByTimeAsync(19_999);
      expect(signal?.aborted).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      expect(failure(await pending).error).toEqual({ code: 'REQUEST_TIMEOUT', description: 'no answer within 20 s' });
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('against a real HTTP server on 127.0.0.1', () => {
  type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;
  let server: http.Server;
  let base = '';
  let handler: Handler = (_req, res) => res.end();
  const received: Array<{ method: string | undefined; url: string | undefined; type: string | undefined; body: string }> = [];
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        received.push({ method: req.method, url: req.url, type: req.headers['content-type'], body });
        handler(req, res, body);
      });
    });
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const api = (timeoutMs = 2_000) => new SolverApi({ baseUrl: base, clientKey: KEY, timeoutMs });

  it('round-trips createTask, getTaskResult and getBalance as JSON POSTs', async () => {
    received.length = 0;
    handler = (req, res, body) => {
      const request = JSON.parse(body) as Record<string, unknown>;
      const answers: Record<string, unknown> = {
        '/createTask': { errorId: 0, taskId: 4242 },
        '/getTaskResult': { errorId: 0, status: 'ready', solution: { gRecaptchaResponse: `tok-${String(request.taskId)}` } },
        '/getBalance': { errorId: 0, balance: 3.5 },
      };
      res.writeHead(200, { 'content-type': 'text/plain' }).end(JSON.stringify(answers[req.url ?? '']));
    };
    const client = api();
    expect(await client.createTask(TASK, 'https://hooks.example.org/cb')).toEqual({ ok: true, value: 4242 });
    expect(await client.getTaskResult(4242)).toEqual({ ok: true, value: { status: 'ready', solution: { gRecaptchaResponse: 'tok-4242' } } });
    expect(await client.getBalance()).toEqual({ ok: true, value: 3.5 });
    expect(received.map((r) => [r.method, r.url, r.type])).toEqual([
      ['POST', '/createTask', 'application/json'],
      ['POST', '/getTaskResult', 'application/json'],
      ['POST', '/getBalance', 'application/json'],
    ]);
    expect(JSON.parse(received[0]!.body)).toEqual({ clientKey: KEY, task: TASK, callbackUrl: 'https://hooks.example.org/cb' });
  });

  it('a refused connection is NETWORK_ERROR, sure that nothing was sent', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const result = failure(await new SolverApi({ baseUrl: `http://127.0.0.1:${port}`, clientKey: KEY }).createTask(TASK));
    expect(result.error.code).toBe('NETWORK_ERROR');
    expect(result.ambiguous).toBe(false);
  });

  it('a server that never answers is REQUEST_TIMEOUT, in doubt', async () => {
    received.length = 0;
    handler = () => undefined;
    const result = failure(await api(300).createTask(TASK));
    expect(result).toMatchObject({ error: { code: 'REQUEST_TIMEOUT' }, ambiguous: true });
    expect(received.map((r) => r.url)).toEqual(['/createTask']);
  });

  it('a connection closed after the request arrived is NETWORK_ERROR, in doubt', async () => {
    handler = (req) => req.socket.destroy();
    const result = failure(await api().createTask(TASK));
    expect(result).toMatchObject({ error: { code: 'NETWORK_ERROR' }, ambiguous: true });
  });

  it('a body cut short of its Content-Length is NETWORK_ERROR, in doubt', async () => {
    handler = (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '200' });
      res.write('{"errorId":0,"taskId":');
      setTimeout(() => req.socket.destroy(), 20);
    };
    expect(failure(await api().createTask(TASK))).toMatchObject({ error: { code: 'NETWORK_ERROR' }, ambiguous: true });
  });

  it('complete but truncated JSON is BAD_RESPONSE (in doubt for createTask, not for a poll)', async () => {
    handler = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"errorId":0,"status":"rea');
    expect(failure(await api().createTask(TASK))).toMatchObject({ error: { code: 'BAD_RESPONSE', description: 'not JSON' }, ambiguous: true });
    expect(failure(await api().getTaskResult(1))).toMatchObject({ error: { code: 'BAD_RESPONSE', description: 'not JSON' }, ambiguous: false });
  });

  it('an HTML error page is HTTP_ERROR with its status and a short text', async () => {
    handler = (_req, res) => res.writeHead(503, { 'content-type': 'text/html' }).end('<html><body><h1>503 Service Temporarily Unavailable</h1><hr><center>nginx</center></body></html>');
    const result = failure(await api().getTaskResult(1));
    expect(result.error).toEqual({ code: 'HTTP_ERROR', httpStatus: 503, description: '503 Service Temporarily Unavailable nginx' });
    expect(classifyError(result.error)).toBe('transient');
  });

  it('a JSON error on an HTTP error status keeps the service code', async () => {
    handler = (_req, res) => res.writeHead(402, { 'content-type': 'application/json' }).end(JSON.stringify({ errorId: 1, errorCode: 'ERROR_ZERO_BALANCE' }));
    expect(failure(await api().createTask(TASK))).toEqual({ ok: false, error: { code: 'ERROR_ZERO_BALANCE', httpStatus: 402 }, ambiguous: false });
  });
});

describe('the key goes only where the user set it (redirects)', () => {
  /** Two servers on 127.0.0.1: the service the user set, which redirects, and where it points. */
  const servers: http.Server[] = [];
  const seen: Record<'service' | 'elsewhere', string[]> = { service: [], elsewhere: [] };
  let status = 307;
  let serviceUrl = '';
  let elsewhereUrl = '';

  async function listen(name: 'service' | 'elsewhere', answer: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<string> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen[name].push(`${req.method} ${req.url} ${Buffer.concat(chunks).toString('utf8')}`);
        answer(req, res);
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  beforeAll(async () => {
    elsewhereUrl = await listen('elsewhere', (_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ errorId: 0, taskId: 77, balance: 99, status: 'processing' })),
    );
    serviceUrl = await listen('service', (req, res) => res.writeHead(status, { location: `${elsewhereUrl}${req.url ?? ''}` }).end());
  });

  afterAll(async () => {
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it.each([307, 308, 302, 301, 303])('a %i answer is SERVICE_REDIRECT, and the place it points at gets nothing', async (code) => {
    status = code;
    seen.service.length = 0;
    seen.elsewhere.length = 0;
    const api = new SolverApi({ baseUrl: serviceUrl, clientKey: KEY, timeoutMs: 2_000 });
    expect(failure(await api.getBalance())).toEqual({ ok: false, error: { code: 'SERVICE_REDIRECT', httpStatus: code }, ambiguous: false });
    expect(failure(await api.getTaskResult(5))).toMatchObject({ error: { code: 'SERVICE_REDIRECT' }, ambiguous: false });
    // createTask: the redirect may come after the work was done (303 "see other"), so in doubt, never re-sent.
    expect(failure(await api.createTask(TASK))).toMatchObject({ error: { code: 'SERVICE_REDIRECT' }, ambiguous: true });
    expect(seen.service).toHaveLength(3);
    expect(seen.elsewhere).toEqual([]);
  });

  it("a browser's opaque redirect (status 0) is SERVICE_REDIRECT too", async () => {
    const opaque = { type: 'opaqueredirect', status: 0, ok: false, headers: new Headers(), body: null, text: async () => '' } as Pick<Response, 'type' | 'status' | 'ok' | 'headers' | 'body' | 'text'>;
    const { api } = scripted(
      async () => opaque as Response,
      async () => opaque as Response,
    );
    expect(failure(await api.getBalance())).toEqual({ ok: false, error: { code: 'SERVICE_REDIRECT' }, ambiguous: false });
    expect(failure(await api.createTask(TASK))).toEqual({ ok: false, error: { code: 'SERVICE_REDIRECT' }, ambiguous: true });
  });

  it('says so in a sentence, and the engine never retries it', () => {
    expect(classifyError({ code: 'SERVICE_REDIRECT', httpStatus: 307 })).toBe('final');
    expect(describeError({ code: 'SERVICE_REDIRECT', httpStatus: 307 })).toMatch(/redirect.*does not follow it/);
  });
});

describe('answers are read with a 1 MB limit, never buffered whole', () => {
  const CHUNK = 64 * 1024;

  /** A body of `total` bytes made as it is read, counting the bytes the reader pulled. */
  function endless(total: number, piece: (at: number) => string = () => ' ') {
    const stats = { pulled: 0, cancelled: false };
    const chunk = (at: number): Uint8Array => new TextEncoder().encode(piece(at).repeat(CHUNK).slice(0, CHUNK));
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (stats.pulled >= total) return controller.close();
        const next = chunk(stats.pulled);
        stats.pulled += next.byteLength;
        controller.enqueue(next);
      },
      cancel() {
        stats.cancelled = true;
      },
    });
    return { body, stats };
  }

  it('stops reading a streamed answer soon after 1 MB, of 1 GB sent', async () => {
    const { body, stats } = endless(1_000_000_000);
    const { api } = scripted(async () => new Response(body, { headers: { 'content-type': 'application/json' } }));
    expect(failure(await api.getBalance())).toEqual({ ok: false, error: { code: 'BAD_RESPONSE', description: 'answer over 1 MB' }, ambiguous: false });
    expect(stats.cancelled).toBe(true);
    // The limit plus at most the chunks a stream queues ahead.
    expect(stats.pulled).toBeGreaterThan(MAX_BODY);
    expect(stats.pulled).toBeLessThanOrEqual(MAX_BODY + 4 * CHUNK);
  });

  it('refuses a declared Content-Length over 1 MB before reading it', async () => {
    const { body, stats } = endless(1_000_000_000);
    const { api } = scripted(async () => new Response(body, { headers: { 'content-type': 'application/json', 'content-length': String(1_000_000_000) } }));
    expect(failure(await api.createTask(TASK))).toEqual({ ok: false, error: { code: 'BAD_RESPONSE', description: 'answer over 1 MB' }, ambiguous: true });
    expect(stats.cancelled).toBe(true);
    expect(stats.pulled).toBeLessThanOrEqual(CHUNK);
  });

  it('reads an answer just under the limit, split anywhere (a character across chunks)', async () => {
    const answer = JSON.stringify({ errorId: 0, balance: 4.25, note: 'ё'.repeat(400_000) });
    expect(new TextEncoder().encode(answer).byteLength).toBeLessThan(MAX_BODY);
    const bytes = new TextEncoder().encode(answer);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < bytes.length; at += 999) controller.enqueue(bytes.slice(at, at + 999));
        controller.close();
      },
    });
    const { api } = scripted(async () => new Response(body));
    expect(await api.getBalance()).toEqual({ ok: true, value: 4.25 });
  });

  it('against a real server sending 1 GB: the connection is dropped long before the end', async () => {
    let written = 0;
    let closed!: () => void;
    const done = new Promise<void>((resolve) => (closed = resolve));
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(CHUNK, 0x20);
        const pump = (): void => {
          while (!res.destroyed && written < 1_000_000_000) {
            written += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        res.on('close', () => closed());
        pump();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const api = new SolverApi({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, clientKey: KEY, timeoutMs: 10_000 });
      expect(failure(await api.getBalance()).error).toEqual({ code: 'BAD_RESPONSE', description: 'answer over 1 MB' });
      await done;
      // What was sent is the limit plus what the two sockets' buffers held when the reader stopped.
      expect(written).toBeLessThan(64 * 1024 * 1024);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('nothing the client hands on carries the key', () => {
  const SPECIAL = 'Key/With+Chars&=0123';

  it.each([
    ['the key', KEY],
    ['the key in capitals', KEY.toUpperCase()],
    ['the key inside a longer id', `task-${KEY}-1`],
  ])('a createTask id that is %s is refused as KEY_IN_ANSWER, in doubt (a task may exist)', async (_name, taskId) => {
    const { api } = scripted(json({ errorId: 0, taskId }));
    expect(failure(await api.createTask(TASK))).toEqual({ ok: false, error: { code: 'KEY_IN_ANSWER' }, ambiguous: true });
  });

  it('a numeric task id equal to a numeric key is refused too', async () => {
    const api = new SolverApi({ baseUrl: BASE, clientKey: '918273645', fetch: json({ errorId: 0, taskId: 918273645 }), timeoutMs: 50 });
    expect(failure(await api.createTask(TASK)).error.code).toBe('KEY_IN_ANSWER');
  });

  it.each<[string, string, Record<string, unknown>]>([
    ['a token with the key in it', KEY, { gRecaptchaResponse: `03AFcWeA${KEY}xyz` }],
    ['a FunCaptcha token with the URL-encoded key', SPECIAL, { token: `1.mock|pk=${encodeURIComponent(SPECIAL)}` }],
    ['an image answer that is the key', KEY, { text: KEY }],
    ['the key in a field CapRelay does not use', KEY, { gRecaptchaResponse: '03AFcWeA-fine', cookies: { session: KEY } }],
    ['the key as a property name', KEY, { gRecaptchaResponse: '03AFcWeA-fine', [KEY]: 1 }],
    ['the key in an array', KEY, { gRecaptchaResponse: '03AFcWeA-fine', list: ['a', ['b', KEY]] }],
  ])('a ready answer with %s is refused as KEY_IN_ANSWER (final)', async (_name, clientKey, solution) => {
    const api = new SolverApi({ baseUrl: BASE, clientKey, fetch: json({ errorId: 0, status: 'ready', solution }), timeoutMs: 50 });
    const result = failure(await api.getTaskResult(1));
    expect(result).toEqual({ ok: false, error: { code: 'KEY_IN_ANSWER' }, ambiguous: false });
    expect(classifyError(result.error)).toBe('final');
  });

  it('sees the key through JSON escapes', async () => {
    const escaped = `\\u${KEY.charCodeAt(0).toString(16).padStart(4, '0')}${KEY.slice(1)}`;
    const { api } = scripted(text(`{"errorId":0,"status":"ready","solution":{"gRecaptchaResponse":"03AF${escaped}"}}`, 200, 'application/json'));
    expect(failure(await api.getTaskResult(1)).error.code).toBe('KEY_IN_ANSWER');
  });

  it('a balance answer that echoes the key keeps only the number, which cannot carry it', async () => {
    const { api } = scripted(json({ errorId: 0, balance: 3.5, clientKey: KEY }));
    expect(await api.getBalance()).toEqual({ ok: true, value: 3.5 });
  });

  it('scrubs the key from error text in any letter case and URL-encoded', async () => {
    const api = new SolverApi({
      baseUrl: BASE,
      clientKey: SPECIAL,
      fetch: json({ errorId: 1, errorCode: `ERROR_${SPECIAL.toUpperCase()}`, errorDescription: `bad key ${SPECIAL.toLowerCase()} / ${encodeURIComponent(SPECIAL)}` }),
      timeoutMs: 50,
    });
    const { error } = failure(await api.getBalance());
    expect(error).toEqual({ code: 'ERROR_[API key]', description: 'bad key [API key] / [API key]' });
  });

  it('passes a token without the key on unchanged', async () => {
    const solution = { gRecaptchaResponse: '03AFcWeA-token', userAgent: 'UA' };
    const { api } = scripted(json({ errorId: 0, status: 'ready', solution, cost: '0.001' }));
    expect(await api.getTaskResult(1)).toEqual({ ok: true, value: { status: 'ready', solution, cost: 0.001 } });
  });
});

describe('error taxonomy', () => {
  const table: Record<ErrorClass, string[]> = {
    transient: ['ERROR_NO_SLOT_AVAILABLE', 'ERROR_SERVICE_NOT_AVAILABLE', 'ERROR_TOO_MUCH_REQUESTS', 'NETWORK_ERROR', 'REQUEST_TIMEOUT', 'BAD_RESPONSE'],
    recreate: [
      'ERROR_CAPTCHA_UNSOLVABLE',
      'ERROR_NO_SUCH_CAPCHA_ID',
      'WRONG_CAPTCHA_ID',
      'ERROR_RECAPTCHA_TIMEOUT',
      'ERROR_TOKEN_EXPIRED',
      'ERROR_WRONG_USERAGENT',
      'ERROR_PROXY_CONNECT_REFUSED',
      'ERROR_PROXY_READ_TIMEOUT',
      'NO_SOLUTION',
    ],
    final: [
      'ERROR_KEY_DOES_NOT_EXIST',
      'ERROR_ZERO_BALANCE',
      'ERROR_IP_NOT_ALLOWED',
      'ERROR_IP_BANNED',
      'ERROR_IP_BLOCKED',
      'ERROR_RECAPTCHA_INVALID_SITEKEY',
      'ERROR_RECAPTCHA_INVALID_DOMAIN',
      'ERROR_DOMAIN_NOT_ALLOWED',
      'ERROR_NO_SUCH_METHOD',
      'ERROR_TASK_NOT_SUPPORTED',
      'ERROR_TASK_ABSENT',
      'ERROR_INVALID_TASK',
      'ERROR_TOO_BIG_CAPTCHA_FILESIZE',
      'ERROR_ZERO_CAPTCHA_FILESIZE',
      'ERROR_PROXY_BANNED',
      'ERROR_PROXY_MISSING',
      'ERROR_PROXY_NOT_AUTHORISED',
      'ERROR_PROXY_CREDENTIALS_INVALID_CHARACTER',
      'CREATE_UNCONFIRMED',
      'TIMED_OUT',
      'ERROR_ID_10',
      'ERROR_NOT_IN_ANY_LIST',
    ],
  };

  it.each(Object.entries(table).flatMap(([kind, codes]) => codes.map((code) => [code, kind])))('%s is %s', (code, kind) => {
    expect(classifyError({ code })).toBe(kind);
  });

  it.each([
    [429, 'transient'],
    [500, 'transient'],
    [502, 'transient'],
    [503, 'transient'],
    [504, 'transient'],
    [400, 'final'],
    [404, 'final'],
    [405, 'final'],
  ] as const)('a bare HTTP %i is %s', (httpStatus, kind) => {
    expect(classifyError({ code: 'HTTP_ERROR', httpStatus })).toBe(kind);
  });

  it('gives every code a sentence, and the service description after it', () => {
    for (const code of Object.values(table).flat()) {
      const text = describeError({ code });
      expect(text).toMatch(/^[A-Z].*\.$/);
      expect(text).not.toMatch(/retrying/i);
    }
    expect(describeError({ code: 'ERROR_ZERO_BALANCE', description: 'Account has zero balance' })).toBe('The account balance is zero. Top up the account, then try again. (Account has zero balance)');
    expect(describeError({ code: 'ERROR_NEW_THING', description: 'Something new' })).toBe('The service reported an error. (Something new)');
    expect(describeError({ code: 'HTTP_ERROR', httpStatus: 418 })).toBe('The service answered HTTP 418.');
  });

  it('has a Russian sentence for every code with an English one (the popup translates by code)', () => {
    const ru = JSON.parse(fs.readFileSync('public/_locales/ru/messages.json', 'utf8')) as Record<string, { message: string }>;
    expect(KNOWN_ERROR_CODES).toContain('SERVICE_REDIRECT');
    expect(KNOWN_ERROR_CODES).toContain('KEY_IN_ANSWER');
    expect(KNOWN_ERROR_CODES.filter((code) => !ru[`err_${code}`]?.message)).toEqual([]);
  });
});
