/**
 * Page-world probe, in every frame at document_start: install and dispatch, nothing more. It
 * takes the built-ins and DOM helpers before any page script can replace them, sets each
 * family's traps (./families), records the calls that pass through them, and tells the content
 * script which families showed (so their detectors load there). The hooks that read page memory
 * and run callbacks load later, only in such frames, and attach through the channel.
 */
import * as dom from '../page-dom/dom';
import { parseDetail, PROBE_MARKER_EVENT, PROBE_SCAN_EVENT } from '../shared/page-protocol';
import { FAMILY_MARKERS } from '../shared/families/markers';
import { CHANNEL_KEY, type AttachedHooks, type FamilyTraps, type ProbeChannel, type TrapCall, type TrapKit } from './channel';
import { FAMILY_TRAPS } from './families/traps';
import { guarded, Interceptor, takeBuiltins, type Builtins } from './intercept';

/** Calls kept for the hooks until they attach; a page making more is making noise. */
const MAX_RECORDED = 300;
/**
 * A held call goes through after this long if the hooks never attach: the page must keep working.
 * Generous, because a call let through spends a single-use challenge CapRelay may then be asked
 * to solve: on a busy machine, loading the hooks into a frame has taken over 4 s.
 */
const HOLD_LIMIT_MS = 8_000;
/** Longer script and frame addresses are no vendor's. */
const MAX_URL_LENGTH = 8_192;
/** A delivery of at most this many records is read whole, a record of at most this many added nodes node by node (see watchMarkup). */
const FEW_RECORDS = 100;
const MANY_ADDED = 50;

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
  const lookAgain = watchMarkup(b, kits, marker);
  // On the window (called now, before any page script or element exists): the core fires its
  // request there, the agent on the document. What the look finds is in the markers sent after it.
  addEventListener(
    PROBE_SCAN_EVENT,
    guarded(() => {
      lookAgain();
      onLoad();
      sendMarkers();
    }),
    true,
  );
}

/** Every family's marker in one pattern, a named group each: one match per address tells which family, if any. */
const MARKER = new RegExp(
  Object.entries(FAMILY_MARKERS)
    .map(([family, pattern]) => `(?<${family}>${pattern.source})`)
    .join('|'),
);

/**
 * Vendor scripts and frames: each shows its family (the marker), and each script with a src goes
 * to the families that look at scripts. Those the parser adds are seen until the document is
 * parsed; ones a loader makes, as their src is set (a setter nothing else on a page calls
 * often), or as they go into <html>, <head> or <body> (where loaders put them). What it
 * returns looks at the document's scripts and frames again, at the content script's request.
 */
function watchMarkup(b: Builtins, kits: readonly { traps: FamilyTraps; kit: TrapKit }[], marker: (family: string) => void): () => void {
  const onScript = new Map(kits.flatMap(({ traps, kit }) => (traps.onScript ? [[traps.family, (el: Element, src: string) => traps.onScript!(el, src, kit)] as const] : [])));
  /** Each element looked at, with the src it had then. */
  const seen = new WeakMap<Element, string | null>();
  const look = (el: Element): void => {
    const name = dom.localName(el);
    const src = name === 'script' || name === 'iframe' ? dom.attr(el, 'src') : null;
    seen.set(el, src);
    // An inline script is no vendor's.
    const groups = src === null || src.length > MAX_URL_LENGTH ? undefined : MARKER.exec(src)?.groups;
    // Null-prototype: only the family groups.
    for (const family in groups) {
      if (groups[family] === undefined) continue;
      marker(family);
      const note = name === 'script' && onScript.get(family);
      if (note) guarded(note)(el, src!);
    }
  };
  const lookOnce = (node: Node): void => {
    if (dom.isElement(node) && !seen.has(node)) look(node);
  };
  // A page with thousands of scripts asks for many looks: only a src that changed is read again.
  const lookIfChanged = (el: Element): void => {
    if (seen.get(el) !== dom.attr(el, 'src')) look(el);
  };

  const srcProperty = b.getOwnPropertyDescriptor(HTMLScriptElement.prototype, 'src');
  // eslint-disable-next-line @typescript-eslint/unbound-method -- the prototype's own setter, called with .call(script)
  const setSrc = srcProperty?.set;
  if (srcProperty?.configurable && setSrc) {
    b.defineProperty(HTMLScriptElement.prototype, 'src', {
      ...srcProperty,
      set(this: HTMLScriptElement, value: unknown) {
        b.apply(setSrc, this, [value]);
        look(this);
      },
    });
  }

  const records = recordReader();
  /**
   * The scripts and frames among the nodes a record added (with `within`, the scripts inside them
   * too). A record that added many (a page's innerHTML of thousands of elements) has the scripts
   * under its target looked at instead: one query, not a look at each node.
   */
  const lookAtAdded = (record: MutationRecord, target: Node, within: boolean): void => {
    // By index, the platform's own getter (a NodeList's length and item are the page's to replace).
    const added = records.added(record);
    if (added[MANY_ADDED]) {
      if (dom.isElement(target)) each(target, 'script', lookOnce);
      return;
    }
    for (let i = 0, node = added[0]; node; node = added[++i]) {
      lookOnce(node);
      if (within && dom.isElement(node) && dom.firstChild(node)) each(node, 'script', lookOnce);
    }
  };
  // The parser delivers the records before each script it reaches runs (a microtask checkpoint
  // at its end tag), and that script is the last node it inserted: the last record, or the one
  // before its text. Chromium and Firefox both do so; looking only there keeps a large page's
  // records unread (the parser makes one per node, thousands per delivery). A delivery with few
  // records is a page script's own changes, read whole, subtrees included.
  const whileParsing = new MutationObserver(
    guarded((list: MutationRecord[]) => {
      const count = list.length;
      const few = count <= FEW_RECORDS;
      for (let i = few ? 0 : count - 2; i < count; i++) {
        const record = list[i]!;
        const target = records.target(record);
        lookOnce(target);
        lookAtAdded(record, target, few);
      }
    }),
  );
  whileParsing.observe(document, { childList: true, subtree: true });
  // Then only <html>, <head> and <body> themselves: a busy page's changes deeper down cost nothing.
  const afterParsing = new MutationObserver(
    guarded((list: MutationRecord[]) => {
      for (let i = 0; i < list.length; i++) lookAtAdded(list[i]!, records.target(list[i]!), false);
    }),
  );
  dom.listen(
    document,
    'DOMContentLoaded',
    guarded(() => {
      whileParsing.disconnect();
      for (const parent of [dom.documentRoot(), dom.documentHead(), dom.documentBody()]) if (parent) afterParsing.observe(parent, { childList: true });
    }),
  );

  // The frame count needs no walk of the document; counting its iframe elements would (20,000
  // elements on a large page), and most pages have none.
  const frameCount = dom.getter<number>(window, 'length');
  return () => {
    // Seen or not: a loader may have given a script its src by setAttribute.
    each(document, 'script[src]', lookIfChanged);
    if (frameCount.call(window) > 0) each(document, 'iframe[src]', lookIfChanged);
  };
}

/** Each element a selector finds under `root`, by index (the platform's own getter, as above). */
function each(root: Element | Document, selector: string, fn: (el: Element) => void): void {
  const found = dom.queryNodes(root, selector);
  for (let i = 0, el = found[0]; el; el = found[++i]) fn(el);
}

/** MutationRecord reads as the page had them at document_start. */
function recordReader(): { target: (record: MutationRecord) => Node; added: (record: MutationRecord) => ArrayLike<Node> } {
  const target = dom.getter<Node>(MutationRecord.prototype, 'target');
  const added = dom.getter<NodeList>(MutationRecord.prototype, 'addedNodes');
  return { target: (record) => target.call(record), added: (record) => added.call(record) };
}

install();
