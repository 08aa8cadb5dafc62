import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { guardStatus, HOUR_MS, pruneSpendLog, DAY_MS } from '../../src/shared/guard';
import {
  DEFAULT_SETTINGS,
  MIGRATIONS,
  SETTINGS_VERSION,
  exportSettings,
  familyOf,
  importSettings,
  isSiteAllowed,
  migrateSettings,
  normalizeSitePattern,
  parseSettings,
  reviewImport,
  serviceUrlOf,
  type Settings,
} from '../../src/shared/settings';
import type { Captcha } from '../../src/shared/captcha';

describe('settings schema', () => {
  it('has one migration per version step', () => {
    expect(MIGRATIONS).toHaveLength(SETTINGS_VERSION);
  });

  it('reads nothing stored as the defaults', () => {
    expect(parseSettings(undefined)).toEqual(DEFAULT_SETTINGS);
    expect(parseSettings('garbage')).toEqual(DEFAULT_SETTINGS);
  });

  it('migrates a version 1 record, keeping what the user set', () => {
    const v1 = { version: 1, service: 'custom', customUrl: 'http://127.0.0.1:9000/', recreateAttempts: 2, v3MinScore: 0.3, callbackUrl: '' };
    const settings = parseSettings(v1);
    expect(settings.version).toBe(SETTINGS_VERSION);
    expect(settings.service).toBe('custom');
    expect(settings.customUrl).toBe('http://127.0.0.1:9000/');
    expect(serviceUrlOf(settings)).toBe('http://127.0.0.1:9000');
    expect(settings.recreateAttempts).toBe(2);
    expect(settings.v3MinScore).toBe(0.3);
    expect(settings.families.recaptchaV2).toEqual({ enabled: true, mode: 'click' });
    expect(settings.siteMode).toBe('all');
  });

  it('migrates a record without a version through every step', () => {
    const migrated = migrateSettings({ service: 'brocapgpt' });
    expect(migrated.version).toBe(SETTINGS_VERSION);
    expect(parseSettings({ service: 'brocapgpt' }).service).toBe('brocapgpt');
  });

  it('falls back per field on bad values instead of failing whole', () => {
    const settings = parseSettings({
      version: 2,
      service: 'evil',
      customUrl: 'javascript:alert(1)',
      families: { recaptchaV3: { enabled: false, mode: 'auto' }, funcaptcha: { enabled: 'yes', mode: 'sometimes' } },
      maxTasksPerHour: -5,
      maxTasksPerDay: 12.5,
      v3MinScore: 2,
      recreateAttempts: 99,
      blockedSites: ['https://Bad.example.com/path', 42, '*.ads.example', 'not a host!'],
    });
    expect(settings.service).toBe('capmonster');
    expect(settings.customUrl).toBe('');
    expect(settings.families.recaptchaV3).toEqual({ enabled: false, mode: 'auto' });
    expect(settings.families.funcaptcha).toEqual({ enabled: true, mode: 'click' });
    expect(settings.maxTasksPerHour).toBe(DEFAULT_SETTINGS.maxTasksPerHour);
    expect(settings.maxTasksPerDay).toBe(DEFAULT_SETTINGS.maxTasksPerDay);
    expect(settings.v3MinScore).toBe(DEFAULT_SETTINGS.v3MinScore);
    expect(settings.recreateAttempts).toBe(DEFAULT_SETTINGS.recreateAttempts);
    expect(settings.blockedSites).toEqual(['bad.example.com', 'ads.example']);
  });

  it('exports without the key and imports back what it exported', () => {
    const settings = parseSettings({ version: 2, service: 'custom', customUrl: 'https://solver.example.net', inPageButton: true });
    const file = exportSettings(settings);
    expect(file).not.toMatch(/apiKey|clientKey/);
    expect(importSettings(file)).toEqual(settings);
    expect(() => importSettings('{"other":1}')).toThrow(/not a CapRelay settings file/);
    expect(() => importSettings('nope')).toThrow(/not a JSON file/);
  });
});

describe('site lists', () => {
  it('normalizes what users type', () => {
    expect(normalizeSitePattern(' https://www.Example.com/login ')).toBe('www.example.com');
    expect(normalizeSitePattern('*.example.org')).toBe('example.org');
    expect(normalizeSitePattern('example.org:8443')).toBe('example.org');
    expect(normalizeSitePattern('')).toBeNull();
    expect(normalizeSitePattern('a b')).toBeNull();
  });

  it('blocks listed sites and their subdomains in "all" mode', () => {
    const settings = { ...parseSettings({}), blockedSites: ['bank.example'] };
    expect(isSiteAllowed(settings, 'https://bank.example/login')).toBe(false);
    expect(isSiteAllowed(settings, 'https://www.bank.example/')).toBe(false);
    expect(isSiteAllowed(settings, 'https://notbank.example/')).toBe(true);
  });

  it('allows only listed sites in allowlist mode', () => {
    const settings = { ...parseSettings({}), siteMode: 'allowlist' as const, allowedSites: ['shop.example'] };
    expect(isSiteAllowed(settings, 'https://shop.example/cart')).toBe(true);
    expect(isSiteAllowed(settings, 'https://other.example/')).toBe(false);
    expect(isSiteAllowed(settings, 'not a url')).toBe(false);
  });
});

describe('families', () => {
  const base = { id: 'x', siteKey: '6LeIxAcTAAAAAJcZVRqyHh71UMIEGNQ_MXjiZKhI' } as const;
  it('maps each captcha to its switch', () => {
    const v2: Captcha = { family: 'recaptcha', version: 'v2', enterprise: false, invisible: false, ...base };
    expect(familyOf(v2)).toBe('recaptchaV2');
    expect(familyOf({ ...v2, invisible: true })).toBe('recaptchaV2Invisible');
    expect(familyOf({ ...v2, enterprise: true })).toBe('recaptchaEnterprise');
    expect(familyOf({ ...v2, version: 'v3', invisible: true })).toBe('recaptchaV3');
    expect(familyOf({ family: 'funcaptcha', id: 'f', publicKey: '00000000-AAAA-BBBB-CCCC-000000000000' })).toBe('funcaptcha');
  });
});

describe('spending guard', () => {
  const now = 10 * DAY_MS;
  it('pauses at the hourly limit, then the daily one', () => {
    const limits = { maxTasksPerHour: 3, maxTasksPerDay: 5 };
    expect(guardStatus(limits, [now - 1000, now - 2000], now)).toEqual({ paused: false });
    expect(guardStatus(limits, [now - 1000, now - 2000, now - 3000], now)).toEqual({ paused: true, window: 'hour', count: 3, limit: 3 });
    const spread = [1, 2, 3, 4, 5].map((h) => now - h * HOUR_MS - 1);
    expect(guardStatus(limits, spread, now)).toEqual({ paused: true, window: 'day', count: 5, limit: 5 });
    expect(guardStatus({ maxTasksPerHour: 0, maxTasksPerDay: 0 }, spread, now)).toEqual({ paused: false });
  });

  it('forgets entries older than a day', () => {
    expect(pruneSpendLog([now - DAY_MS - 1, now - 5, Number.NaN], now)).toEqual([now - 5]);
  });
});

describe('service URLs', () => {
  it('takes https anywhere and http only for local hosts, where the key stays off the internet', async () => {
    const { normalizeServiceUrl } = await import('../../src/shared/services');
    expect(normalizeServiceUrl('https://api.example.com/')).toBe('https://api.example.com');
    expect(normalizeServiceUrl('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
    expect(normalizeServiceUrl('http://localhost:3000/api/')).toBe('http://localhost:3000/api');
    expect(normalizeServiceUrl('http://192.168.1.20')).toBe('http://192.168.1.20');
    expect(normalizeServiceUrl('http://api.example.com')).toBeNull();
    expect(normalizeServiceUrl('http://8.8.8.8')).toBeNull();
    expect(normalizeServiceUrl('https://user:pw@api.example.com')).toBeNull();
    expect(normalizeServiceUrl('ftp://api.example.com')).toBeNull();
  });
});

describe('importing a file: what needs a confirmation', () => {
  /** A user with a working service and the default guard, v2 on click. */
  const mine: Settings = parseSettings({ version: 2, service: 'capmonster' });
  const file = (settings: Record<string, unknown>): Settings => importSettings(JSON.stringify({ caprelaySettings: { version: 2, ...settings } }));

  it('lists everything a hostile file changes: another host for the key, no guard, auto-solve', () => {
    // A file as someone would share it to get the key and the money: an https host of theirs.
    const evil = file({
      service: 'custom',
      customUrl: 'https://evil.test/api',
      maxTasksPerHour: 0,
      maxTasksPerDay: 0,
      families: { recaptchaV2: { enabled: true, mode: 'auto' }, recaptchaV3: { enabled: true, mode: 'auto' } },
    });
    const review = reviewImport(mine, evil);
    expect(review.changes).toEqual([
      { field: 'service', from: 'capmonster', to: 'custom' },
      { field: 'customUrl', from: '', to: 'https://evil.test/api' },
      { field: 'maxTasksPerHour', from: 30, to: 0 },
      { field: 'maxTasksPerDay', from: 200, to: 0 },
      { field: 'family', family: 'recaptchaV2', from: { enabled: true, mode: 'click' }, to: { enabled: true, mode: 'auto' } },
      { field: 'family', family: 'recaptchaV3', from: { enabled: true, mode: 'click' }, to: { enabled: true, mode: 'auto' } },
    ]);
    expect(review.keyUrl).toBe('https://evil.test/api');
    expect(review.resultsUrl).toBeNull();
  });

  it('names where results would go when the file sets a callback URL', () => {
    const review = reviewImport(mine, file({ service: 'capmonster', callbackUrl: 'https://hooks.evil.test/cb' }));
    expect(review.changes).toEqual([{ field: 'callbackUrl', from: '', to: 'https://hooks.evil.test/cb' }]);
    expect(review.keyUrl).toBe('https://api.capmonster.cloud');
    expect(review.resultsUrl).toBe('https://hooks.evil.test/cb');
  });

  it('lists a built-in service too: the key would go to another host', () => {
    const custom = parseSettings({ version: 2, service: 'custom', customUrl: 'https://relay.example.net' });
    expect(reviewImport(custom, file({ service: 'brocapgpt', customUrl: 'https://relay.example.net' }))).toEqual({
      changes: [{ field: 'service', from: 'custom', to: 'brocapgpt' }],
      keyUrl: 'https://api.brocapgpt.com',
      resultsUrl: null,
    });
  });

  it('lists a new API URL even while another service is chosen (choosing Custom later would use it at once)', () => {
    expect(reviewImport(mine, file({ service: 'capmonster', customUrl: 'https://evil.test' })).changes).toEqual([{ field: 'customUrl', from: '', to: 'https://evil.test' }]);
  });

  it('lists a raised guard, and a switched-off family turned on while set to auto', () => {
    const careful = parseSettings({ version: 2, service: 'capmonster', maxTasksPerHour: 5, maxTasksPerDay: 20, families: { funcaptcha: { enabled: false, mode: 'auto' } } });
    const review = reviewImport(careful, file({ service: 'capmonster', maxTasksPerHour: 50, maxTasksPerDay: 20, families: { funcaptcha: { enabled: true, mode: 'auto' } } }));
    expect(review.changes).toEqual([
      { field: 'maxTasksPerHour', from: 5, to: 50 },
      { field: 'family', family: 'funcaptcha', from: { enabled: false, mode: 'auto' }, to: { enabled: true, mode: 'auto' } },
    ]);
  });

  it('lists nothing for a file that only lowers risk or changes harmless things', () => {
    const bold = parseSettings({
      version: 2,
      service: 'custom',
      customUrl: 'https://relay.example.net/',
      callbackUrl: 'https://hooks.example.org/cb',
      maxTasksPerHour: 0,
      maxTasksPerDay: 500,
      families: { recaptchaV2: { enabled: true, mode: 'auto' } },
    });
    const calmer = file({
      service: 'custom',
      // The same URL, spelled without the trailing slash.
      customUrl: 'https://relay.example.net',
      callbackUrl: '',
      maxTasksPerHour: 10,
      maxTasksPerDay: 100,
      families: { recaptchaV2: { enabled: false, mode: 'auto' }, funcaptcha: { enabled: false, mode: 'click' } },
      blockedSites: ['ads.example'],
      inPageButton: true,
      v3MinScore: 0.3,
      image: { numeric: true, maxRounds: 2 },
    });
    expect(reviewImport(bold, calmer).changes).toEqual([]);
  });

  it('lists nothing when a file exported from these settings comes back', () => {
    const settings = parseSettings({ version: 2, service: 'custom', customUrl: 'http://127.0.0.1:9000', maxTasksPerHour: 0, families: { recaptchaV3: { enabled: true, mode: 'auto' } } });
    expect(reviewImport(settings, importSettings(exportSettings(settings)))).toEqual({ changes: [], keyUrl: 'http://127.0.0.1:9000', resultsUrl: null });
  });

  it('words the confirmation in English and Russian', () => {
    const read = (lang: string) => JSON.parse(fs.readFileSync(`public/_locales/${lang}/messages.json`, 'utf8')) as Record<string, { message: string }>;
    const [en, ru] = [read('en'), read('ru')];
    const dialog = Object.keys(en).filter((name) => /^import|^(familyOff|noLimit|notSet)$/.test(name));
    expect(dialog).toEqual(expect.arrayContaining(['importReviewTitle', 'importKeyGoesTo', 'importResultsGoTo', 'importApply', 'importCancel', 'importCancelled']));
    expect(dialog.filter((name) => !ru[name]?.message || ru[name].message === en[name]!.message)).toEqual([]);
  });
});
