import browser from 'webextension-polyfill';

/** A UI string from _locales; the key itself if a message is missing (visible, never blank). */
export function t(key: string, ...substitutions: (string | number)[]): string {
  const text = browser.i18n.getMessage(key, substitutions.map(String));
  return text || key;
}
