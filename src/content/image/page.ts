/**
 * What the image flow looks for in a page: pictures a captcha may be, fields its answer may go
 * into, selectors to find both again on the next visit, and typing that frameworks notice.
 */
import { attr, documentRoot, localName, parent, queryAll, queryNodes } from '../../page-dom/dom';
import { editable, focus, follows, rect } from '../../page-dom/elements';
import { fill } from '../fill';
import { imageUrlOf } from './capture';

function shown(el: Element, minWidth: number, minHeight: number): boolean {
  const { width, height } = rect(el);
  return width >= minWidth && height >= minHeight;
}

/** Pictures big enough to be a captcha, in document order. */
export const imageCandidates = (): Element[] =>
  queryAll(document, 'img,canvas,input[type=image],[style*=background]').filter((el) => shown(el, 40, 16) && (localName(el) === 'canvas' || imageUrlOf(el)));

/** Text fields a user could type an answer into, in document order. */
export const fieldCandidates = (): Element[] =>
  queryAll(document, 'input,textarea,[contenteditable]').filter((el) => {
    // Inputs and textareas have no named properties; any other element may be a form.
    const name = localName(el);
    const field = el as HTMLInputElement;
    return (
      (name === 'input' || name === 'textarea' ? (name === 'textarea' || /^(text|search|tel|number|email|url)$/.test(field.type)) && !field.disabled && !field.readOnly : editable(el)) &&
      shown(el, 8, 8)
    );
  });

/** Index of the first field after the image (where captcha answers usually are), else 0. */
export const firstFieldAfter = (image: Element, fields: Element[]): number =>
  Math.max(
    0,
    fields.findIndex((field) => follows(image, field)),
  );

/** The one element a selector names, if it names exactly one. */
export function find(selector: string): Element | null {
  try {
    const found = queryNodes(document, selector);
    return found.length === 1 ? found[0]! : null;
  } catch {
    return null;
  }
}

/** A CSS selector that finds `el` again on a later visit: an id, else names and positions. */
export function selectorOf(el: Element): string | null {
  const parts: string[] = [];
  for (let node: Element | null = el; node && node !== documentRoot(); node = parent(node)) {
    const id = attr(node, 'id');
    // Generated ids (runs of digits) change between visits; plain ids and names rarely do.
    if (id && !/\d{3}/.test(id)) {
      parts.unshift(`#${CSS.escape(id)}`);
      break;
    }
    const name = attr(node, 'name');
    const tag = localName(node);
    const box = parent(node);
    const same = box ? queryAll(box, `:scope>${CSS.escape(tag)}`) : [];
    parts.unshift(tag + (name ? `[name="${CSS.escape(name)}"]` : same.length > 1 ? `:nth-of-type(${same.indexOf(node) + 1})` : ''));
  }
  const selector = parts.join('>');
  return selector.length <= 500 && find(selector) === el ? selector : null;
}

/** Puts the answer into the field as typing would (focused first, as a user's would be). */
export function typeInto(field: Element, text: string): void {
  focus(field);
  fill(field, text);
}
