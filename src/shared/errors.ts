/**
 * What each service error means for a task, and the sentence the user sees beside its code.
 * transient: retry the same call after a delay; recreate: this task is lost, a new one may
 * succeed; final: stop, retrying only risks money or a ban.
 */
export type ErrorClass = 'transient' | 'recreate' | 'final';

export interface ServiceError {
  code: string;
  /** The service's own description, when it sent one. */
  description?: string;
  httpStatus?: number;
}

interface ErrorInfo {
  class: ErrorClass;
  message: string;
}

const KNOWN: Record<string, ErrorInfo> = {
  ERROR_KEY_DOES_NOT_EXIST: { class: 'final', message: 'The API key is not valid for this service. Check it in the settings.' },
  ERROR_ZERO_BALANCE: { class: 'final', message: 'The account balance is zero. Top up the account, then try again.' },
  ERROR_IP_NOT_ALLOWED: { class: 'final', message: 'This IP address is not on the key’s list of allowed addresses.' },
  ERROR_IP_BANNED: { class: 'final', message: 'The service has banned this IP address for a while after too many bad requests.' },
  ERROR_IP_BLOCKED: { class: 'final', message: 'The service has blocked this IP address for a while after too many failed requests.' },
  ERROR_NO_SLOT_AVAILABLE: { class: 'transient', message: 'The service had no free workers.' },
  ERROR_SERVICE_NOT_AVAILABLE: { class: 'transient', message: 'The service was temporarily unavailable.' },
  ERROR_TOO_MUCH_REQUESTS: { class: 'transient', message: 'The service asked CapRelay to send fewer requests.' },
  ERROR_NO_SUCH_CAPCHA_ID: { class: 'recreate', message: 'The service no longer knows this task (it keeps tasks about 5 minutes).' },
  WRONG_CAPTCHA_ID: { class: 'recreate', message: 'The service no longer knows this task (it keeps tasks about 5 minutes).' },
  ERROR_CAPTCHA_UNSOLVABLE: { class: 'recreate', message: 'The service could not solve this captcha.' },
  ERROR_RECAPTCHA_TIMEOUT: { class: 'recreate', message: 'The service timed out while solving this reCAPTCHA.' },
  ERROR_TOKEN_EXPIRED: { class: 'recreate', message: 'A one-time value from the page expired before the service used it.' },
  ERROR_RECAPTCHA_INVALID_SITEKEY: { class: 'final', message: 'The service says this site key is not valid.' },
  ERROR_RECAPTCHA_INVALID_DOMAIN: { class: 'final', message: 'The service says the site key does not belong to this page’s domain.' },
  ERROR_DOMAIN_NOT_ALLOWED: { class: 'final', message: 'The service refuses to solve captchas for this domain.' },
  ERROR_NO_SUCH_METHOD: { class: 'final', message: 'The service does not support this request.' },
  ERROR_TASK_NOT_SUPPORTED: { class: 'final', message: 'The service does not support this captcha type.' },
  ERROR_TASK_ABSENT: { class: 'final', message: 'The service did not accept the task description.' },
  ERROR_INVALID_TASK: { class: 'final', message: 'The service found a problem with the task’s parameters.' },
  ERROR_TOO_BIG_CAPTCHA_FILESIZE: { class: 'final', message: 'The image is too large for the service.' },
  ERROR_ZERO_CAPTCHA_FILESIZE: { class: 'final', message: 'The image is too small or empty.' },
  ERROR_WRONG_USERAGENT: { class: 'recreate', message: 'The service rejected the browser’s user agent as outdated.' },
  ERROR_PROXY_CONNECT_REFUSED: {
    class: 'recreate',
    message:
      'The service could not connect through your proxy. Check its address, port and type (http, https, socks4, socks5) in the settings, and that it is running and reachable from the internet.',
  },
  ERROR_PROXY_READ_TIMEOUT: { class: 'recreate', message: 'Your proxy timed out. Use a faster proxy, or clear the proxy in the settings to let the service use its own.' },
  ERROR_PROXY_BANNED: {
    class: 'final',
    message: 'The captcha provider has banned your proxy’s IP address. Use another proxy, or clear the proxy in the settings; trying again with this one can get your account blocked.',
  },
  ERROR_PROXY_MISSING: { class: 'final', message: 'The service found the proxy incomplete: it needs the type, address and port together. Check them in the settings.' },
  ERROR_PROXY_NOT_AUTHORISED: {
    class: 'final',
    message: 'Your proxy refused the login and password. Correct them in the settings (for a proxy that checks IP addresses, allow the service’s address instead).',
  },
  ERROR_PROXY_CREDENTIALS_INVALID_CHARACTER: {
    class: 'final',
    message: 'The proxy login or password contains a character the service does not accept (%). Change it at your proxy and in the settings.',
  },
  PROXY_INVALID: { class: 'final', message: 'Your proxy settings are not complete or not valid, so no task was sent. Fix them (each field says what is wrong) or clear them in the settings.' },
  // Codes CapRelay itself uses for what happens around the service.
  // Transient messages state what happened, not what comes next: the same text ends a task
  // once its retries are used up, and the popup adds its own "retrying" while they are not.
  NETWORK_ERROR: { class: 'transient', message: 'Could not reach the service.' },
  HTTP_ERROR: { class: 'transient', message: 'The service answered with an HTTP error.' },
  BAD_RESPONSE: { class: 'transient', message: 'The service sent an answer CapRelay could not read.' },
  REQUEST_TIMEOUT: { class: 'transient', message: 'The service did not answer in time.' },
  // Final: the same URL redirects again, and following it would send the key elsewhere.
  SERVICE_REDIRECT: {
    class: 'final',
    message: 'The service answered with a redirect to another address. CapRelay does not follow it, so your key goes only to the API URL you set. Check the API URL.',
  },
  // Final: a service that echoes the key is not to be trusted with another try (or payment).
  KEY_IN_ANSWER: { class: 'final', message: 'The service’s answer contained your API key, so CapRelay refused it: nothing from it was shown, stored or put into a page.' },
  CREATE_UNCONFIRMED: {
    class: 'final',
    message: 'The service did not confirm the new task. It was not sent again, so you are not charged twice. Click Solve to try again.',
  },
  TIMED_OUT: { class: 'final', message: 'No answer from the service in time; the task was given up.' },
  NO_API_KEY: { class: 'final', message: 'Set your API key in CapRelay first.' },
  NO_SERVICE_URL: { class: 'final', message: 'Set the service’s API URL in CapRelay first.' },
  TOKEN_EXPIRED_UNDELIVERED: { class: 'final', message: 'The token expired before it could be put into the page.' },
  WIDGET_GONE: { class: 'final', message: 'The captcha is no longer on the page (it was reloaded or closed).' },
  TAB_CLOSED: { class: 'final', message: 'The tab was closed or navigated away before the token arrived.' },
  SITE_NOT_ALLOWED: { class: 'final', message: 'CapRelay is switched off for this site in your site list.' },
  CAPTCHA_NOT_FOUND: { class: 'final', message: 'That captcha is no longer on the page.' },
  NO_SOLUTION: { class: 'recreate', message: 'The service said the task was ready but sent no solution.' },
  IMAGE_UNREADABLE: { class: 'final', message: 'CapRelay could not read that image from the page.' },
  CHALLENGE_NOT_FOUND: { class: 'final', message: 'No FunCaptcha image challenge is open on this page.' },
  PAGE_UNREACHABLE: { class: 'final', message: 'CapRelay cannot work in this tab. Reload the page and try again.' },
  ROUND_LIMIT: { class: 'final', message: 'The challenge wanted more rounds than your limit allows, so CapRelay stopped.' },
  CHALLENGE_STUCK: { class: 'final', message: 'The challenge did not move on after CapRelay clicked the tiles. Reload it and solve it again.' },
  CHALLENGE_CHOOSE: { class: 'final', message: 'More than one frame shows a FunCaptcha image challenge: choose which one to solve.' },
  NOT_A_WEB_PAGE: { class: 'final', message: 'This captcha is not on a web page address (http or https), so no service can solve it.' },
  // The control API (automated browsers): said to the script that called it.
  TAB_NOT_FOUND: { class: 'final', message: 'No tab matches: give its tabId, or the address of a page CapRelay has seen in it.' },
  TAB_AMBIGUOUS: { class: 'final', message: 'More than one tab shows this address: give the tabId.' },
  WAIT_TIMED_OUT: { class: 'final', message: 'The captchas of the tab were not all solved in the time given.' },
  BAD_CALL: { class: 'final', message: 'The control API does not take these parameters.' },
  REPORT_NOT_POSSIBLE: { class: 'final', message: 'Only a solved task whose service task id is known can be reported as wrong.' },
  REPORT_NOT_OFFERED: { class: 'final', message: 'This service does not take reports of wrong answers.' },
  ALREADY_REPORTED: { class: 'final', message: 'This task was already reported; a task is reported once.' },
  REPORT_SERVICE_CHANGED: { class: 'final', message: 'The service that solved this task is no longer in your settings, so CapRelay has no key to report it with.' },
  REPORT_REJECTED: { class: 'final', message: 'The service did not accept the report.' },
  SPENDING_LIMIT: {
    class: 'final',
    message: 'Your spending limit (tasks per hour or per day) is reached, so CapRelay did not start them all. Solve one at a time, or raise the limit in the settings.',
  },
};

/** Every code CapRelay has a sentence for (each also needs an err_<code> translation). */
export const KNOWN_ERROR_CODES: readonly string[] = Object.keys(KNOWN);

export function classifyError(error: ServiceError): ErrorClass {
  // The status decides for a bare HTTP error: a 404 or 400 will not mend itself on a retry.
  if (error.code === 'HTTP_ERROR' && error.httpStatus !== undefined) return httpClass(error.httpStatus);
  const known = KNOWN[error.code];
  if (known) return known.class;
  // Unknown codes are final: guessing "retry" on an unknown error may spend money.
  return 'final';
}

function httpClass(status: number): ErrorClass {
  return status === 429 || status >= 500 ? 'transient' : 'final';
}

/** The sentence a user reads; the service's own description follows it when it adds something. */
export function describeError(error: ServiceError): string {
  const known = KNOWN[error.code];
  let text = known?.message ?? 'The service reported an error.';
  if (error.code === 'HTTP_ERROR' && error.httpStatus !== undefined) {
    text = `The service answered HTTP ${error.httpStatus}.`;
  }
  if (error.description && error.description !== known?.message) {
    text = `${text} (${error.description})`;
  }
  return text;
}

/** The one shape a failure has wherever it is shown or stored: the code, and the sentence for it. */
export interface ErrorReply {
  code: string;
  message: string;
}

/** A failure by CapRelay's own code, or by the service's error (its description kept). */
export function taskError(error: string | ServiceError): ErrorReply {
  const known = typeof error === 'string' ? { code: error } : error;
  return { code: known.code, message: describeError(known) };
}

/** A reply that failed. */
export function failed(error: string | ServiceError): { ok: false; error: ErrorReply } {
  return { ok: false, error: taskError(error) };
}
