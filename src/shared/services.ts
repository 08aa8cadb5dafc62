export type ServiceId = 'capmonster' | 'brocapgpt' | 'custom';

export interface ServicePreset {
  id: Exclude<ServiceId, 'custom'>;
  label: string;
  url: string;
  /** BroCapGPT documents FunCaptchaTaskProxyless (its FunCaptchaTask requires a proxy). */
  funCaptchaType: 'FunCaptchaTask' | 'FunCaptchaTaskProxyless';
  /** BroCapGPT lists userAgent as required for FunCaptcha tasks. */
  funCaptchaUserAgent: boolean;
  /** Whether the service takes reportIncorrectTokenCaptcha / reportIncorrectImageCaptcha (BroCapGPT documents neither). */
  reports: boolean;
}

export const SERVICE_PRESETS: readonly ServicePreset[] = [
  { id: 'capmonster', label: 'CapMonster Cloud', url: 'https://api.capmonster.cloud', funCaptchaType: 'FunCaptchaTask', funCaptchaUserAgent: false, reports: true },
  { id: 'brocapgpt', label: 'BroCapGPT', url: 'https://api.brocapgpt.com', funCaptchaType: 'FunCaptchaTaskProxyless', funCaptchaUserAgent: true, reports: false },
];

export function presetFor(url: string): ServicePreset | undefined {
  return SERVICE_PRESETS.find((p) => p.url === url);
}

/** A service's name as the user chose it: the preset's label, else the host of its URL. */
export function serviceName(url: string | undefined): string {
  if (!url) return '';
  const preset = presetFor(url);
  if (preset) return preset.label;
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/**
 * Plain http would carry the key in clear over the internet: it is allowed only for a service
 * on this machine or the local network (self-hosted solvers).
 */
function isLocalHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.localhost') || h.endsWith('.local') || h === '::1') return true;
  const ip = /^(\d{1,3})\.(\d{1,3})\.\d{1,3}\.\d{1,3}$/.exec(h);
  if (!ip) return false;
  const [a, b] = [Number(ip[1]), Number(ip[2])];
  return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
}

/** An API base URL the user may name: https (http only for local hosts), no credentials, no query; trailing slashes dropped. */
export function normalizeServiceUrl(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLocalHost(url.hostname))) return null;
  if (url.username || url.password || url.search || url.hash) return null;
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

/** Whether two typed service URLs name the same service (a URL that is not valid yet is compared as typed). */
export function sameServiceUrl(a: string, b: string): boolean {
  return (normalizeServiceUrl(a) ?? a.trim()) === (normalizeServiceUrl(b) ?? b.trim());
}
