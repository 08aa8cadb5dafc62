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
import { isDeliverTokenMessage, isFrameCaptchasReply, isFramePingMessage, type FramePingReply } from '../shared/messages';
import { FrameAgent } from './agent';
import { imageFlow } from './image/flow';
import { SolveButtons } from './solve-button';
import { isArkoseFrame, isVendorFrame } from '../shared/urls';
import { watchChallenge } from './image/challenge-watch';

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
  // The optional Solve button beside each widget; the background says whether the user wants it.
  const buttons = new SolveButtons(
    { idle: api.i18n.getMessage('inPageSolve'), solving: api.i18n.getMessage('inPageSolving'), solved: api.i18n.getMessage('inPageSolved') },
    (captchaId) => {
      send({ type: 'inpage-solve', captchaId }).then(
        (reply) => {
          if (!(typeof reply === 'object' && reply !== null && (reply as { ok?: unknown }).ok === true)) buttons.setState(captchaId, 'idle');
        },
        () => buttons.setState(captchaId, 'idle'),
      );
    },
  );
  const agent = isVendorFrame(location.href)
    ? undefined
    : new FrameAgent((message) => {
        send(message).then(
          (reply) => {
            if (agent && isFrameCaptchasReply(reply) && reply.inPageButton) buttons.sync(agent.solveTargets());
            else buttons.clear();
          },
          () => {
            // The background may be restarting; the next change reports again.
          },
        );
      });
  const deliver = (message: Parameters<FrameAgent['deliver']>[0]): ReturnType<FrameAgent['deliver']> | undefined => {
    const report = agent?.deliver(message);
    if (report?.delivered) buttons.setState(message.captchaId, 'solved');
    return report;
  };
  // Only a frame with an agent lists captchas; others stay silent, as a frame that is gone does.
  const ping = (): FramePingReply | undefined => (agent ? { captchaIds: agent.captchaIds() } : undefined);
  // One reply per message, given asynchronously: Chrome keeps the channel open only on `true`.
  api.runtime.onMessage.addListener((message, _sender, reply) => {
    const answer = images(message) ?? (isDeliverTokenMessage(message) ? deliver(message) : isFramePingMessage(message) ? ping() : undefined);
    if (answer === undefined) return false;
    Promise.resolve(answer).then(reply, () => reply(undefined));
    return true;
  });
  agent?.start();
  if (isArkoseFrame(location.href)) watchChallenge((open) => void send({ type: 'challenge-state', open }).catch(() => undefined));
}

main();
