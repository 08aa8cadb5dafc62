// @vitest-environment-options {"url":"http://127.0.0.1/pages/","settings":{"disableJavaScriptFileLoading":true,"disableCSSFileLoading":true,"disableIframePageLoading":true,"navigation":{"disableChildFrameNavigation":true,"disableChildPageNavigation":true}}}
/**
 * Every fixture page's static markup (what the server sends, before any script runs) through
 * the content script's FrameAgent in happy-dom: it must report exactly the captchas the page's
 * expect block says the markup shows, and build the expected createTask task from them.
 * What only the page runtime or the probe can show is marked e2eOnly / static there and is
 * proven by test/e2e/fixtures.e2e.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { buildTask } from '../../src/background/task-payload';
import { FrameAgent } from '../../src/content/agent';
import type { FrameCaptchasMessage } from '../../src/shared/messages';
import { canonical, comparableTask, loadCorpus, readPage, sortCaptchas, staticExpectation, withoutId, type ExpectedCaptcha, type ExpectedCaptchaFields } from '../fixtures/corpus';
import { quietDisabledLoading } from '../fixtures/happy-dom';

const corpus = loadCorpus();
const SERVICE = { serviceUrl: 'http://127.0.0.1:9/', v3MinScore: 0.7 };

quietDisabledLoading();

/** Replaces the test document with the page's markup, as parsed (scripts never run). */
function loadMarkup(html: string): void {
  const parsed = new DOMParser().parseFromString(html, 'text/html');
  const imported = document.importNode(parsed.documentElement, true);
  document.documentElement.remove();
  document.appendChild(imported);
}

/** What the agent reports for a page's static markup (its first message to the background). */
function detectStatic(file: string): FrameCaptchasMessage['captchas'] {
  loadMarkup(readPage(file));
  const sent: FrameCaptchasMessage[] = [];
  const agent = new FrameAgent((message) => sent.push(message));
  agent.start();
  expect(sent.length).toBeGreaterThan(0);
  return sent.at(-1)!.captchas;
}

function expectedIn(captchas: ExpectedCaptcha[], frame: string | undefined): ExpectedCaptchaFields[] {
  return captchas
    .filter((c) => c.frame === frame)
    .map(staticExpectation)
    .filter((c): c is ExpectedCaptchaFields => c !== null);
}

describe('fixture corpus', () => {
  it('has at least 20 pages, each with an expect block', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(20);
    expect(corpus.every((f) => f.variant.length > 0)).toBe(true);
  });

  it.each(corpus.map((f) => [f.name, f] as const))('%s: static markup', (_name, fixture) => {
    const frames = [undefined, ...new Set(fixture.captchas.map((c) => c.frame).filter((f): f is string => Boolean(f)))];
    for (const frame of frames) {
      const detected = detectStatic(frame ?? fixture.name);
      expect(sortCaptchas(detected.map(withoutId)), `${frame ?? 'top frame'} of ${fixture.name}`).toEqual(sortCaptchas(expectedIn(fixture.captchas, frame)));
      // Ids are unique within the frame.
      expect(new Set(detected.map((c) => c.id)).size).toBe(detected.length);
      // Where the markup tells all, the task built from it is the expected one.
      for (const expected of fixture.captchas.filter((c) => c.frame === frame && !c.e2eOnly && !c.static)) {
        const match = detected.find((c) => canonical(withoutId(c)) === canonical(expected.captcha));
        expect(match, JSON.stringify(expected.captcha)).toBeDefined();
        const url = `http://127.0.0.1/pages/${frame ?? fixture.name}`;
        expect(comparableTask(buildTask(match!, url, SERVICE))).toEqual({ ...expected.task, websiteURL: url });
      }
    }
  });
});
