import type { Captcha } from '../shared/captcha';
import type { Notice } from '../shared/messages';
import type { DeliverRequest, ProbeReport } from '../shared/page-protocol';

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

/** Where a token went in the page: fields filled, and what the page-world probe should run. */
export interface DeliveryPlan {
  fieldsFilled: number;
  /** The probe's part (callbacks, the API's own answers); none when the family needs no page world. */
  request?: DeliverRequest;
}

/**
 * A captcha family as the content script knows it: its detector (markup and probe reports) and
 * how its token is put into the page. One module per family in ./families, listed in
 * ./families/index.ts; the agent iterates the list and never branches on a family.
 */
export interface FamilyDetector<C extends Captcha = Captcha> extends Detector<C> {
  readonly family: C['family'];
  /** A report from the page-world probe for this family; `target` is where it was dispatched. */
  applyProbe(report: ProbeReport, target: Element | null): boolean;
  /** Fills the fields of this captcha with the token (already found in this frame). */
  deliver(captcha: C, token: string): DeliveryPlan;
  /** For widgets the probe holds (GeeTest v3): the probe's handle on this captcha. */
  refOf?(captchaId: string): string | undefined;
  /** Drops held widgets CapRelay will not solve here (the page's own widget takes over). */
  forget?(refs: readonly string[]): boolean;
  /** What the frame shows of this family that is no captcha to solve, worth telling the user. */
  notices?(): Notice[];
}

export type FamilyFactory = (ids: WidgetIds) => FamilyDetector;
