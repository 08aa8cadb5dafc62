/**
 * Every runtime message CapRelay sends, in one place, with the validator the receiver runs.
 * Direction is in the name: content → background, background → content, ui → background
 * (ui = the popup or options page). Tab and frame ids never travel from a content script:
 * the background takes them from the message sender.
 */
import { isCaptcha, CAPTCHA_ID_MAX, type Captcha } from './captcha';
import type { GuardStatus } from './guard';
import type { TaskView } from './tasks';
import { isArrayOf, isBoundedString, isInteger, isOneOf, isOptional, isShape, type Guard } from './validate';

export const MAX_CAPTCHAS_PER_FRAME = 50;

/* content → background */
export interface FrameCaptchasMessage {
  type: 'frame-captchas';
  captchas: Captcha[];
}
export const isFrameCaptchasMessage = isShape({
  type: isOneOf(['frame-captchas'] as const),
  captchas: isArrayOf(isCaptcha, MAX_CAPTCHAS_PER_FRAME),
}) as Guard<FrameCaptchasMessage>;

/** The background's answer: what the content script may show in the page. */
export interface FrameCaptchasReply {
  inPageButton: boolean;
}

/** A real (isTrusted) click on CapRelay's own in-page button next to a widget. */
export interface InPageSolveMessage {
  type: 'inpage-solve';
  captchaId: string;
}
export const isInPageSolveMessage = isShape({
  type: isOneOf(['inpage-solve'] as const),
  captchaId: isBoundedString(CAPTCHA_ID_MAX),
}) as Guard<InPageSolveMessage>;

/* background → content */
export interface DeliverTokenMessage {
  type: 'deliver-token';
  captchaId: string;
  token: string;
}
export const isDeliverTokenMessage = isShape({
  type: isOneOf(['deliver-token'] as const),
  captchaId: isBoundedString(CAPTCHA_ID_MAX),
  token: isBoundedString(20_000),
}) as Guard<DeliverTokenMessage>;

export interface DeliveryReport {
  delivered: boolean;
  /** Why not: the widget left the page (navigation, re-render) or the token was refused. */
  reason?: 'WIDGET_GONE' | 'INVALID';
  fieldsFilled: number;
  callback: 'called' | 'none' | 'failed';
}
export const isDeliveryReport = isShape({
  delivered: (v: unknown): v is boolean => typeof v === 'boolean',
  reason: isOptional(isOneOf(['WIDGET_GONE', 'INVALID'] as const)),
  fieldsFilled: isInteger,
  callback: isOneOf(['called', 'none', 'failed'] as const),
}) as Guard<DeliveryReport>;

/* ui → background */
export interface SolveMessage {
  type: 'solve';
  tabId: number;
  frameId: number;
  captchaId: string;
}
export const isSolveMessage = isShape({
  type: isOneOf(['solve'] as const),
  tabId: isInteger,
  frameId: isInteger,
  captchaId: isBoundedString(CAPTCHA_ID_MAX),
}) as Guard<SolveMessage>;

export interface SolveAllMessage {
  type: 'solve-all';
  tabId: number;
}
export const isSolveAllMessage = isShape({
  type: isOneOf(['solve-all'] as const),
  tabId: isInteger,
}) as Guard<SolveAllMessage>;

export interface TabStateMessage {
  type: 'tab-state';
  tabId: number;
}
export const isTabStateMessage = isShape({
  type: isOneOf(['tab-state'] as const),
  tabId: isInteger,
}) as Guard<TabStateMessage>;

export interface BalanceMessage {
  type: 'balance';
}
export const isBalanceMessage = isShape({ type: isOneOf(['balance'] as const) }) as Guard<BalanceMessage>;

export type UiMessage = SolveMessage | SolveAllMessage | TabStateMessage | BalanceMessage;

/* replies to ui messages */
export interface FrameCaptcha {
  frameId: number;
  /** The frame's URL as the browser reported it: the websiteURL of a task. */
  url: string;
  captcha: Captcha;
}

export interface TabStateReply {
  captchas: FrameCaptcha[];
  /** Found but not listed because their family is switched off. */
  hiddenCount: number;
  /** False when the site list excludes this page. */
  siteAllowed: boolean;
  tasks: TaskView[];
  guard: GuardStatus;
}

export type SolveReply = { ok: true; taskId: string } | { ok: false; error: { code: string; message: string } };

export type SolveAllReply = { started: number; errors: { code: string; message: string }[] };

export type BalanceReply =
  | { ok: true; balance: number }
  | { ok: false; error: { code: string; message: string } };

export type ContentMessage = FrameCaptchasMessage | InPageSolveMessage;
export type BackgroundToContentMessage = DeliverTokenMessage;
