/**
 * The detection and delivery part of the content script, loaded by the background into a frame
 * where a vendor marker showed (see ./index.ts): the family detectors, the incremental scanner,
 * token delivery and the optional in-page Solve button. Like the core, it never sees the key and
 * cannot start a task: it reports, answers the background's questions, and delivers.
 */
import { isDeliverTokenMessage, isFrameCaptchasReply, isFramePingMessage, type FramePingReply } from '../shared/messages';
import { FrameAgent } from './agent';
import { extensionApi, onMessage, once, send } from './runtime';
import { SolveButtons } from './solve-button';

function main(): void {
  const labels = { idle: 'inPageSolve', solving: 'inPageSolving', solved: 'inPageSolved' } as const;
  // The optional Solve button beside each widget; the background says whether the user wants it.
  const buttons = new SolveButtons(
    (state) => extensionApi().i18n.getMessage(labels[state]),
    (captchaId) => {
      send({ type: 'inpage-solve', captchaId }).then(
        (reply) => {
          // A background that is restarting may answer nothing.
          if ((reply as typeof reply | undefined)?.ok !== true) buttons.setState(captchaId, 'idle');
        },
        () => buttons.setState(captchaId, 'idle'),
      );
    },
  );
  const agent = new FrameAgent((message) => {
    send(message).then(
      (reply) => {
        if (!isFrameCaptchasReply(reply)) return buttons.clear();
        agent.decide(reply.declined);
        if (reply.inPageButton) buttons.sync(agent.solveTargets());
        else buttons.clear();
      },
      () => {
        // The background may be restarting; the next change reports again.
      },
    );
  });
  onMessage((message) => {
    if (isFramePingMessage(message)) return { captchaIds: agent.captchaIds() } satisfies FramePingReply;
    if (!isDeliverTokenMessage(message)) return undefined;
    const report = agent.deliver(message);
    if (report.delivered) buttons.setState(message.captchaId, 'solved');
    return report;
  });
  agent.start();
}

if (once('__caprelayAgent')) main();
