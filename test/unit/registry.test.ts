/**
 * The registry of what frames found (src/background/registry.ts): frames that left are
 * forgotten, a tab is held to its budget, and one tab's page data can never take the storage
 * the other tabs and the task records need.
 */
import { describe, expect, it } from 'vitest';
import { CaptchaRegistry, REGISTRY_LIMITS, type FrameAnswer } from '../../src/background/registry';
import { StoredRecord, parseMap } from '../../src/background/storage';
import type { Captcha } from '../../src/shared/captcha';
import { CAPTCHA_LIMITS } from '../../src/shared/captcha';
import { MAX_CAPTCHAS_PER_FRAME } from '../../src/shared/messages';
import { recaptcha } from './support/fake-service';
import { MemoryArea } from './support/memory-area';

const TOP = 'https://shop.example/checkout';

/** The frames of the tabs as they are now: which captcha ids each still has (absent: gone). */
class Frames {
  readonly live = new Map<string, string[]>();
  /** Frames that are there but too busy to answer. */
  readonly slow = new Set<string>();
  asked = 0;
  ask = async (tabId: number, frameId: number): Promise<FrameAnswer> => {
    this.asked++;
    const key = `${tabId}/${frameId}`;
    if (this.slow.has(key)) return undefined;
    return this.live.get(key) ?? null;
  };
}

function setup(area = new MemoryArea()) {
  const frames = new Frames();
  const registry = new CaptchaRegistry({ area: area as never, now: () => 1_000, ask: frames.ask, tabUrl: async () => undefined });
  /** Reports a frame's widgets and marks it live with exactly those. */
  const report = (tabId: number, frameId: number, captchas: Captcha[], url = `https://shop.example/frame${frameId}`) => {
    frames.live.set(
      `${tabId}/${frameId}`,
      captchas.map((c) => c.id),
    );
    return registry.report(tabId, frameId, url, TOP, captchas);
  };
  return { area, frames, registry, report };
}

const widgets = (prefix: string, n: number, extra: Partial<Captcha> = {}): Captcha[] => Array.from({ length: n }, (_, i) => recaptcha(`${prefix}-${i}`, extra as never));

describe('CaptchaRegistry', () => {
  it('lists only captchas whose frame still has them: removed frames and removed widgets are forgotten', async () => {
    const { frames, registry, report } = setup();
    await report(7, 0, widgets('top', 1));
    for (let f = 1; f <= 6; f++) await report(7, f, widgets(`f${f}`, 15));
    expect(await registry.list(7, false)).toHaveLength(91);
    // The six frames leave the page without a word; the top frame drops nothing.
    for (let f = 1; f <= 6; f++) frames.live.delete(`7/${f}`);
    const live = await registry.list(7, true);
    expect(live.map((c) => c.captcha.id)).toEqual(['top-0']);
    // And they are gone for good, not only from that one listing.
    expect(await registry.list(7, false)).toHaveLength(1);
    // A frame that still exists but lost a widget keeps the rest.
    await report(7, 3, widgets('g', 3));
    frames.live.set('7/3', ['g-1']);
    expect((await registry.list(7, true)).map((c) => c.captcha.id)).toEqual(['top-0', 'g-1']);
  });

  it('does not list a frame that does not answer in time, and does not forget it either', async () => {
    const { frames, registry, report } = setup();
    await report(2, 0, widgets('top', 1));
    await report(2, 4, widgets('busy', 1));
    frames.slow.add('2/4');
    expect((await registry.list(2, true)).map((c) => c.captcha.id)).toEqual(['top-0']);
    frames.slow.delete('2/4');
    expect((await registry.list(2, true)).map((c) => c.captcha.id)).toEqual(['top-0', 'busy-0']);
  });

  it('an empty report (pagehide) forgets the frame; the top frame always sets the tab address', async () => {
    const { registry, report } = setup();
    await report(3, 2, widgets('x', 2));
    await registry.report(3, 2, 'https://shop.example/frame2', TOP, []);
    expect(await registry.list(3, false)).toEqual([]);
    await registry.report(4, 0, 'https://top.example/', undefined, []);
    expect(await registry.topUrl(4)).toBe('https://top.example/');
    // The browser's address for the tab (sent with every message) wins over a frame's.
    await registry.report(5, 3, 'https://frame.example/', 'https://top.example/page', []);
    expect(await registry.topUrl(5)).toBe('https://top.example/page');
  });

  it('a tab no frame has reported from has the address the browser gives for it now; a report wins', async () => {
    const tabs = new Map([[7, 'https://plain.example/article']]);
    const registry = new CaptchaRegistry({ area: new MemoryArea() as never, now: () => 1_000, ask: new Frames().ask, tabUrl: async (tabId) => tabs.get(tabId) });
    expect(await registry.topUrl(7)).toBe('https://plain.example/article');
    expect(await registry.topUrl(8)).toBeUndefined();
    await registry.report(7, 2, 'https://frame.example/', 'https://plain.example/next', []);
    tabs.set(7, 'https://plain.example/later');
    expect(await registry.topUrl(7)).toBe('https://plain.example/next');
  });

  it('a frame without an address a task may use is not listed', async () => {
    const { registry, report } = setup();
    await report(6, 0, widgets('top', 1));
    expect(await registry.report(6, 5, null, TOP, widgets('srcdoc', 1))).toBe('stored');
    expect((await registry.list(6, false)).map((c) => c.captcha.id)).toEqual(['top-0']);
  });

  it('holds a tab to its frame and captcha budget, forgetting frames that left before refusing', async () => {
    const { frames, registry, report } = setup();
    for (let f = 0; f < REGISTRY_LIMITS.framesPerTab; f++) expect(await report(1, f, widgets(`f${f}`, 1))).toBe('stored');
    // One more live frame is one too many.
    expect(await report(1, 99, widgets('extra', 1))).toBe('refused');
    expect(await registry.list(1, false)).toHaveLength(REGISTRY_LIMITS.framesPerTab);
    // Once frames have left, there is room again.
    for (let f = 1; f < 10; f++) frames.live.delete(`1/${f}`);
    expect(await report(1, 100, widgets('new', 1))).toBe('stored');
    expect((await registry.list(1, false)).some((c) => c.captcha.id === 'new-0')).toBe(true);
    // Captchas: at most captchasPerTab over all frames.
    const { report: reportB, registry: registryB } = setup();
    let stored = 0;
    for (let f = 0; f < 5; f++) if ((await reportB(2, f, widgets(`c${f}`, MAX_CAPTCHAS_PER_FRAME))) === 'stored') stored++;
    expect(stored).toBe(REGISTRY_LIMITS.captchasPerTab / MAX_CAPTCHAS_PER_FRAME);
    expect((await registryB.list(2, false)).length).toBeLessThanOrEqual(REGISTRY_LIMITS.captchasPerTab);
  });

  it('holds a tab to its bytes, and all tabs together to the total, so the rest of the area stays free', async () => {
    const area = new MemoryArea(10 * 1024 * 1024);
    const { registry, report } = setup(area);
    const big = (prefix: string) => widgets(prefix, 40, { dataS: 's'.repeat(CAPTCHA_LIMITS.dataS) });
    // Tab by tab, frames of the biggest widgets a frame may report.
    let refusedTabs = 0;
    for (let tab = 1; tab <= 12; tab++) {
      for (let f = 0; f < 4; f++) await report(tab, f, big(`t${tab}f${f}`));
      if ((await registry.list(tab, false)).length === 0) refusedTabs++;
    }
    const pageData = Object.entries(area.data)
      .filter(([key]) => key.startsWith('frames'))
      .reduce((sum, [key, value]) => sum + key.length + JSON.stringify(value).length, 0);
    expect(pageData).toBeLessThanOrEqual(REGISTRY_LIMITS.bytesTotal + 10_000);
    expect(refusedTabs).toBeGreaterThan(0);
    for (const [key, value] of Object.entries(area.data)) if (key.startsWith('frames:')) expect(JSON.stringify(value).length).toBeLessThanOrEqual(REGISTRY_LIMITS.bytesPerTab);
    // What is left is enough for task records: 5 MB of them still fit.
    const tasks = new StoredRecord(
      area as never,
      'tasks',
      parseMap((v): v is string => typeof v === 'string'),
    );
    await tasks.mutate((all) => {
      for (let i = 0; i < 100; i++) all[`task-${i}`] = 'x'.repeat(50_000);
    });
    expect(Object.keys(await tasks.read())).toHaveLength(100);
  });

  it("a write the browser refuses drops that tab's page data only, never another tab's", async () => {
    const area = new MemoryArea(300_000);
    const { registry, report } = setup(area);
    await report(1, 0, widgets('calm', 1));
    await area.set({ tasks: { big: 'x'.repeat(250_000) } });
    // Tab 2's report does not fit the (small) quota: its data goes, tab 1 and the tasks stay.
    expect(await report(2, 0, widgets('flood', 40, { dataS: 's'.repeat(2_000) }))).toBe('refused');
    expect(await registry.list(2, false)).toEqual([]);
    expect((await registry.list(1, false)).map((c) => c.captcha.id)).toEqual(['calm-0']);
    expect(area.data.tasks).toBeDefined();
  });

  it('keeps a notice (a challenge page it cannot solve) while its frame is there, and forgets it with the frame', async () => {
    const { frames, registry } = setup();
    frames.live.set('4/0', []);
    await registry.report(4, 0, TOP, TOP, [], ['cloudflare-challenge']);
    expect(await registry.list(4, true)).toEqual([]);
    expect(await registry.notices(4)).toEqual([{ url: TOP, notice: 'cloudflare-challenge' }]);
    frames.live.delete('4/0');
    await registry.list(4, true);
    expect(await registry.notices(4)).toEqual([]);
  });

  it('remembers auto-solve claims per tab, once each, and forgets them with the tab', async () => {
    const { registry } = setup();
    expect(await registry.claim(9, '0|rc-1')).toBe(true);
    expect(await registry.claim(9, '0|rc-1')).toBe(false);
    expect(await registry.claim(8, '0|rc-1')).toBe(true);
    await registry.clearTab(9);
    expect(await registry.claim(9, '0|rc-1')).toBe(true);
    for (let i = 0; i < REGISTRY_LIMITS.claimsPerTab * 2; i++) await registry.claim(10, `0|w-${i}`);
    expect(await registry.claim(10, `0|w-${REGISTRY_LIMITS.claimsPerTab * 2 - 1}`)).toBe(false);
  });

  it('reads each tab from storage once, and a restarted worker finds what the last one stored', async () => {
    const area = new MemoryArea();
    let reads = 0;
    const get = area.get.bind(area);
    area.get = (keys) => {
      reads++;
      return get(keys);
    };
    const { registry, report, frames } = setup(area);
    await report(5, 0, widgets('a', 1));
    await report(5, 2, widgets('b', 2));
    const afterReports = reads;
    for (let i = 0; i < 3; i++) expect(await registry.list(5, true)).toHaveLength(3);
    expect(reads).toBe(afterReports);
    // What it keeps is a copy: changing a listed captcha changes nothing stored.
    (await registry.list(5, false))[0]!.captcha.id = 'changed';
    expect((await registry.list(5, false))[0]!.captcha.id).toBe('a-0');
    // A new worker (the old one stopped): the same area, nothing in memory.
    const restarted = new CaptchaRegistry({ area: area as never, now: () => 2_000, ask: frames.ask, tabUrl: async () => undefined });
    expect((await restarted.list(5, true)).map((c) => c.captcha.id)).toEqual(['a-0', 'b-0', 'b-1']);
    expect(reads).toBeGreaterThan(afterReports);
  });

  it('takes a frame that has just reported at its word when asked to, and asks it again once its report is older', async () => {
    let now = 1_000;
    const frames = new Frames();
    const registry = new CaptchaRegistry({ area: new MemoryArea() as never, now: () => now, ask: frames.ask, tabUrl: async () => undefined });
    frames.live.set('6/1', ['fresh-0']);
    await registry.report(6, 1, 'https://shop.example/frame1', TOP, widgets('fresh', 1));
    // Gone right after its report, without a word (a crash): listed while the report is young…
    frames.live.delete('6/1');
    now += 999;
    expect((await registry.list(6, true, 1_000)).map((c) => c.captcha.id)).toEqual(['fresh-0']);
    expect(frames.asked).toBe(0);
    // …and forgotten once it is not.
    now += 1;
    expect(await registry.list(6, true, 1_000)).toEqual([]);
    expect(frames.asked).toBe(1);
  });
});
