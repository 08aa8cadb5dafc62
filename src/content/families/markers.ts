/**
 * What the content script's core, in every frame, looks for before loading any detector: a
 * vendor script or frame URL per family, one line each. (Vendor globals are the probe's to see.)
 */
import type { Captcha } from '../../shared/captcha';
import { FUNCAPTCHA_MARKER } from './funcaptcha';
import { GEETEST_MARKER } from './geetest';
import { RECAPTCHA_MARKER } from './recaptcha';
import { TURNSTILE_MARKER } from './turnstile';

export const FAMILY_MARKERS: Readonly<Record<Captcha['family'], RegExp>> = {
  recaptcha: RECAPTCHA_MARKER,
  funcaptcha: FUNCAPTCHA_MARKER,
  turnstile: TURNSTILE_MARKER,
  geetest: GEETEST_MARKER,
};
