/** Turns a detected captcha (or an image the user picked) into the createTask `task`, and a ready solution into what the page gets. */
import type { TaskCaptcha } from '../shared/captcha';
import type { PayloadOptions } from './families/common';
import { familyFor } from './families';

export type { PayloadOptions };

export function buildTask(captcha: TaskCaptcha, websiteURL: string, options: PayloadOptions): Record<string, unknown> {
  return familyFor(captcha).task(captcha, websiteURL, options);
}

/** What goes into the page from a ready solution, per family; null when it has nothing usable. */
export function tokenOf(captcha: TaskCaptcha, solution: Record<string, unknown>): string | null {
  return familyFor(captcha).delivery(captcha, solution);
}
