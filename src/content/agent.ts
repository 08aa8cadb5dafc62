/**
 * The detection and delivery agent of one frame: detectors + incremental scanner + the bridge
 * to the page-world probe. It has no extension APIs: the entry point wires it to messaging.
 */
import { isCaptcha, type Captcha } from '../shared/captcha';
import { MAX_CAPTCHAS_PER_FRAME, type DeliveryReport, type DeliverTokenMessage, type FrameCaptchasMessage } from '../shared/messages';
import {
  PROBE_DECIDE_EVENT,
  PROBE_DELIVER_EVENT,
  PROBE_URL_EVENT,
  PROBE_SCAN_EVENT,
  PROBE_WIDGET_EVENT,
  PROBE_RESULT_EVENT,
  isProbeReport,
  parseDetail,
  type DeliverRequest,
} from '../shared/page-protocol';
import { afterDelivery } from './after-delivery';
import { WidgetIds, type FamilyDetector } from './detector';
import { documentRoot, fire, isElement, listen, origin, unlisten } from '../page-dom/dom';
import { CONTENT_FAMILIES } from './families';
import { Scanner } from './scanner';

/** Probe reports taken per burst (one task); a real probe sends one per widget it knows. */
const PROBE_BURST_MAX = MAX_CAPTCHAS_PER_FRAME;

function randomTag(): string {
  return Math.random().toString(36).slice(2, 8);
}

/**
 * The address an about: frame belongs to: the nearest ancestor document with a real one. Not
 * document.baseURI, which the page sets at will with <base>; a Location cannot be faked. An
 * ancestor of another origin cannot be read: then there is none, and the frame is not listed.
 */
function inheritedUrl(): string | undefined {
  try {
    let win: Window = window;
    for (let depth = 0; depth < 16 && win.location.protocol === 'about:' && win.parent !== win; depth++) win = win.parent;
    return win.location.protocol === 'about:' ? undefined : win.location.href;
  } catch {
    return undefined;
  }
}

export class FrameAgent {
  readonly ids = new WidgetIds(randomTag());
  readonly detectors: readonly FamilyDetector[] = CONTENT_FAMILIES.map((create) => create(this.ids));
  private readonly scanner = new Scanner(this.detectors, () => this.changed());
  private lastSent = '';
  private reportQueued = false;
  private burst = 0;

  constructor(private readonly send: (message: FrameCaptchasMessage) => void) {}

  start(): void {
    listen(document, PROBE_WIDGET_EVENT, (event) => this.onProbeReport(event));
    this.scanner.start(documentRoot());
    this.askProbe();
    // Always report once, even an empty list: it tells the background this document is live.
    this.report(true);
    // The browser reports same-document navigations as a new load, which clears the tab's list.
    const reportAgain = (): void => void setTimeout(() => this.report(true), 50);
    addEventListener('hashchange', reportAgain);
    addEventListener('popstate', reportAgain);
    listen(document, PROBE_URL_EVENT, reportAgain);
    addEventListener('pageshow', (event) => {
      if (event.persisted) reportAgain();
    });
    // Leaving (navigation, removal, the back-forward cache): this document's widgets go with it.
    addEventListener('pagehide', () => this.send({ type: 'frame-captchas', captchas: [] }));
  }

  /** The ids of the widgets this frame has now, for the background's "still there?" question. */
  captchaIds(): string[] {
    this.scanner.flush();
    return this.captchas()
      .filter(isCaptcha)
      .slice(0, MAX_CAPTCHAS_PER_FRAME)
      .map((c) => c.id);
  }

  captchas(): Captcha[] {
    return this.detectors.flatMap((detector) => detector.captchas());
  }

  /** The detector that found this captcha, with it. */
  private find(captchaId: string): { detector: FamilyDetector; captcha: Captcha; container: Element } | null {
    for (const detector of this.detectors) {
      const captcha = detector.captchas().find((c) => c.id === captchaId);
      const container = captcha && detector.containerOf(captchaId);
      if (captcha && container) return { detector, captcha, container };
    }
    return null;
  }

  /** Each listed widget with the element a control of ours belongs next to (v3 has none). */
  solveTargets(): { captchaId: string; container: Element }[] {
    const root = documentRoot();
    return this.detectors.flatMap((detector) =>
      detector.captchas().flatMap((c) => {
        const container = detector.containerOf(c.id);
        return container && container !== root ? [{ captchaId: c.id, container }] : [];
      }),
    );
  }

  private changed(): void {
    this.askProbe();
    this.report(false);
  }

  private report(always: boolean): void {
    // What the background would refuse is left out here, so one odd widget cannot sink the
    // frame's whole list; a page can fake any number of widgets, the background takes this many.
    const captchas = this.captchas().filter(isCaptcha).slice(0, MAX_CAPTCHAS_PER_FRAME);
    const notices = [...new Set(this.detectors.flatMap((d) => d.notices?.() ?? []))];
    const serialized = JSON.stringify([captchas, notices]);
    if (!always && serialized === this.lastSent) return;
    this.lastSent = serialized;
    const message: FrameCaptchasMessage = { type: 'frame-captchas', captchas };
    if (notices.length) message.notices = notices;
    // An about:srcdoc / about:blank frame's own URL means nothing to the service.
    if (location.protocol === 'about:') {
      const inherited = inheritedUrl();
      if (inherited) message.inheritedUrl = inherited;
    }
    this.send(message);
  }

  private askProbe(): void {
    fire(document, new CustomEvent(PROBE_SCAN_EVENT));
  }

  private onProbeReport(event: Event): void {
    // The page can send any number of these in one go: the probe itself sends one per widget.
    // Past a sane number per burst they are not even parsed, and one report follows the burst.
    if (this.burst++ === 0) {
      queueMicrotask(() => {
        this.burst = 0;
        if (this.reportQueued) this.report(false);
        this.reportQueued = false;
      });
    }
    if (this.burst > PROBE_BURST_MAX) return;
    const report = parseDetail((event as CustomEvent<unknown>).detail, isProbeReport);
    if (!report) return;
    const start = origin(event);
    const target = isElement(start) ? start : null;
    let recorded = false;
    for (const detector of this.detectors) if (detector.family === report.family) recorded = detector.applyProbe(report, target) || recorded;
    if (recorded) this.reportQueued = true;
  }

  deliver(message: DeliverTokenMessage): DeliveryReport {
    this.scanner.flush();
    const found = this.find(message.captchaId);
    if (!found) return { delivered: false, reason: 'WIDGET_GONE', fieldsFilled: 0, callback: 'none' };
    const plan = found.detector.deliver(found.captcha, message.token);
    const callback = plan.request ? this.runPageCallback(found.container, plan.request) : 'none';
    if (message.then) afterDelivery(found.container, message.then);
    return { delivered: true, fieldsFilled: plan.fieldsFilled, callback };
  }

  /**
   * The background's answer to a report: CapRelay will not solve `declined` here (type off, site
   * not allowed). Widgets the probe holds are then let go to the page's own widget; the rest are
   * CapRelay's to solve.
   */
  decide(declined: readonly string[]): void {
    const claim: string[] = [];
    const release: string[] = [];
    for (const detector of this.detectors) {
      if (!detector.refOf) continue;
      for (const captcha of detector.captchas()) {
        const ref = detector.refOf(captcha.id);
        if (ref) (declined.includes(captcha.id) ? release : claim).push(ref);
      }
      if (detector.forget?.(release)) this.reportQueued = true;
    }
    if (!claim.length && !release.length) return;
    fire(document, new CustomEvent(PROBE_DECIDE_EVENT, { detail: JSON.stringify({ claim, release }) }));
    if (release.length) this.report(false);
  }

  /** Asks the probe to run the page's callback; the probe answers synchronously during dispatch. */
  private runPageCallback(container: Element, request: DeliverRequest): DeliveryReport['callback'] {
    let outcome: DeliveryReport['callback'] = 'none';
    const listener = (event: Event): void => {
      const detail = (event as CustomEvent<unknown>).detail;
      if (detail === 'called' || detail === 'failed' || detail === 'none') outcome = detail;
    };
    listen(document, PROBE_RESULT_EVENT, listener);
    try {
      // Composed: a widget in a web component's shadow tree still reaches the probe's listener.
      fire(container, new CustomEvent(PROBE_DELIVER_EVENT, { bubbles: true, composed: true, detail: JSON.stringify(request) }));
    } finally {
      unlisten(document, PROBE_RESULT_EVENT, listener);
    }
    return outcome;
  }
}
