/**
 * What the content scripts found, per tab and frame. Kept in storage.session (readable only by
 * the extension's own pages and workers) so a restarted worker still knows the tab's captchas.
 */
import type { Captcha } from '../shared/captcha';
import type { FrameCaptcha } from '../shared/messages';
import { isInteger, isRecord, isString } from '../shared/validate';
import { isCaptcha } from '../shared/captcha';
import { StoredRecord } from './storage';

interface FrameEntry {
  url: string;
  captchas: Captcha[];
}

type Registry = Record<string, Record<string, FrameEntry>>;

function isFrameEntry(v: unknown): v is FrameEntry {
  return isRecord(v) && isString(v.url) && Array.isArray(v.captchas) && v.captchas.every(isCaptcha);
}

function parseRegistry(stored: unknown): Registry {
  const registry: Registry = {};
  if (!isRecord(stored)) return registry;
  for (const [tabId, frames] of Object.entries(stored)) {
    if (!isRecord(frames)) continue;
    const valid: Record<string, FrameEntry> = {};
    for (const [frameId, entry] of Object.entries(frames)) if (isFrameEntry(entry)) valid[frameId] = entry;
    registry[tabId] = valid;
  }
  return registry;
}

export class CaptchaRegistry {
  private readonly record: StoredRecord<Registry>;

  constructor(area: ConstructorParameters<typeof StoredRecord>[0]) {
    this.record = new StoredRecord(area, 'frames', parseRegistry);
  }

  /** Replaces one frame's list; returns the tab's captcha count. */
  setFrame(tabId: number, frameId: number, url: string, captchas: Captcha[]): Promise<number> {
    return this.record.mutate((registry) => {
      const frames = (registry[tabId] ??= {});
      if (captchas.length) frames[frameId] = { url, captchas };
      else delete frames[frameId];
      if (Object.keys(frames).length === 0) delete registry[tabId];
      return countOf(registry[tabId]);
    });
  }

  clearTab(tabId: number): Promise<void> {
    return this.record.mutate((registry) => {
      delete registry[tabId];
    });
  }

  async list(tabId: number): Promise<FrameCaptcha[]> {
    const frames = (await this.record.read())[tabId] ?? {};
    const list: FrameCaptcha[] = [];
    const seen = new Set<string>();
    for (const [frameId, entry] of Object.entries(frames)) {
      const id = Number(frameId);
      if (!isInteger(id)) continue;
      for (const captcha of entry.captchas) {
        const key = `${id}|${captcha.id}`;
        if (seen.has(key)) continue;
        seen.add(key);
        list.push({ frameId: id, url: entry.url, captcha });
      }
    }
    // Top frame first, then by frame id: a stable order for the popup.
    return list.sort((a, b) => a.frameId - b.frameId);
  }

  async find(tabId: number, frameId: number, captchaId: string): Promise<FrameCaptcha | undefined> {
    return (await this.list(tabId)).find((c) => c.frameId === frameId && c.captcha.id === captchaId);
  }
}

function countOf(frames: Record<string, FrameEntry> | undefined): number {
  if (!frames) return 0;
  return Object.values(frames).reduce((n, f) => n + f.captchas.length, 0);
}
