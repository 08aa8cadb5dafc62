/**
 * The page address of a frame: its own URL, or for about:blank / about:srcdoc frames the URL
 * they inherit, if it is http(s) and (where the browser tells the sender's origin) of that origin.
 */
export function frameUrl(senderUrl: string, origin: string | undefined, inheritedUrl: string | undefined): string {
  if (!senderUrl.startsWith('about:') || !inheritedUrl) return senderUrl;
  try {
    const url = new URL(inheritedUrl);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return senderUrl;
    if (origin !== undefined && origin !== 'null' && url.origin !== origin) return senderUrl;
    return url.href;
  } catch {
    return senderUrl;
  }
}
