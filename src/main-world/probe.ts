/**
 * Page-world probe, in every frame at document_start: install and dispatch, nothing more. It
 * takes the built-ins and DOM helpers before any page script can replace them, sets each
 * family's traps (./families), records the calls that pass through them, and tells the content
 * script which families showed (so their detectors load there). The hooks that read page memory
 * and run callbacks load later, only in such frames, and attach through the channel.
 */
import * as dom from '../page-dom/dom';
import { parseDetail, PROBE_MARKER_EVENT, PROBE_SCAN_EVENT } from '../shared/page-protocol';
import { CHANNEL_KEY, type AttachedHooks, type ProbeChannel, type TrapCall, type TrapKit } from './channel';
import { FAMILY_TRAPS } from './families/traps';
import { guarded, Interceptor, takeBuiltins } from './intercept';

/** Calls kept for the hooks until they attach; a page making more is making noise. */
const MAX_RECORDED = 300;
/**
 * A held call goes through after this long if the hooks never attach: the page must keep working.
 * Generous, because a call let through spends a single-use challenge CapRelay may then be asked
 * to solve: on a busy machine, loading the hooks into a frame has taken over 4 s.
 */
const HOLD_LIMIT_MS = 8_000;

function install(): void {
  const b = takeBuiltins();
  const page = window as unknown as Record<string, unknown>;
  const intercept = new Interceptor(b);
  if (intercept.own(page, CHANNEL_KEY) !== undefined) return;
  const recorded: TrapCall[] = [];
  const markers = new Set<string>();
  let hooks: AttachedHooks | undefined;

  const sendMarkers = (): void => {
    if (!markers.size) return;
    try {
      dom.fire(document, new b.PageEvent(PROBE_MARKER_EVENT, { detail: b.stringify([...markers]) }));
    } catch {
      /* the document went away */
    }
  };
  const marker = (family: string): void => {
    if (markers.has(family)) return;
    markers.add(family);
    sendMarkers();
  };

  const kitFor = (family: string): TrapKit => ({
    intercept,
    dom,
    marker: () => marker(family),
    record: (name, fn, options = {}) => {
      if (typeof fn === 'function') marker(family);
      const push = (call: TrapCall): void => {
        if (hooks) guarded(hooks.onCall)(call);
        else if (recorded.length < MAX_RECORDED) recorded.push(call);
      };
      if (options.construct) {
        return intercept.ctor(fn, (args) => push({ name, original: fn as TrapCall['original'], self: undefined, args, ...(options.meta && { meta: options.meta }) }));
      }
      return intercept.fn(fn, (original, self, args) => {
        const call: TrapCall = { name, original, self, args };
        if (options.meta) call.meta = options.meta;
        if (options.answerable && hooks?.answer) {
          call.offered = true;
          try {
            const answer = hooks.answer(call);
            if (answer) return answer.value;
          } catch {
            /* the page's own function answers */
          }
        }
        if (options.hold) {
          // Held until the hooks say (they get the call and may release it), or until they are late.
          let released = false;
          call.held = true;
          call.release = () => {
            if (released) return undefined;
            released = true;
            call.held = false;
            return b.apply(original, self, args);
          };
          if (!hooks)
            b.setTimeout(() => {
              if (!hooks) call.release?.();
            }, HOLD_LIMIT_MS);
        } else {
          call.result = b.apply(original, self, args);
        }
        push(call);
        return call.result;
      });
    },
  });

  const kits = FAMILY_TRAPS.map((traps) => ({ traps, kit: kitFor(traps.family) }));
  const channel: ProbeChannel = {
    builtins: b,
    intercept,
    dom,
    parseDetail,
    attach(attached) {
      if (hooks) return [];
      hooks = attached;
      return recorded.splice(0);
    },
  };
  try {
    b.defineProperty(page, CHANNEL_KEY, { value: Object.freeze(channel) });
  } catch {
    return;
  }
  for (const { traps, kit } of kits) guarded(() => traps.install?.(kit))();
  const onLoad = guarded(() => {
    for (const { traps, kit } of kits) traps.onLoad?.(kit);
  });
  dom.listen(document, 'DOMContentLoaded', onLoad);
  addEventListener('load', onLoad, true);
  dom.listen(
    document,
    PROBE_SCAN_EVENT,
    guarded(() => {
      for (const { traps, kit } of kits) {
        traps.onScan?.(kit);
        traps.onLoad?.(kit);
      }
      sendMarkers();
    }),
  );
  // Vendor scripts the parser adds are looked at once each, until the document is parsed; ones a
  // loader makes later are seen as their src is set (a setter nothing else on a page calls often);
  // the content script's scan requests cover the rest. The live list of scripts tells when the
  // parser added one without walking the added nodes (one native walk: the parser makes a
  // record per node, 20,000 on a large page). An inline script is no vendor's.
  const withScripts = kits.filter(({ traps }) => traps.onScript);
  if (!withScripts.length) return;
  const noteScript = (script: Element): void => {
    if (dom.attr(script, 'src') === null) return;
    for (const { traps, kit } of withScripts) guarded(() => traps.onScript!(script, kit))();
  };
  const srcProperty = b.getOwnPropertyDescriptor(HTMLScriptElement.prototype, 'src');
  // eslint-disable-next-line @typescript-eslint/unbound-method -- the prototype's own setter, called with .call(script)
  const setSrc = srcProperty?.set;
  if (srcProperty?.configurable && setSrc) {
    b.defineProperty(HTMLScriptElement.prototype, 'src', {
      ...srcProperty,
      set(this: HTMLScriptElement, value: unknown) {
        b.apply(setSrc, this, [value]);
        noteScript(this);
      },
    });
  }
  const scripts = dom.byTag('script');
  const seen = new WeakSet<Element>();
  let count = 0;
  const observer = new MutationObserver(
    guarded(() => {
      const now = dom.collectionLength(scripts);
      if (now === count) return;
      count = now;
      for (let i = 0; i < now; i++) {
        const script = dom.collectionItem(scripts, i);
        if (!script || seen.has(script)) continue;
        seen.add(script);
        noteScript(script);
      }
    }),
  );
  observer.observe(document, { childList: true, subtree: true });
  dom.listen(
    document,
    'DOMContentLoaded',
    guarded(() => observer.disconnect()),
  );
}

install();
