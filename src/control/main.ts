/**
 * `window.caprelay` for drivers that reach an extension page but not the background's global
 * (Firefox, whose event page no driver can evaluate in; Selenium in either browser): the same
 * methods, forwarded to the background by runtime message, which takes them only from the
 * extension's own pages. Web pages can neither open this page nor reach into it.
 */
import browser from 'webextension-polyfill';
import { t } from '../extension/i18n';
import { CONTROL_METHODS, type ControlMessage } from '../shared/messages';

const api = Object.fromEntries(
  CONTROL_METHODS.map((method) => [method, (params?: unknown): Promise<unknown> => browser.runtime.sendMessage({ type: 'control', method, params } satisfies ControlMessage)]),
);
Object.defineProperty(window, 'caprelay', { value: Object.freeze(api) });

document.documentElement.lang = browser.i18n.getUILanguage();
const about = document.getElementById('about');
if (about) about.textContent = t('controlPageAbout');
