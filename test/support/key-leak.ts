/**
 * Looks for the API key everywhere a web page, or a content script driven by one, could see
 * it. A page is instrumented before its own scripts run (in its main world) and records every
 * event it can listen for (each protocol event type the built extension uses, and postMessage),
 * every DOM mutation and every console call; at the end its DOM, field values, URL, history,
 * storage, cookies and resource list are read too. In the content script's isolated world a
 * recorder logs every runtime message the script receives, sends, and gets back.
 *
 * The page side never holds the key: the search runs in Node.
 */
import fs from 'node:fs';
import path from 'node:path';
import { LAZY_SCRIPTS } from '../../src/shared/lazy-scripts';
import type { CDPSession, Frame, Page } from 'playwright';

export interface Observation {
  /** Where it was seen, e.g. 'event caprelay:probe-widget', 'dom', 'content-script received'. */
  where: string;
  text: string;
}

/** The CustomEvent types named in the built content scripts, probe and lazily loaded parts (caprelay:…), so a new one is watched too. */
function protocolEventTypes(extensionDir: string): string[] {
  const types = new Set<string>();
  for (const file of ['src/content/index.js', 'src/main-world/probe.js', ...Object.values(LAZY_SCRIPTS).map((part) => part.file)]) {
    const source = fs.readFileSync(path.join(extensionDir, file), 'utf8');
    for (const match of source.matchAll(/["'`](caprelay[:-][\w:-]+)["'`]/g)) types.add(match[1]!);
  }
  return [...types].sort();
}

const MAX_ENTRY = 65_536;

/**
 * Page-world instrumentation; a string so it runs as the page's own code, before the page's
 * scripts. It keeps its own references to the DOM methods it uses, since hostile pages replace
 * them later.
 */
function pageRecorderSource(types: string[]): string {
  return `(() => {
  if (window.__pageLog) return;
  const types = ${JSON.stringify(types)};
  const log = [];
  const getter = (proto, name) => Object.getOwnPropertyDescriptor(proto, name).get;
  const call = Function.prototype.call.bind(Function.prototype.call);
  const stringify = JSON.stringify;
  const push = (entry) => Array.prototype.push.call(log, entry);
  const getAttribute = Element.prototype.getAttribute;
  const outerHTML = getter(Element.prototype, 'outerHTML');
  const textContent = getter(Node.prototype, 'textContent');
  const charData = getter(CharacterData.prototype, 'data');
  const documentElement = getter(Document.prototype, 'documentElement');
  const querySelectorAll = Document.prototype.querySelectorAll;
  const inputValue = getter(HTMLInputElement.prototype, 'value');
  const areaValue = getter(HTMLTextAreaElement.prototype, 'value');
  const selectValue = getter(HTMLSelectElement.prototype, 'value');
  const fieldName = (el) => call(getAttribute, el, 'name') || call(getAttribute, el, 'id') || '';
  const PageCustomEvent = CustomEvent;
  const detailOf = getter(CustomEvent.prototype, 'detail');
  const dataOf = getter(MessageEvent.prototype, 'data');
  const originOf = getter(MessageEvent.prototype, 'origin');
  const cut = (v) => {
    try {
      const s = typeof v === 'string' ? v : stringify(v);
      return (s === undefined ? String(v) : s).slice(0, ${MAX_ENTRY});
    } catch (e) {
      return String(v).slice(0, ${MAX_ENTRY});
    }
  };
  for (const type of types) addEventListener(type, (e) => push({ where: 'event ' + type, text: cut(e instanceof PageCustomEvent ? call(detailOf, e) : '') }), true);
  addEventListener('message', (e) => push({ where: 'postMessage from ' + call(originOf, e), text: cut(call(dataOf, e)) }), true);
  for (const level of ['log', 'info', 'warn', 'error', 'debug', 'trace']) {
    const original = console[level];
    console[level] = function (...args) {
      push({ where: 'page console.' + level, text: args.map(cut).join(' ') });
      return original.apply(this, args);
    };
  }
  new MutationObserver((records) => {
    for (const r of records) {
      if (r.type === 'attributes') push({ where: 'dom attribute ' + r.attributeName, text: cut(call(getAttribute, r.target, r.attributeName) || '') });
      else if (r.type === 'characterData') push({ where: 'dom text', text: cut(call(charData, r.target)) });
      else for (const n of r.addedNodes) push({ where: 'dom node', text: cut(n.nodeType === 1 ? call(outerHTML, n) : call(textContent, n) || '') });
    }
  }).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
  const snapshot = () => {
    const out = log.slice();
    out.push({ where: 'dom', text: call(outerHTML, call(documentElement, document)) });
    for (const field of call(querySelectorAll, document, 'input, textarea, select')) {
      const get = field instanceof HTMLInputElement ? inputValue : field instanceof HTMLTextAreaElement ? areaValue : selectValue;
      out.push({ where: 'field value ' + fieldName(field), text: call(get, field) });
    }
    out.push({ where: 'url', text: location.href });
    out.push({ where: 'referrer', text: document.referrer });
    out.push({ where: 'title', text: document.title });
    out.push({ where: 'window.name', text: window.name });
    out.push({ where: 'cookie', text: document.cookie });
    out.push({ where: 'history.state', text: stringify(history.state) || '' });
    for (const store of [localStorage, sessionStorage]) {
      for (let i = 0; i < store.length; i++) {
        const key = store.key(i) || '';
        out.push({ where: 'web storage', text: key + '=' + (store.getItem(key) || '') });
      }
    }
    for (const entry of performance.getEntries()) out.push({ where: 'performance entry', text: entry.name });
    // Anything the extension might have left on window.
    for (const name of Object.getOwnPropertyNames(window)) {
      if (!/caprelay|captcha|key|token/i.test(name)) continue;
      try {
        const d = Object.getOwnPropertyDescriptor(window, name);
        if (d && 'value' in d) out.push({ where: 'window.' + name, text: cut(d.value) });
      } catch (e) {}
    }
    return out;
  };
  Object.defineProperty(window, '__pageLog', { value: log });
  Object.defineProperty(window, '__pageSnapshot', { value: snapshot });
})();`;
}

/** Instruments `page` (every frame, every document it loads from now on). */
export async function instrumentPage(page: Page, extensionDir: string): Promise<void> {
  await page.addInitScript({ content: pageRecorderSource(protocolEventTypes(extensionDir)) });
}

/** What a page can read about itself at the end, plus what the recorder logged. */
async function frameObservations(frame: Frame): Promise<Observation[]> {
  try {
    const observed = await frame.evaluate(() => {
      const snapshot = (window as unknown as { __pageSnapshot?: () => { where: string; text: string }[] }).__pageSnapshot;
      return snapshot ? snapshot() : null;
    });
    return observed ?? [{ where: `frame ${frame.url()} not instrumented`, text: '' }];
  } catch (error) {
    return [{ where: `frame ${frame.url()} unreadable`, text: String(error) }];
  }
}

export async function pageObservations(page: Page): Promise<Observation[]> {
  const all: Observation[] = [];
  for (const frame of page.frames()) all.push(...(await frameObservations(frame)));
  return all;
}

/* ---------------- the content script's isolated world ---------------- */

interface ContextInfo {
  id: number;
  origin: string;
  name: string;
  auxData?: { type?: string; frameId?: string };
}

/** Access to the extension's content-script worlds in one page (all frames). */
export class ContentWorlds {
  private readonly contexts = new Map<number, ContextInfo>();

  private constructor(
    private readonly cdp: CDPSession,
    private readonly extensionId: string,
  ) {
    cdp.on('Runtime.executionContextCreated', (event: { context: ContextInfo }) => this.contexts.set(event.context.id, event.context));
    cdp.on('Runtime.executionContextDestroyed', (event: { executionContextId: number }) => this.contexts.delete(event.executionContextId));
    cdp.on('Runtime.executionContextsCleared', () => this.contexts.clear());
  }

  static async attach(page: Page, extensionId: string): Promise<ContentWorlds> {
    const cdp = await page.context().newCDPSession(page);
    const worlds = new ContentWorlds(cdp, extensionId);
    await cdp.send('Runtime.enable');
    return worlds;
  }

  /** Execution context ids of the extension's isolated worlds (one per frame with the content script). */
  ids(): number[] {
    return [...this.contexts.values()].filter((c) => c.auxData?.type === 'isolated' && c.origin === `chrome-extension://${this.extensionId}`).map((c) => c.id);
  }

  async waitForWorld(timeoutMs = 30_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [id] = this.ids();
      if (id !== undefined) return id;
      if (Date.now() > deadline) throw new Error('no content-script world in the page');
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Evaluates `expression` in the content script's world of the top frame (or `contextId`). */
  async evaluate<T>(expression: string, contextId?: number): Promise<T> {
    const id = contextId ?? (await this.waitForWorld());
    const reply = (await this.cdp.send('Runtime.evaluate', { expression, contextId: id, awaitPromise: true, returnByValue: true })) as {
      result: { value?: unknown };
      exceptionDetails?: { text: string; exception?: { description?: string } };
    };
    if (reply.exceptionDetails) throw new Error(`content-script world: ${reply.exceptionDetails.exception?.description ?? reply.exceptionDetails.text}`);
    return reply.result.value as T;
  }

  /** Starts logging every runtime message the content script receives, sends and gets back, in every frame. */
  async record(): Promise<void> {
    await this.waitForWorld();
    for (const id of this.ids()) await this.evaluate(RECORDER, id);
  }

  async observations(): Promise<Observation[]> {
    const all: Observation[] = [];
    for (const id of this.ids()) {
      const log = await this.evaluate<Observation[] | null>('globalThis.__csLog ?? null', id).catch(() => null);
      if (log) all.push(...log);
    }
    return all;
  }

  async detach(): Promise<void> {
    await this.cdp.detach().catch(() => undefined);
  }
}

const RECORDER = `(() => {
  if (globalThis.__csLog) return;
  const log = (globalThis.__csLog = []);
  const text = (v) => { try { return JSON.stringify(v) ?? String(v); } catch (e) { return String(v); } };
  const runtimes = [globalThis.chrome && chrome.runtime, globalThis.browser && browser.runtime].filter((r, i, all) => r && all.indexOf(r) === i);
  for (const runtime of runtimes) {
    runtime.onMessage.addListener((message) => { log.push({ where: 'content-script received', text: text(message) }); });
    const send = runtime.sendMessage;
    runtime.sendMessage = function (...args) {
      log.push({ where: 'content-script sent', text: text(args[0]) });
      const result = send.apply(this, args);
      if (result && typeof result.then === 'function') {
        result.then((reply) => log.push({ where: 'content-script got reply', text: text(reply) }), (e) => log.push({ where: 'content-script send failed', text: String(e) }));
      }
      return result;
    };
  }
})()`;

/* ---------------- the search ---------------- */

/** Every form of the key worth looking for: as is, URL- and base64-encoded, and its first 16 characters. */
function keyForms(key: string): string[] {
  return [key, encodeURIComponent(key), Buffer.from(key).toString('base64').replace(/=+$/, ''), key.slice(0, 16)];
}

/** Where in `text` a form of the key starts, or -1. */
function keyIndex(text: string, key: string): number {
  const lower = text.toLowerCase();
  for (const form of keyForms(key)) {
    const at = lower.indexOf(form.toLowerCase());
    if (at >= 0) return at;
  }
  return -1;
}

/** The observations that contain the key in any of its forms (case-insensitive). */
export function findKey(observations: readonly Observation[], key: string): Observation[] {
  return observations.filter((o) => keyIndex(o.text, key) >= 0);
}

/** Each leak as "where: …the text around the key…", for an assertion message. */
export function describeLeaks(leaks: readonly Observation[], key?: string): string[] {
  return leaks.map((l) => {
    const at = key ? Math.max(0, keyIndex(l.text, key)) : 0;
    return `${l.where}: …${l.text.slice(Math.max(0, at - 80), at + 80).replace(/\s+/g, ' ')}…`;
  });
}

/**
 * Every secret's search at once (the API key, the proxy password, the fallback key): the
 * observations that carry any of them, each tagged with the secret's name.
 */
export function findSecrets(observations: readonly Observation[], secrets: Readonly<Record<string, string>>): Observation[] {
  return Object.entries(secrets).flatMap(([name, secret]) => describeLeaks(findKey(observations, secret), secret).map((text) => ({ where: name, text })));
}

/** Extension storage as an extension page reads it, but for the secrets' own entries (which hold them by design). */
export async function extensionStorage(extensionPage: Page, ownEntries: readonly string[]): Promise<Observation[]> {
  const stored = await extensionPage.evaluate(async () => ({ local: await chrome.storage.local.get(null), session: await chrome.storage.session.get(null) }));
  return Object.entries(stored).flatMap(([area, items]) =>
    Object.entries(items)
      .filter(([key]) => !(area === 'local' && ownEntries.includes(key)))
      .map(([key, value]) => ({ where: `storage.${area}.${key}`, text: JSON.stringify(value) })),
  );
}
