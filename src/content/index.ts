/**
 * Content script core, in every frame of every page: small and idle by rule. It loads nothing
 * and scans nothing until a vendor marker shows in the frame: a vendor script or frame (the
 * ones in the document, and ones a page adds to <html>, <head> or <body>, where loaders put
 * them), or a vendor global the page-world probe saw. Then it asks the background to load the
 * detectors and the page-world hooks into this frame (./agent-main.ts). A page without any
 * captcha costs one look at its scripts and frames, and nothing on any later mutation.
 *
 * It never sees the API key and cannot start a task.
 */
import { PROBE_MARKER_EVENT, PROBE_SCAN_EVENT } from '../shared/page-protocol';
import { isArkoseFrame, isVendorFrame, serializedAddress } from '../shared/urls';
import { attr, byTag, collectionItem, collectionLength, documentBody, documentHead, documentRoot, documentUrl, fire, isElement, listen, localName } from '../page-dom/dom';
import { FAMILY_MARKERS } from './families/markers';
import { send } from './runtime';

const MARKERS = Object.values(FAMILY_MARKERS);
const isMarkerUrl = (url: string | null): boolean => !!url && url.length <= 8_192 && MARKERS.some((marker) => marker.test(url));

/** A vendor script or frame element. */
function isMarkerElement(node: Node): boolean {
  if (!isElement(node)) return false;
  const name = localName(node);
  return (name === 'script' || name === 'iframe') && isMarkerUrl(attr(node, 'src'));
}

function anyMarkerIn(tag: string): boolean {
  const list = byTag(tag);
  for (let i = 0, n = collectionLength(list); i < n; i++) if (isMarkerElement(collectionItem(list, i)!)) return true;
  return false;
}

function main(): void {
  const address = serializedAddress(documentUrl());
  // Arkose's own frames show its image challenges: their part of the image flows loads there.
  if (isArkoseFrame(address)) void send({ type: 'load', what: 'images' }).catch(() => undefined);
  // A widget's own frames (reCAPTCHA's anchor, Arkose's) are listed by the page that holds them.
  if (isVendorFrame(address)) return;

  let loading = false;
  const observer = new MutationObserver((records) => {
    for (const record of records) for (const node of record.addedNodes) if (isMarkerElement(node)) return load();
  });
  const load = (): void => {
    if (loading) return;
    loading = true;
    observer.disconnect();
    void send({ type: 'load', what: 'agent' }).catch(() => (loading = false));
  };
  listen(document, PROBE_MARKER_EVENT, load);
  // The probe has been watching since document_start: it says again what it saw.
  fire(document, new CustomEvent(PROBE_SCAN_EVENT));
  // The frame count needs no walk of the document; counting its iframe elements would (20,000
  // elements on a large page), and most pages have none.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- the probe's answer to the scan event may have called load() already
  if (loading || anyMarkerIn('script') || (window.length > 0 && anyMarkerIn('iframe'))) return load();
  for (const parent of [documentRoot(), documentHead(), documentBody()]) if (parent) observer.observe(parent, { childList: true });
}

main();
