/**
 * Who may start a task (src/background/solving.ts), with the real engine, registry and spend
 * log over memory storage: one gesture is bounded by what is listed now and by the spending
 * limits and is confirmed past 3; every task counts, whatever started it; the site lists hold
 * for every frame of a tab, decided by the top page.
 */
import { describe, expect, it } from 'vitest';
import type { Captcha } from '../../src/shared/captcha';
import { CONFIRM_ABOVE } from '../../src/shared/messages';
import { DEFAULT_SETTINGS } from '../../src/shared/settings';
import { recaptcha } from './support/fake-service';
import { TOP, world } from './support/solving-world';

const widgets = (prefix: string, n: number): Captcha[] => Array.from({ length: n }, (_, i) => recaptcha(`${prefix}-${i}`));

describe('one gesture, a bounded and visible spend', () => {
  it('Solve all starts only what is listed now: frames that left the page are not paid for', async () => {
    const w = world();
    await w.report(1, 0, widgets('top', 1));
    for (let f = 1; f <= 6; f++) await w.report(1, f, widgets(`gone${f}`, 15));
    for (let f = 1; f <= 6; f++) w.live.delete(`1/${f}`);
    const reply = await w.solving.solveMany(1, undefined, undefined);
    await w.settle();
    expect(reply).toEqual({ started: 1, errors: [] });
    expect(w.created).toHaveLength(1);
  });

  it(`asks before more than ${CONFIRM_ABOVE}, and goes ahead only for the count confirmed`, async () => {
    const w = world();
    await w.report(1, 0, widgets('w', 5));
    expect(await w.solving.solveMany(1, undefined, undefined)).toEqual({ started: 0, errors: [], confirm: 5 });
    expect(await w.solving.solveMany(1, undefined, 4)).toEqual({ started: 0, errors: [], confirm: 5 });
    expect(w.created).toHaveLength(0);
    expect((await w.solving.solveMany(1, undefined, 5)).started).toBe(5);
    await w.settle();
    expect(w.created).toHaveLength(5);
    // Exactly the bound needs no question.
    const small = world();
    await small.report(1, 0, widgets('w', CONFIRM_ABOVE));
    expect((await small.solving.solveMany(1, undefined, undefined)).started).toBe(CONFIRM_ABOVE);
  });

  it('never starts more than the spending limits have left, counts every task, and a single click may still go past', async () => {
    const w = world({ maxTasksPerHour: 4, maxTasksPerDay: 100 });
    await w.report(1, 0, widgets('w', 3));
    await w.report(2, 0, widgets('v', 6));
    expect((await w.solving.solveMany(1, undefined, undefined)).started).toBe(3);
    // One left this hour: Solve all on six starts one and says why not the rest.
    const reply = await w.solving.solveMany(2, undefined, undefined);
    expect(reply.started).toBe(1);
    expect(reply.errors.map((e) => e.code)).toEqual(['SPENDING_LIMIT']);
    expect((await w.spend.status(w.settings, Date.UTC(2026, 11, 1, 12))).paused).toBe(true);
    const limited = await w.solving.solveMany(2, undefined, undefined);
    expect(limited).toEqual({ started: 0, errors: [expect.objectContaining({ code: 'SPENDING_LIMIT' })] });
    // A click on one captcha is the user's own decision.
    const listed = (await w.solving.tabState(2)).captchas.find((c) => c.captcha.id === 'v-5')!;
    expect((await w.solving.solveOne(2, listed.frameId, listed.captcha.id)).ok).toBe(true);
    await w.settle();
    expect(w.created).toHaveLength(5);
    // Every one of them counted, the click too.
    expect((await w.spend.status(w.settings, Date.UTC(2026, 11, 1, 12))).paused).toEqual(true);
    expect(await w.spend.remaining(w.settings, Date.UTC(2026, 11, 1, 12))).toBe(0);
  });

  it('auto-solve counts against the guard with everything else, and pauses at it', async () => {
    const w = world({ maxTasksPerHour: 3, families: { ...DEFAULT_SETTINGS.families, recaptchaV2: { enabled: true, mode: 'auto' } } });
    await w.report(1, 0, widgets('click', 2));
    await w.settle();
    // Auto-solve took both; one more is left, and a third widget takes it.
    expect(w.created).toHaveLength(2);
    await w.report(1, 1, widgets('late', 3));
    await w.settle();
    expect(w.created).toHaveLength(3);
    // Reporting the same widgets again starts nothing more.
    await w.report(1, 0, widgets('click', 2));
    await w.settle();
    expect(w.created).toHaveLength(3);
  });

  it('the shortcut and the page menu ask in the popup past the bound; the menu solves the frame it was opened on', async () => {
    const w = world();
    await w.report(1, 0, widgets('top', 1));
    await w.report(1, 3, widgets('frame', 2));
    await w.report(1, 4, widgets('other', 5));
    await w.solving.gesture(1, 3);
    await w.settle();
    expect(w.created).toHaveLength(2);
    expect(w.popups).toEqual([]);
    // The whole tab is 6 more: nothing starts until the user says yes in the popup.
    await w.solving.gesture(1);
    await w.settle();
    expect(w.created).toHaveLength(2);
    expect(w.popups).toEqual([1]);
    const state = await w.solving.tabState(1);
    expect(state.pending).toMatchObject({ count: 6 });
    expect((await w.solving.solveMany(1, state.pending!.frameId, state.pending!.count)).started).toBe(6);
    expect((await w.solving.tabState(1)).pending).toBeUndefined();
    // Declined: the question goes away and nothing is started.
    await w.report(1, 5, widgets('more', 4));
    await w.solving.gesture(1, 5);
    expect((await w.solving.tabState(1)).pending).toMatchObject({ count: 4, frameId: 5 });
    await w.solving.dismiss(1);
    expect((await w.solving.tabState(1)).pending).toBeUndefined();
    await w.settle();
    expect(w.created).toHaveLength(8);
  });
});

describe('site lists hold for the whole tab', () => {
  const blocked = { blockedSites: ['shop.example'] };

  it('a frame from another site on a blocked page is not listed, not auto-solved, gets no button', async () => {
    const w = world({ ...blocked, inPageButton: true, families: { ...DEFAULT_SETTINGS.families, recaptchaV2: { enabled: true, mode: 'auto' } } });
    await w.report(1, 0, []);
    const reply = await w.report(1, 2, widgets('ad', 1), 'https://elsewhere.example/widget');
    await w.settle();
    expect(reply).toEqual({ inPageButton: false, declined: ['ad-0'] });
    expect(w.created).toHaveLength(0);
    const state = await w.solving.tabState(1);
    expect(state.siteAllowed).toBe(false);
    expect(state.captchas).toEqual([]);
    expect(state.hiddenCount).toBe(1);
    expect((await w.solving.solveMany(1, undefined, undefined)).started).toBe(0);
    expect((await w.solving.solveOne(1, 2, 'ad-0')).ok).toBe(false);
  });

  it('the top page decides even when a frame reports first, and a blocked frame stays blocked on an allowed page', async () => {
    const w = world({ blockedSites: ['ads.example'] });
    await w.report(3, 4, widgets('ad', 1), 'https://ads.example/frame', 'https://news.example/');
    await w.report(3, 5, widgets('login', 1), 'https://auth.example/frame', 'https://news.example/');
    const state = await w.solving.tabState(3);
    expect(state.siteAllowed).toBe(true);
    expect(state.captchas.map((c) => c.captcha.id)).toEqual(['login-0']);
  });

  it('"only on these sites" names the page the user visits: its frames from other sites work there', async () => {
    const w = world({ siteMode: 'allowlist', allowedSites: ['shop.example'] });
    await w.report(1, 0, []);
    await w.report(1, 2, widgets('pay', 1), 'https://payments.example/frame');
    expect((await w.solving.tabState(1)).captchas.map((c) => c.captcha.id)).toEqual(['pay-0']);
    await w.report(2, 0, [], 'https://other.example/', 'https://other.example/');
    await w.report(2, 1, widgets('x', 1), 'https://shop.example/frame', 'https://other.example/');
    expect((await w.solving.tabState(2)).captchas).toEqual([]);
  });

  it('a frame with no web address (srcdoc with a foreign <base>) is never listed nor sent', async () => {
    const w = world({ families: { ...DEFAULT_SETTINGS.families, recaptchaV2: { enabled: true, mode: 'auto' } } });
    await w.report(1, 0, []);
    w.live.set('1/7', ['s-0']);
    await w.solving.onFrameReport({ tabId: 1, frameId: 7, url: 'about:srcdoc', topUrl: TOP }, null, widgets('s', 1));
    await w.settle();
    expect((await w.solving.tabState(1)).captchas).toEqual([]);
    expect(w.created).toHaveLength(0);
  });

  it('a top page that is no web page allows nothing in the tab', async () => {
    const w = world();
    await w.report(1, 3, widgets('x', 1), 'https://shop.example/frame', 'file:///home/user/saved.html');
    expect((await w.solving.tabState(1)).captchas).toEqual([]);
  });

  it('an image request from a frame of a blocked page fails with SITE_NOT_ALLOWED and sends nothing', async () => {
    const w = world(blocked);
    await w.report(1, 0, []);
    const reply = await w.solving.startImageTask({ tabId: 1, frameId: 2, websiteURL: 'https://elsewhere.example/', captcha: { family: 'image-text', id: 'img-1' }, image: 'A'.repeat(200) });
    expect(reply).toEqual({ ok: false, error: expect.objectContaining({ code: 'SITE_NOT_ALLOWED' }) });
    await w.settle();
    expect(w.created).toHaveLength(0);
    expect((await w.tasks()).map((t) => t.error?.code)).toEqual(['SITE_NOT_ALLOWED']);
  });
});

describe('the FunCaptcha image challenge goes to the real challenge', () => {
  const GAME = 'https://client-api.arkoselabs.com/fc/assets/ec-game-core/game-core/1.28.0/standard/index.html';

  it('only Arkose frames (or the Arkose host the site itself names) may take it; several: the user chooses', async () => {
    const w = world();
    await w.report(1, 0, []);
    // A cross-site ad with a look-alike tile game says it shows a challenge: not taken.
    await w.registry.setChallenge(1, 4, 'https://ads.example/ad.html');
    expect(await w.solving.challengeTarget(1, undefined)).toEqual({ error: expect.objectContaining({ code: 'CHALLENGE_NOT_FOUND' }) });
    expect(await w.solving.challengeTarget(1, 4)).toEqual({ error: expect.objectContaining({ code: 'CHALLENGE_NOT_FOUND' }) });
    expect((await w.solving.tabState(1)).challenges).toEqual([]);
    // The real one, in Arkose's frame.
    await w.registry.setChallenge(1, 6, GAME);
    expect(await w.solving.challengeTarget(1, undefined)).toEqual({ frameId: 6 });
    expect((await w.solving.tabState(1)).challenges).toEqual([{ frameId: 6, host: 'client-api.arkoselabs.com' }]);
    // A site serving Arkose from its own host, named by its FunCaptcha widget in the top page.
    await w.report(1, 0, [{ family: 'funcaptcha', id: 'fc-1', publicKey: '00000000-AAAA-BBBB-CCCC-000000000001', subdomain: 'arkose.shop.example' }]);
    await w.registry.setChallenge(1, 9, 'https://arkose.shop.example/fc/gc/?token=abc');
    expect(await w.solving.challengeTarget(1, undefined)).toEqual({ error: expect.objectContaining({ code: 'CHALLENGE_CHOOSE' }) });
    expect(await w.solving.challengeTarget(1, 9)).toEqual({ frameId: 9 });
    // The ad cannot name a host for itself: its widget is not in a frame of the top page's origin.
    await w.report(1, 4, [{ family: 'funcaptcha', id: 'fc-2', publicKey: '00000000-AAAA-BBBB-CCCC-000000000002', subdomain: 'ads.example' }], 'https://ads.example/ad.html');
    expect(await w.solving.challengeTarget(1, 4)).toEqual({ error: expect.objectContaining({ code: 'CHALLENGE_NOT_FOUND' }) });
    // Gone from the page: no longer offered.
    await w.registry.setChallenge(1, 6, null);
    await w.registry.setChallenge(1, 9, null);
    expect((await w.solving.tabState(1)).challenges).toEqual([]);
  });

  it('not on a blocked page', async () => {
    const w = world({ blockedSites: ['shop.example'] });
    await w.report(1, 0, []);
    await w.registry.setChallenge(1, 6, GAME);
    expect(await w.solving.challengeTarget(1, 6)).toEqual({ error: expect.objectContaining({ code: 'CHALLENGE_NOT_FOUND' }) });
  });
});
