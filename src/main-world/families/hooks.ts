/** Every family's hooks, loaded where a vendor marker showed: one line each. */
import type { HooksFactory } from '../channel';
import { arkoseHooks } from './arkose';
import { recaptchaHooks } from './recaptcha';

export const FAMILY_HOOKS: readonly HooksFactory[] = [recaptchaHooks, arkoseHooks];
