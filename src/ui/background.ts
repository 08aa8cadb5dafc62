/** The extension pages' messages to the background, typed by reply. */
import browser from 'webextension-polyfill';
import type { BalanceReply, ImageActionMessage, ImageActionReply, ReportWrongReply, SolveAllReply, SolveReply, TabStateReply, UiMessage } from '../shared/messages';

function send<T>(message: UiMessage): Promise<T> {
  return browser.runtime.sendMessage<UiMessage, T>(message);
}

export const background = {
  tabState: (tabId: number) => send<TabStateReply>({ type: 'tab-state', tabId }),
  solve: (tabId: number, frameId: number, captchaId: string) => send<SolveReply>({ type: 'solve', tabId, frameId, captchaId }),
  solveAll: (tabId: number, confirmation?: { confirmed: number; frameId?: number | undefined }) =>
    send<SolveAllReply>({
      type: 'solve-all',
      tabId,
      ...(confirmation && { confirmed: confirmation.confirmed }),
      ...(confirmation?.frameId !== undefined && { frameId: confirmation.frameId }),
    }),
  dismissGesture: (tabId: number) => send<object>({ type: 'dismiss-gesture', tabId }),
  balance: () => send<BalanceReply>({ type: 'balance' }),
  /** Report a history entry's answer as wrong (once per task). */
  reportWrong: (entryId: string) => send<ReportWrongReply>({ type: 'report-wrong', entryId }),
  /** image-pick: the user picks an image and its field in the page; image-challenge: solve a FunCaptcha image challenge. */
  image: (type: ImageActionMessage['type'], tabId: number, frameId?: number) => send<ImageActionReply>({ type, tabId, ...(frameId !== undefined && { frameId }) }),
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
