/** Turns a detected captcha into the createTask `task` object the service expects. */
import type { Captcha } from '../shared/captcha';
import { presetFor } from '../shared/services';

export interface PayloadOptions {
  serviceUrl: string;
  v3MinScore: number;
}

export function buildTask(captcha: Captcha, websiteURL: string, options: PayloadOptions): Record<string, unknown> {
  if (captcha.family === 'funcaptcha') {
    const task: Record<string, unknown> = {
      type: presetFor(options.serviceUrl)?.funCaptchaType ?? 'FunCaptchaTask',
      websiteURL,
      websitePublicKey: captcha.publicKey,
    };
    if (captcha.subdomain) task.funcaptchaApiJSSubdomain = captcha.subdomain;
    if (captcha.blob) task.data = JSON.stringify({ blob: captcha.blob });
    return task;
  }
  if (captcha.version === 'v3') {
    const task: Record<string, unknown> = {
      type: captcha.enterprise ? 'RecaptchaV3EnterpriseTask' : 'RecaptchaV3TaskProxyless',
      websiteURL,
      websiteKey: captcha.siteKey,
      minScore: options.v3MinScore,
      pageAction: captcha.action ?? 'verify',
    };
    return task;
  }
  if (captcha.enterprise) {
    const task: Record<string, unknown> = { type: 'RecaptchaV2EnterpriseTask', websiteURL, websiteKey: captcha.siteKey };
    if (captcha.dataS) task.enterprisePayload = { s: captcha.dataS };
    if (captcha.apiDomain) task.apiDomain = captcha.apiDomain;
    if (captcha.action) task.pageAction = captcha.action;
    return task;
  }
  const task: Record<string, unknown> = { type: 'RecaptchaV2Task', websiteURL, websiteKey: captcha.siteKey };
  if (captcha.invisible) task.isInvisible = true;
  if (captcha.dataS) task.recaptchaDataSValue = captcha.dataS;
  return task;
}

/** The token inside a ready solution, per family. */
export function tokenOf(captcha: Captcha, solution: Record<string, unknown>): string | null {
  const token = captcha.family === 'funcaptcha' ? solution.token : solution.gRecaptchaResponse;
  return typeof token === 'string' && token.length > 0 && token.length <= 20_000 ? token : null;
}
