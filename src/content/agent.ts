/**
 * The detection and delivery agent of one frame: detectors + incremental scanner + the bridge
 * to the page-world probe. It has no extension APIs: the entry point wires it to messaging.
 */
import { isCaptcha, type Captcha } from '../shared/captcha';
import {
  MAX_CAPTCHAS_PER_FRAME,
  type DeliveryReport,
  type DeliverTokenMessage,
  type FrameCaptchasMessage,
} from '../shared/messages';
import {
  PROBE_DELIVER_EVENT,
  PROBE_SCAN_EVENT,
  PROBE_WIDGET_EVENT,
  PROBE_RESULT_EVENT,
  isProbeReport,
  parseDetail,
  type DeliverRequest,
} from '../shared/page-protocol';
import { afterDelivery } from './after-delivery';
import { WidgetIds } from './detector';
import { documentRoot, fire, isElement, listen, unlisten } from './dom';
import { FunCaptchaDetector, fillFunCaptchaToken } from './funcaptcha';
import { RecaptchaDetector, setFieldValue } from './recaptcha';
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
  readonly recaptcha = new RecaptchaDetector(this.ids);
  readonly funcaptcha = new FunCaptchaDetector(this.ids);
  private readonly scanner = new Scanner([this.recaptcha, this.funcaptcha], () => this.changed());
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
    addEventListener('pageshow', (event) => {
      if (event.persisted) reportAgain();
    });
    // Leaving (navigation, removal, the back-forward cache): this document's widgets go with it.
    addEventListener('pagehide', () => this.send({ type: 'frame-captchas', captchas: [] }));
  }

  /** The ids of the widgets this frame has now, for the background's "still there?" question. */
  captchaIds(): string[] {
    this.scanner.flush();
    return this.captchas().filter(isCaptcha).slice(0, MAX_CAPTCHAS_PER_FRAME).map((c) => c.id);
  }

  captchas(): Captcha[] {
    return [...this.recaptcha.captchas(), ...this.funcaptcha.captchas()];
  }

  /** Each listed widget with the element a control of ours belongs next to (v3 has none). */
  solveTargets(): { captchaId: string; container: Element }[] {
    const root = documentRoot();
    return this.captchas().flatMap((c) => {
      const container = c.family === 'recaptcha' ? this.recaptcha.containerOf(c.id) : this.funcaptcha.containerOf(c.id);
      return container && container !== root ? [{ captchaId: c.id, container }] : [];
    });
  }

  private changed(): void {
    this.askProbe();
    this.report(false);
  }

  private report(always: boolean): void {
    // What the background would refuse is left out here, so one odd widget cannot sink the
    // frame's whole list; a page can fake any number of widgets, the background takes this many.
    const captchas = this.captchas().filter(isCaptcha).slice(0, MAX_CAPTCHAS_PER_FRAME);
    const serialized = JSON.stringify(captchas);
    if (!always && serialized === this.lastSent) return;
    this.lastSent = serialized;
    const message: FrameCaptchasMessage = { type: 'frame-captchas', captchas };
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
    const target = isElement(event.target) ? event.target : null;
    const recorded =
      report.family === 'recaptcha' ? this.recaptcha.applyProbe(report, target) : this.funcaptcha.applyProbe(report, target);
    if (recorded) this.reportQueued = true;
  }

  deliver(message: DeliverTokenMessage): DeliveryReport {
    this.scanner.flush();
    const captcha = this.captchas().find((c) => c.id === message.captchaId);
    const container =
      captcha?.family === 'recaptcha'
        ? this.recaptcha.containerOf(message.captchaId)
        : captcha?.family === 'funcaptcha'
          ? this.funcaptcha.containerOf(message.captchaId)
          : null;
    if (!captcha || !container) return { delivered: false, reason: 'WIDGET_GONE', fieldsFilled: 0, callback: 'none' };

    const request: DeliverRequest = { family: captcha.family, token: message.token, v3: false };
    let fieldsFilled: number;
    if (captcha.family === 'recaptcha') {
      request.v3 = captcha.version === 'v3';
      request.siteKey = captcha.siteKey;
      const widgetId = this.recaptcha.widgetIdOf(captcha.id);
      if (widgetId !== undefined) request.widgetId = widgetId;
      if (captcha.callback) request.callback = captcha.callback;
      const fields = this.recaptcha.responseFields(captcha.id);
      for (const field of fields) setFieldValue(field, message.token);
      fieldsFilled = fields.length;
    } else {
      request.publicKey = captcha.publicKey;
      const callback = this.funcaptcha.callbackOf(captcha.id);
      if (callback) request.callback = callback;
      fieldsFilled = fillFunCaptchaToken(message.token, setFieldValue);
    }
    const callback = this.runPageCallback(container, request);
    if (message.then) afterDelivery(container, message.then);
    return { delivered: true, fieldsFilled, callback };
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
      fire(container, new CustomEvent(PROBE_DELIVER_EVENT, { bubbles: true, detail: JSON.stringify(request) }));
    } finally {
      unlisten(document, PROBE_RESULT_EVENT, listener);
    }
    return outcome;
  }
}

