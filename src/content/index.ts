/**
 * Content script (every frame): finds captcha widgets, reports the frame's list to the
 * background whenever it changes, and puts delivered tokens into the page. It never sees the
 * API key and cannot start a task: it only reports and delivers.
 */
import browser from 'webextension-polyfill';
import { isDeliverTokenMessage } from '../shared/messages';
import { FrameAgent } from './agent';
import { isVendorFrame } from './urls';

function main(): void {
  if (isVendorFrame(location.href)) return;
  const agent = new FrameAgent((message) => {
    browser.runtime.sendMessage(message).catch(() => {
      // The background may be restarting; the next change reports again.
    });
  });
  browser.runtime.onMessage.addListener((message: unknown) => {
    if (!isDeliverTokenMessage(message)) return undefined;
    return Promise.resolve(agent.deliver(message));
  });
  agent.start();
}

main();
