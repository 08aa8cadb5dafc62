/**
 * Incremental DOM scanning: one full pass at start, then only what each mutation batch adds
 * or changes. Removals are handled by asking detectors to prune their (few) tracked widgets.
 */
import type { Captcha } from '../shared/captcha';
import type { Detector } from './detector';
import { byTag, collectionLength, connected, documentOrder, documentRoot, firstChild, isElement, matches, queryNodes } from '../page-dom/dom';

/**
 * Attributes whose change can turn an existing element into (or out of) a widget. Not `class`:
 * busy pages toggle classes thousands of times a second, and Google renders a `.g-recaptcha`
 * only at load or through render(), whose anchor frame is found anyway.
 */
const WATCHED_ATTRIBUTES = ['src', 'data-sitekey', 'data-pkey', 'data-size', 'data-s', 'data-callback', 'value'];

/**
 * A batch with this many mutation records is a storm (an animation, a virtual list repainting):
 * then the observer steps aside for STORM_PAUSE_MS, so the page pays nothing for its mutations,
 * and one per-detector pass over the document catches up afterwards.
 */
export const STORM_RECORDS = 1_000;
export const STORM_PAUSE_MS = 300;

/** More candidates than this in a whole-document pass, and a detector's selector list runs as one query. */
const MANY_MATCHES = 200;

interface SelectorPart {
  selector: string;
  /** The element name it requires, if any: a document without one such element is not walked for it. */
  tag?: string;
}

/** A selector list's top-level parts (commas inside brackets, parentheses or quotes are kept). */
export function selectorParts(list: string): SelectorPart[] {
  const parts: string[] = [];
  let depth = 0;
  let quote = '';
  let start = 0;
  for (let i = 0; i < list.length; i++) {
    const c = list[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '[' || c === '(') depth++;
    else if (c === ']' || c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(list.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(list.slice(start));
  return parts
    .map((part) => part.trim())
    .filter(Boolean)
    .map((selector) => {
      const tag = /^([a-z][a-z0-9-]*)(?=[[#.:]|$)/.exec(selector)?.[1];
      return tag ? { selector, tag } : { selector };
    });
}

const OBSERVE: MutationObserverInit = { childList: true, subtree: true, attributes: true, attributeFilter: WATCHED_ATTRIBUTES };

export class Scanner {
  private readonly selector: string;
  /** Each detector's selector list, part by part (see documentMatches). */
  private readonly parts: SelectorPart[][];
  private observer: MutationObserver | null = null;
  private root: Element | null = null;
  private paused = false;

  constructor(
    private readonly detectors: readonly Detector<Captcha>[],
    /** Called after a change that altered what was found. */
    private readonly onChange: () => void,
  ) {
    this.selector = detectors.map((d) => d.selector).join(', ');
    this.parts = detectors.map((d) => selectorParts(d.selector));
  }

  /** Full pass over one subtree; true if any detector recorded something. */
  scanSubtree(root: Element): boolean {
    // A page that fakes thousands of widgets fills every detector: then nothing more is looked at.
    if (this.allFull()) return false;
    let found = this.inspect(root);
    if (!firstChild(root)) return found;
    if (root === documentRoot()) {
      // The whole document, detector by detector, each stopping once it is full: a page with
      // thousands of look-alikes costs a few native queries, not a match per node.
      this.detectors.forEach((detector, d) => {
        const nodes = this.documentMatches(root, d);
        for (let i = 0; i < nodes.length && !detector.full(); i++) found = detector.inspect(nodes[i]!) || found;
      });
      return found;
    }
    const nodes = queryNodes(root, this.selector);
    for (let i = 0; i < nodes.length; i++) {
      found = this.inspect(nodes[i]!) || found;
      if (this.allFull()) break;
    }
    return found;
  }

  /**
   * One detector's elements in the whole document, in document order. Its selector list runs
   * part by part: the browser answers a lone id, class or attribute selector from its indexes,
   * and a lone tagged one by walking that tag's elements, where a list is matched part by part
   * against every element (on a 20,000-element page, milliseconds against tenths).
   */
  private documentMatches(root: Element, d: number): ArrayLike<Element> {
    const found: Element[] = [];
    let sources = 0;
    for (const { selector, tag } of this.parts[d]!) {
      if (tag && collectionLength(byTag(tag)) === 0) continue;
      const nodes = queryNodes(root, selector);
      if (!nodes.length) continue;
      // Many look-alikes: one query gives them in document order without sorting thousands.
      if (found.length + nodes.length > MANY_MATCHES) return queryNodes(root, this.detectors[d]!.selector);
      sources++;
      for (let i = 0; i < nodes.length; i++) found.push(nodes[i]!);
    }
    return sources > 1 ? [...new Set(found)].sort(documentOrder) : found;
  }

  private allFull(): boolean {
    return this.detectors.every((d) => d.full());
  }

  private inspect(el: Element): boolean {
    let found = false;
    for (const detector of this.detectors) {
      if (!detector.full() && matches(el, detector.selector)) found = detector.inspect(el) || found;
    }
    return found;
  }

  start(root: Element): void {
    this.root = root;
    this.scanSubtree(root);
    this.observer = new MutationObserver((records) => this.handle(records));
    this.observer.observe(root, OBSERVE);
  }

  private pauseForStorm(): void {
    const { observer, root } = this;
    if (!observer || !root) return;
    observer.disconnect();
    this.paused = true;
    setTimeout(() => {
      this.paused = false;
      if (this.observer !== observer) return;
      observer.observe(root, OBSERVE);
      // Catch up on what the storm added or removed: one query per detector, not per node.
      let changed = false;
      for (const detector of this.detectors) changed = detector.prune() || changed;
      changed = this.scanSubtree(root) || changed;
      if (changed) this.onChange();
    }, STORM_PAUSE_MS);
  }

  /** Processes pending records now (used before answering a question about the page). */
  flush(): void {
    const records = this.observer?.takeRecords();
    if (records?.length) this.handle(records);
  }

  private handle(records: MutationRecord[]): void {
    if (this.paused) return;
    if (records.length >= STORM_RECORDS) {
      this.pauseForStorm();
      return;
    }
    let changed = false;
    let removed = false;
    for (const record of records) {
      if (record.type === 'attributes') {
        const target = record.target as Element;
        if (matches(target, this.selector)) changed = this.inspect(target) || changed;
        continue;
      }
      for (const node of record.addedNodes) {
        // Added and removed again within the batch: nothing to find.
        if (isElement(node) && connected(node)) changed = this.scanSubtree(node) || changed;
      }
      if (record.removedNodes.length) removed = true;
    }
    if (removed) {
      for (const detector of this.detectors) changed = detector.prune() || changed;
    }
    if (changed) this.onChange();
  }
}
