/**
 * The order e2e files start in. Vitest starts the files that ran longest last time first, but a
 * clean clone (as CI runs) has no such record and starts the largest files first; with three at a
 * time, a long file that starts late then runs on alone at the end. These start first wherever
 * the run has no record, longest first (as measured on an idle 2-core machine); the rest follow in
 * Vitest's own order.
 */
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const LONGEST = ['faults', 'trust-boundaries', 'firefox-fixtures', 'fixtures', 'security', 'automation', 'image', 'firefox-automation', 'chromium-ui', 'chromium-engine'];

const rank = (spec: TestSpecification): number => {
  const at = LONGEST.findIndex((name) => spec.moduleId.endsWith(`/${name}.e2e.test.ts`));
  return at < 0 ? LONGEST.length : at;
};

export class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const ordered = await super.sort(files);
    // A stable sort within each group (unit files first, as Vitest ordered them).
    return ordered.sort((a, b) => a.project.config.sequence.groupOrder - b.project.config.sequence.groupOrder || rank(a) - rank(b));
  }
}
