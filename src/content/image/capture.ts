/**
 * Reads an image off the page: its pixels as a PNG in base64 (no `data:` prefix). The loaded
 * image is drawn to a canvas, so nothing is requested again; only when the canvas is tainted
 * (a cross-origin image) is the image fetched, as the page may. The background fits the result
 * to the service's size limits (it knows the service; this script stays small).
 */
import { baseURI } from '../../page-dom/dom';
import { create } from '../../page-dom/elements';

/** A drawable source with its size in pixels. */
export type Source = [image: CanvasImageSource, width: number, height: number];

/** Up to this many pixels a side; captcha images are far smaller, photos are scaled down. */
const MAX_SIDE = 1600;

/** The pixels as a PNG. Throws (SecurityError) when the canvas is tainted: the caller fetches instead. */
function encode([image, width, height]: Source): string | undefined {
  const scale = Math.min(1, MAX_SIDE / Math.max(width, height, 1));
  const canvas = create('canvas');
  canvas.width = Math.max(1, width * scale);
  canvas.height = Math.max(1, height * scale);
  canvas.getContext('2d')!.drawImage(image, 0, 0, canvas.width, canvas.height);
  return canvas.toDataURL().split(',')[1];
}

const isTaintError = (error: unknown): boolean => (error as DOMException | undefined)?.name === 'SecurityError';

/** Waits until an image has its pixels; false if it failed or took over 5 s (a lazy image never loading). */
const loaded = (img: HTMLImageElement): Promise<unknown> =>
  Promise.race([
    img.decode().then(
      () => img.naturalWidth > 0,
      () => false,
    ),
    new Promise((resolve) => setTimeout(resolve, 5_000, false)),
  ]);

/** An image from a URL: from the cache as the page loaded it, or fetched when `viaFetch`. */
async function sourceFromUrl(url: string, viaFetch?: boolean): Promise<Source | null> {
  if (viaFetch) {
    // With the page's credentials, as its own request for the image was made.
    const bitmap = await createImageBitmap(await (await fetch(url, { credentials: 'include' })).blob());
    return [bitmap, bitmap.width, bitmap.height];
  }
  const img = new Image();
  img.src = url;
  return (await loaded(img)) ? [img, img.naturalWidth, img.naturalHeight] : null;
}

/** The URL in an element's CSS background, if any. */
export function backgroundUrl(el: Element): string | null {
  const url = /url\("?(.*?)"?\)/.exec(getComputedStyle(el).backgroundImage)?.[1];
  return url ? new URL(url, baseURI()).href : null;
}

/** The URL a picture element shows (img, input type=image, CSS background); another element's src may be a form's control. */
export const imageUrlOf = (el: Element): string | null => (el instanceof HTMLImageElement ? el.currentSrc || el.src : el instanceof HTMLInputElement && el.src) || backgroundUrl(el);

/** Captures an img, canvas, input type=image or CSS background as base64; null if it cannot. */
export async function captureElement(el: Element): Promise<string | null | undefined> {
  try {
    if (el instanceof HTMLCanvasElement) return encode([el, el.width, el.height]);
    const url = imageUrlOf(el);
    if (!url) return null;
    const source = el instanceof HTMLImageElement && (await loaded(el)) ? ([el, el.naturalWidth, el.naturalHeight] as Source) : await sourceFromUrl(url);
    if (!source) return null;
    try {
      return encode(source);
    } catch (error) {
      if (!isTaintError(error)) throw error;
      const fetched = await sourceFromUrl(url, true);
      return fetched && encode(fetched);
    }
  } catch {
    return null;
  }
}
