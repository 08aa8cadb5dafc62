/**
 * A record only the service worker writes is read from storage once: after that a listing gets
 * it from memory, even while the browser's storage is slow to answer; a write that fails leaves
 * what storage holds to be read again.
 */
import { describe, expect, it } from 'vitest';
import { StoredRecord, type StorageArea } from '../../src/background/storage';

type Counts = Record<string, number>;

/** A storage area whose reads after the first never answer (a browser busy loading a tab). */
function stallingArea(initial: Counts): StorageArea & { data: Record<string, unknown> } {
  const data: Record<string, unknown> = { counts: initial };
  let reads = 0;
  return {
    data,
    get: (key: string) => (reads++ === 0 ? Promise.resolve({ [key]: structuredClone(data[key]) }) : new Promise(() => undefined)),
    set: (items: Record<string, unknown>) => Promise.resolve(void Object.assign(data, structuredClone(items))),
  } as unknown as StorageArea & { data: Record<string, unknown> };
}

const parseCounts = (stored: unknown): Counts => (typeof stored === 'object' && stored !== null ? (stored as Counts) : {});

describe('StoredRecord', () => {
  it('reads storage again once storage says the key changed (written elsewhere)', async () => {
    const data: Record<string, unknown> = { counts: { a: 1 } };
    const listeners: ((changes: Record<string, unknown>) => void)[] = [];
    const area = {
      get: (key: string) => Promise.resolve({ [key]: structuredClone(data[key]) }),
      set: () => Promise.resolve(),
      onChanged: { addListener: (fn: (changes: Record<string, unknown>) => void) => listeners.push(fn) },
    } as unknown as StorageArea;
    const record = new StoredRecord(area, 'counts', parseCounts);
    expect(await record.read()).toEqual({ a: 1 });
    data.counts = { a: 5 };
    for (const fn of listeners) fn({ other: { newValue: 1 } });
    expect(await record.read()).toEqual({ a: 1 });
    // The echo of its own write keeps the value in memory; a different value is read again.
    await record.mutate((counts) => void (counts.b = 2));
    data.counts = { a: 1, b: 2, c: 3 };
    for (const fn of listeners) fn({ counts: { newValue: { a: 1, b: 2 } } });
    expect(await record.read()).toEqual({ a: 1, b: 2 });
    data.counts = [];
    for (const fn of listeners) fn({ counts: { newValue: [] } });
    expect(await record.read()).toEqual([]);
  });

  it('answers from memory after the first read, with what it last wrote', async () => {
    const area = stallingArea({ a: 1 });
    const record = new StoredRecord(area, 'counts', parseCounts);
    expect(await record.read()).toEqual({ a: 1 });
    await record.mutate((counts) => void (counts.b = 2));
    expect(await record.read()).toEqual({ a: 1, b: 2 });
    expect(area.data.counts).toEqual({ a: 1, b: 2 });
  });

  it('gives each caller its own copy to change', async () => {
    const record = new StoredRecord(stallingArea({ a: 1 }), 'counts', parseCounts);
    const first = await record.read();
    first.a = 99;
    expect(await record.read()).toEqual({ a: 1 });
  });

  it('reads storage again after a write that failed', async () => {
    const data: Record<string, unknown> = { counts: { a: 1 } };
    const area = {
      get: (key: string) => Promise.resolve({ [key]: structuredClone(data[key]) }),
      set: () => Promise.reject(new Error('QUOTA_BYTES exceeded')),
    } as unknown as StorageArea;
    const record = new StoredRecord(area, 'counts', parseCounts);
    await expect(record.mutate((counts) => void (counts.b = 2))).rejects.toThrow('QUOTA_BYTES');
    expect(await record.read()).toEqual({ a: 1 });
  });

  it('does not keep what a read got when a write or a change overtook it', async () => {
    let stored: unknown = { a: 1 };
    let slow = false;
    const held: (() => void)[] = [];
    const listeners: ((changes: Record<string, unknown>) => void)[] = [];
    const area = {
      get: (key: string) => {
        const snapshot = structuredClone(stored);
        return slow ? new Promise((resolve) => held.push(() => resolve({ [key]: snapshot }))) : Promise.resolve({ [key]: snapshot });
      },
      set: (items: Record<string, unknown>) => Promise.resolve(void (stored = structuredClone(items.counts))),
      onChanged: { addListener: (fn: (changes: Record<string, unknown>) => void) => listeners.push(fn) },
    } as unknown as StorageArea;
    const record = new StoredRecord(area, 'counts', parseCounts);
    // A listing asks storage while the browser is slow; meanwhile the worker writes, and a
    // change from elsewhere comes in. Then the slow answer (from before the write) arrives.
    slow = true;
    const listing = record.read();
    slow = false;
    await record.mutate((counts) => void (counts.b = 2));
    for (const fn of listeners) fn({ counts: { newValue: { other: 1 } } });
    for (const resolve of held) resolve();
    expect(await listing).toEqual({ a: 1 });
    expect(await record.read()).toEqual({ a: 1, b: 2 });
  });
});
