/**
 * Image captchas in real Chromium, against the strict local mock service:
 * - a text-image captcha picked with the keyboard through the popup action (image, then field),
 *   the answer typed with the events a form needs, the pair remembered: the next time one click;
 * - the same image through the image context menu's handler (headless Chromium shows no menu);
 * - an image over the service's size limit, recompressed below it;
 * - a FunCaptcha image challenge in a frame: instruction and tiles read, one task per round, the
 *   marked tiles clicked until it completes; and the round limit holding against a longer one.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Page } from 'playwright';
import { BackgroundProbe } from '../support/background-probe';
import { launchChromium, type ChromiumSession } from '../support/chromium';
import { startFixtureServer, type FixtureServer } from '../support/fixture-server';
import { IMAGE_LIMITS, MockSolver } from '../support/mock-solver';

const API_KEY = 'image0123456789abcdef0123456789ab';
/** Where Arkose shows its tile game; the tests serve the fixture game there. */
const ARKOSE_GAME = 'https://client-api.arkoselabs.com/fc/assets/ec-game-core/game-core/1.28.0/standard/index.html';

let browser: ChromiumSession;
let fixtures: FixtureServer;
let solver: MockSolver;
let probe: BackgroundProbe;
/** Per test: what the mock answers for each image task. */
let answer: (task: Record<string, unknown>, index: number) => Record<string, unknown>;

type PageWindow = {
  __code: string;
  __result?: string;
  __events: string[];
  __imageSize: { width: number; height: number };
  __pngBytes?: number;
};
type GameWindow = { __rounds: number[]; __instructions: string[]; __clicks: { round: number; index: number }[]; __complete: boolean; __round: number };

/** A second origin: the text captcha page, and images with and without CORS; counts requests. */
let other: { origin: string; hits: Map<string, number>; close(): Promise<void> };

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
/** A noisy RGB PNG, so it is a real picture of a realistic size. */
function png(width: number, height: number): Buffer {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let i = 0; i < raw.length; i++) raw[i] = i % (width * 3 + 1) === 0 ? 0 : (i * 7919) % 251;
  const chunk = (type: string, data: Buffer): Buffer => {
    const body = Buffer.concat([Buffer.from(type), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), body.length + 4);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', header), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

async function startOtherOrigin(): Promise<typeof other> {
  const hits = new Map<string, number>();
  const image = png(180, 60);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    hits.set(url.pathname, (hits.get(url.pathname) ?? 0) + 1);
    if (url.pathname === '/text-captcha.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(fs.readFileSync(path.resolve('test/fixtures/image/text-captcha.html')));
      return;
    }
    const cors: Record<string, string> = url.pathname === '/cors.png' && req.headers.origin ? { 'access-control-allow-origin': req.headers.origin, 'access-control-allow-credentials': 'true' } : {};
    res.writeHead(200, { 'content-type': 'image/png', 'cache-control': 'no-store', ...cors });
    res.end(image);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

beforeAll(async () => {
  [browser, fixtures, other] = await Promise.all([launchChromium(), startFixtureServer(), startOtherOrigin()]);
  const game = fs.readFileSync(path.resolve('test/fixtures/image/funcaptcha-game.html'));
  await browser.context.route(`${ARKOSE_GAME}**`, (route) => route.fulfill({ status: 200, contentType: 'text/html', body: game }));
  probe = await BackgroundProbe.install(() => browser.worker());
});

beforeEach(async () => {
  await solver?.stop();
  let created = 0;
  solver = await new MockSolver({
    apiKey: API_KEY,
    solveAfterMs: 300,
    solution: (task) => answer(task, created++),
  }).start();
  await browser.configure(solver.url, API_KEY);
});

afterAll(async () => {
  await Promise.all([browser?.close(), fixtures?.close(), solver?.stop(), other?.close()]);
});

/** Width and height from a PNG's IHDR or a JPEG's SOF marker. */
function imageSize(base64: string): { type: string; width: number; height: number } {
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.subarray(1, 4).toString() === 'PNG') return { type: 'png', width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
  if (bytes[0] === 0xff && bytes[1] === 0xd8) {
    for (let i = 2; i < bytes.length;) {
      const marker = bytes[i + 1]!;
      if (marker >= 0xc0 && marker <= 0xc2) return { type: 'jpeg', width: bytes.readUInt16BE(i + 7), height: bytes.readUInt16BE(i + 5) };
      i += 2 + bytes.readUInt16BE(i + 2);
    }
  }
  throw new Error('not a PNG or JPEG');
}

async function openText(query = '', origin = `${fixtures.origin}/image`): Promise<{ page: Page; tabId: number; code: string }> {
  const page = await browser.context.newPage();
  await page.goto(`${origin}/text-captcha.html${query}`);
  await page.waitForFunction(() => (document.getElementById('captcha-image') as HTMLImageElement).complete && (document.getElementById('captcha-image') as HTMLImageElement).naturalWidth > 0);
  const code = await page.evaluate(() => (window as unknown as PageWindow).__code);
  return { page, tabId: await browser.tabIdOf(page), code };
}

async function popupAction(tabId: number, name: RegExp): Promise<Page> {
  const popup = await browser.openPopup(tabId);
  const button = popup.getByRole('button', { name });
  await expect.poll(() => button.isEnabled()).toBe(true);
  await button.click();
  return popup;
}

async function submitted(page: Page): Promise<string | undefined> {
  await page.click('#submit');
  return page.evaluate(() => (window as unknown as PageWindow).__result);
}

describe('Chromium: image captchas', () => {
  it('text image: picked with the keyboard from the popup, answer typed into the chosen field, then one click next time', async () => {
    answer = (task) => {
      expect(task.type).toBe('ImageToTextTask');
      return { text: code };
    };
    const { page, tabId, code } = await openText();
    const popup = await popupAction(tabId, /^Pick an image captcha/);

    // The picker: the logo first, the captcha second; then the field after the image comes first.
    await page.bringToFront();
    await page.waitForSelector('caprelay-picker[data-pick="image"]', { state: 'attached' });
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Enter');
    await page.waitForSelector('caprelay-picker[data-pick="field"]', { state: 'attached' });
    // Keys the picker uses never reach the page.
    expect(await page.evaluate(() => (window as unknown as PageWindow).__events)).toEqual([]);
    await page.keyboard.press('Enter');
    await page.waitForSelector('caprelay-picker', { state: 'detached' });

    const [create] = await solver.waitFor('createTask');
    const task = create!.body.task as Record<string, unknown>;
    expect(Object.keys(task).sort()).toEqual(['body', 'type']);
    expect(task.body).not.toMatch(/^data:/);
    const size = imageSize(task.body as string);
    expect(size).toEqual({ type: 'png', ...(await page.evaluate(() => (window as unknown as PageWindow).__imageSize)) });

    await expect.poll(() => page.inputValue('#captcha-answer'), { timeout: 45_000 }).toBe(code);
    expect(await page.inputValue('#username')).toBe('');
    const events = await page.evaluate(() => (window as unknown as PageWindow).__events);
    expect(events).toEqual([`input:${code}`, `change:${code}`]);
    expect(await submitted(page)).toBe('correct');

    // The popup lists it like a token task, and the history keeps it.
    await expect.poll(() => popup.getByTestId('task').first().getAttribute('data-state')).toBe('delivered');
    expect(await popup.getByTestId('task').first().textContent()).toContain('Image captcha (text)');
    await popup.getByRole('tab', { name: 'History' }).click();
    await expect.poll(() => popup.getByTestId('history-entry').first().textContent()).toContain('Image captcha (text)');
    await popup.close();

    // Next visit: the site's pair is remembered, so the action needs no picking at all.
    await page.reload();
    await page.waitForFunction(() => (document.getElementById('captcha-image') as HTMLImageElement).naturalWidth > 0);
    const next = await page.evaluate(() => (window as unknown as PageWindow).__code);
    answer = () => ({ text: next });
    const again = await popupAction(await browser.tabIdOf(page), /^Pick an image captcha/);
    await expect.poll(() => page.inputValue('#captcha-answer'), { timeout: 45_000 }).toBe(next);
    expect(await page.locator('caprelay-picker').count()).toBe(0);
    expect(await submitted(page)).toBe('correct');
    expect(solver.calls('createTask')).toHaveLength(2);
    expect(solver.violations).toEqual([]);
    await again.close();
    await page.close();
  });

  it('Escape cancels the picker: no task, nothing typed', async () => {
    const { page, tabId } = await openText();
    // A fresh page of the same site would be solved from the remembered pair; clear it.
    const popup = await browser.openPopup(tabId);
    await popup.evaluate(() => chrome.storage.local.remove('imagePairs'));
    await popup.getByRole('button', { name: /^Pick an image captcha/ }).click();
    await page.bringToFront();
    await page.waitForSelector('caprelay-picker[data-pick="image"]', { state: 'attached' });
    await page.keyboard.press('Escape');
    await page.waitForSelector('caprelay-picker', { state: 'detached' });
    // The frame told the background the pick was cancelled, and the background is done with it.
    await expect.poll(async () => (await probe.receivedOfType('image-end', tabId)).map((m) => (m.message as { reason?: string }).reason)).toContain('cancelled');
    await probe.idle();
    expect(solver.calls('createTask')).toHaveLength(0);
    expect(await page.inputValue('#captcha-answer')).toBe('');
    await popup.close();
    await page.close();
  });

  it('image context menu: the right-clicked image is solved, its field confirmed with Enter, then remembered', async () => {
    answer = () => ({ text: code });
    const { page, tabId, code } = await openText();
    const popup = await browser.openPopup(tabId);
    await popup.evaluate(() => chrome.storage.local.remove('imagePairs'));
    await popup.close();
    // Headless Chromium shows no context menu: run the menu's own click handler, with what the
    // browser would pass for a right-click on the captcha image.
    const srcUrl = await page.evaluate(() => (document.getElementById('captcha-image') as HTMLImageElement).currentSrc);
    const worker = await browser.worker();
    await worker.evaluate(
      ([tabId, srcUrl, pageUrl]) => {
        const onClicked = chrome.contextMenus.onClicked as unknown as { dispatch(info: object, tab: object): void };
        onClicked.dispatch({ menuItemId: 'caprelay-solve-image', mediaType: 'image', srcUrl, pageUrl, frameId: 0, editable: false }, { id: tabId });
      },
      [tabId, srcUrl, page.url()] as const,
    );
    // The image is known; the field picker starts at the field after it.
    await page.bringToFront();
    await page.waitForSelector('caprelay-picker[data-pick="field"]', { state: 'attached' });
    await page.keyboard.press('Enter');
    await expect.poll(() => page.inputValue('#captcha-answer'), { timeout: 45_000 }).toBe(code);
    expect(await submitted(page)).toBe('correct');
    expect(solver.calls('createTask')).toHaveLength(1);

    // The same menu on the next visit: no picking at all.
    await page.reload();
    await page.waitForFunction(() => (document.getElementById('captcha-image') as HTMLImageElement).naturalWidth > 0);
    const next = await page.evaluate(() => (window as unknown as PageWindow).__code);
    answer = () => ({ text: next });
    const nextSrc = await page.evaluate(() => (document.getElementById('captcha-image') as HTMLImageElement).currentSrc);
    await (
      await browser.worker()
    ).evaluate(
      ([tabId, srcUrl]) => {
        const onClicked = chrome.contextMenus.onClicked as unknown as { dispatch(info: object, tab: object): void };
        onClicked.dispatch({ menuItemId: 'caprelay-solve-image', mediaType: 'image', srcUrl, frameId: 0, editable: false }, { id: tabId });
      },
      [tabId, nextSrc] as const,
    );
    await expect.poll(() => page.inputValue('#captcha-answer'), { timeout: 45_000 }).toBe(next);
    expect(await page.locator('caprelay-picker').count()).toBe(0);
    expect(solver.calls('createTask')).toHaveLength(2);
    expect(solver.violations).toEqual([]);
    await page.close();
  });

  it('image context menu on a site the user blocked: no task, and the popup says why', async () => {
    const { page, tabId } = await openText();
    const popup = await browser.openPopup(tabId);
    await popup.evaluate(
      async ([url, key]) => {
        await chrome.storage.local.remove('imagePairs');
        await chrome.storage.local.set({ settings: { version: 2, service: 'custom', customUrl: url, blockedSites: ['127.0.0.1'] }, apiKey: key });
      },
      [solver.url, API_KEY] as const,
    );
    const srcUrl = await page.evaluate(() => (document.getElementById('captcha-image') as HTMLImageElement).currentSrc);
    await (
      await browser.worker()
    ).evaluate(
      ([tabId, srcUrl]) => {
        const onClicked = chrome.contextMenus.onClicked as unknown as { dispatch(info: object, tab: object): void };
        onClicked.dispatch({ menuItemId: 'caprelay-solve-image', mediaType: 'image', srcUrl, frameId: 0, editable: false }, { id: tabId });
      },
      [tabId, srcUrl] as const,
    );
    await page.bringToFront();
    await page.waitForSelector('caprelay-picker[data-pick="field"]', { state: 'attached' });
    await page.keyboard.press('Enter');
    await popup.getByRole('tab', { name: 'This page' }).click();
    await expect.poll(() => popup.getByTestId('task').first().textContent()).toContain('SITE_NOT_ALLOWED');
    expect(solver.calls('createTask')).toHaveLength(0);
    expect(await page.inputValue('#captcha-answer')).toBe('');
    await browser.configure(solver.url, API_KEY);
    await Promise.all([popup.close(), page.close()]);
  });

  it('an image whose PNG is over the service limit is sent recompressed under 50 KB', async () => {
    answer = () => ({ text: code });
    const { page, tabId, code } = await openText('?big=1');
    expect(await page.evaluate(() => (window as unknown as PageWindow).__pngBytes)).toBeGreaterThan(IMAGE_LIMITS.max);
    const popup = await browser.openPopup(tabId);
    await popup.evaluate(() => chrome.storage.local.remove('imagePairs'));
    await popup.getByRole('button', { name: /^Pick an image captcha/ }).click();
    await page.bringToFront();
    await page.waitForSelector('caprelay-picker[data-pick="image"]', { state: 'attached' });
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Enter');
    await page.waitForSelector('caprelay-picker[data-pick="field"]', { state: 'attached' });
    await page.keyboard.press('Enter');
    const [create] = await solver.waitFor('createTask');
    const body = (create!.body.task as { body: string }).body;
    const bytes = Buffer.from(body, 'base64').length;
    expect(bytes).toBeLessThanOrEqual(IMAGE_LIMITS.max);
    expect(bytes).toBeGreaterThanOrEqual(IMAGE_LIMITS.min);
    const size = imageSize(body);
    expect(size.type).toBe('jpeg');
    // Same picture, maybe smaller: the aspect ratio holds.
    expect(Math.abs(size.width / size.height - 3)).toBeLessThan(0.02);
    await expect.poll(() => page.inputValue('#captcha-answer'), { timeout: 45_000 }).toBe(code);
    expect(solver.violations).toEqual([]);
    await popup.close();
    await page.close();
  });

  /** Popup action, then the captcha image (second picture) and the field after it, by keyboard. */
  async function pickByKeyboard(page: Page, tabId: number): Promise<Page> {
    const popup = await browser.openPopup(tabId);
    await popup.evaluate(() => chrome.storage.local.remove('imagePairs'));
    await popup.getByRole('button', { name: /^Pick an image captcha/ }).click();
    await page.bringToFront();
    await page.waitForSelector('caprelay-picker[data-pick="image"]', { state: 'attached' });
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.waitForSelector('caprelay-picker[data-pick="field"]', { state: 'attached' });
    await page.keyboard.press('Enter');
    return popup;
  }

  it('an image the page loaded is read from the page, not requested again', async () => {
    answer = () => ({ text: code });
    const { page, tabId, code } = await openText('?src=/plain.png', other.origin);
    const popup = await pickByKeyboard(page, tabId);
    await expect.poll(() => page.inputValue('#captcha-answer'), { timeout: 45_000 }).toBe(code);
    const [create] = solver.calls('createTask');
    expect(imageSize((create!.body.task as { body: string }).body)).toMatchObject({ type: 'png', width: 180, height: 60 });
    expect(other.hits.get('/plain.png')).toBe(1);
    await popup.close();
    await page.close();
  });

  it('a cross-origin image (tainted canvas) is fetched once more, with CORS; without CORS the request fails visibly', async () => {
    answer = () => ({ text: code });
    const before = other.hits.get('/cors.png') ?? 0;
    const { page, tabId, code } = await openText(`?src=${encodeURIComponent(`${other.origin}/cors.png`)}`);
    const popup = await pickByKeyboard(page, tabId);
    await expect.poll(() => page.inputValue('#captcha-answer'), { timeout: 45_000 }).toBe(code);
    const [create] = solver.calls('createTask');
    expect(imageSize((create!.body.task as { body: string }).body)).toMatchObject({ width: 180, height: 60 });
    // Once by the page, once by the fallback.
    expect((other.hits.get('/cors.png') ?? 0) - before).toBe(2);
    await popup.close();
    await page.close();

    const blocked = await openText(`?src=${encodeURIComponent(`${other.origin}/plain.png`)}`);
    const popup2 = await pickByKeyboard(blocked.page, blocked.tabId);
    await expect.poll(() => popup2.getByTestId('task').first().getAttribute('data-state')).toBe('failed');
    expect(await popup2.getByTestId('task').first().textContent()).toContain('IMAGE_UNREADABLE');
    expect(solver.calls('createTask')).toHaveLength(1);
    expect(await blocked.page.inputValue('#captcha-answer')).toBe('');
    await popup2.close();
    await blocked.page.close();
  });

  async function openChallenge(rounds: number): Promise<{ page: Page; tabId: number; game: () => Promise<GameWindow> }> {
    const page = await browser.context.newPage();
    await page.goto(`${fixtures.origin}/image/funcaptcha-challenge.html?rounds=${rounds}`);
    const frame = () => page.frames().find((f) => f.url().startsWith(ARKOSE_GAME));
    await expect.poll(() => frame()?.locator('#tiles a').count() ?? 0).toBe(6);
    const game = async (): Promise<GameWindow> =>
      frame()!.evaluate(() => {
        const w = window as unknown as GameWindow;
        return { __rounds: w.__rounds, __instructions: w.__instructions, __clicks: w.__clicks, __complete: w.__complete, __round: w.__round };
      });
    return { page, tabId: await browser.tabIdOf(page), game };
  }

  it('FunCaptcha image challenge: one ComplexImageTask per round, the marked tile clicked, until it completes', async () => {
    const { page, tabId, game } = await openChallenge(3);
    const { __rounds: correct, __instructions: instructions } = await game();
    answer = (task, index) => {
      expect((task.metadata as { Task: string }).Task).toBe(instructions[index]);
      return { answer: [0, 1, 2, 3, 4, 5].map((i) => i === correct[index]) };
    };
    const popup = await popupAction(tabId, /^Solve FunCaptcha image challenge/);
    await page.waitForFunction(() => (window as unknown as { __verified: boolean }).__verified, null, { timeout: 45_000 });

    const state = await game();
    expect(state.__complete).toBe(true);
    expect(state.__clicks).toEqual(correct.map((index, round) => ({ round, index })));
    const creates = solver.calls('createTask');
    expect(creates).toHaveLength(3);
    for (const [i, call] of creates.entries()) {
      const task = call.body.task as Record<string, unknown>;
      expect(task).toMatchObject({ type: 'ComplexImageTask', class: 'funcaptcha', metadata: { Task: instructions[i] } });
      expect(task.userAgent).toMatch(/Chrome/);
      expect(task.websiteURL).toContain(ARKOSE_GAME);
      // One image: the six tiles as 3 × 2, at the tiles' size.
      const images = task.imagesBase64 as string[];
      expect(images).toHaveLength(1);
      expect(imageSize(images[0]!)).toMatchObject({ width: 300, height: 200 });
    }
    // Polled on the image schedule: first after 1 s, never closer than 2 s apart.
    for (const polls of solver.pollsByTask().values()) {
      for (let i = 1; i < polls.length; i++) expect(polls[i]! - polls[i - 1]!).toBeGreaterThanOrEqual(1_950);
    }
    await expect.poll(() => popup.getByTestId('task').count()).toBe(3);
    const texts = await popup.getByTestId('task').allTextContents();
    for (const round of [1, 2, 3]) expect(texts.some((text) => text.includes(`FunCaptcha image challenge (round ${round} of 5)`))).toBe(true);
    await expect.poll(async () => (await popup.getByTestId('task').evaluateAll((els) => els.map((el) => el.getAttribute('data-state')))).every((s) => s === 'delivered')).toBe(true);
    expect(solver.violations).toEqual([]);
    await popup.close();
    await page.close();
  });

  it('FunCaptcha image challenge: the background stops at the round limit, whatever the frame asks', async () => {
    const popup = await browser.openPopup(-1);
    await popup.evaluate(async () => {
      const { settings } = await chrome.storage.local.get('settings');
      await chrome.storage.local.set({ settings: { ...(settings as object), image: { maxRounds: 2 } } });
    });
    await popup.close();
    const { page, tabId, game } = await openChallenge(4);
    const { __rounds: correct } = await game();
    answer = (_task, index) => ({ answer: [0, 1, 2, 3, 4, 5].map((i) => i === correct[index]) });
    const action = await popupAction(tabId, /^Solve FunCaptcha image challenge/);
    await expect.poll(async () => (await game()).__round, { timeout: 30_000 }).toBe(2);
    // The frame shows round 3 and reports it; once the background has dealt with that report, no third task was made.
    await expect.poll(async () => (await probe.receivedOfType('image-round', tabId)).length, { timeout: 30_000 }).toBe(3);
    await probe.idle();
    expect(solver.calls('createTask')).toHaveLength(2);
    const state = await game();
    expect(state.__complete).toBe(false);
    expect(state.__clicks).toEqual([0, 1].map((round) => ({ round, index: correct[round] })));
    // The popup says why it stopped.
    await expect.poll(() => action.getByTestId('task').filter({ hasText: 'ROUND_LIMIT' }).count()).toBe(1);
    expect(solver.violations).toEqual([]);
    await action.close();
    await page.close();
  });

  it('no challenge on the page: the popup does not offer to solve one, and nothing is spent', async () => {
    const { page, tabId } = await openText();
    const popup = await browser.openPopup(tabId);
    await expect.poll(() => popup.getByRole('button', { name: /^Pick an image captcha/ }).isEnabled()).toBe(true);
    expect(await popup.getByRole('button', { name: /^Solve FunCaptcha image challenge/ }).count()).toBe(0);
    // Asked all the same (as a stale popup might): the background finds no challenge frame.
    const reply = await popup.evaluate((id) => chrome.runtime.sendMessage({ type: 'image-challenge', tabId: id }), tabId);
    expect(reply).toMatchObject({ ok: false, error: { code: 'CHALLENGE_NOT_FOUND' } });
    expect(solver.calls('createTask')).toHaveLength(0);
    await popup.close();
    await page.close();
  });
});
