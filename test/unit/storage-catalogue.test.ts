/**
 * The storage catalogue (src/shared/storage-catalogue.ts) names every key: no code reads or
 * writes extension storage under a key written out where it is used.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { STORAGE, STORAGE_KEYS } from '../../src/shared/storage-catalogue';

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(file);
    return /\.tsx?$/.test(entry.name) ? [file] : [];
  });
}

describe('the storage catalogue', () => {
  it('declares each key once, with its area', () => {
    const keys = Object.values(STORAGE).map((item) => item.key);
    expect(new Set(keys).size).toBe(keys.length);
    for (const item of Object.values(STORAGE)) expect(['local', 'session']).toContain(item.area);
    expect(STORAGE_KEYS.settings).toBe(STORAGE.settings.key);
  });

  it('the secrets are the key, the proxy password and the fallback key, all in local storage', () => {
    const secrets = Object.values(STORAGE).filter((item) => 'secret' in item);
    expect(secrets.map((item) => item.key).sort()).toEqual(['apiKey', 'fallbackApiKey', 'proxyPassword']);
    for (const item of secrets) expect(item.area).toBe('local');
  });

  it('no code names a storage key outside the catalogue', () => {
    const literalKey = [/\.storage\.(local|session|sync)\.(get|set|remove)\(\s*['"`[{]\s*['"`]/, /new StoredRecord\([^,]+,\s*['"`]/, /\.(get|set|remove)\(\s*\{\s*['"`]?\w+['"`]?\s*:/];
    const offenders = sources('src')
      .filter((file) => !file.endsWith('storage-catalogue.ts'))
      .flatMap((file) =>
        fs
          .readFileSync(file, 'utf8')
          .split('\n')
          .map((line, i) => ({ line, at: `${file}:${i + 1}` }))
          .filter(({ line }) => literalKey.some((pattern) => pattern.test(line)))
          .map(({ at, line }) => `${at}: ${line.trim()}`),
      );
    expect(offenders).toEqual([]);
  });
});
