/** axe-core accessibility checks of a page in Chromium (Playwright). */
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright';

const AXE_SOURCE = fs.readFileSync(path.resolve('node_modules/axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** Each axe violation on `page` as one line: rule, impact, help and the elements. */
export async function axeViolations(page: Page): Promise<string[]> {
  // Extension pages forbid inline scripts; evaluating through the DevTools protocol is allowed.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations;
  });
  return violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}
