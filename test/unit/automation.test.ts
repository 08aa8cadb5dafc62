/**
 * Set-up and control for automated browsers: the version 3 settings (delays, auto-submit, the
 * page signal) and their migration, one reader for every settings source (caprelay.json, a
 * policy, the control API) that keeps what is valid and says why the rest is not, the packaged
 * file applied once per content, the control API going through Solving like a click, delayed
 * auto-solve, and what the frame does after a delivery.
 */
import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Control, ControlError, type ControlDeps } from '../../src/background/control';
import { applySetupFile } from '../../src/background/setup-file';
import { delayFor } from '../../src/background/solving';
import { afterDelivery, SOLVED_ATTRIBUTE, SOLVED_EVENT } from '../../src/content/after-delivery';
import { isDeliverTokenMessage } from '../../src/shared/messages';
import {
  DEFAULT_SETTINGS,
  FAMILY_IDS,
  MIGRATIONS,
  SETTINGS_FIELDS,
  SETTINGS_VERSION,
  afterDeliveryFor,
  applySettingsPatch,
  exportSettings,
  importSettings,
  keepPaths,
  migrateSettings,
  parseSettings,
  patchPaths,
  readSetupInput,
  reviewImport,
  type Settings,
} from '../../src/shared/settings';
import { isSetupFileStatus } from '../../src/shared/setup-status';
import { recaptcha } from './support/fake-service';
import { MemoryArea } from './support/memory-area';
import { world } from './support/solving-world';

const auto = (patch: Partial<Settings> = {}): Partial<Settings> => ({
  families: { ...structuredClone(DEFAULT_SETTINGS.families), recaptchaV2: { enabled: true, mode: 'auto' } },
  ...patch,
});

describe('settings version 3', () => {
  it('migrates a version 2 record: everything the user set is kept, and the new settings start off', () => {
    const v2 = {
      version: 2,
      service: 'custom',
      customUrl: 'https://relay.example.net',
      families: { recaptchaV3: { enabled: false, mode: 'click' }, funcaptcha: { enabled: true, mode: 'auto' } },
      siteMode: 'allowlist',
      allowedSites: ['shop.example'],
      maxTasksPerHour: 12,
      image: { numeric: true, maxRounds: 3 },
    };
    expect(MIGRATIONS).toHaveLength(SETTINGS_VERSION);
    const migrated = migrateSettings(v2);
    expect(migrated).toMatchObject({ version: SETTINGS_VERSION, autoSubmit: false, submitRules: [], pageSignal: false });
    const settings = parseSettings(v2);
    expect(settings).toMatchObject({
      version: SETTINGS_VERSION,
      service: 'custom',
      customUrl: 'https://relay.example.net',
      siteMode: 'allowlist',
      allowedSites: ['shop.example'],
      maxTasksPerHour: 12,
      autoSubmit: false,
      submitRules: [],
      pageSignal: false,
    });
    expect(settings.families.recaptchaV3).toEqual({ enabled: false, mode: 'click' });
    expect(settings.families.funcaptcha).toEqual({ enabled: true, mode: 'auto' });
    expect(settings.image).toMatchObject({ numeric: true, maxRounds: 3 });
    for (const id of FAMILY_IDS) expect(settings.delays[id]).toEqual({ minMs: 0, maxMs: 0 });
  });

  it('keeps valid delays, submit rules and switches, and falls back per field on bad ones', () => {
    const settings = parseSettings({
      version: 3,
      delays: { recaptchaV2: { minMs: 1_000, maxMs: 3_000 }, recaptchaV3: { minMs: 5_000, maxMs: 1_000 }, funcaptcha: { minMs: 0, maxMs: 99_999 } },
      autoSubmit: true,
      pageSignal: 'yes',
      submitRules: [{ site: 'https://Shop.example/login', selector: ' #login button ' }, { site: 'not a site', selector: 'a' }, { site: 'x.example' }],
    });
    expect(settings.delays.recaptchaV2).toEqual({ minMs: 1_000, maxMs: 3_000 });
    expect(settings.delays.recaptchaV3).toEqual({ minMs: 0, maxMs: 0 });
    expect(settings.delays.funcaptcha).toEqual({ minMs: 0, maxMs: 0 });
    expect(settings.autoSubmit).toBe(true);
    expect(settings.pageSignal).toBe(false);
    expect(settings.submitRules).toEqual([{ site: 'shop.example', selector: '#login button' }]);
  });

  it('exports the new settings and imports them back; a file that turns auto-submit or the page signal on asks first', () => {
    const mine = parseSettings({ version: 3 });
    const file = parseSettings({ version: 3, autoSubmit: true, pageSignal: true, delays: { funcaptcha: { minMs: 100, maxMs: 200 } } });
    expect(importSettings(exportSettings(file))).toEqual(file);
    expect(reviewImport(mine, file).changes).toEqual([
      { field: 'autoSubmit', from: false, to: true },
      { field: 'pageSignal', from: false, to: true },
    ]);
    expect(reviewImport(file, mine).changes).toEqual([]);
  });

  it('words every new setting and reason in English and Russian', () => {
    const read = (lang: string) => JSON.parse(fs.readFileSync(`public/_locales/${lang}/messages.json`, 'utf8')) as Record<string, { message: string }>;
    const [en, ru] = [read('en'), read('ru')];
    const wanted = Object.keys(en).filter((name) => /^(problem_|setup|managed|delay|autoSubmit|submitRules|pageSignal|afterDelivery|switchO|controlPage)/.test(name));
    expect(wanted.length).toBeGreaterThan(20);
    expect(wanted.filter((name) => !ru[name]?.message || ru[name].message === en[name]!.message)).toEqual([]);
    for (const reason of ['unknown', 'boolean', 'integer', 'number', 'choice', 'url', 'site', 'list', 'tooMany', 'object', 'selector', 'range', 'key', 'json', 'file']) {
      expect(en[`problem_${reason}`]?.message, reason).toBeTruthy();
    }
  });
});

describe('one reader for caprelay.json, policies and the control API', () => {
  it('takes each valid field and names the field and the reason for each one it does not', () => {
    const input = readSetupInput({
      apiKey: ' 0123456789abcdef0123456789abcdef ',
      service: 'custom',
      customUrl: 'http://127.0.0.1:8080/',
      maxTasksPerHour: 'many',
      maxTasksPerDay: 40,
      families: { recaptchaV2: { mode: 'auto', enabled: 'yes' }, hcaptcha: { mode: 'auto' } },
      blockedSites: ['ads.example', 'not a site!'],
      delays: { recaptchaV2: { minMs: 3_000, maxMs: 1_000 }, funcaptcha: { minMs: 500 } },
      submitRules: [{ site: 'shop.example', selector: '' }],
      maxTaskPerHour: 10,
    });
    expect(input.apiKey).toBe('0123456789abcdef0123456789abcdef');
    expect(input.patch).toEqual({
      service: 'custom',
      customUrl: 'http://127.0.0.1:8080/',
      maxTasksPerDay: 40,
      families: { recaptchaV2: { mode: 'auto' } },
      blockedSites: ['ads.example'],
      delays: {},
      submitRules: [],
    });
    expect(input.problems).toEqual([
      { field: 'maxTasksPerHour', reason: 'integer', args: ['0', '10000'] },
      { field: 'families.recaptchaV2.enabled', reason: 'boolean' },
      { field: 'families.hcaptcha', reason: 'unknown' },
      { field: 'blockedSites[1]', reason: 'site' },
      { field: 'delays.recaptchaV2', reason: 'range' },
      { field: 'delays.funcaptcha.maxMs', reason: 'integer', args: ['0', '20000'] },
      { field: 'submitRules[0].selector', reason: 'selector', args: ['500'] },
      { field: 'maxTaskPerHour', reason: 'unknown' },
    ]);
    // Never a value: the input may hold the key.
    expect(JSON.stringify(input.problems)).not.toContain('0123456789abcdef');
  });

  it('reads an exported file with the key beside it, migrated like an import', () => {
    const exported = JSON.parse(exportSettings(parseSettings({ version: 3, service: 'brocapgpt', maxTasksPerHour: 7 }))) as Record<string, unknown>;
    const input = readSetupInput({ ...exported, apiKey: 'brocapgpt-key-1234' });
    expect(input.problems).toEqual([]);
    expect(input.apiKey).toBe('brocapgpt-key-1234');
    expect(applySettingsPatch(parseSettings({}), input.patch)).toEqual(parseSettings({ version: 3, service: 'brocapgpt', maxTasksPerHour: 7 }));
    const v2 = readSetupInput({ caprelaySettings: { version: 2, maxTasksPerHour: 9 }, extra: 1 });
    expect(v2.patch).toMatchObject({ maxTasksPerHour: 9, autoSubmit: false });
    expect(v2.problems).toEqual([{ field: 'extra', reason: 'unknown' }]);
  });

  it('refuses what is not settings at all, and a key that cannot be one', () => {
    expect(readSetupInput([1, 2])).toEqual({ patch: {}, problems: [{ field: '', reason: 'file' }] });
    expect(readSetupInput({ caprelaySettings: 'x' }).problems).toEqual([{ field: 'caprelaySettings', reason: 'object' }]);
    const bad = readSetupInput({ apiKey: 'has spaces in it' });
    expect(bad.apiKey).toBeUndefined();
    expect(bad.problems).toEqual([{ field: 'apiKey', reason: 'key' }]);
  });

  it("applies a patch field by field and names what it set; a policy field keeps the user's own value underneath", () => {
    const own = parseSettings({ version: 3, maxTasksPerHour: 5, families: { funcaptcha: { enabled: false, mode: 'click' } } });
    const patch = readSetupInput({ maxTasksPerDay: 9, families: { recaptchaV2: { mode: 'auto' } }, image: { math: true }, delays: { recaptchaV3: { minMs: 1, maxMs: 2 } } }).patch;
    const next = applySettingsPatch(own, patch);
    expect(next).toEqual({
      ...own,
      maxTasksPerDay: 9,
      families: { ...own.families, recaptchaV2: { enabled: true, mode: 'auto' } },
      image: { ...own.image, math: true },
      delays: { ...own.delays, recaptchaV3: { minMs: 1, maxMs: 2 } },
    });
    const paths = patchPaths(patch);
    expect(paths).toEqual(['maxTasksPerDay', 'families.recaptchaV2.mode', 'image.math', 'delays.recaptchaV3']);
    // The UI saves over the effective settings; the fields a policy sets stay as the user had them.
    const edited = { ...next, maxTasksPerHour: 6 };
    expect(keepPaths(edited, own, paths)).toEqual({ ...own, maxTasksPerHour: 6 });
  });

  it('the managed schema names exactly the settings the reader takes, and the key', () => {
    const schema = JSON.parse(fs.readFileSync('public/managed_schema.json', 'utf8')) as { properties: Record<string, { properties?: Record<string, { properties?: object }> }> };
    expect(Object.keys(schema.properties).sort()).toEqual(['apiKey', ...SETTINGS_FIELDS].sort());
    expect(Object.keys(schema.properties.families!.properties!).sort()).toEqual([...FAMILY_IDS].sort());
    expect(Object.keys(schema.properties.delays!.properties!).sort()).toEqual([...FAMILY_IDS].sort());
    expect(Object.keys(schema.properties.image!.properties!).sort()).toEqual(Object.keys(DEFAULT_SETTINGS.image).sort());
  });
});

describe('caprelay.json: applied when new or changed', () => {
  const FILE = JSON.stringify({ apiKey: 'file-key-0123456789', service: 'custom', customUrl: 'http://127.0.0.1:9000', maxTasksPerHour: 'x', families: { recaptchaV2: { mode: 'auto' } } });

  function setup(text: string | null) {
    const local = new MemoryArea();
    let file = text;
    let now = 1_000;
    const apply = () => applySetupFile({ read: async () => file, local: local as never, now: () => now++ });
    return { local, apply, setFile: (next: string | null) => (file = next) };
  }

  it('applies a new file without a dialog, key included, and keeps what is wrong in it for the UI', async () => {
    const s = setup(FILE);
    const status = await s.apply();
    const settings = parseSettings(s.local.data.settings);
    expect(settings).toMatchObject({ service: 'custom', customUrl: 'http://127.0.0.1:9000', maxTasksPerHour: DEFAULT_SETTINGS.maxTasksPerHour });
    expect(settings.families.recaptchaV2.mode).toBe('auto');
    expect(s.local.data.apiKey).toBe('file-key-0123456789');
    expect(status).toMatchObject({ applied: ['service', 'customUrl', 'families.recaptchaV2.mode', 'apiKey'], problems: [{ field: 'maxTasksPerHour', reason: 'integer', args: ['0', '10000'] }] });
    expect(isSetupFileStatus(s.local.data.setupFile)).toBe(true);
    expect(JSON.stringify(s.local.data.setupFile)).not.toContain('file-key');
  });

  it('sets the proxy, the fallback service and their secrets too, each secret stored apart and never in the report', async () => {
    const s = setup(
      JSON.stringify({
        apiKey: 'file-key-0123456789',
        proxy: { type: 'http', address: '203.0.113.7', port: 3128, login: 'user' },
        proxyPassword: ' pass word ',
        fallback: { service: 'brocapgpt' },
        fallbackApiKey: 'fallback-key-0123456789',
      }),
    );
    const status = await s.apply();
    const settings = parseSettings(s.local.data.settings);
    expect(settings.proxy).toEqual({ type: 'http', address: '203.0.113.7', port: 3128, login: 'user', sites: [] });
    expect(settings.fallback).toEqual({ service: 'brocapgpt', customUrl: '' });
    expect(s.local.data).toMatchObject({ apiKey: 'file-key-0123456789', proxyPassword: ' pass word ', fallbackApiKey: 'fallback-key-0123456789' });
    expect(JSON.stringify(s.local.data.settings)).not.toMatch(/pass word|fallback-key/);
    expect(status?.applied).toEqual(['proxy.type', 'proxy.address', 'proxy.port', 'proxy.login', 'fallback.service', 'apiKey', 'proxyPassword', 'fallbackApiKey']);
    expect(JSON.stringify(status)).not.toMatch(/pass word|fallback-key|file-key/);
    const bad = readSetupInput({ fallbackApiKey: 'has spaces in it', proxyPassword: 'x'.repeat(256) });
    expect(bad).toEqual({
      patch: {},
      problems: [
        { field: 'fallbackApiKey', reason: 'key' },
        { field: 'proxyPassword', reason: 'text', args: ['255'] },
      ],
    });
  });

  it('the same file again changes nothing (a setting changed in the UI stays); a changed file applies again', async () => {
    const s = setup(FILE);
    await s.apply();
    await s.local.set({ settings: { ...parseSettings(s.local.data.settings), customUrl: 'http://127.0.0.1:9001' }, apiKey: 'typed-in-the-popup' });
    await s.apply();
    expect(parseSettings(s.local.data.settings).customUrl).toBe('http://127.0.0.1:9001');
    expect(s.local.data.apiKey).toBe('typed-in-the-popup');
    s.setFile(FILE.replace('9000', '9002'));
    await s.apply();
    expect(parseSettings(s.local.data.settings).customUrl).toBe('http://127.0.0.1:9002');
    expect(s.local.data.apiKey).toBe('file-key-0123456789');
  });

  it('a file that is not JSON changes nothing and says so; a removed file leaves its settings and drops its report', async () => {
    const s = setup('{ "apiKey": ');
    expect((await s.apply())?.problems).toEqual([{ field: '', reason: 'json' }]);
    expect(s.local.data.settings).toBeUndefined();
    s.setFile(FILE);
    await s.apply();
    s.setFile(null);
    expect(await s.apply()).toBeNull();
    expect(s.local.data.setupFile).toBeUndefined();
    expect(parseSettings(s.local.data.settings).service).toBe('custom');
  });

  it('no file is the normal case: nothing is written', async () => {
    const s = setup(null);
    expect(await s.apply()).toBeNull();
    expect(s.local.data).toEqual({});
  });
});

describe('the control API starts tasks only through Solving, as a click does', () => {
  function controlled(patch: Partial<Settings> = {}, options: Parameters<typeof world>[1] = {}, managed: string[] = []) {
    const w = world(patch, options);
    const saved: { settings?: Settings; apiKey?: string } = {};
    const deps: ControlDeps = {
      solving: w.solving,
      settings: async () => ({ settings: w.settings, own: w.settings, apiKey: 'key-123456', managed, policyProblems: [] }),
      save: async (settings, secrets) => {
        w.set(settings);
        saved.settings = settings;
        if (secrets.apiKey !== undefined) saved.apiKey = secrets.apiKey;
      },
      balance: async () => ({ ok: true, balance: 1 }),
      guard: (settings) => w.spend.status(settings, w.now),
      tasks: () => w.store.read(),
      setupFile: async () => null,
      tabIds: async () => [1, 2, 3],
      activeTabId: async () => 2,
      topUrl: (tabId) => w.registry.topUrl(tabId),
      now: () => w.now,
      changed: async (ms) => void w.advance(ms),
    };
    return { w, control: new Control(deps), saved };
  }

  it('configure takes what caprelay.json takes, reports the rest, and names what a policy decides instead', async () => {
    const { control, saved } = controlled({}, {}, ['maxTasksPerHour']);
    const reply = await control.configure({ apiKey: 'api-key-0123456789', maxTasksPerHour: 3, siteMode: 'some', pageSignal: true });
    expect(reply).toEqual({
      applied: ['maxTasksPerHour', 'pageSignal', 'apiKey'],
      problems: [{ field: 'siteMode', reason: 'choice', args: ['all, allowlist'] }],
      managed: ['maxTasksPerHour'],
    });
    expect(saved.apiKey).toBe('api-key-0123456789');
    expect(saved.settings).toMatchObject({ maxTasksPerHour: 3, pageSignal: true, siteMode: 'all' });
  });

  it('more than 3 at once needs the confirmed count, and the spending guard bounds what starts', async () => {
    const { w, control } = controlled({ maxTasksPerHour: 4, maxTasksPerDay: 100 });
    await w.report(
      1,
      0,
      Array.from({ length: 6 }, (_, i) => recaptcha(`w-${i}`)),
    );
    expect(await control.solve({ tabId: 1 })).toEqual({ tabId: 1, started: 0, errors: [], confirm: 4 });
    expect(await control.solve({ tabId: 1, confirmed: 6 })).toEqual({ tabId: 1, started: 0, errors: [], confirm: 4 });
    expect(w.created).toHaveLength(0);
    const reply = await control.solve({ tabId: 1, confirmed: 4 });
    expect(reply).toMatchObject({ tabId: 1, started: 4, errors: [{ code: 'SPENDING_LIMIT' }] });
    await w.settle();
    expect(w.created).toHaveLength(4);
    expect((await control.solve({ tabId: 1, confirmed: 2 })).started).toBe(0);
    await w.settle();
    expect(w.created).toHaveLength(4);
  });

  it('the site lists hold: a tab on a blocked site gets nothing, whoever asks', async () => {
    const { w, control } = controlled({ blockedSites: ['shop.example'] });
    await w.report(1, 0, [recaptcha('a')]);
    expect(await control.solve({ tabId: 1 })).toEqual({ tabId: 1, started: 0, errors: [] });
    expect((await control.captchas({ tabId: 1 })).captchas).toEqual([]);
    expect(w.created).toHaveLength(0);
  });

  it('finds a tab by its page address, or the active one; refuses an unknown or ambiguous address and bad parameters', async () => {
    const { w, control } = controlled();
    await w.report(1, 0, [recaptcha('a')], 'https://shop.example/signup', 'https://shop.example/signup');
    await w.report(3, 0, [], 'https://shop.example/cart', 'https://shop.example/cart');
    expect(await control.tabs()).toEqual([
      { tabId: 1, url: 'https://shop.example/signup' },
      { tabId: 3, url: 'https://shop.example/cart' },
    ]);
    expect((await control.captchas({ url: 'https://shop.example/signup' })).tabId).toBe(1);
    expect((await control.captchas({})).tabId).toBe(2);
    await expect(control.captchas({ url: 'https://elsewhere.example/' })).rejects.toThrow(ControlError);
    await w.report(2, 0, [], 'https://shop.example/cart', 'https://shop.example/cart');
    await expect(control.solve({ url: 'https://shop.example/cart' })).rejects.toThrow(/TAB_AMBIGUOUS/);
    await expect(control.solve({ tabId: 'one' })).rejects.toThrow(/BAD_CALL/);
    await expect(control.solve('everything')).rejects.toThrow(/BAD_CALL/);
    expect(w.created).toHaveLength(0);
  });

  it('waitForSolved resolves once each listed captcha is delivered, and says why when one is not', async () => {
    const ready = { status: 'ready' as const, solution: { gRecaptchaResponse: 'token-0123456789' } };
    const { w, control } = controlled(auto(), { result: ready });
    await w.report(1, 0, [recaptcha('a'), recaptcha('b')]);
    await w.settle();
    expect(w.created).toHaveLength(2);
    for (let i = 0; i < 10 && (await w.tasks()).some((t) => t.state !== 'delivered'); i++) {
      w.advance(5_000);
      await w.engine.tick();
    }
    const solved = await control.waitForSolved({ tabId: 1, timeoutMs: 1_000 });
    expect(solved).toMatchObject({ solved: true, tabId: 1, captchas: 2 });
    expect(solved.tasks.map((t) => t.state)).toEqual(['delivered', 'delivered']);
    expect(JSON.stringify(solved)).not.toContain('token-0123456789');

    await w.report(2, 0, [recaptcha('c')], 'https://shop.example/signup', 'https://shop.example/signup');
    await w.settle();
    await w.engine.cancelTab(2);
    expect(await control.waitForSolved({ tabId: 2 })).toMatchObject({ solved: false, captchas: 1, error: { code: expect.any(String) } });
  });

  it('waitForSolved gives up at the timeout, and waits for a page that has not reported yet', async () => {
    const { w, control } = controlled();
    const started = w.now;
    expect(await control.waitForSolved({ url: 'https://shop.example/signup', timeoutMs: 5_000 })).toMatchObject({ solved: false, error: { code: 'WAIT_TIMED_OUT' } });
    expect(w.now - started).toBeGreaterThanOrEqual(5_000);
    await w.report(1, 0, [recaptcha('a')]);
    expect(await control.waitForSolved({ tabId: 1, timeoutMs: 2_000 })).toMatchObject({ solved: false, tabId: 1, error: { code: 'WAIT_TIMED_OUT' } });
  });
});

describe('auto-solve delays', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  const flush = async (ms = 0): Promise<void> => {
    await vi.advanceTimersByTimeAsync(ms);
    for (let i = 0; i < 20; i++) await Promise.resolve();
  };
  const delayed = (minMs: number, maxMs: number): Partial<Settings> => auto({ delays: { ...structuredClone(DEFAULT_SETTINGS.delays), recaptchaV2: { minMs, maxMs } } });

  it('draws each delay from the range, ends included', () => {
    expect(delayFor({ minMs: 1_000, maxMs: 3_000 }, () => 0)).toBe(1_000);
    expect(delayFor({ minMs: 1_000, maxMs: 3_000 }, () => 0.999_999)).toBe(3_000);
    expect(delayFor({ minMs: 1_000, maxMs: 3_000 }, () => 0.5)).toBe(2_000);
    expect(delayFor({ minMs: 0, maxMs: 0 }, () => 0.5)).toBe(0);
  });

  it("waits the type's delay before the task, and shows the start it waits for", async () => {
    const w = world(delayed(2_000, 4_000), { random: () => 0.5 });
    const listedAt = w.now;
    await w.report(1, 0, [recaptcha('a')]);
    await flush();
    expect(w.solving.scheduledStarts()).toEqual([{ tabId: 1, frameId: 0, captchaId: 'a', at: listedAt + 3_000 }]);
    await flush(2_999);
    expect(w.created).toHaveLength(0);
    await flush(1);
    expect(w.created).toHaveLength(1);
    expect(w.solving.scheduledStarts()).toEqual([]);
    // Once per widget: reporting it again starts nothing more.
    await w.report(1, 0, [recaptcha('a')]);
    await flush(5_000);
    expect(w.created).toHaveLength(1);
  });

  it('starts nothing for a widget gone when the delay ends, a tab that navigated, or a guard reached meanwhile', async () => {
    const w = world(delayed(1_000, 1_000));
    await w.report(1, 0, [recaptcha('gone')]);
    await flush();
    w.live.delete('1/0');
    await flush(1_000);
    expect(w.created).toHaveLength(0);

    await w.report(2, 0, [recaptcha('navigated')]);
    await flush();
    await w.solving.dropTab(2);
    expect(w.solving.scheduledStarts()).toEqual([]);
    await flush(1_000);
    expect(w.created).toHaveLength(0);

    const g = world({ ...delayed(1_000, 1_000), maxTasksPerHour: 1 });
    await g.report(1, 0, [recaptcha('x'), recaptcha('y')]);
    await flush(1_000);
    expect(g.created).toHaveLength(1);
  });
});

describe('after the token is delivered', () => {
  const widget = (): { form: HTMLFormElement; container: HTMLElement } => {
    document.body.innerHTML = `<form id="f"><div class="g-recaptcha" id="w"></div><input name="requestSubmit"><button id="go" type="button">Go</button></form>`;
    return { form: document.getElementById('f') as HTMLFormElement, container: document.getElementById('w')! };
  };

  it('says what the settings ask for, with the most specific site rule', () => {
    const settings = parseSettings({
      version: 3,
      autoSubmit: true,
      pageSignal: true,
      submitRules: [
        { site: 'example.com', selector: '#a' },
        { site: 'shop.example.com', selector: '#b' },
      ],
    });
    expect(afterDeliveryFor(settings, 'https://shop.example.com/x')).toEqual({ signal: true, submit: { click: '#b' } });
    expect(afterDeliveryFor(settings, 'https://www.example.com/')).toEqual({ signal: true, submit: { click: '#a' } });
    expect(afterDeliveryFor(settings, 'https://other.test/')).toEqual({ signal: true, submit: 'form' });
    expect(afterDeliveryFor(parseSettings({}), 'https://other.test/')).toBeUndefined();
  });

  it('the page signal marks the widget and fires a plain event on it, with nothing else in it', () => {
    const { container } = widget();
    const seen: Event[] = [];
    document.addEventListener(SOLVED_EVENT, (event) => seen.push(event));
    afterDelivery(container, { signal: true });
    expect(container.hasAttribute(SOLVED_ATTRIBUTE)).toBe(true);
    expect(container.getAttribute(SOLVED_ATTRIBUTE)).toBe('');
    expect(seen).toHaveLength(1);
    expect(seen[0]!.target).toBe(container);
    expect((seen[0] as CustomEvent).detail).toBeUndefined();
  });

  it("submits the widget's form even when a control shadows requestSubmit, or clicks the site's selector; a bad selector does nothing", () => {
    vi.useFakeTimers();
    try {
      const { form, container } = widget();
      let submitted = 0;
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        submitted++;
      });
      afterDelivery(container, { submit: 'form' });
      // After the page's callback has had its turn, not during it.
      expect(submitted).toBe(0);
      vi.runAllTimers();
      expect(submitted).toBe(1);
      let clicked = 0;
      document.getElementById('go')!.addEventListener('click', () => clicked++);
      afterDelivery(container, { submit: { click: '#go' } });
      afterDelivery(container, { submit: { click: '#go[' } });
      vi.runAllTimers();
      expect(clicked).toBe(1);
      expect(submitted).toBe(1);
      expect(container.hasAttribute(SOLVED_ATTRIBUTE)).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });

  it('the deliver-token message takes what to do after, validated, and refuses anything else there', () => {
    const base = { type: 'deliver-token', captchaId: 'rc-1', token: 'tok' };
    expect(isDeliverTokenMessage(base)).toBe(true);
    expect(isDeliverTokenMessage({ ...base, then: { submit: 'form', signal: true } })).toBe(true);
    expect(isDeliverTokenMessage({ ...base, then: { submit: { click: '#go' } } })).toBe(true);
    expect(isDeliverTokenMessage({ ...base, then: { submit: 'everything' } })).toBe(false);
    expect(isDeliverTokenMessage({ ...base, then: { submit: { click: 'x'.repeat(501) } } })).toBe(false);
    expect(isDeliverTokenMessage({ ...base, then: { signal: 'yes' } })).toBe(false);
    expect(isDeliverTokenMessage({ ...base, then: 'submit' })).toBe(false);
  });
});
