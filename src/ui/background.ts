/** The extension pages' messages to the background, typed by reply. */
import browser from 'webextension-polyfill';
import type { ImageActionMessage, ReplyTo, UiMessage, UiProtocol } from '../shared/messages';

/** A message to the background, with the reply its protocol gives it (the background is trusted: extension pages only). */
function send<M extends UiMessage>(message: M): Promise<ReplyTo<UiProtocol, M>> {
  return browser.runtime.sendMessage<M, ReplyTo<UiProtocol, M>>(message);
}

export const background = {
  tabState: (tabId: number) => send({ type: 'tab-state', tabId }),
  solve: (tabId: number, frameId: number, captchaId: string) => send({ type: 'solve', tabId, frameId, captchaId }),
  solveAll: (tabId: number, confirmation?: { confirmed: number; frameId?: number | undefined }) =>
    send({
      type: 'solve-all',
      tabId,
      ...(confirmation && { confirmed: confirmation.confirmed }),
      ...(confirmation?.frameId !== undefined && { frameId: confirmation.frameId }),
    }),
  dismissGesture: (tabId: number) => send({ type: 'dismiss-gesture', tabId }),
  balance: () => send({ type: 'balance' }),
  /** Report a history entry's answer as wrong (once per task). */
  reportWrong: (entryId: string) => send({ type: 'report-wrong', entryId }),
  /** image-pick: the user picks an image and its field in the page; image-challenge: solve a FunCaptcha image challenge. */
  image: (type: ImageActionMessage['type'], tabId: number, frameId?: number) => send({ type, tabId, ...(frameId !== undefined && { frameId }) }),
};

/** The tab the popup is about: `?tabId=N` when given (tests, pinned views), else the active tab. */
export async function resolveTabId(): Promise<number | null> {
  const param = new URLSearchParams(location.search).get('tabId');
  if (param !== null && /^-?\d+$/.test(param)) return Number(param);
  const [tab] = await browser.tabs.query({ active: true, currentWindow: true });
  return tab?.id ?? null;
}

/** Calls `listener` when a storage area changes (tasks and found captchas live in session storage). */
export function onStorageChange(areas: readonly string[], listener: () => void): () => void {
  const handler = (_changes: unknown, area: string): void => {
    if (areas.includes(area)) listener();
  };
  browser.storage.onChanged.addListener(handler);
  return () => browser.storage.onChanged.removeListener(handler);
}
