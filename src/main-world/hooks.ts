/**
 * The page-world hooks, loaded (scripting, world MAIN) into a frame once a vendor marker showed
 * there: they attach to the probe's channel, take over the calls it recorded, report widgets to
 * the content script and run the page's callbacks with delivered tokens. Everything they use of
 * the page's built-ins and DOM comes from the probe, which took it at document_start.
 */
import {
  isDeliverRequest,
  isProbeDecision,
  PROBE_DECIDE_EVENT,
  PROBE_DELIVER_EVENT,
  PROBE_RESULT_EVENT,
  PROBE_SCAN_EVENT,
  PROBE_URL_EVENT,
  PROBE_WIDGET_EVENT,
  type ProbeReport,
} from '../shared/page-protocol';
import { CHANNEL_KEY, type FamilyHooks, type ProbeChannel } from './channel';
import { FAMILY_HOOKS } from './families/hooks';
import { guarded } from './intercept';

function attach(channel: ProbeChannel): void {
  const { builtins: b, dom } = channel;
  const fire = (target: EventTarget, type: string, detail: string): void => {
    try {
      dom.fire(target, new b.PageEvent(type, { bubbles: true, composed: true, detail }));
    } catch {
      /* the node went away */
    }
  };
  const emit = (report: ProbeReport, target: Element | null): void => fire(target && dom.connected(target) ? target : dom.documentRoot(), PROBE_WIDGET_EVENT, b.stringify(report));
  const families: FamilyHooks[] = FAMILY_HOOKS.map((create) => create({ channel, emit }));
  const recorded = channel.attach({
    onCall: (call) => {
      for (const family of families) guarded(() => family.onCall?.(call))();
    },
    answer: (call) => {
      for (const family of families) {
        const answer = family.answer?.(call);
        if (answer) return answer;
      }
      return undefined;
    },
  });
  for (const call of recorded) for (const family of families) guarded(() => family.onCall?.(call))();
  const report = guarded(() => {
    for (const family of families) guarded(() => family.report())();
  });
  dom.listen(document, PROBE_SCAN_EVENT, report);
  dom.listen(
    document,
    PROBE_DELIVER_EVENT,
    guarded((event: Event) => {
      const request = channel.parseDetail(b.detailOf ? b.detailOf.call(event) : (event as CustomEvent<unknown>).detail, isDeliverRequest);
      if (!request) return;
      let outcome: 'called' | 'none' | 'failed' = 'none';
      for (const family of families) {
        const result = family.deliver?.(request) ?? 'none';
        if (result !== 'none') outcome = result;
      }
      fire(document, PROBE_RESULT_EVENT, outcome);
    }),
  );
  dom.listen(
    document,
    PROBE_DECIDE_EVENT,
    guarded((event: Event) => {
      const decision = channel.parseDetail(b.detailOf ? b.detailOf.call(event) : (event as CustomEvent<unknown>).detail, isProbeDecision);
      if (decision) for (const family of families) guarded(() => family.decide?.(decision.claim, decision.release))();
    }),
  );
  // Same-document navigations (single-page apps, Cloudflare's challenge page): the content
  // script reports again, so the background has the frame's current address. Set here, not in
  // the probe: before the detectors load there is no report to repeat, and their first one
  // carries the address of the moment.
  for (const method of ['pushState', 'replaceState'] as const) {
    channel.intercept.property(History.prototype, method, (fn) =>
      channel.intercept.fn(fn, (original, self, args) => {
        const result = b.apply(original, self, args);
        b.microtask(() => fire(document, PROBE_URL_EVENT, ''));
        return result;
      }),
    );
  }
  report();
}

const channel = (() => {
  try {
    const descriptor = Object.getOwnPropertyDescriptor(window, CHANNEL_KEY);
    return descriptor && 'value' in descriptor ? (descriptor.value as ProbeChannel) : undefined;
  } catch {
    return undefined;
  }
})();
if (channel) attach(channel);
