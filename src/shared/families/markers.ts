/**
 * What shows a family in a frame before any detector loads: a vendor script or frame URL, one
 * line each. The page-world probe looks for them in every frame (the scripts the parser adds, the
 * ones a loader makes, the frames at the content script's look); a vendor global it traps shows
 * its family too.
 */
import type { Captcha } from '../captcha';

export const FAMILY_MARKERS: Readonly<Record<Captcha['family'], RegExp>> = {
  // A reCAPTCHA script or frame URL: a sign, in any frame, that its detector is worth loading.
  recaptcha: /(?:google\.com|recaptcha\.net)\/recaptcha\//,
  // An Arkose script or frame URL (its names anywhere in it, or its paths on a site's own host).
  funcaptcha: /arkoselabs|funcaptcha|\/v2\/[0-9A-Fa-f-]{36}\/api\.js|\/enforcement\.[0-9a-f]+\.html|\/fc\/gc\//,
  // Turnstile's script or widget frame, or the challenge page's own script (never Bot Management's jsd/main.js).
  turnstile: /challenges\.cloudflare\.com\/(?:turnstile|cdn-cgi\/challenge-platform)\/|\/cdn-cgi\/challenge-platform\/h\/[\w-]+\/orchestrate\//,
  // GeeTest's scripts (gt.js, gt4.js) and hosts.
  geetest: /geetest\.com\/|\/gt4?\.js(?:[?#]|$)/,
};
