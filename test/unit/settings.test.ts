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
  serviceUrlOf,
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
    expect(settings.version).toBe(2);
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
