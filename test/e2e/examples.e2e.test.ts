/**
 * The README's automation examples run as written, against the demo's sandbox service and demo
 * site on 127.0.0.1: Playwright set up by caprelay.json (the script only watches the page),
 * Puppeteer driving the control API in Chromium (the worker target) and in Firefox (the
 * control page).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CAPRELAY_ID as PLAYWRIGHT_ID, runPlaywright } from '../../examples/playwright';
import { CAPRELAY_GECKO_ID, CAPRELAY_ID as PUPPETEER_ID, runPuppeteer } from '../../examples/puppeteer';
import { startDemo, type DemoServices } from '../../examples/demo-services';
import { CHROME_EXTENSION_DIR, CHROMIUM_PATH } from '../support/chromium';
import { FIREFOX_EXTENSION_DIR, FIREFOX_PATH } from '../support/firefox';
import { CHROME_EXTENSION_ID, GECKO_ID } from '../../vite.config';

let demo: DemoServices;
const lines: string[] = [];

beforeAll(async () => {
  demo = await startDemo(500);
});

afterAll(async () => {
  await demo?.stop();
});

const pageUrl = (): string => `${demo.siteOrigin}/recaptcha-v2-checkbox.html`;

/** The token the page holds is the one the sandbox made for the task CapRelay reports. */
function expectSolved(result: { pageToken: string; task: { state: string; serviceTaskId?: number | string } }): void {
  expect(result.task.state).toBe('delivered');
  expect(result.pageToken).toBe(demo.sandbox.solver.tokenFor(Number(result.task.serviceTaskId)));
  expect(demo.sandbox.solver.violations).toEqual([]);
}

describe('examples/', () => {
  it('name the extension by the ids the build has', () => {
    expect([PLAYWRIGHT_ID, PUPPETEER_ID]).toEqual([CHROME_EXTENSION_ID, CHROME_EXTENSION_ID]);
    expect(CAPRELAY_GECKO_ID).toBe(GECKO_ID);
  });

  it('playwright.ts: set up by caprelay.json, the demo page is solved and the page signal says so', async () => {
    const result = await runPlaywright({
      extensionDir: CHROME_EXTENSION_DIR,
      serviceUrl: demo.serviceUrl,
      apiKey: demo.apiKey,
      pageUrl: pageUrl(),
      headless: true,
      chromiumPath: CHROMIUM_PATH,
      log: (line) => lines.push(line),
    });
    expectSolved(result);
    expect(lines.join('\n')).toContain('set up from caprelay.json');
  });

  it('puppeteer.ts in Chromium: configured, solved and waited for through the worker target', async () => {
    const result = await runPuppeteer({
      browser: 'chrome',
      extensionDir: CHROME_EXTENSION_DIR,
      executablePath: CHROMIUM_PATH,
      serviceUrl: demo.serviceUrl,
      apiKey: demo.apiKey,
      pageUrl: pageUrl(),
      headless: true,
      log: (line) => lines.push(line),
    });
    expectSolved(result);
  });

  it('puppeteer.ts in Firefox: configured, solved and waited for through the control page', async () => {
    const result = await runPuppeteer({
      browser: 'firefox',
      extensionDir: FIREFOX_EXTENSION_DIR,
      executablePath: FIREFOX_PATH,
      serviceUrl: demo.serviceUrl,
      apiKey: demo.apiKey,
      pageUrl: pageUrl(),
      headless: true,
      log: (line) => lines.push(line),
    });
    expectSolved(result);
  });
});
