/**
 * CapRelay's optional in-page "Solve" button, placed after each widget. It lives in a closed
 * shadow root, so the page cannot reach the button itself, and it acts only on trusted events:
 * a page can dispatch a click on the host element, but never one with isTrusted set.
 *
 * The widget's container is the page's (any element, a form among them, whose controls can
 * shadow its members): it is reached through page-dom. The host, its closed shadow root and the
 * button are CapRelay's own, made here, of kinds with no named properties: used directly.
 */
import { connected, documentRoot, rootNode } from '../page-dom/dom';
import { after, create } from '../page-dom/elements';

const HOST_TAG = 'caprelay-solve';

export type ButtonState = 'idle' | 'solving' | 'solved';

export interface ButtonTarget {
  captchaId: string;
  container: Element;
}

interface Placed {
  host: HTMLElement;
  button: HTMLButtonElement;
  container: Element;
}

const STYLE = `
  :host { all: initial; display: block; width: max-content; margin: 4px 0; }
  button { font: 13px/1.2 system-ui, sans-serif; border: 0; border-radius: 6px; padding: 6px 12px;
           background: #2563eb; color: #fff; cursor: pointer; }
  button:disabled { opacity: .7; cursor: default; }
  button:focus-visible { outline: 2px solid #1d4ed8; outline-offset: 2px; }
`;

export class SolveButtons {
  private readonly placed = new Map<string, Placed>();

  constructor(
    /** Read when a button shows: the first i18n lookup in a frame costs milliseconds, and most frames never show one. */
    private readonly label: (state: ButtonState) => string,
    private readonly onSolve: (captchaId: string) => void,
  ) {}

  /** Places buttons for these widgets and removes the ones whose widget is gone. */
  sync(targets: readonly ButtonTarget[]): void {
    const wanted = new Set(targets.map((t) => t.captchaId));
    for (const [id, placed] of this.placed) {
      if (!wanted.has(id) || !connected(placed.container)) {
        placed.host.remove();
        this.placed.delete(id);
      }
    }
    for (const target of targets) {
      const existing = this.placed.get(target.captchaId);
      if (existing?.host.isConnected) continue;
      // Nowhere to go beside the root element, or beside an element with no parent (its own root).
      if (target.container === documentRoot() || rootNode(target.container) === target.container) continue;
      this.placed.set(target.captchaId, this.place(target));
    }
  }

  clear(): void {
    for (const placed of this.placed.values()) placed.host.remove();
    this.placed.clear();
  }

  setState(captchaId: string, state: ButtonState): void {
    const placed = this.placed.get(captchaId);
    if (!placed) return;
    placed.button.textContent = this.label(state);
    placed.button.disabled = state !== 'idle';
  }

  private place(target: ButtonTarget): Placed {
    const host = create(HOST_TAG);
    const root = host.attachShadow({ mode: 'closed' });
    const style = create('style');
    style.textContent = STYLE;
    const button = create('button');
    button.type = 'button';
    button.textContent = this.label('idle');
    button.addEventListener('click', (event) => {
      // Only a real user gesture spends money; page scripts cannot forge isTrusted.
      if (!event.isTrusted || button.disabled) return;
      event.stopPropagation();
      this.setState(target.captchaId, 'solving');
      this.onSolve(target.captchaId);
    });
    root.append(style, button);
    after(target.container, host);
    return { host, button, container: target.container };
  }
}
