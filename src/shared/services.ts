export type ServiceId = 'capmonster' | 'brocapgpt' | 'custom';

export interface ServicePreset {
  id: Exclude<ServiceId, 'custom'>;
  label: string;
  url: string;
  /** BroCapGPT documents FunCaptchaTaskProxyless (its FunCaptchaTask requires a proxy). */
  funCaptchaType: 'FunCaptchaTask' | 'FunCaptchaTaskProxyless';
}

export const SERVICE_PRESETS: readonly ServicePreset[] = [
  { id: 'capmonster', label: 'CapMonster Cloud', url: 'https://api.capmonster.cloud', funCaptchaType: 'FunCaptchaTask' },
  { id: 'brocapgpt', label: 'BroCapGPT', url: 'https://api.brocapgpt.com', funCaptchaType: 'FunCaptchaTaskProxyless' },
];

export function presetFor(url: string): ServicePreset | undefined {
  return SERVICE_PRESETS.find((p) => p.url === url);
}

/** An API base URL the user may name: http(s), no credentials, no query; trailing slashes dropped. */
export function normalizeServiceUrl(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  if (url.username || url.password || url.search || url.hash) return null;
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}
