/**
 * Puts a value into a field as a user edit would: through the element's own value setter (React
 * watches it), then the input and change events that Vue, Angular and plain forms listen for.
 * One way for every field CapRelay fills: widget response fields and typed image answers.
 */
import { fire } from '../page-dom/dom';
import { setText } from '../page-dom/elements';

export function fill(field: Element, value: string): void {
  const proto = field instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : field instanceof HTMLInputElement ? HTMLInputElement.prototype : null;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- the prototype's own setter, called with .call(field)
  const setter = proto && Object.getOwnPropertyDescriptor(proto, 'value')?.set;
  if (setter) setter.call(field, value);
  // A contenteditable field may be a form, whose controls can shadow textContent.
  else setText(field, value);
  for (const type of ['input', 'change']) fire(field, new Event(type, { bubbles: true, composed: true }));
}
