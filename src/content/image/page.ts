/**
 * What the image flow looks for in a page: pictures a captcha may be, fields its answer may go
 * into, selectors to find both again on the next visit, and typing that frameworks notice.
 */
import { fill } from '../fill';
import { imageUrlOf } from './capture';

function shown(el: Element, minWidth: number, minHeight: number): boolean {
  const { width, height } = el.getBoundingClientRect();
  return width >= minWidth && height >= minHeight;
}

/** Pictures big enough to be a captcha, in document order. */
export const imageCandidates = (): Element[] =>
  [...document.querySelectorAll('img,canvas,input[type=image],[style*=background]')].filter((el) => shown(el, 40, 16) && (el.localName === 'canvas' || imageUrlOf(el)));

/** Text fields a user could type an answer into, in document order. */
export const fieldCandidates = (): Element[] =>
  [...document.querySelectorAll('input,textarea,[contenteditable]')].filter((el) => {
    const field = el as HTMLInputElement;
    return (
      (el.localName === 'input' ? /^(text|search|tel|number|email|url)$/.test(field.type) : el.localName === 'textarea' || (el as HTMLElement).isContentEditable) &&
      !field.disabled &&
      !field.readOnly &&
      shown(el, 8, 8)
    );
  });

/** Index of the first field after the image (where captcha answers usually are), else 0. */
export const firstFieldAfter = (image: Element, fields: Element[]): number =>
  Math.max(0, fields.findIndex((field) => image.compareDocumentPosition(field) & Node.DOCUMENT_POSITION_FOLLOWING));

/** The one element a selector names, if it names exactly one. */
export function find(selector: string): Element | null {
  try {
    const found = document.querySelectorAll(selector);
    return found.length === 1 ? found[0]! : null;
  } catch {
    return null;
  }
}

/** A CSS selector that finds `el` again on a later visit: an id, else names and positions. */
export function selectorOf(el: Element): string | null {
  const parts: string[] = [];
  for (let node: Element | null = el; node && node !== document.documentElement; node = node.parentElement) {
    // Generated ids (runs of digits) change between visits; plain ids and names rarely do.
    if (node.id && !/\d{3}/.test(node.id)) {
      parts.unshift(`#${CSS.escape(node.id)}`);
      break;
    }
    const name = node.getAttribute('name');
    const same = [...(node.parentElement?.children ?? [])].filter((child) => child.localName === node.localName);
    parts.unshift(node.localName + (name ? `[name="${CSS.escape(name)}"]` : same.length > 1 ? `:nth-of-type(${same.indexOf(node) + 1})` : ''));
  }
  const selector = parts.join('>');
  return selector.length <= 500 && find(selector) === el ? selector : null;
}

/** Puts the answer into the field as typing would (focused first, as a user's would be). */
export function typeInto(field: Element, text: string): void {
  (field as HTMLElement).focus();
  fill(field, text);
}
