/**
 * Storage-backed records with serialized read-modify-write, so concurrent handlers in one
 * service worker never overwrite each other. Values are validated on every read: storage can
 * hold anything an older version (or a bug) wrote.
 */
import type { Storage } from 'webextension-polyfill';
import { isRecord, parse, type Guard } from '../shared/validate';

export type StorageArea = Storage.StorageArea;

/**
 * One key the service worker writes: after the first read its value is kept in memory until
 * storage says the key changed (a stopped worker starts empty and reads again), so a listing
 * does not wait on the browser's storage while the tab it lists is busy loading.
 */
export class StoredRecord<T> {
  private chain: Promise<unknown> = Promise.resolve();
  /** The value as last read or written; callers get a copy (they change what they read). */
  private known: { value: unknown } | undefined;

  constructor(
    private readonly area: StorageArea,
    private readonly key: string,
    private readonly parse: (stored: unknown) => T,
  ) {
    // Any change, this worker's own included: the next read asks storage, which has it by then.
    (area as Partial<Pick<StorageArea, 'onChanged'>>).onChanged?.addListener((changes) => {
      if (key in changes) this.known = undefined;
    });
  }

  async read(): Promise<T> {
    if (!this.known) {
      const value = (await this.area.get(this.key))[this.key];
      // A write that came while reading is newer than what was read.
      this.known ??= { value };
    }
    return this.parse(structuredClone(this.known.value));
  }

  /** Runs `fn` on the current value (which it may change in place) and writes it back if changed. */
  mutate<R>(fn: (value: T) => R): Promise<R> {
    const run = this.chain.then(async () => {
      const value = await this.read();
      const before = JSON.stringify(value);
      const result = fn(value);
      if (JSON.stringify(value) !== before) {
        this.known = { value: structuredClone(value) };
        try {
          await this.area.set({ [this.key]: value });
        } catch (error) {
          // Not written: what storage holds is read again next time.
          this.known = undefined;
          throw error;
        }
      }
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
