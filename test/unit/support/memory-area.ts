/**
 * chrome.storage-like area in memory: whole values, copied on the way in and out, and an
 * optional quota counted as the browser does (key length + JSON length), past which `set` fails.
 */
export class MemoryArea {
  data: Record<string, unknown> = {};
  /** Every failed write, for tests that check which ones the quota refused. */
  readonly refused: string[] = [];

  constructor(private readonly quotaBytes = Infinity) {}

  async get(keys?: string | string[] | null): Promise<Record<string, unknown>> {
    const wanted = keys === undefined || keys === null ? Object.keys(this.data) : typeof keys === 'string' ? [keys] : keys;
    const out: Record<string, unknown> = {};
    for (const key of wanted) if (key in this.data) out[key] = structuredClone(this.data[key]);
    return out;
  }

  async set(items: Record<string, unknown>): Promise<void> {
    const next = { ...this.data, ...structuredClone(items) };
    if (bytesOf(next) > this.quotaBytes) {
      this.refused.push(...Object.keys(items));
      throw new Error('QUOTA_BYTES quota exceeded');
    }
    this.data = next;
  }

  async remove(keys: string | string[]): Promise<void> {
    for (const key of typeof keys === 'string' ? [keys] : keys) delete this.data[key];
  }
}

function bytesOf(data: Record<string, unknown>): number {
  return Object.entries(data).reduce((sum, [key, value]) => sum + key.length + JSON.stringify(value).length, 0);
}
