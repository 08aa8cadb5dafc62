/** FunCaptcha (Arkose Labs): what is reported, and its switch. */
import { type Guard, isArkosePublicKey, isBoundedString, isHostName, isOneOf, isOptional, isShapeOf } from '../validate';
import { CAPTCHA_ID_MAX, CAPTCHA_LIMITS, type TokenFamily } from './common';

export interface FunCaptchaCaptcha {
  family: 'funcaptcha';
  id: string;
  publicKey: string;
  /** Host that serves the Arkose API for this site (funcaptchaApiJSSubdomain). */
  subdomain?: string;
  /** The `data[blob]` the site gives the enforcement; sent as data: {"blob": …}. */
  blob?: string;
}

const isFunCaptchaCaptcha: Guard<FunCaptchaCaptcha> = isShapeOf<FunCaptchaCaptcha>({
  family: isOneOf(['funcaptcha'] as const),
  id: isBoundedString(CAPTCHA_ID_MAX),
  publicKey: isArkosePublicKey,
  subdomain: isOptional(isHostName),
  blob: isOptional(isBoundedString(CAPTCHA_LIMITS.blob)),
});

export const funcaptchaFamily = {
  family: 'funcaptcha',
  guard: isFunCaptchaCaptcha,
  settings: [{ id: 'funcaptcha', label: 'familyFunCaptcha' }],
  settingOf: () => 'funcaptcha',
  label: () => 'FunCaptcha (Arkose Labs)',
  // A site runs one Arkose setup per public key.
  identity: (c) => `fc:${c.publicKey}`,
  key: (c) => c.publicKey,
  // as reCAPTCHA's: Arkose verifies a session token within minutes.
  tokenLifetimeMs: 120_000,
} as const satisfies TokenFamily<FunCaptchaCaptcha>;
