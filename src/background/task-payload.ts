/** Turns a detected captcha (or an image the user picked) into the createTask `task` object the service expects. */
import { MAX_TILES, type TaskCaptcha } from '../shared/captcha';
import type { ImageSettings } from '../shared/settings';
import { presetFor } from '../shared/services';

export interface PayloadOptions {
  serviceUrl: string;
  v3MinScore: number;
  /** Image families: the base64 image (no data: prefix). */
  image?: string;
  imageText?: Pick<ImageSettings, 'numeric' | 'caseSensitive' | 'math' | 'threshold'>;
  /** The browser's user agent, sent with ComplexImageTask. */
  userAgent?: string;
}

export function buildTask(captcha: TaskCaptcha, websiteURL: string, options: PayloadOptions): Record<string, unknown> {
  if (captcha.family === 'image-text') {
    const task: Record<string, unknown> = { type: 'ImageToTextTask', body: options.image ?? '' };
    // Only what the user switched on: each flag narrows what the service may answer.
    const o = options.imageText;
    if (o?.numeric) task.numeric = 1;
    if (o?.caseSensitive) task.case = true;
    if (o?.math) task.math = true;
    if (o && o.threshold > 0) task.recognizingThreshold = o.threshold;
    return task;
  }
  if (captcha.family === 'funcaptcha-image') {
    const task: Record<string, unknown> = {
      type: 'ComplexImageTask',
      class: 'funcaptcha',
      imagesBase64: [options.image ?? ''],
      metadata: { Task: captcha.instruction },
      websiteURL,
    };
    if (options.userAgent) task.userAgent = options.userAgent;
    return task;
  }
  if (captcha.family === 'funcaptcha') {
    const preset = presetFor(options.serviceUrl);
    const task: Record<string, unknown> = {
      type: preset?.funCaptchaType ?? 'FunCaptchaTask',
      websiteURL,
      websitePublicKey: captcha.publicKey,
    };
    // The token is checked against the browser that submits it: this one.
    if (preset?.funCaptchaUserAgent && options.userAgent) task.userAgent = options.userAgent;
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

/**
 * The token inside a ready solution, per family. Image families: the text answer, or the tiles
 * to click as a string of 0/1 in grid order (the answer travels like a token from here on).
 */
export function tokenOf(captcha: TaskCaptcha, solution: Record<string, unknown>): string | null {
  if (captcha.family === 'image-text') {
    const text = typeof solution.text === 'number' ? String(solution.text) : solution.text;
    return typeof text === 'string' && text.trim().length > 0 && text.length <= 1_000 ? text.trim() : null;
  }
  if (captcha.family === 'funcaptcha-image') {
    const answer = solution.answer;
    if (!Array.isArray(answer) || answer.length === 0 || answer.length > MAX_TILES || !answer.every((a) => typeof a === 'boolean')) return null;
    // Nothing to click is no answer: the round would stall with the task paid.
    return answer.includes(true) ? answer.map((a) => (a ? '1' : '0')).join('') : null;
  }
  const token = captcha.family === 'funcaptcha' ? solution.token : solution.gRecaptchaResponse;
  return typeof token === 'string' && token.length > 0 && token.length <= 20_000 ? token : null;
}
