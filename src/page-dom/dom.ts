/**
 * DOM access that a page cannot redirect. Properties looked up on an element or the document
 * can be shadowed by named elements in every world (`<input name="matches">` makes
 * `form.matches` that input; `<img name="querySelectorAll">` does the same to `document`), and
 * in the page's world the page can replace prototype members. So every call goes through the
 * prototype members as they were when this module loaded (document_start for the probe).
 * The content scripts touch the page's DOM only through here and ./elements.ts (see SECURITY.md,
 * DOM clobbering).
 */
/* eslint-disable @typescript-eslint/unbound-method -- the whole point: prototype members taken once, always called with .call(receiver) */
/* eslint-disable @typescript-eslint/no-deprecated -- taking querySelector & co. off a prototype resolves to their deprecated-tag-name overload */
type Getter<T> = (this: unknown) => T;

/** The first accessor named so, from `proto` down (the one a receiver of that prototype uses). */
export function accessor(proto: object | null, name: string): PropertyDescriptor | undefined {
  for (let p = proto; p; p = Object.getPrototypeOf(p) as object | null) {
    const found = Object.getOwnPropertyDescriptor(p, name);
    if (found?.get) return found;
  }
}

export function getter<T>(proto: object | null, name: string): Getter<T> {
  const get = accessor(proto, name)?.get as Getter<T> | undefined;
  return (
    get ??
    function (this: unknown) {
      return (this as Record<string, T>)[name]!;
    }
  );
}

/**
 * A capture marked pure (`/* @__PURE__ *\/ take(() => …)`): a bundle that never uses it reads
 * nothing, so a frame's content script core does not build interfaces it has no use for.
 */
export const take = <T>(read: () => T): T => read();

const E = Element.prototype;
const N = Node.prototype;
const D = Object.getPrototypeOf(document) as Document;
const T = EventTarget.prototype;
const doc = document;
const { matches: $matches, closest: $closest, getAttribute: $getAttribute } = E;
const $contains = N.contains;
const $position = /* @__PURE__ */ take(() => N.compareDocumentPosition);
const $queryAll = E.querySelectorAll;
const $fragmentQueryAll = /* @__PURE__ */ take(() => DocumentFragment.prototype.querySelectorAll);
const $query = E.querySelector;
const $docQueryAll = D.querySelectorAll;
const $docQuery = D.querySelector;
const $byId = D.getElementById;
const $byTag = D.getElementsByTagName;
const $item = HTMLCollection.prototype.item;
const $length = /* @__PURE__ */ getter<number>(HTMLCollection.prototype, 'length');
const $listen = T.addEventListener;
const $unlisten = T.removeEventListener;
const $dispatch = T.dispatchEvent;
const $localName = /* @__PURE__ */ getter<string>(E, 'localName');
// Looked up from the receiver's own prototype down (the first found is what the receiver uses).
const $parent = /* @__PURE__ */ getter<Element | null>(E, 'parentElement');
const $firstChild = /* @__PURE__ */ getter<Element | null>(E, 'firstElementChild');
const $connected = /* @__PURE__ */ getter<boolean>(E, 'isConnected');
const $nodeType = /* @__PURE__ */ getter<number>(N, 'nodeType');
const $root = /* @__PURE__ */ getter<Element>(D, 'documentElement');
const $body = /* @__PURE__ */ getter<HTMLElement | null>(D, 'body');
const $head = /* @__PURE__ */ getter<HTMLHeadElement | null>(D, 'head');
const $baseURI = /* @__PURE__ */ getter<string>(D, 'baseURI');
const $rootNode = N.getRootNode;
const $composedPath = /* @__PURE__ */ take(() => Event.prototype.composedPath);

export const localName = (el: Element): string => $localName.call(el);
export const attr = (el: Element, name: string): string | null => $getAttribute.call(el, name);
export const matches = (el: Element, selector: string): boolean => $matches.call(el, selector);
export const closest = (el: Element, selector: string): Element | null => $closest.call(el, selector);
export const contains = (outer: Node, inner: Node): boolean => $contains.call(outer, inner);
/** Document order, for sorting: negative when `a` comes first. */
export const documentOrder = (a: Node, b: Node): number => ($position.call(a, b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : a === b ? 0 : 1);
export const parent = (node: Node): Element | null => $parent.call(node);
export const firstChild = (el: Element): Element | null => $firstChild.call(el);
export const connected = (node: Node): boolean => $connected.call(node);
/** The live-free NodeList itself: for walks that may stop early, with no array copy of thousands of nodes. */
export const queryNodes = <K extends Element = Element>(root: Element | Document | ShadowRoot, selector: string): NodeListOf<K> =>
  (root === doc ? $docQueryAll : $nodeType.call(root) === 11 ? $fragmentQueryAll : $queryAll).call(root, selector) as NodeListOf<K>;
export const queryAll = <K extends Element = Element>(root: Element | Document | ShadowRoot, selector: string): K[] => Array.from(queryNodes<K>(root, selector));
export const query = (root: Element | Document, selector: string): Element | null => (root === doc ? $docQuery : $query).call(root, selector);
export const byId = (id: string): Element | null => $byId.call(doc, id);
/** A live collection: the browser keeps it current, so watching its length costs no DOM walk in script. */
export const byTag = (tag: string): HTMLCollection => $byTag.call(doc, tag);
export const collectionLength = (list: HTMLCollection): number => $length.call(list);
export const collectionItem = (list: HTMLCollection, index: number): Element | null => $item.call(list, index);
export const documentRoot = (): Element => $root.call(doc);
export const documentBody = (): HTMLElement | null => $body.call(doc);
export const documentHead = (): HTMLHeadElement | null => $head.call(doc);
export const baseURI = (): string => $baseURI.call(doc);
/** The document, or the shadow root an element lives in. */
export const rootNode = (node: Node): Node => $rootNode.call(node);
/** Where an event really started, inside open shadow trees (a listener on the document sees their host). */
export const origin = (event: Event): EventTarget | null => $composedPath.call(event)[0] ?? null;
export const listen = (target: EventTarget, type: string, fn: EventListener, capture = true): void => $listen.call(target, type, fn, capture);
export const unlisten = (target: EventTarget, type: string, fn: EventListener, capture = true): void => $unlisten.call(target, type, fn, capture);
export const fire = (target: EventTarget, event: Event): boolean => $dispatch.call(target, event);

/** A DOM element, told by the platform's brand check: runs no page code, not even a Proxy trap. */
export function isElement(value: unknown): value is Element {
  try {
    return $nodeType.call(value) === 1;
  } catch {
    return false;
  }
}

/** The element a page named: itself, or the one its selector finds (null for anything else). */
export function elementOf(target: unknown): Element | null {
  if (isElement(target)) return target;
  if (typeof target !== 'string') return null;
  try {
    return query(doc, target);
  } catch {
    return null;
  }
}
