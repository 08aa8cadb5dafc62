/** Every family's traps, installed by the probe in every frame at document_start: one line each. */
import type { FamilyTraps } from '../channel';
import { arkoseTraps } from './arkose';
import { recaptchaTraps } from './recaptcha';

export const FAMILY_TRAPS: readonly FamilyTraps[] = [recaptchaTraps, arkoseTraps];
