/**
 * In Arkose's frames only: tells the background when a FunCaptcha image challenge is shown and
 * when it is gone, so the popup offers to solve one only while there is one. Checks are
 * debounced: the tile game animates, and a look now and then is enough for a popup.
 */
import { readChallenge } from './challenge';

const CHECK_DELAY_MS = 250;

export function watchChallenge(report: (open: boolean) => void): void {
  let open = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const check = (): void => {
    timer = undefined;
    const now = readChallenge() !== null;
    if (now === open) return;
    open = now;
    report(open);
  };
  const schedule = (): void => {
    timer ??= setTimeout(check, CHECK_DELAY_MS);
  };
  new MutationObserver(schedule).observe(document, { childList: true, subtree: true, attributes: true, characterData: true });
  schedule();
  addEventListener('pagehide', () => {
    if (!open) return;
    open = false;
    report(false);
  });
}
