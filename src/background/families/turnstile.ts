/**
 * Cloudflare Turnstile tasks (TurnstileTask) and tokens. The challenge page's task is the
 * "token" variant: pageAction, data and pageData as its render call had them, and the user
 * agent, which the service requires there. Tokens are valid 300 s and used once.
 */
import type { TurnstileCaptcha } from '../../shared/captcha';
import { boundedString, proxied, SHORTEST_INTERVAL_MS, type BackgroundFamily } from './common';

export const turnstile: BackgroundFamily<TurnstileCaptcha> = {
  family: 'turnstile',
  task(captcha, websiteURL, options) {
    const task: Record<string, unknown> = { type: 'TurnstileTask', websiteURL, websiteKey: captcha.siteKey };
    if (captcha.pageData) task.cloudflareTaskType = 'token';
    if (captcha.action) task.pageAction = captcha.action;
    if (captcha.cData) task.data = captcha.cData;
    if (captcha.pageData) task.pageData = captcha.pageData;
    if (options.userAgent) task.userAgent = options.userAgent;
    return proxied(task, options);
  },
  // Cloudflare's tokens are at most 2,048 characters.
  delivery: (_captcha, solution) => boundedString(solution.token, 2_048),
  // Solved in 5–20 s by the service's account: a first look at 3 s, then as often as allowed.
  schedule: { firstPollMs: 3_000, intervalMs: SHORTEST_INTERVAL_MS, deadlineMs: 90_000, maxPolls: 45 },
  // The plain widget only: the challenge page's token is for this browser on its own address,
  // and the cf_clearance variants (which need the browser's own proxy) are never offered.
  takesProxy: (captcha) => !captcha.pageData,
};
