/**
 * GeeTest tasks (GeeTestTask, version 3 or 4) and what a site submits from the solution: v3's
 * challenge / validate / seccode (the challenge the service returns, which may differ from the
 * one sent), v4's five fields. They travel to the page as one JSON object.
 */
import type { GeeTestCaptcha } from '../../shared/captcha';
import { boundedString, proxied, SHORTEST_INTERVAL_MS, type BackgroundFamily } from './common';

const FIELDS = { 3: ['challenge', 'validate', 'seccode'], 4: ['captcha_id', 'lot_number', 'pass_token', 'gen_time', 'captcha_output'] } as const;

export const geetest: BackgroundFamily<GeeTestCaptcha> = {
  family: 'geetest',
  task(captcha, websiteURL, options) {
    const task: Record<string, unknown> = { type: 'GeeTestTask', websiteURL, gt: captcha.gt, version: captcha.version };
    if (captcha.challenge) task.challenge = captcha.challenge;
    if (captcha.apiServer) task.geetestApiServerSubdomain = captcha.apiServer;
    if (captcha.riskType) task.initParameters = { riskType: captcha.riskType };
    return proxied(task, options);
  },
  delivery(captcha, solution) {
    const values: Record<string, string> = {};
    for (const field of FIELDS[captcha.version]) {
      const value = boundedString(solution[field], 2_000);
      if (value === null) return null;
      values[field] = value;
    }
    return JSON.stringify(values);
  },
  schedule: { firstPollMs: 3_000, intervalMs: SHORTEST_INTERVAL_MS, deadlineMs: 90_000, maxPolls: 45 },
  // A v3 challenge is single-use: a second task with the same one would be billed and fail.
  recreatable: (captcha) => captcha.version !== 3,
  takesProxy: () => true,
};
