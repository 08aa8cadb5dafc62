/**
 * The few extension APIs the content scripts use, typed, without webextension-polyfill: these
 * scripts load in every frame, so every byte counts.
 */
import type { ContentMessage, ContentProtocol, ReplyTo } from '../shared/messages';

export type Reply = (response: unknown) => void;

interface ExtensionApi {
  runtime: {
    sendMessage(message: ContentMessage): Promise<unknown>;
    onMessage: { addListener(listener: (message: unknown, sender: unknown, reply: Reply) => boolean): void };
  };
  i18n: { getMessage(key: string): string };
}

export function extensionApi(): ExtensionApi {
  const { browser, chrome } = globalThis as unknown as { browser?: ExtensionApi; chrome: ExtensionApi };
  // Firefox has `browser`. In Chrome a page can make window.browser an element (id="browser"),
  // but never give it functions this world can see.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- window.browser may be a page's element, with no runtime
  return typeof browser?.runtime?.sendMessage === 'function' ? browser : chrome;
}

/** A message to the background, typed by the reply its protocol gives it. */
export const send = <M extends ContentMessage>(message: M): Promise<ReplyTo<ContentProtocol, M>> => extensionApi().runtime.sendMessage(message) as Promise<ReplyTo<ContentProtocol, M>>;

/**
 * Answers the messages `answer` knows (one reply each, given asynchronously: Chrome keeps the
 * channel open only on `true`) and stays silent on the rest, as a frame without them does.
 */
export function onMessage(answer: (message: unknown) => unknown): void {
  extensionApi().runtime.onMessage.addListener((message, _sender, reply) => {
    const result = answer(message);
    if (result === undefined) return false;
    Promise.resolve(result).then(reply, () => reply(undefined));
    return true;
  });
}

/**
 * A lazily loaded part runs once per frame, however often the background injects it (the
 * isolated world's global is shared by the content scripts of one frame).
 */
export function once(name: string): boolean {
  const world = globalThis as unknown as Record<string, unknown>;
  if (world[name]) return false;
  world[name] = true;
  return true;
}
