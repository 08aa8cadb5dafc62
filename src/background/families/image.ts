/**
 * The image families: a text image the user picked (ImageToTextTask) and one round of a
 * FunCaptcha image challenge (ComplexImageTask, class "funcaptcha"). Their answers travel like
 * tokens: the text, or the tiles to click as 0/1 in grid order.
 */
import { MAX_TILES, type FunCaptchaImageCaptcha, type ImageTextCaptcha } from '../../shared/captcha';
import { SHORTEST_INTERVAL_MS, type BackgroundFamily, type PollSchedule } from './common';

/** Image tasks take 0.3–6 s at the service: the first poll after 1 s, then every 2.2 s (its minimum, with room). */
const IMAGE_SCHEDULE: PollSchedule = { firstPollMs: 1_000, intervalMs: SHORTEST_INTERVAL_MS, deadlineMs: 30_000, maxPolls: 15 };

export const imageText: BackgroundFamily<ImageTextCaptcha> = {
  family: 'image-text',
  task(_captcha, _websiteURL, options) {
    const task: Record<string, unknown> = { type: 'ImageToTextTask', body: options.image ?? '' };
    // Only what the user switched on: each flag narrows what the service may answer.
    const o = options.imageText;
    if (o?.numeric) task.numeric = 1;
    if (o?.caseSensitive) task.case = true;
    if (o?.math) task.math = true;
    if (o && o.threshold > 0) task.recognizingThreshold = o.threshold;
    return task;
  },
  delivery(_captcha, solution) {
    const text = typeof solution.text === 'number' ? String(solution.text) : solution.text;
    return typeof text === 'string' && text.trim().length > 0 && text.length <= 1_000 ? text.trim() : null;
  },
  schedule: IMAGE_SCHEDULE,
};

export const funcaptchaImage: BackgroundFamily<FunCaptchaImageCaptcha> = {
  family: 'funcaptcha-image',
  task(captcha, websiteURL, options) {
    const task: Record<string, unknown> = { type: 'ComplexImageTask', class: 'funcaptcha', imagesBase64: [options.image ?? ''], metadata: { Task: captcha.instruction }, websiteURL };
    if (options.userAgent) task.userAgent = options.userAgent;
    return task;
  },
  delivery(_captcha, solution) {
    const answer = solution.answer;
    if (!Array.isArray(answer) || answer.length === 0 || answer.length > MAX_TILES || !answer.every((a) => typeof a === 'boolean')) return null;
    // Nothing to click is no answer: the round would stall with the task paid.
    return answer.includes(true) ? answer.map((a) => (a ? '1' : '0')).join('') : null;
  },
  schedule: IMAGE_SCHEDULE,
};
