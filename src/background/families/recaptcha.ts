/** reCAPTCHA v2 / invisible / Enterprise / v3 tasks and tokens. */
import type { RecaptchaCaptcha } from '../../shared/captcha';
import { boundedString, proxied, type BackgroundFamily } from './common';

export const recaptcha: BackgroundFamily<RecaptchaCaptcha> = {
  family: 'recaptcha',
  task(captcha, websiteURL, options) {
    if (captcha.version === 'v3') {
      return {
        type: captcha.enterprise ? 'RecaptchaV3EnterpriseTask' : 'RecaptchaV3TaskProxyless',
        websiteURL,
        websiteKey: captcha.siteKey,
        minScore: options.v3MinScore,
        pageAction: captcha.action ?? 'verify',
      };
    }
    if (captcha.enterprise) {
      const task: Record<string, unknown> = { type: 'RecaptchaV2EnterpriseTask', websiteURL, websiteKey: captcha.siteKey };
      if (captcha.dataS) task.enterprisePayload = { s: captcha.dataS };
      if (captcha.apiDomain) task.apiDomain = captcha.apiDomain;
      if (captcha.action) task.pageAction = captcha.action;
      return proxied(task, options);
    }
    const task: Record<string, unknown> = { type: 'RecaptchaV2Task', websiteURL, websiteKey: captcha.siteKey };
    if (captcha.invisible) task.isInvisible = true;
    if (captcha.dataS) task.recaptchaDataSValue = captcha.dataS;
    return proxied(task, options);
  },
  delivery: (_captcha, solution) => boundedString(solution.gRecaptchaResponse),
  schedule: { firstPollMs: 2_000, intervalMs: 3_000, deadlineMs: 180_000, maxPolls: 60 },
  // v3 tasks are solved on the service's own proxies only.
  takesProxy: (captcha) => captcha.version !== 'v3',
};
