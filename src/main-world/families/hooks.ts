/** Every family's hooks, loaded where a vendor marker showed: one line each. */
import type { HooksFactory } from '../channel';
import { arkoseHooks } from './arkose';
import { geetestHooks } from './geetest';
import { recaptchaHooks } from './recaptcha';
import { turnstileHooks } from './turnstile';

export const FAMILY_HOOKS: readonly HooksFactory[] = [recaptchaHooks, arkoseHooks, turnstileHooks, geetestHooks];
