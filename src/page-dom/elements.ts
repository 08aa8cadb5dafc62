/**
 * More of page-dom (./dom.ts), in the same way: prototype members taken when this module loads.
 * These serve the content script's lazily loaded parts (the image flows, the in-page button), so
 * they stay out of dom.ts, which the page-world probe carries whole into every frame. Each is
 * taken by a call marked pure: a bundle that uses none of them (the content script's core, which
 * imports fill only through the families' markers) carries none of them.
 */
/* eslint-disable @typescript-eslint/unbound-method -- as in dom.ts: prototype members taken once, always called with .call(receiver) */
/* eslint-disable @typescript-eslint/no-deprecated -- taking createElement off the prototype resolves to its deprecated overload */
import { accessor, documentOrder, getter, take } from './dom';

const $create = /* @__PURE__ */ take(() => Document.prototype.createElement);
const $rect = /* @__PURE__ */ take(() => Element.prototype.getBoundingClientRect);
const $after = /* @__PURE__ */ take(() => Element.prototype.after);
const $append = /* @__PURE__ */ take(() => Element.prototype.append);
const $scroll = /* @__PURE__ */ take(() => Element.prototype.scrollIntoView);
const $focus = /* @__PURE__ */ take(() => HTMLElement.prototype.focus);
const $editable = /* @__PURE__ */ take(() => getter<boolean>(HTMLElement.prototype, 'isContentEditable'));
const $text = /* @__PURE__ */ take(() => accessor(Element.prototype, 'textContent'));

/** An element made with the document's own createElement (a named image shadows `document.createElement`). */
export const create = ((tag: string) => $create.call(document, tag)) as Document['createElement'];
export const rect = (el: Element): DOMRect => $rect.call(el);
export const editable = (el: Element): boolean => $editable.call(el);
export const text = (node: Node): string => ($text!.get!.call(node) as string | null) ?? '';
export const setText = (node: Node, value: string): void => $text!.set!.call(node, value);
/** True when `other` comes after `node` in document order. */
export const follows = (node: Node, other: Node): boolean => documentOrder(node, other) < 0;
export const after = (node: Element, added: Node): void => $after.call(node, added);
export const append = (parent: Element, added: Node): void => $append.call(parent, added);
export const focus = (el: Element): void => $focus.call(el as HTMLElement);
export const reveal = (el: Element): void => $scroll.call(el, { block: 'nearest' });
