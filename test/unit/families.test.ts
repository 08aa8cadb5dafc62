/**
 * A captcha family is one module per context, each listed once: this checks that every token
 * family registered in src/shared/captcha.ts has every part, so adding one cannot forget any.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BACKGROUND_FAMILIES } from '../../src/background/families';
import { TOKEN_DELIVERY_WINDOW_MS } from '../../src/background/engine';
import { MIN_POLL_GAP_MS } from '../../src/background/families/common';
import { WidgetIds } from '../../src/content/detector';
import { CONTENT_FAMILIES } from '../../src/content/families';
import { FAMILY_MARKERS } from '../../src/shared/families/markers';
import { FAMILY_HOOKS } from '../../src/main-world/families/hooks';
import { FAMILY_TRAPS } from '../../src/main-world/families/traps';
import { TOKEN_FAMILIES } from '../../src/shared/captcha';
import { DEFAULT_SETTINGS, FAMILY_IDS, FAMILY_LABEL_KEYS } from '../../src/shared/settings';
import { DEMO_PAGES } from '../../demo/pages';
import { loadCorpus } from '../fixtures/corpus';

const locale = (lang: string): Record<string, { message: string }> => JSON.parse(fs.readFileSync(path.resolve(`public/_locales/${lang}/messages.json`), 'utf8')) as Record<string, { message: string }>;
const text = (file: string): string => fs.readFileSync(path.resolve(file), 'utf8');

const detectors = CONTENT_FAMILIES.map((create) => create(new WidgetIds('t')));
const hookNames = FAMILY_HOOKS.map(
  (create) =>
    create({
      channel: {} as never,
      emit: () => undefined,
    }).family,
);

describe.each(TOKEN_FAMILIES.map((f) => [f.family, f] as const))('the %s family', (family, shared) => {
  it('has a detector with a delivery, and a marker the probe looks for', () => {
    const detector = detectors.filter((d) => d.family === family);
    expect(detector).toHaveLength(1);
    expect(typeof detector[0]!.deliver).toBe('function');
    expect(FAMILY_MARKERS[family]).toBeInstanceOf(RegExp);
  });

  it('has its page-world traps and hooks', () => {
    expect(FAMILY_TRAPS.filter((t) => t.family === family)).toHaveLength(1);
    expect(hookNames.filter((name) => name === family)).toHaveLength(1);
  });

  it('has a task, a delivery and a poll schedule within the service’s rules', () => {
    const background = BACKGROUND_FAMILIES.filter((f) => f.family === family);
    expect(background).toHaveLength(1);
    const { schedule } = background[0]!;
    expect(schedule.intervalMs).toBeGreaterThanOrEqual(MIN_POLL_GAP_MS);
    expect(schedule.maxPolls).toBeLessThanOrEqual(120);
    expect(schedule.firstPollMs + (schedule.maxPolls - 1) * schedule.intervalMs).toBeGreaterThanOrEqual(schedule.deadlineMs * 0.9);
  });

  it('keeps its tokens longer than twice the window in which CapRelay still delivers one', () => {
    expect(shared.tokenLifetimeMs).toBeGreaterThanOrEqual(2 * TOKEN_DELIVERY_WINDOW_MS);
  });

  it('has its switches in the settings, named in English and Russian', () => {
    const en = locale('en');
    const ru = locale('ru');
    for (const setting of shared.settings) {
      expect(FAMILY_IDS).toContain(setting.id);
      expect(DEFAULT_SETTINGS.families[setting.id]).toEqual({ enabled: true, mode: 'click' });
      expect(FAMILY_LABEL_KEYS[setting.id]).toBe(setting.label);
      expect(en[setting.label]?.message, `${setting.label} in en`).toBeTruthy();
      expect(ru[setting.label]?.message, `${setting.label} in ru`).toBeTruthy();
    }
  });

  it('has fixture pages, a demo page, and its rows in docs/detection.md and the README', () => {
    const pages = loadCorpus().filter((fixture) => fixture.captchas.some((c) => c.captcha.family === family));
    expect(pages.length, 'fixture pages').toBeGreaterThan(0);
    const labels = pages.flatMap((fixture) => fixture.captchas.filter((c) => c.captcha.family === family).map((c) => shared.label({ ...c.captcha, id: 'x' } as never)));
    expect(
      DEMO_PAGES.some((page) => labels.includes(page.label)),
      `a demo page labelled one of ${labels.join(', ')}`,
    ).toBe(true);
    const detection = text('docs/detection.md');
    for (const fixture of pages) expect(detection, `docs/detection.md names ${fixture.name}`).toContain(`\`${fixture.name.replace(/\.html$/, '')}\``);
    // The README's table names variants as prose ("reCAPTCHA v2 invisible" for the label "reCAPTCHA v2 (invisible)").
    const plain = (s: string): string => s.replace(/[()]/g, '');
    const supported = plain(text('README.md').slice(text('README.md').indexOf('## Supported captchas')));
    for (const label of new Set(labels))
      expect(
        supported.split('\n').some((row) => row.startsWith(`| ${plain(label)}`)),
        `README's supported table has ${label}`,
      ).toBe(true);
  });
});
