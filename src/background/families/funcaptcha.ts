/** FunCaptcha (Arkose Labs) tasks and tokens. */
import type { FunCaptchaCaptcha } from '../../shared/captcha';
import { presetFor } from '../../shared/services';
import { boundedString, proxied, type BackgroundFamily } from './common';

export const funcaptcha: BackgroundFamily<FunCaptchaCaptcha> = {
  family: 'funcaptcha',
  task(captcha, websiteURL, options) {
    const preset = presetFor(options.serviceUrl);
    // With a proxy, FunCaptchaTask everywhere (BroCapGPT's proxyless type is the other name).
    const type = options.proxy ? 'FunCaptchaTask' : (preset?.funCaptchaType ?? 'FunCaptchaTask');
    const task: Record<string, unknown> = { type, websiteURL, websitePublicKey: captcha.publicKey };
    // The token is checked against the browser that submits it: this one.
    if (preset?.funCaptchaUserAgent && options.userAgent) task.userAgent = options.userAgent;
    if (captcha.subdomain) task.funcaptchaApiJSSubdomain = captcha.subdomain;
    if (captcha.blob) task.data = JSON.stringify({ blob: captcha.blob });
    return proxied(task, options);
  },
  delivery: (_captcha, solution) => boundedString(solution.token),
  schedule: { firstPollMs: 3_000, intervalMs: 2_500, deadlineMs: 120_000, maxPolls: 48 },
  takesProxy: () => true,
};
