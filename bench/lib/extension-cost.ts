/**
 * How much of a page's main-thread JavaScript time is the extension's, from a V8 CPU profile of
 * the page's renderer (it samples every JavaScript world: the page's, the probe's and the
 * content script's isolated one). A sample belongs to whoever owns its nearest stack frame with
 * a script URL, so native calls count for the script that made them: JSON.stringify called by
 * the content script is the extension's, the page's own render() wrapped by the probe is the
 * page's.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { CDPSession, Page } from 'playwright';

export interface ExtensionCost {
  /** Sampled script time of extension code, ms. */
  extensionMs: number;
  /** Sampled script time of the page's own code, ms. */
  pageMs: number;
  /** The longest stretch of extension code with no other sample in between, ms (a lower bound on its share of one task). */
  longestExtensionRunMs: number;
}

interface ProfileNode {
  id: number;
  callFrame: { url: string; functionName: string };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
}

export class CostProfiler {
  private constructor(private readonly cdp: CDPSession) {}

  /** Profiles taken so far, numbered in the file names when CAPRELAY_BENCH_PROFILES names a folder. */
  private static kept = 0;

  /** Starts sampling `page`'s renderer; call before the page loads to see its whole life. */
  static async start(page: Page): Promise<CostProfiler> {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
    await cdp.send('Profiler.start');
    return new CostProfiler(cdp);
  }

  async stop(extensionId: string): Promise<ExtensionCost> {
    const { profile } = (await this.cdp.send('Profiler.stop')) as { profile: Profile };
    await this.cdp.detach().catch(() => undefined);
    // For a closer look (DevTools' Performance panel opens .cpuprofile files): which functions the extension's time went to.
    const keep = process.env.CAPRELAY_BENCH_PROFILES;
    if (keep) {
      fs.mkdirSync(keep, { recursive: true });
      fs.writeFileSync(path.join(keep, `profile-${String(++CostProfiler.kept).padStart(3, '0')}.cpuprofile`), JSON.stringify(profile));
    }
    return costOf(profile, `chrome-extension://${extensionId}/`);
  }
}

function costOf(profile: Profile, extensionPrefix: string): ExtensionCost {
  const parent = new Map<number, number>();
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const owner = new Map<number, 'extension' | 'page' | 'none'>();
  const ownerOf = (id: number): 'extension' | 'page' | 'none' => {
    const known = owner.get(id);
    if (known) return known;
    const node = byId.get(id);
    const url = node?.callFrame.url ?? '';
    let result: 'extension' | 'page' | 'none';
    if (url) result = url.startsWith(extensionPrefix) ? 'extension' : 'page';
    else {
      const up = parent.get(id);
      result = up === undefined ? 'none' : ownerOf(up);
    }
    owner.set(id, result);
    return result;
  };
  let extensionMs = 0;
  let pageMs = 0;
  let run = 0;
  let longest = 0;
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    // timeDeltas[i] is the time before sample i; the time after it is the next delta.
    const ms = (deltas[i + 1] ?? 0) / 1000;
    const who = ownerOf(samples[i]!);
    if (who === 'extension') {
      extensionMs += ms;
      run += ms;
      longest = Math.max(longest, run);
    } else {
      if (who === 'page') pageMs += ms;
      run = 0;
    }
  }
  return { extensionMs, pageMs, longestExtensionRunMs: longest };
}
