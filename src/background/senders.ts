/**
 * Who sent a message: the two trust tiers of the router. Tab and frame always come from here
 * (the browser's word), never from a payload.
 */
import type { Runtime } from 'webextension-polyfill';

type Sender = Runtime.MessageSender & { origin?: string };

export interface SenderIdentity {
  id: string;
  /** The extension's own origin, e.g. `chrome-extension://<id>` (no trailing slash). */
  origin: string;
}

/**
 * The extension's own pages (popup, options): the only senders that may spend or read account
 * data. Decided on sender.origin, which the browser sets (Chrome, Firefox ≥ 126; the manifest
 * asks for 142): a URL's origin is "null" for extension schemes in strict URL parsers, the same
 * as the about:blank frames content scripts also run in.
 */
export function isExtensionPage(sender: Sender, self: SenderIdentity): boolean {
  return sender.id === self.id && sender.origin === self.origin;
}

export interface ContentSender {
  tabId: number;
  frameId: number;
  url: string;
  /** sender.origin, where the browser gives it. */
  origin?: string;
  /** The tab's top address as the browser gave it with the message. */
  topUrl?: string;
}

/** A content script of ours in a web page's frame. */
export function contentSender(sender: Sender, self: SenderIdentity): ContentSender | null {
  if (sender.id !== self.id || isExtensionPage(sender, self)) return null;
  const tabId = sender.tab?.id;
  const frameId = sender.frameId;
  if (typeof tabId !== 'number' || tabId < 0 || typeof frameId !== 'number' || frameId < 0 || !sender.url) return null;
  const from: ContentSender = { tabId, frameId, url: sender.url };
  if (typeof sender.origin === 'string') from.origin = sender.origin;
  if (typeof sender.tab?.url === 'string' && sender.tab.url) from.topUrl = sender.tab.url;
  return from;
}
