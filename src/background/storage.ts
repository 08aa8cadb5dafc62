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
  /** Counts writes and invalidations: a read that one overtook does not keep what it read. */
  private generation = 0;

  constructor(
    private readonly area: StorageArea,
    private readonly key: string,
    private readonly parse: (stored: unknown) => T,
  ) {
    // A change from elsewhere: the next read asks storage. The echo of this worker's own last
    // write (the same value) keeps what is known; any other value is read again, to be safe.
    (area as Partial<Pick<StorageArea, 'onChanged'>>).onChanged?.addListener((changes) => {
      const change = changes[key];
      if (change && this.known && JSON.stringify(change.newValue) !== JSON.stringify(this.known.value)) this.forget();
    });
  }

  async read(): Promise<T> {
    let known = this.known;
    if (!known) {
      const generation = this.generation;
      known = { value: (await this.area.get(this.key))[this.key] };
      // A write or a change while reading may be newer than what was read: then it is not kept.
      if (generation === this.generation && !this.known) this.known = known;
    }
    return this.parse(structuredClone(known.value));
  }

  /** Runs `fn` on the current value (which it may change in place) and writes it back if changed. */
  mutate<R>(fn: (value: T) => R): Promise<R> {
    const run = this.chain.then(async () => {
      const value = await this.read();
      const before = JSON.stringify(value);
      const result = fn(value);
      if (JSON.stringify(value) !== before) {
        this.generation++;
        this.known = { value: structuredClone(value) };
        try {
          await this.area.set({ [this.key]: value });
        } catch (error) {
          // Not written: what storage holds is read again next time.
          this.forget();
          throw error;
        }
      }
      return result;
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  private forget(): void {
    this.generation++;
    this.known = undefined;
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
