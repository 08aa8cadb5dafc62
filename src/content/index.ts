/**
 * Content script core, in every frame of every page: small and idle by rule. It loads nothing
 * and scans nothing itself. The page-world probe, there since document_start, watches for a
 * vendor marker (a vendor script or frame, or a vendor global: src/shared/families/markers.ts)
 * and says which families showed; then the core asks the background to load the detectors and
 * the page-world hooks into this frame (./agent-main.ts). Its own world builds only what this
 * needs: a listener, one event, the frame's address.
 *
 * What the probe says only loads CapRelay's own files into this frame (a page can say it too,
 * and that costs it those bytes). The core never sees the API key and cannot start a task.
 */
import { PROBE_MARKER_EVENT, PROBE_SCAN_EVENT } from '../shared/page-protocol';
import { isArkoseFrame, isVendorFrame, serializedAddress } from '../shared/urls';
import { send } from './runtime';

/* eslint-disable-next-line @typescript-eslint/unbound-method -- EventTarget's own methods, called with .call(window): a named element (`<img id="addEventListener">`) would shadow the window's */
const { addEventListener: listen, dispatchEvent: fire } = EventTarget.prototype;

function main(): void {
  const address = serializedAddress(location.href);
  // Arkose's own frames show its image challenges: their part of the image flows loads there.
  if (isArkoseFrame(address)) void send({ type: 'load', what: 'images' }).catch(() => undefined);
  // A widget's own frames (reCAPTCHA's anchor, Arkose's) are listed by the page that holds them.
  if (isVendorFrame(address)) return;

  let loading = false;
  const load = (): void => {
    if (loading) return;
    loading = true;
    void send({ type: 'load', what: 'agent' }).catch(() => (loading = false));
  };
  // On the window, which the probe's events pass first: this world then builds no document.
  listen.call(window, PROBE_MARKER_EVENT, load, true);
  // The probe looks at the document's scripts and frames now and says what it has seen so far;
  // later it says so when one shows.
  fire.call(window, new CustomEvent(PROBE_SCAN_EVENT));
}

main();
