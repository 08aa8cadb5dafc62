/**
 * What happens in the frame once a token is in, when the user switched it on: the page signal
 * (for scripts that only see the page) and auto-submit. The signal is an attribute and a plain
 * event on the widget's element: it names no key, no task and no other frame, only "this widget
 * was solved". Page code can shadow methods on a form or an element by name, so every call goes
 * through the prototypes as they were when this script loaded.
 */
import type { AfterDelivery } from '../shared/messages';
import { closest, connected, fire, query } from '../page-dom/dom';

export const SOLVED_ATTRIBUTE = 'data-caprelay-solved';
export const SOLVED_EVENT = 'caprelay:solved';

/* eslint-disable @typescript-eslint/unbound-method -- prototype members taken once, always called with .call(receiver) */
const $setAttribute = Element.prototype.setAttribute;
const $requestSubmit = HTMLFormElement.prototype.requestSubmit;
const $click = HTMLElement.prototype.click;

export function afterDelivery(container: Element, then: AfterDelivery): void {
  if (then.signal) {
    $setAttribute.call(container, SOLVED_ATTRIBUTE, '');
    fire(container, new Event(SOLVED_EVENT, { bubbles: true, composed: true }));
  }
  const submit = then.submit;
  if (!submit) return;
  // After the page's callback has had its turn: sites enable the button or re-render from it.
  setTimeout(() => {
    try {
      if (submit === 'form') {
        const form = closest(container, 'form');
        if (form instanceof HTMLFormElement && connected(form)) $requestSubmit.call(form);
      } else {
        const target = query(document, submit.click);
        if (target instanceof HTMLElement) $click.call(target);
      }
    } catch {
      // A selector the page's document cannot parse: there is nothing to click.
    }
  }, 0);
}
