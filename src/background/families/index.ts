/** Every family the background makes tasks for: one line each. */
import type { TaskCaptcha } from '../../shared/captcha';
import type { BackgroundFamily } from './common';
import { funcaptcha } from './funcaptcha';
import { geetest } from './geetest';
import { funcaptchaImage, imageText } from './image';
import { recaptcha } from './recaptcha';
import { turnstile } from './turnstile';

export const BACKGROUND_FAMILIES = [recaptcha, funcaptcha, turnstile, geetest, imageText, funcaptchaImage] as const;

/** The background side of this captcha's family. */
export function familyFor<C extends TaskCaptcha>(captcha: C): BackgroundFamily<C> {
  return BACKGROUND_FAMILIES.find((f) => f.family === captcha.family) as unknown as BackgroundFamily<C>;
}
