/**
 * caprelay.json: the settings file a user puts beside manifest.json in the unpacked folder to
 * set CapRelay up (an automated browser, a fleet of profiles). It is the user's own set-up
 * channel, so it applies without the import dialog, key included; it is read with the same
 * validators as everything else, and what is wrong in it is kept for the popup and the
 * settings page to show (field and reason) while the rest applies.
 *
 * It is read each time the background starts (install, browser start, a wake-up) and applied
 * only when its content is new or changed since it was last applied: a setting changed later in
 * the UI stays changed until the file itself changes. A missing file is the normal case.
 */
import { applySettingsPatch, parseSettings, readSetupInput, setupPaths, setupSecretWrites, STORAGE_KEYS } from '../shared/settings';
import { isSetupFileStatus, type SetupFileStatus } from '../shared/setup-status';
import type { StorageArea } from './storage';

export const SETUP_FILE = 'caprelay.json';
/** A settings file is a few kilobytes; anything this big is not one. */
const MAX_FILE_CHARS = 1_000_000;

export interface SetupFileDeps {
  /** The file's text, or null when there is none. */
  read(): Promise<string | null>;
  local: StorageArea;
  now(): number;
}

/** Reads the packaged file the background can reach at its own URL; a missing one is null. */
export async function readPackagedFile(url: string): Promise<string | null> {
  try {
    const response = await fetch(url, { cache: 'no-store' });
    return response.ok ? await response.text() : null;
  } catch {
    return null;
  }
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Applies the file if it is new or changed; returns the status of the file in place (null: none). */
export async function applySetupFile(deps: SetupFileDeps): Promise<SetupFileStatus | null> {
  const text = await deps.read();
  const stored = (await deps.local.get(STORAGE_KEYS.setupFile))[STORAGE_KEYS.setupFile];
  const previous = isSetupFileStatus(stored) ? stored : null;
  if (text === null) {
    // The file was taken away: what it set stays (it is the user's now), its report goes.
    if (stored !== undefined) await deps.local.remove(STORAGE_KEYS.setupFile);
    return null;
  }
  const hash = await sha256(text);
  if (previous?.hash === hash) return previous;

  const status: SetupFileStatus = { hash, appliedAt: deps.now(), applied: [], problems: [] };
  let parsed: unknown;
  try {
    if (text.length > MAX_FILE_CHARS) throw new Error('too big');
    parsed = JSON.parse(text);
  } catch {
    status.problems.push({ field: '', reason: 'json' });
    await deps.local.set({ [STORAGE_KEYS.setupFile]: status });
    return status;
  }
  const input = readSetupInput(parsed);
  const current = await deps.local.get(STORAGE_KEYS.settings);
  const settings = applySettingsPatch(parseSettings(current[STORAGE_KEYS.settings]), input.patch);
  status.applied = setupPaths(input);
  status.problems = input.problems;
  // One write: the settings, the secrets and the report change together.
  await deps.local.set({
    [STORAGE_KEYS.settings]: settings,
    ...setupSecretWrites(input),
    [STORAGE_KEYS.setupFile]: status,
  });
  return status;
}
