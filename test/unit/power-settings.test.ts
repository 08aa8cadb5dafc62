/**
 * The power-user block of the settings: the proxy as the services require it, its site rule,
 * the fallback service, the migration that adds them, and what an imported file may change
 * only with the user's yes. The two secrets are never part of Settings, so never in an export.
 */
import { describe, expect, it } from 'vitest';
import { defaultPowerSettings, fallbackUrlOf, POWER_SETTINGS_VERSION, proxyAddressProblem, proxyAppliesTo, proxyConfigOf, proxyProblems, type ProxySettings } from '../../src/shared/power-settings';
import { exportSettings, importSettings, MIGRATIONS, parseSettings, reviewImport, SETTINGS_VERSION, STORAGE_KEYS } from '../../src/shared/settings';

const proxy = (patch: Partial<ProxySettings> = {}): ProxySettings => ({ type: 'http', address: '203.0.113.7', port: 8080, login: 'user', sites: [], ...patch });

describe('the proxy, as the services require it', () => {
  it('takes public IPv4 and IPv6 addresses and host names', () => {
    for (const address of ['203.0.113.7', '8.8.8.8', '2001:db8::1', '[2001:4860:4860::8888]', 'proxy.example.net', '::ffff:8.8.8.8']) {
      expect(proxyAddressProblem(address), address).toBeNull();
    }
  });

  it('refuses private, loopback, link-local and other local addresses, naming why', () => {
    for (const address of [
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.10',
      '127.0.0.1',
      '169.254.10.20',
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '::1',
      '::',
      'fe80::1',
      'fd12:3456::1',
      '::ffff:192.168.0.1',
      'localhost',
      'printer.local',
      'router.lan',
    ]) {
      expect(proxyAddressProblem(address), address).toBe('proxyAddressPrivate');
    }
    for (const address of ['999.1.1.1', '1.2.3', 'http://203.0.113.7', 'a b', '1:2:3', 'singlelabel']) expect(proxyAddressProblem(address), address).toBe('proxyAddressInvalid');
    expect(proxyAddressProblem('')).toBe('proxyAddressMissing');
  });

  it('wants all of type, address and port or none, a port in range, and no % in the credentials', () => {
    expect(proxyProblems(proxy(), 'secret')).toEqual({});
    expect(proxyProblems({ type: '', address: '', port: 0, login: '', sites: [] }, '')).toEqual({});
    expect(proxyProblems(proxy({ type: '' }), '')).toEqual({ type: 'proxyTypeMissing' });
    expect(proxyProblems(proxy({ address: '' }), '')).toEqual({ address: 'proxyAddressMissing' });
    expect(proxyProblems(proxy({ port: 0 }), '')).toEqual({ port: 'proxyPortInvalid' });
    expect(proxyProblems(proxy({ port: 65_536 }), '')).toEqual({ port: 'proxyPortInvalid' });
    expect(proxyProblems(proxy({ login: 'us%er' }), 'p%ss')).toEqual({ login: 'proxyCredentialsPercent', password: 'proxyCredentialsPercent' });
    expect(proxyProblems(proxy({ login: '' }), 'secret')).toEqual({ password: 'proxyPasswordWithoutLogin' });
    // A password alone is a proxy half set.
    expect(proxyProblems({ type: '', address: '', port: 0, login: '', sites: [] }, 'secret')).toMatchObject({ type: 'proxyTypeMissing', address: 'proxyAddressMissing', port: 'proxyPortInvalid' });
  });

  it('becomes task fields only when valid; half a proxy is invalid, never dropped silently', () => {
    expect(proxyConfigOf(proxy(), 'secret')).toEqual({
      kind: 'proxy',
      fields: { proxyType: 'http', proxyAddress: '203.0.113.7', proxyPort: 8080, proxyLogin: 'user', proxyPassword: 'secret' },
      sites: [],
    });
    expect(proxyConfigOf(proxy({ login: '', address: '[2001:db8::1]', type: 'socks5' }), '')).toEqual({
      kind: 'proxy',
      fields: { proxyType: 'socks5', proxyAddress: '2001:db8::1', proxyPort: 8080 },
      sites: [],
    });
    expect(proxyConfigOf(proxy({ port: 0, sites: ['shop.example'] }), '')).toEqual({ kind: 'invalid', sites: ['shop.example'] });
    expect(proxyConfigOf(defaultPowerSettings().proxy, '')).toEqual({ kind: 'none' });
  });

  it('"only on these sites": the task page and its subdomains; an empty list is every site', () => {
    expect(proxyAppliesTo([], 'https://any.example.org/x')).toBe(true);
    expect(proxyAppliesTo(['shop.example'], 'https://shop.example/login')).toBe(true);
    expect(proxyAppliesTo(['shop.example'], 'https://eu.shop.example/login')).toBe(true);
    expect(proxyAppliesTo(['shop.example'], 'https://other.example/login')).toBe(false);
    expect(proxyAppliesTo(['shop.example'], 'file:///shop.example')).toBe(false);
  });
});

describe('the stored block', () => {
  it(`is added by the migration to version ${POWER_SETTINGS_VERSION}, the last one, keeping what the user set`, () => {
    expect(POWER_SETTINGS_VERSION).toBe(SETTINGS_VERSION);
    expect(MIGRATIONS).toHaveLength(SETTINGS_VERSION);
    const v2 = { version: 2, service: 'custom', customUrl: 'https://solver.example.net', maxTasksPerHour: 7 };
    const settings = parseSettings(v2);
    expect(settings).toMatchObject({ version: SETTINGS_VERSION, service: 'custom', maxTasksPerHour: 7, ...defaultPowerSettings() });
  });

  it('keeps typed values within bounds and drops foreign or overlong ones', () => {
    const settings = parseSettings({
      version: SETTINGS_VERSION,
      proxy: { type: 'ftp', address: ` ${'a'.repeat(300)} `, port: 70_000, login: 42, sites: ['https://Shop.Example/path', 'not a host!'], password: 'never-kept' },
      fallback: { service: 'evil', customUrl: 'javascript:alert(1)', apiKey: 'never-kept' },
    });
    expect(settings.proxy).toEqual({ type: '', address: '', port: 0, login: '', sites: ['shop.example'] });
    expect(settings.fallback).toEqual({ service: 'off', customUrl: '' });
    expect(JSON.stringify(settings)).not.toContain('never-kept');
  });

  it('exports neither secret: both live under their own storage keys, apart from the settings', () => {
    expect(STORAGE_KEYS).toMatchObject({ proxyPassword: 'proxyPassword', fallbackApiKey: 'fallbackApiKey' });
    const settings = parseSettings({ version: SETTINGS_VERSION, proxy: proxy(), fallback: { service: 'custom', customUrl: 'https://second.example.net' } });
    const file = exportSettings(settings);
    expect(file).not.toMatch(/password|apiKey|clientKey/i);
    expect(importSettings(file)).toEqual(settings);
  });

  it('points the fallback at its preset or custom URL, or nowhere', () => {
    expect(fallbackUrlOf({ service: 'off', customUrl: 'https://x.example' })).toBeNull();
    expect(fallbackUrlOf({ service: 'brocapgpt', customUrl: '' })).toBe('https://api.brocapgpt.com');
    expect(fallbackUrlOf({ service: 'custom', customUrl: 'https://second.example.net/' })).toBe('https://second.example.net');
    expect(fallbackUrlOf({ service: 'custom', customUrl: 'http://second.example.net' })).toBeNull();
  });
});

describe('importing a file: the fallback and the proxy need a confirmation', () => {
  const current = parseSettings({ version: SETTINGS_VERSION, service: 'capmonster' });

  it('lists a new fallback service and URL, and names the host the fallback key would go to', () => {
    const incoming = parseSettings({ version: SETTINGS_VERSION, service: 'capmonster', fallback: { service: 'custom', customUrl: 'https://attacker.example' } });
    const review = reviewImport(current, incoming);
    expect(review.changes).toEqual([
      { field: 'fallbackService', from: 'off', to: 'custom' },
      { field: 'fallbackUrl', from: '', to: 'https://attacker.example' },
    ]);
    expect(review.fallbackKeyUrl).toBe('https://attacker.example');
  });

  it('lists a fallback URL change even while the fallback is off (switching it on later would use it)', () => {
    const incoming = parseSettings({ version: SETTINGS_VERSION, fallback: { service: 'off', customUrl: 'https://attacker.example' } });
    expect(reviewImport(current, incoming).changes).toEqual([{ field: 'fallbackUrl', from: '', to: 'https://attacker.example' }]);
    expect(reviewImport(current, incoming).fallbackKeyUrl).toBeUndefined();
  });

  it('lists a proxy moved to another address (the stored password would be used there), not one removed', () => {
    const withProxy = parseSettings({ version: SETTINGS_VERSION, proxy: proxy() });
    const moved = parseSettings({ version: SETTINGS_VERSION, proxy: proxy({ address: '198.51.100.9' }) });
    expect(reviewImport(withProxy, moved).changes).toEqual([{ field: 'proxyAddress', from: '203.0.113.7:8080', to: '198.51.100.9:8080' }]);
    expect(reviewImport(withProxy, current).changes).toEqual([]);
    expect(reviewImport(withProxy, withProxy).changes).toEqual([]);
  });
});
