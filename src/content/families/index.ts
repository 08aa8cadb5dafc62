/** Every captcha family the content script detects and delivers to: one line each. */
import type { FamilyFactory } from '../detector';
import { funcaptcha } from './funcaptcha';
import { geetest } from './geetest';
import { recaptcha } from './recaptcha';
import { turnstile } from './turnstile';

export const CONTENT_FAMILIES: readonly FamilyFactory[] = [recaptcha, funcaptcha, turnstile, geetest];
