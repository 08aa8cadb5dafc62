import type { Captcha } from '../shared/captcha';

/** One widget family's detector. It sees only elements matching its selector, one at a time. */
export interface Detector<C extends Captcha> {
  readonly selector: string;
  /** Looks at one element that matches `selector` (or whose relevant attribute changed). */
  inspect(el: Element): boolean;
  /** Forgets widgets that left the document; true if anything was dropped. */
  prune(): boolean;
  captchas(): C[];
  containerOf(captchaId: string): Element | null;
  /** Holds as many captchas as a frame may report: new elements are not even looked at. */
  full(): boolean;
}

/**
 * Ids that stay the same for a widget as long as its document lives, and differ between
 * documents, so a token meant for one page can never land in the next one.
 */
export class WidgetIds {
  private readonly byElement = new WeakMap<Element, string>();
  private readonly byKey = new Map<string, string>();
  private next = 1;

  constructor(private readonly documentTag: string) {}

  idFor(el: Element, prefix: string): string {
    let id = this.byElement.get(el);
    if (!id) {
      id = `${prefix}-${this.documentTag}-${this.next++}`;
      this.byElement.set(el, id);
    }
    return id;
  }

  idForKey(key: string, prefix: string): string {
    let id = this.byKey.get(key);
    if (!id) {
      id = `${prefix}-${this.documentTag}-${this.next++}`;
      this.byKey.set(key, id);
    }
    return id;
  }

  peek(el: Element): string | undefined {
    return this.byElement.get(el);
  }

  peekKey(key: string): string | undefined {
    return this.byKey.get(key);
  }
}
