/**
 * GeeTest v3 (`initGeetest` after the site's own register call: a single-use challenge) and v4
 * (`initGeetest4({captchaId})`): what is reported, and a switch for each version.
 */
import { type Guard, isBoundedString, isHostName, isOneOf, isOptional, isRefined, isShapeOf } from '../validate';
import { CAPTCHA_ID_MAX, CAPTCHA_LIMITS, type TokenFamily } from './common';

export interface GeeTestCaptcha {
  family: 'geetest';
  id: string;
  version: 3 | 4;
  /** v3: the site's gt; v4: its captchaId. */
  gt: string;
  /** v3: the fresh challenge from the site's register call (single-use). */
  challenge?: string;
  /** api_server (v3) / apiServers[0] (v4), unless GeeTest's default: geetestApiServerSubdomain. */
  apiServer?: string;
  /** v4: riskType from the config or the load request: initParameters.riskType. */
  riskType?: string;
}

const GEETEST_GT = /^[0-9a-f]{32}$/i;
const CHALLENGE = /^[\w-]{16,128}$/;
const RISK_TYPE = /^[a-z_]{1,32}$/;

export const isGeeTestGt: Guard<string> = (v): v is string => typeof v === 'string' && GEETEST_GT.test(v);
export const isGeeTestChallenge: Guard<string> = (v): v is string => typeof v === 'string' && v.length <= CAPTCHA_LIMITS.challenge && CHALLENGE.test(v);
export const isGeeTestRiskType: Guard<string> = (v): v is string => typeof v === 'string' && RISK_TYPE.test(v);

const isGeeTestCaptcha: Guard<GeeTestCaptcha> = isRefined(
  isShapeOf<GeeTestCaptcha>({
    family: isOneOf(['geetest'] as const),
    id: isBoundedString(CAPTCHA_ID_MAX),
    version: (x: unknown): x is 3 | 4 => x === 3 || x === 4,
    gt: isGeeTestGt,
    challenge: isOptional(isGeeTestChallenge),
    apiServer: isOptional(isHostName),
    riskType: isOptional(isGeeTestRiskType),
  }),
  // v3 cannot be solved without its challenge; v4 has none.
  (v) => (v.version === 3) === (v.challenge !== undefined),
);

export const geetestFamily = {
  family: 'geetest',
  guard: isGeeTestCaptcha,
  settings: [
    { id: 'geetestV3', label: 'familyGeeTestV3' },
    { id: 'geetestV4', label: 'familyGeeTestV4' },
  ],
  settingOf: (c) => (c.version === 3 ? 'geetestV3' : 'geetestV4'),
  label: (c) => `GeeTest v${c.version}`,
  identity: (c) => `gt:${c.id}`,
  key: (c) => c.gt,
  // the site's backend checks the values with GeeTest at once.
  tokenLifetimeMs: 120_000,
} as const satisfies TokenFamily<GeeTestCaptcha>;
