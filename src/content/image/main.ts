/**
 * The image flows of a frame, loaded by the background when the user starts one (the popup's
 * image actions, the image context menu) and in Arkose's frames, where FunCaptcha shows its
 * image challenges: the picker, capture, typing the answer, and the challenge's rounds.
 */
import { isArkoseFrame } from '../../shared/urls';
import { extensionApi, onMessage, once, send } from '../runtime';
import { watchChallenge } from './challenge-watch';
import { imageFlow } from './flow';

function main(): void {
  const t = (key: string): string => extensionApi().i18n.getMessage(key);
  onMessage(imageFlow(send, [t('pickImage'), t('pickField')]));
  if (isArkoseFrame(location.href)) watchChallenge((open) => void send({ type: 'challenge-state', open }).catch(() => undefined));
}

if (once('__caprelayImages')) main();
