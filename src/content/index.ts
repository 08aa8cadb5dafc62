/**
 * Content script (every frame): finds captcha widgets, reports the frame's list to the
 * background whenever it changes, and puts delivered tokens into the page. It never sees the
 * API key and cannot start a task: it only reports, answers the background's image requests,
 * and delivers.
 *
 * It talks to the background through the browser's own runtime API (a few typed lines below)
 * rather than webextension-polyfill: this script loads in every frame, so every byte counts.
 */
import type { ContentMessage } from '../shared/messages';
import { isDeliverTokenMessage } from '../shared/messages';
import { FrameAgent } from './agent';
import { imageFlow } from './image/flow';
import { isVendorFrame } from './urls';

type Reply = (response: unknown) => void;

interface ExtensionApi {
  runtime: {
    sendMessage(message: ContentMessage): Promise<unknown>;
    onMessage: { addListener(listener: (message: unknown, sender: unknown, reply: Reply) => boolean): void };
  };
  i18n: { getMessage(key: string): string };
}

function extensionApi(): ExtensionApi {
  const { browser, chrome } = globalThis as unknown as { browser?: ExtensionApi; chrome: ExtensionApi };
  // Firefox has `browser`. In Chrome a page can make window.browser an element (id="browser"),
  // but never give it functions this world can see.
  return typeof browser?.runtime?.sendMessage === 'function' ? browser : chrome;
}

function main(): void {
  const api = extensionApi();
  const send = (message: ContentMessage): Promise<unknown> => api.runtime.sendMessage(message);
  // In every frame, vendor frames too: Arkose shows its image challenges in its own frames.
  const images = imageFlow(send, [api.i18n.getMessage('pickImage'), api.i18n.getMessage('pickField')]);
  const agent = isVendorFrame(location.href)
    ? undefined
    : new FrameAgent((message) => {
        send(message).catch(() => {
          // The background may be restarting; the next change reports again.
        });
      });
  // One reply per message, given asynchronously: Chrome keeps the channel open only on `true`.
  api.runtime.onMessage.addListener((message, _sender, reply) => {
    const answer = images(message) ?? (agent && isDeliverTokenMessage(message) ? agent.deliver(message) : undefined);
    if (answer === undefined) return false;
    Promise.resolve(answer).then(reply, () => reply(undefined));
    return true;
  });
  agent?.start();
}

main();
