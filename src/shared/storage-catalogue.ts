/**
 * Every key CapRelay keeps in extension storage, declared once: its area, what it holds, how an
 * older shape is read, and what a missing or unreadable value means. Code names a key only
 * through this catalogue (a unit test keeps it so); the parsers live beside the code that owns
 * each record.
 *
 * - `local` survives restarts and holds what the user set and what they may look back at.
 * - `session` lives while the browser runs: tasks in flight and what pages reported. Content
 *   scripts can read neither (the background sets session and local to trusted contexts).
 */
export type StorageAreaName = 'local' | 'session';

export interface StorageItem {
  readonly key: string;
  readonly area: StorageAreaName;
  /**
   * How a value stored by an older version is read: `migrations` runs the numbered steps up to
   * the current version (settings.ts MIGRATIONS, SETTINGS_VERSION); `validated` checks each
   * entry and drops what does not pass, so a change of shape never needs a step.
   */
  readonly upgrade: 'migrations' | 'validated';
  /** What a missing or unreadable value reads as. */
  readonly empty: string;
  /** A secret: only the background and the extension's pages read it; never exported. */
  readonly secret?: true;
}

const item = (key: string, area: StorageAreaName, upgrade: StorageItem['upgrade'], empty: string, secret?: true): StorageItem => ({
  key,
  area,
  upgrade,
  empty,
  ...(secret && { secret }),
});

export const STORAGE = {
  settings: item('settings', 'local', 'migrations', 'the default settings'),
  apiKey: item('apiKey', 'local', 'validated', 'no key', true),
  proxyPassword: item('proxyPassword', 'local', 'validated', 'no password', true),
  fallbackApiKey: item('fallbackApiKey', 'local', 'validated', 'no fallback key', true),
  /** The last caprelay.json applied (its hash, when, what applied and what did not). */
  setupFile: item('setupFile', 'local', 'validated', 'no file applied yet'),
  /** Finished tasks, newest first, bounded. */
  history: item('history', 'local', 'validated', 'no history'),
  /** When each task was sent, for the spending guard's hour and day. */
  spend: item('spend', 'local', 'validated', 'nothing spent'),
  /** The last balance read per service, for the cost estimate. */
  balances: item('balances', 'local', 'validated', 'no reading'),
  /** Where the image and its answer field are, per site, once the user picked them. */
  imagePairs: item('imagePairs', 'local', 'validated', 'no remembered pair'),
  /** Tasks in flight and just finished: persisted before each step, resumed on start-up. */
  tasks: item('tasks', 'session', 'validated', 'no tasks'),
  /** Image requests waiting for a frame's answer. */
  imageRequests: item('imageRequests', 'session', 'validated', 'no request'),
  /** A shortcut or page-menu gesture waiting for the user's yes, per tab. */
  gestures: item('gestures', 'session', 'validated', 'none waiting'),
  /** Which tabs have page-fed data, and how many bytes each holds (the registry's budget). */
  framesIndex: item('framesIndex', 'session', 'validated', 'no tab reported'),
  /** One tab's frames and their captchas: the key is this prefix and the tab id. */
  framesOfTab: item('frames:', 'session', 'validated', 'the tab reported nothing'),
} as const satisfies Record<string, StorageItem>;

/** The keys by name, for code that reads several at once. */
export const STORAGE_KEYS = Object.fromEntries(Object.entries(STORAGE).map(([name, { key }]) => [name, key])) as {
  readonly [K in keyof typeof STORAGE]: (typeof STORAGE)[K]['key'];
};
