/**
 * Where end-to-end tests save their screenshots. By default test-results/screenshots/ (ignored),
 * so a test run changes no tracked file; `npm run screenshots` sets CAPRELAY_SCREENSHOTS_DIR=docs
 * to refresh the README's pictures on purpose.
 */
import path from 'node:path';

const SCREENSHOTS_DIR = path.resolve(process.env.CAPRELAY_SCREENSHOTS_DIR ?? 'test-results/screenshots');

/** The path for screenshot `name` (e.g. popup.png); Playwright creates the folder. */
export function screenshotPath(name: string): string {
  return path.join(SCREENSHOTS_DIR, name);
}
