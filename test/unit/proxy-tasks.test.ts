// @vitest-environment node
/**
 * The user's proxy in the tasks CapRelay sends: one payload per family, each checked by the
 * strict mock's own task check (the service's documented rules), with and without a proxy; the
 * site rule and a half-set proxy in the engine; the password scrubbed from error text.
 */
import { describe, expect, it } from 'vitest';
import { SolverApi } from '../../src/background/api';
import { buildTask } from '../../src/background/task-payload';
import type { TaskCaptcha } from '../../src/shared/captcha';
import { proxyConfigOf, type TaskProxy } from '../../src/shared/power-settings';
import { validateTask } from '../support/mock-solver';
import { funcaptcha, Harness, recaptcha } from './support/fake-service';

const CAPMONSTER = 'https://api.capmonster.cloud';
const BROCAPGPT = 'https://api.brocapgpt.com';
const URL_ = 'https://shop.example/login';
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36';
const PROXY: TaskProxy = { proxyType: 'socks5', proxyAddress: '203.0.113.7', proxyPort: 1080, proxyLogin: 'relay', proxyPassword: 'pw-7f3a9c2e' };
const GT = '0123456789abcdef0123456789abcdef';

const turnstile = (extra: Partial<Extract<TaskCaptcha, { family: 'turnstile' }>> = {}): TaskCaptcha => ({ family: 'turnstile', id: 'ts-1', siteKey: '0x4AAAAAAABkMYinukE8nzYS', ...extra });
const geetest3: TaskCaptcha = { family: 'geetest', id: 'gt-1', version: 3, gt: GT, challenge: 'c'.repeat(32) };
const geetest4: TaskCaptcha = { family: 'geetest', id: 'gt-2', version: 4, gt: GT };

function task(captcha: TaskCaptcha, proxy: TaskProxy | undefined, serviceUrl = CAPMONSTER): Record<string, unknown> {
  return buildTask(captcha, URL_, { serviceUrl, v3MinScore: 0.7, userAgent: UA, ...(proxy && { proxy }) });
}

const proxyFields = (t: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(t).filter(([k]) => k.startsWith('proxy')));

describe('a proxy task payload per family, as the service takes it', () => {
  it.each<[string, TaskCaptcha, string]>([
    ['reCAPTCHA v2', recaptcha(), 'RecaptchaV2Task'],
    ['reCAPTCHA v2 invisible', recaptcha('rc-2', { invisible: true }), 'RecaptchaV2Task'],
    ['reCAPTCHA v2 Enterprise', recaptcha('rc-3', { enterprise: true, dataS: 's-value' }), 'RecaptchaV2EnterpriseTask'],
    ['FunCaptcha', funcaptcha('fc-1', { blob: 'BLOB' }), 'FunCaptchaTask'],
    ['Turnstile widget', turnstile({ action: 'login', cData: 'cdata' }), 'TurnstileTask'],
    ['GeeTest v3', geetest3, 'GeeTestTask'],
    ['GeeTest v4', geetest4, 'GeeTestTask'],
  ])('%s: the proxy fields and the browser’s user agent, under the same type name', (_name, captcha, type) => {
    const without = task(captcha, undefined);
    const withProxy = task(captcha, PROXY);
    expect(withProxy).toEqual({ ...without, ...PROXY, userAgent: UA, type });
    expect(validateTask(withProxy)).toBeNull();
    expect(validateTask(without)).toBeNull();
  });

  it('BroCapGPT: FunCaptchaTaskProxyless without a proxy, its FunCaptchaTask with one', () => {
    const without = task(funcaptcha(), undefined, BROCAPGPT);
    const withProxy = task(funcaptcha(), PROXY, BROCAPGPT);
    expect(without.type).toBe('FunCaptchaTaskProxyless');
    expect(proxyFields(without)).toEqual({});
    expect(withProxy).toMatchObject({ type: 'FunCaptchaTask', ...PROXY, userAgent: UA });
    expect(validateTask(withProxy)).toBeNull();
  });

  it('sends the login and password only when set', () => {
    const bare: TaskProxy = { proxyType: 'http', proxyAddress: '2001:db8::7', proxyPort: 3128 };
    const built = task(recaptcha(), bare);
    expect(proxyFields(built)).toEqual(bare);
    expect(validateTask(built)).toBeNull();
  });

  it('the strict mock refuses what the service would: half a proxy, a private address, a port out of range, % in a password', () => {
    const base = task(recaptcha(), undefined);
    expect(validateTask({ ...base, proxyType: 'http', proxyAddress: '203.0.113.7' })?.code).toBe('ERROR_PROXY_MISSING');
    expect(validateTask({ ...base, ...PROXY, proxyAddress: '192.168.1.2' })?.code).toBe('ERROR_PROXY_MISSING');
    expect(validateTask({ ...base, ...PROXY, proxyPort: 70_000 })?.code).toBe('ERROR_PROXY_MISSING');
    expect(validateTask({ ...base, ...PROXY, proxyType: 'ftp' })?.code).toBe('ERROR_PROXY_MISSING');
    expect(validateTask({ ...base, ...PROXY, proxyPassword: '50%off' })?.code).toBe('ERROR_PROXY_MISSING');
    expect(validateTask({ ...task(recaptcha('v3', { version: 'v3' }), undefined), ...PROXY })?.text).toMatch(/unknown field proxy/);
  });

  it.each<[string, TaskCaptcha]>([
    ['reCAPTCHA v3', recaptcha('rc-v3', { version: 'v3', action: 'login' })],
    ['reCAPTCHA v3 Enterprise', recaptcha('rc-v3e', { version: 'v3', enterprise: true })],
    ['the Cloudflare challenge page', turnstile({ action: 'managed', cData: 'c', pageData: 'PAGEDATA' })],
    ['a text image', { family: 'image-text', id: 'img-1' }],
  ])('%s takes no proxy: the engine sends it without one', async (_name, captcha) => {
    const h = new Harness();
    h.config.proxy = proxyConfigOf({ type: 'socks5', address: '203.0.113.7', port: 1080, login: 'relay', sites: [] }, 'pw-7f3a9c2e');
    h.config.userAgent = UA;
    const result = await h.engine.solve({ tabId: 1, frameId: 0, captcha, websiteURL: URL_, ...(captcha.family === 'image-text' && { image: 'iVBORw0KGgo'.padEnd(400, 'A') }) });
    expect(result.ok).toBe(true);
    await h.settle();
    const sent = h.service.of('createTask')[0]!.body.task as Record<string, unknown>;
    expect(proxyFields(sent)).toEqual({});
  });
});

describe('the proxy in the engine', () => {
  const settings = { type: 'http' as const, address: '203.0.113.7', port: 8080, login: 'relay', sites: ['shop.example'] };

  it('goes with tasks on the sites of its rule only', async () => {
    const h = new Harness();
    h.config.proxy = proxyConfigOf(settings, 'pw');
    await h.finish(await h.engine.solve({ tabId: 1, frameId: 0, captcha: recaptcha('a'), websiteURL: 'https://eu.shop.example/a' }).then((r) => (r.ok ? r.task.id : '')));
    await h.finish(await h.engine.solve({ tabId: 1, frameId: 0, captcha: recaptcha('b'), websiteURL: 'https://other.example/b' }).then((r) => (r.ok ? r.task.id : '')));
    const [onSite, elsewhere] = h.service.of('createTask').map((c) => c.body.task as Record<string, unknown>);
    expect(proxyFields(onSite!)).toEqual({ proxyType: 'http', proxyAddress: '203.0.113.7', proxyPort: 8080, proxyLogin: 'relay', proxyPassword: 'pw' });
    expect(proxyFields(elsewhere!)).toEqual({});
  });

  it('a proxy set but not valid: the task fails with PROXY_INVALID and nothing is sent', async () => {
    const h = new Harness();
    h.config.proxy = proxyConfigOf({ ...settings, address: '10.0.0.5', sites: [] }, 'pw');
    const task = await h.finish(await h.solve(recaptcha()).then((r) => (r.ok ? r.task.id : '')));
    expect(task.state).toBe('failed');
    expect(task.error?.code).toBe('PROXY_INVALID');
    expect(h.service.of('createTask')).toEqual([]);
  });
});

describe('the proxy password in error text', () => {
  it('is scrubbed as is, URL-encoded and in any letter case, like the key', async () => {
    const password = 'Pw/7f3a+9c2E';
    const fetchFake = async (): Promise<Response> =>
      new Response(
        JSON.stringify({ errorId: 1, errorCode: 'ERROR_PROXY_NOT_AUTHORISED', errorDescription: `proxy refused relay:${password} (${encodeURIComponent(password)}, ${password.toUpperCase()})` }),
        { status: 200 },
      );
    const api = new SolverApi({ baseUrl: 'https://solver.test', clientKey: 'key-0123456789', proxyPassword: password, fetch: fetchFake, timeoutMs: 50 });
    const result = await api.createTask({ type: 'RecaptchaV2Task' });
    expect(result).toEqual({
      ok: false,
      ambiguous: false,
      error: { code: 'ERROR_PROXY_NOT_AUTHORISED', description: 'proxy refused relay:[proxy password] ([proxy password], [proxy password])' },
    });
  });
});
