/**
 * The page address of a frame, as a task may use it: its own URL when that is a web page's;
 * for about:blank / about:srcdoc frames the address they belong to (the content script reads
 * the nearest ancestor document that has one), accepted only when it is http(s) and of the
 * origin the browser gives the sender. Null when the frame has no such address: it is then not
 * listed, and no task is ever sent for it.
 */
export function frameUrl(senderUrl: string, origin: string | undefined, inheritedUrl: string | undefined): string | null {
  if (/^https?:\/\//i.test(senderUrl)) return senderUrl;
  if (!senderUrl.startsWith('about:') || !inheritedUrl || origin === undefined || origin === 'null') return null;
  try {
    const url = new URL(inheritedUrl);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
    return url.origin === origin ? url.href : null;
  } catch {
    return null;
  }
}
