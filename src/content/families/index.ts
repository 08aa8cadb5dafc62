/** Every captcha family the content script detects and delivers to: one line each. */
import type { FamilyFactory } from '../detector';
import { funcaptcha } from './funcaptcha';
import { recaptcha } from './recaptcha';

export const CONTENT_FAMILIES: readonly FamilyFactory[] = [recaptcha, funcaptcha];
