/**
 * Storage-backed records with serialized read-modify-write, so concurrent handlers in one
 * service worker never overwrite each other. Values are validated on every read: storage can
 * hold anything an older version (or a bug) wrote.
 */
import type { Storage } from 'webextension-polyfill';
import { isRecord, parse, type Guard } from '../shared/validate';

export type StorageArea = Storage.StorageArea;

export class StoredRecord<T> {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly area: StorageArea,
    private readonly key: string,
    private readonly parse: (stored: unknown) => T,
  ) {}

  async read(): Promise<T> {
    const stored = await this.area.get(this.key);
    return this.parse(stored[this.key]);
  }

  /** Runs `fn` on the current value (which it may change in place) and writes it back if changed. */
  mutate<R>(fn: (value: T) => R): Promise<R> {
    const run = this.chain.then(async () => {
      const value = await this.read();
      const before = JSON.stringify(value);
      const result = fn(value);
      if (JSON.stringify(value) !== before) await this.area.set({ [this.key]: value });
      return result;
    });
    this.chain = run.catch(() => undefined);
    return run;
  }
}

/** A string-keyed map whose entries are each validated (and kept with only the fields their check knows); invalid entries are dropped. */
export function parseMap<V>(isValue: Guard<V>): (stored: unknown) => Record<string, V> {
  return (stored) => {
    const map: Record<string, V> = {};
    if (!isRecord(stored)) return map;
    for (const [key, value] of Object.entries(stored)) {
      const entry = parse(isValue, value);
      if (entry !== undefined) map[key] = entry;
    }
    return map;
  };
}
