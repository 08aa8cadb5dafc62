/**
 * Image tasks in the engine and on the wire: the ImageToTextTask and ComplexImageTask payloads,
 * the answers read from solutions, the image schedule (first poll after 1 s, then every 2 s,
 * given up at 30 s), the image kept out of the popup's view and dropped when the task ends,
 * and the validators for the image messages.
 */
import { describe, expect, it } from 'vitest';
import { SCHEDULES } from '../../src/background/engine';
import { historyEntryOf } from '../../src/background/history';
import { buildTask, tokenOf } from '../../src/background/task-payload';
import { captchaLabel, isTaskCaptcha, type FunCaptchaImageCaptcha, type ImageTextCaptcha } from '../../src/shared/captcha';
import {
  isDeliverImageMessage,
  isFrameCaptchasMessage,
  isImageActionMessage,
  isImageEndMessage,
  isImageRecallMessage,
  isImageRoundMessage,
  isImageStartMessage,
  isImageTextMessage,
} from '../../src/shared/messages';
import { DEFAULT_SETTINGS, parseSettings } from '../../src/shared/settings';
import { isTaskRecord, toTaskView } from '../../src/shared/tasks';
import { Harness, START_TIME } from './support/fake-service';

const IMAGE = Buffer.alloc(3_000, 9).toString('base64');
const text: ImageTextCaptcha = { family: 'image-text', id: 'img-abc' };
const grid: FunCaptchaImageCaptcha = { family: 'funcaptcha-image', id: 'fci-abc', instruction: 'Pick the image that is the correct way up', tiles: 6, round: 2, maxRounds: 5 };
const OPTIONS = { serviceUrl: 'https://api.capmonster.cloud', v3MinScore: 0.7, image: IMAGE };

describe('payloads', () => {
  it('ImageToTextTask: the image, and only the options the user switched on', () => {
    expect(buildTask(text, 'https://a.example/', OPTIONS)).toEqual({ type: 'ImageToTextTask', body: IMAGE });
    expect(buildTask(text, 'https://a.example/', { ...OPTIONS, imageText: DEFAULT_SETTINGS.image })).toEqual({ type: 'ImageToTextTask', body: IMAGE });
    expect(buildTask(text, 'https://a.example/', { ...OPTIONS, imageText: { numeric: true, caseSensitive: true, math: true, threshold: 70 } })).toEqual({
      type: 'ImageToTextTask',
      body: IMAGE,
      numeric: 1,
      case: true,
      math: true,
      recognizingThreshold: 70,
    });
  });

  it('ComplexImageTask class funcaptcha: one image, the instruction as metadata.Task, user agent and page', () => {
    expect(buildTask(grid, 'https://client-api.arkoselabs.com/fc/gc/', { ...OPTIONS, userAgent: 'Mozilla/5.0 test' })).toEqual({
      type: 'ComplexImageTask',
      class: 'funcaptcha',
      imagesBase64: [IMAGE],
      metadata: { Task: 'Pick the image that is the correct way up' },
      userAgent: 'Mozilla/5.0 test',
      websiteURL: 'https://client-api.arkoselabs.com/fc/gc/',
    });
  });

  it.each<[string, Record<string, unknown>, string | null]>([
    ['a text', { text: ' W7K3P ' }, 'W7K3P'],
    ['a number (a math answer)', { text: 42 }, '42'],
    ['an empty text', { text: '  ' }, null],
    ['no text', { answer: [true] }, null],
  ])('image-text answer: %s', (_name, solution, expected) => {
    expect(tokenOf(text, solution)).toBe(expected);
  });

  it.each<[string, Record<string, unknown>, string | null]>([
    ['one tile', { answer: [false, true, false, false, false, false] }, '010000'],
    ['two tiles', { answer: [true, false, false, false, false, true] }, '100001'],
    ['no tile marked', { answer: [false, false, false, false, false, false] }, null],
    ['not booleans', { answer: [0, 1, 0, 0, 0, 0] }, null],
    ['too many entries', { answer: Array(17).fill(true) }, null],
    ['a text', { text: 'abc' }, null],
  ])('funcaptcha-image answer: %s', (_name, solution, expected) => {
    expect(tokenOf(grid, solution)).toBe(expected);
  });

  it('labels and history name the image families and rounds', () => {
    expect(captchaLabel(text)).toBe('Image captcha (text)');
    expect(captchaLabel(grid)).toBe('FunCaptcha image challenge (round 2 of 5)');
  });
});

describe('the engine with image tasks', () => {
  async function solveGrid(h: Harness) {
    h.ensureWorker();
    const result = await h.engine.solve({ tabId: 1, frameId: 4, captcha: grid, websiteURL: 'https://client-api.arkoselabs.com/fc/gc/', image: IMAGE });
    if (!result.ok) throw new Error(result.error.code);
    await h.settle();
    return result.task.id;
  }

  it('polls 1 s after createTask, then every 2.2 s (the 2 s rule with room), and puts the tiles to click into the page', async () => {
    const h = new Harness();
    h.service.script('getTaskResult', 'processing', 'processing', { ready: { answer: [false, false, true, false, false, false] }, cost: 0.0002 });
    const id = await solveGrid(h);
    // While it runs, the popup's view has no image; the stored record has it.
    expect(h.store.get(id)!.image).toBe(IMAGE);
    expect(toTaskView(h.store.get(id)!)).not.toHaveProperty('image');
    const task = await h.finish(id);

    expect(task.state).toBe('delivered');
    const polls = h.service.of('getTaskResult').map((c) => c.at - START_TIME);
    expect(polls).toEqual([1_000, 3_200, 5_400]);
    expect(h.deliveries).toEqual([expect.objectContaining({ recordId: id, frameId: 4, captchaId: 'fci-abc', token: '001000' })]);
    const [create] = h.service.of('createTask');
    expect(create!.body.task).toMatchObject({ type: 'ComplexImageTask', imagesBase64: [IMAGE] });
    // Done: the image leaves storage with the token; history keeps the label only.
    expect(task.image).toBeUndefined();
    expect(task.token).toBeUndefined();
    expect(historyEntryOf(task)).toMatchObject({ type: 'FunCaptcha image challenge (round 2 of 5)', outcome: 'delivered', cost: 0.0002 });
    expect(h.service.violations).toEqual([]);
  });

  it('gives up 30 s after createTask', async () => {
    const h = new Harness();
    h.service.fallback.getTaskResult = 'processing';
    const task = await h.finish(await solveGrid(h));
    expect(task.error?.code).toBe('TIMED_OUT');
    expect(task.finishedAt).toBe(START_TIME + SCHEDULES['funcaptcha-image'].deadlineMs);
    expect(SCHEDULES['funcaptcha-image'].deadlineMs).toBe(30_000);
    expect(SCHEDULES['image-text']).toEqual(SCHEDULES['funcaptcha-image']);
    expect(h.service.of('getTaskResult').length).toBeLessThanOrEqual(15);
  });

  it('a stored image task without its image fails without asking the service', async () => {
    const h = new Harness();
    h.ensureWorker();
    const result = await h.engine.solve({ tabId: 1, frameId: 0, captcha: text, websiteURL: 'https://a.example/' });
    await h.settle();
    if (!result.ok) throw new Error('refused');
    const task = await h.finish(result.task.id);
    expect(task.error?.code).toBe('IMAGE_UNREADABLE');
    expect(h.service.of('createTask')).toEqual([]);
  });
});

describe('a request that failed before any task', () => {
  it('is recorded as failed, shown and kept in history, and asks nothing of the service', async () => {
    const h = new Harness();
    h.ensureWorker();
    const task = await h.engine.fail({ tabId: 1, frameId: 0, captcha: text, websiteURL: 'https://a.example/x' }, { code: 'IMAGE_UNREADABLE', message: 'unreadable' });
    await h.run();
    expect(h.store.get(task.id)).toMatchObject({ state: 'failed', error: { code: 'IMAGE_UNREADABLE' } });
    expect(isTaskRecord(h.store.get(task.id))).toBe(true);
    expect(h.finished.map((t) => t.id)).toEqual([task.id]);
    expect(historyEntryOf(task)).toMatchObject({ site: 'a.example', type: 'Image captcha (text)', outcome: 'failed', errorCode: 'IMAGE_UNREADABLE' });
    expect(h.service.calls).toEqual([]);
  });
});

describe('stored records and settings', () => {
  const record = {
    id: 't',
    tabId: 1,
    frameId: 0,
    captchaId: text.id,
    captcha: text,
    websiteURL: 'https://a.example/',
    serviceUrl: 'https://api.capmonster.cloud',
    state: 'queued',
    createdAt: 1,
    updatedAt: 1,
    dueAt: 1,
    polls: 0,
    createAttempts: 0,
    transientFailures: 0,
    image: IMAGE,
  };

  it('reads image task records, and refuses a bad image or an unknown family', () => {
    expect(isTaskRecord(record)).toBe(true);
    expect(isTaskRecord({ ...record, image: `data:image/png;base64,${IMAGE}` })).toBe(false);
    expect(isTaskRecord({ ...record, image: Buffer.alloc(60_000).toString('base64') })).toBe(false);
    expect(isTaskRecord({ ...record, captcha: { ...grid, tiles: 1 } })).toBe(false);
    expect(isTaskRecord({ ...record, captcha: { ...grid, round: 11 } })).toBe(false);
    expect(isTaskCaptcha({ family: 'image', id: 'x' })).toBe(false);
  });

  it('image settings: defaults, and only valid values kept', () => {
    expect(parseSettings({}).image).toEqual({ numeric: false, caseSensitive: false, math: false, threshold: 0, maxRounds: 5 });
    expect(parseSettings({ version: 2, image: { numeric: true, caseSensitive: 'yes', threshold: 101, maxRounds: 0 } }).image).toEqual({
      numeric: true,
      caseSensitive: false,
      math: false,
      threshold: 0,
      maxRounds: 5,
    });
    expect(parseSettings({ version: 2, image: { math: true, threshold: 60, maxRounds: 10 } }).image).toMatchObject({ math: true, threshold: 60, maxRounds: 10 });
  });
});

describe('image message validators', () => {
  const requestId = '0f8fad5b-d9cb-469f-a165-70867728950e';
  const body = Buffer.alloc(70_000, 1).toString('base64');

  it('content → background: a request id, a base64 body of any sane size, bounded text', () => {
    expect(isImageRecallMessage({ type: 'image-recall', requestId })).toBe(true);
    expect(isImageTextMessage({ type: 'image-text', requestId, captchaId: 'c', body })).toBe(true);
    expect(isImageTextMessage({ type: 'image-text', requestId, captchaId: 'c', body, pair: { image: '#a', field: '#b' } })).toBe(true);
    expect(isImageRoundMessage({ type: 'image-round', requestId, captchaId: 'c', instruction: 'Pick one', tiles: 6, body })).toBe(true);
    expect(isImageEndMessage({ type: 'image-end', requestId, reason: 'done' })).toBe(true);
  });

  it.each<[string, unknown]>([
    ['a data: prefix', { type: 'image-text', requestId, captchaId: 'c', body: `data:image/png;base64,${body}` }],
    ['a body with line breaks', { type: 'image-text', requestId, captchaId: 'c', body: `${body.slice(0, 76)}\n${body.slice(76)}` }],
    ['a request id with odd characters', { type: 'image-text', requestId: 'a b c d e f g h', captchaId: 'c', body }],
    ['a huge selector', { type: 'image-text', requestId, captchaId: 'c', body, pair: { image: 'a'.repeat(501), field: '#b' } }],
    ['one tile', { type: 'image-round', requestId, captchaId: 'c', instruction: 'x', tiles: 1, body }],
    ['an empty instruction', { type: 'image-round', requestId, captchaId: 'c', instruction: '  ', tiles: 6, body }],
    ['an instruction of 301 characters', { type: 'image-round', requestId, captchaId: 'c', instruction: 'x'.repeat(301), tiles: 6, body }],
    ['an unknown end reason', { type: 'image-end', requestId, reason: 'paid' }],
  ])('refuses %s', (_name, message) => {
    expect(isImageTextMessage(message) || isImageRoundMessage(message) || isImageEndMessage(message)).toBe(false);
  });

  it('background → content and popup → background', () => {
    expect(isImageStartMessage({ type: 'image-start', requestId, mode: 'menu', srcUrl: 'https://a.example/c.png' })).toBe(true);
    expect(isImageStartMessage({ type: 'image-start', requestId, mode: 'solve' })).toBe(false);
    expect(isDeliverImageMessage({ type: 'deliver-image', captchaId: 'c', answer: '010000' })).toBe(true);
    expect(isDeliverImageMessage({ type: 'deliver-image', captchaId: 'c', answer: 'x'.repeat(1_001) })).toBe(false);
    expect(isImageActionMessage({ type: 'image-pick', tabId: 3 })).toBe(true);
    expect(isImageActionMessage({ type: 'image-challenge', tabId: '3' })).toBe(false);
  });

  it('a frame cannot list an image "captcha" as found on the page', () => {
    expect(isFrameCaptchasMessage({ type: 'frame-captchas', captchas: [text] })).toBe(false);
    expect(isFrameCaptchasMessage({ type: 'frame-captchas', captchas: [grid] })).toBe(false);
  });
});
