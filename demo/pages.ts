/** The demo site's pages: one per captcha family CapRelay supports, and what a solve should send. */

export interface DemoPage {
  /** File in demo/site, without .html. */
  slug: string;
  title: string;
  /** What the popup calls the captcha (captchaLabel). */
  label: string;
  /** The createTask type CapRelay sends for it with a CapMonster-compatible custom service. */
  taskType: string;
  /** Task fields beyond websiteURL and the key that this page is there to show. */
  shows: string[];
  /** A button the page needs clicked after the solve to use the token (v3 asks execute() again). */
  afterSolve?: string;
}

export const DEMO_PAGES: readonly DemoPage[] = [
  {
    slug: 'recaptcha-v2-checkbox',
    title: 'reCAPTCHA v2 checkbox',
    label: 'reCAPTCHA v2',
    taskType: 'RecaptchaV2Task',
    shows: [],
  },
  {
    slug: 'recaptcha-v2-invisible',
    title: 'reCAPTCHA v2 invisible',
    label: 'reCAPTCHA v2 (invisible)',
    taskType: 'RecaptchaV2Task',
    shows: ['isInvisible'],
  },
  {
    slug: 'recaptcha-v2-enterprise',
    title: 'reCAPTCHA v2 Enterprise',
    label: 'reCAPTCHA v2 Enterprise',
    taskType: 'RecaptchaV2EnterpriseTask',
    shows: ['enterprisePayload', 'apiDomain'],
  },
  {
    slug: 'recaptcha-v3',
    title: 'reCAPTCHA v3',
    label: 'reCAPTCHA v3',
    taskType: 'RecaptchaV3TaskProxyless',
    shows: ['pageAction', 'minScore'],
    afterSolve: '#get-token',
  },
  {
    slug: 'recaptcha-v3-enterprise',
    title: 'reCAPTCHA v3 Enterprise',
    label: 'reCAPTCHA v3 Enterprise',
    taskType: 'RecaptchaV3EnterpriseTask',
    shows: ['pageAction', 'minScore'],
    afterSolve: '#get-token',
  },
  {
    slug: 'turnstile',
    title: 'Cloudflare Turnstile',
    label: 'Cloudflare Turnstile',
    taskType: 'TurnstileTask',
    shows: ['pageAction', 'data', 'userAgent'],
  },
  {
    slug: 'geetest-v3',
    title: 'GeeTest v3',
    label: 'GeeTest v3',
    taskType: 'GeeTestTask',
    shows: ['challenge', 'geetestApiServerSubdomain'],
  },
  {
    slug: 'geetest-v4',
    title: 'GeeTest v4',
    label: 'GeeTest v4',
    taskType: 'GeeTestTask',
    shows: ['initParameters'],
  },
  {
    slug: 'funcaptcha',
    title: 'FunCaptcha (Arkose Labs)',
    label: 'FunCaptcha (Arkose Labs)',
    taskType: 'FunCaptchaTask',
    shows: ['funcaptchaApiJSSubdomain', 'data'],
  },
];
