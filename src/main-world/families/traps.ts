/** Every family's traps, installed by the probe in every frame at document_start: one line each. */
import type { FamilyTraps } from '../channel';
import { arkoseTraps } from './arkose';
import { geetestTraps } from './geetest';
import { recaptchaTraps } from './recaptcha';
import { turnstileTraps } from './turnstile';

export const FAMILY_TRAPS: readonly FamilyTraps[] = [recaptchaTraps, arkoseTraps, turnstileTraps, geetestTraps];
