/**
 * A FunCaptcha image challenge in this frame (Arkose's tile game): its instruction, its tiles,
 * one image of all tiles in grid order (what ComplexImageTask wants), clicking the tiles the
 * answer marks, and telling the next round from the end of the challenge.
 */
import { connected, contains, fire, parent, query, queryAll } from '../../page-dom/dom';
import { rect, text } from '../../page-dom/elements';
import { MAX_INSTRUCTION, MAX_TILES } from '../../shared/captcha';
import { backgroundUrl, captureElement, imageUrlOf } from './capture';

export interface Challenge {
  instruction: string;
  tiles: Element[];
}

export function readChallenge(): Challenge | null {
  const shown = (el: Element): boolean => rect(el).width > 4;
  const tiles = queryAll(document, '#game_children_wrapper li>*,[aria-label^="Image "]').filter(shown);
  const instruction = queryAll(document, '#game_children_text,h2')
    .filter(shown)
    .map((el) => text(el).replace(/\s+/g, ' ').trim())
    .find(Boolean);
  return tiles.length > 1 && tiles.length <= MAX_TILES && instruction ? { instruction: instruction.slice(0, MAX_INSTRUCTION), tiles } : null;
}

/**
 * The one picture of the whole grid Arkose shows: cut into the tiles (a CSS sprite every tile
 * shows part of), or under tiles that have no picture of their own. ComplexImageTask wants it
 * as it is, in grid order.
 */
function gridPicture(tiles: Element[]): Element | null | undefined {
  const urls = tiles.map(backgroundUrl);
  if (urls[0] && urls.every((url) => url === urls[0])) return tiles[0];
  // Else the picture in the nearest ancestor holding all tiles, or a little above it.
  for (let box = parent(tiles[0]!), up = 0; box && up < 3; box = parent(box)) {
    if (!tiles.every((tile) => contains(box, tile))) continue;
    const picture = query(box, 'img,canvas') ?? (backgroundUrl(box) && box);
    if (picture) return picture;
    up++;
  }
  return null;
}

/** Changes when a new round shows: the instruction or the picture. */
export const signature = ({ instruction, tiles }: Challenge): string => {
  const picture = gridPicture(tiles);
  return `${instruction}\n${picture && imageUrlOf(picture)}`;
};

/** The grid's picture as base64; null if unreadable. */
export const captureChallenge = async ({ tiles }: Challenge): Promise<string | null | undefined> => {
  const picture = gridPicture(tiles);
  return picture ? captureElement(picture) : null;
};

/** Clicks the tiles marked 1, stopping if the round moves on meanwhile; returns how many. */
export function clickTiles({ tiles }: Challenge, answer: string, before: string): number {
  let clicked = 0;
  for (const [i, tile] of tiles.entries()) {
    if (answer[i] !== '1') continue;
    const now = readChallenge();
    if (!connected(tile) || (clicked && (!now || signature(now) !== before))) break;
    const { left, top, width, height } = rect(tile);
    const init = { bubbles: true, cancelable: true, composed: true, clientX: left + width / 2, clientY: top + height / 2 };
    for (const type of ['mousedown', 'mouseup', 'click']) fire(tile, new MouseEvent(type, init));
    clicked++;
  }
  return clicked;
}

/**
 * After the clicks: the next round (new instruction or pictures), null when the challenge is
 * gone for good (it completed), undefined when nothing changed in time.
 */
export async function nextRound(before: string): Promise<Challenge | null | undefined> {
  const start = Date.now();
  let goneSince = 0;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const now = Date.now();
    const current = readChallenge();
    // Rounds swap with a short blank between them: only a lasting absence is the end.
    goneSince = current ? 0 : goneSince || now;
    // (Pictures still loading are waited for when the round is captured.)
    const result = current && signature(current) !== before ? current : goneSince && now - goneSince >= 1_500 ? null : undefined;
    if (result !== undefined || now - start > 15_000) return result;
  }
}
