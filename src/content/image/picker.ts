/**
 * The element picker: a highlight and a hint bar in a closed shadow root (the page cannot reach
 * or restyle them). Tab / arrow keys move between candidates, Enter or a click picks, Escape
 * cancels. Only trusted input counts: a page can dispatch keys and clicks, never trusted ones.
 */

const TYPES = ['keydown', 'mousemove', 'click', 'scroll'];

const STYLE =
  ':host{all:initial}*{position:fixed;z-index:2147483647}p{pointer-events:none;margin:0;outline:3px solid #2563eb;background:#2563eb26}' +
  'div{top:0;left:0;right:0;font:14px system-ui,sans-serif;color:#fff;background:#1e3a8a;padding:8px}';

/**
 * Lets the user choose one of `candidates`; resolves with it, or null when cancelled.
 * `name` ("image", "field") is set on the host element, where tests wait for it; `hint` is the
 * bar's text; `trusted` tells user input from page-made events (replaced in unit tests).
 */
export function pickElement(candidates: Element[], name: string, hint: string, trusted: (event: Event) => boolean, start = 0): Promise<Element | null> {
  return new Promise((resolve) => {
    const count = candidates.length;
    if (!count) return resolve(null);
    const host = document.createElement('caprelay-picker');
    host.setAttribute('data-pick', name);
    const [style, box, bar] = ['style', 'p', 'div'].map((tag) => document.createElement(tag)) as [HTMLElement, HTMLElement, HTMLElement];
    style.textContent = STYLE;
    bar.setAttribute('role', 'status');
    host.attachShadow({ mode: 'closed' }).append(style, box, bar);
    let index = Math.min(start, count - 1);

    const place = (): void => {
      const { left, top, width, height } = candidates[index]!.getBoundingClientRect();
      box.style.cssText = `left:${left}px;top:${top}px;width:${width}px;height:${height}px`;
    };
    const show = (next: number): void => {
      index = (next + count) % count;
      candidates[index]!.scrollIntoView({ block: 'nearest' });
      bar.textContent = `${hint} (${index + 1}/${count})`;
      place();
    };
    const finish = (picked: Element | null): void => {
      for (const type of TYPES) removeEventListener(type, listener, true);
      host.remove();
      resolve(picked);
    };
    const listener = (event: Event): void => {
      if (!trusted(event)) return;
      const { type, key, shiftKey } = event as KeyboardEvent;
      if (type === 'scroll') return place();
      if (type === 'keydown') {
        if (key === 'Enter' || key === 'Escape') finish(key === 'Enter' ? candidates[index]! : null);
        else if (key === 'Tab' || key.startsWith('Arrow')) show(index + (/Up|Left/.test(key) || (key === 'Tab' && shiftKey) ? -1 : 1));
        else return;
      } else {
        // The pointer: over a candidate highlights it, a click on one picks it.
        let found = -1;
        for (let node = event.target as Element | null; node && found < 0; node = node.parentElement) found = candidates.indexOf(node);
        if (found < 0) return;
        if (type === 'click') finish(candidates[found]!);
        else if (found !== index) return show(found);
        else return;
      }
      // The page must not act on what the picker used (Tab would move its focus, Enter submit).
      event.preventDefault();
      event.stopImmediatePropagation();
    };
    for (const type of TYPES) addEventListener(type, listener, true);
    document.documentElement.append(host);
    show(index);
  });
}
