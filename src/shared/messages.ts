/**
 * Every runtime message CapRelay sends, in one place, with the validator the receiver runs.
 * Direction is in the name: content → background, background → content, ui → background
 * (ui = the popup or options page). Tab and frame ids never travel from a content script:
 * the background takes them from the message sender.
 */
import { isCaptcha, CAPTCHA_ID_MAX, MAX_INSTRUCTION, MAX_TILES, type Captcha } from './captcha';
import type { GuardStatus } from './guard';
import type { TaskView } from './tasks';
import { isArrayOf, isBoundedString, isInteger, isOneOf, isOptional, isShape, TOKEN_MAX, type Guard } from './validate';

export const MAX_CAPTCHAS_PER_FRAME = 50;

/**
 * What a frame shows that is no captcha CapRelay can solve, but worth telling the user about:
 * Cloudflare's challenge page when the data its task needs cannot be read.
 */
export const NOTICES = ['cloudflare-challenge'] as const;
export type Notice = (typeof NOTICES)[number];

/* content → background */
export interface FrameCaptchasMessage {
  type: 'frame-captchas';
  captchas: Captcha[];
  /**
   * Only from about:blank / about:srcdoc frames, whose own URL is no page address: the address
   * of the nearest ancestor document that has one (which such a frame belongs to). The
   * background accepts it only for such frames and only from the sender's origin.
   */
  inheritedUrl?: string;
  notices?: Notice[];
}
export const isFrameCaptchasMessage = isShape({
  type: isOneOf(['frame-captchas'] as const),
  captchas: isArrayOf(isCaptcha, MAX_CAPTCHAS_PER_FRAME),
  inheritedUrl: isOptional(isBoundedString(8192)),
  notices: isOptional(isArrayOf(isOneOf(NOTICES), NOTICES.length)),
}) as Guard<FrameCaptchasMessage>;

/** The background's answer: what the content script may show in the page, and what CapRelay will not solve here. */
export interface FrameCaptchasReply {
  inPageButton: boolean;
  /** Listed captchas CapRelay does not solve in this frame (type switched off, site not allowed). */
  declined: string[];
}
export const isFrameCaptchasReply = isShape({
  inPageButton: (v: unknown): v is boolean => typeof v === 'boolean',
  declined: isArrayOf(isBoundedString(CAPTCHA_ID_MAX), MAX_CAPTCHAS_PER_FRAME),
}) as Guard<FrameCaptchasReply>;

/** A real (isTrusted) click on CapRelay's own in-page button next to a widget. */
export interface InPageSolveMessage {
  type: 'inpage-solve';
  captchaId: string;
}
export const isInPageSolveMessage = isShape({
  type: isOneOf(['inpage-solve'] as const),
  captchaId: isBoundedString(CAPTCHA_ID_MAX),
}) as Guard<InPageSolveMessage>;

/**
 * A frame asks for the code it needs: `agent` where a vendor marker showed (the detectors, and
 * the page-world hooks), `images` in an Arkose frame (its image challenge). The background loads
 * it into the sender's frame only; a page can at most make CapRelay load its detectors there.
 */
export interface LoadMessage {
  type: 'load';
  what: 'agent' | 'images';
}
export const isLoadMessage = isShape({
  type: isOneOf(['load'] as const),
  what: isOneOf(['agent', 'images'] as const),
}) as Guard<LoadMessage>;

/**
 * From an Arkose frame: a FunCaptcha image challenge is shown in it now, or no longer. The
 * background takes it only from frames of Arkose's (or of the site's own Arkose host).
 */
export interface ChallengeStateMessage {
  type: 'challenge-state';
  open: boolean;
}
export const isChallengeStateMessage = isShape({
  type: isOneOf(['challenge-state'] as const),
  open: (v: unknown): v is boolean => typeof v === 'boolean',
}) as Guard<ChallengeStateMessage>;

/* content → background: image flows (each answers a request the background made first) */

/**
 * An image as a frame read it (base64, no prefix): any size up to this bound. The background
 * fits it to the service's limits before a task is made.
 */
const MAX_RAW_IMAGE = 16_000_000;
const isRawImage: Guard<string> = (v): v is string => typeof v === 'string' && v.length >= 16 && v.length <= MAX_RAW_IMAGE && /^[A-Za-z0-9+/]+={0,2}$/.test(v);

/** Ids the background gives an image request; the content script echoes them back. */
const isRequestId: Guard<string> = (v): v is string => typeof v === 'string' && /^[\w-]{8,100}$/.test(v);
export const MAX_SELECTOR = 500;

/** Where the image and its answer field are on a site (CSS selectors), remembered per host. */
export interface ImagePair {
  image: string;
  field: string;
}
export const isImagePair = isShape({
  image: isBoundedString(MAX_SELECTOR),
  field: isBoundedString(MAX_SELECTOR),
}) as Guard<ImagePair>;

/** What this site's remembered pair is (asked before showing the picker). */
export interface ImageRecallMessage {
  type: 'image-recall';
  requestId: string;
}
export const isImageRecallMessage = isShape({
  type: isOneOf(['image-recall'] as const),
  requestId: isRequestId,
}) as Guard<ImageRecallMessage>;

export interface ImageRecallReply {
  pair?: ImagePair;
}

/** The image the user chose, captured, and where its answer goes (remembered for the site). */
export interface ImageTextMessage {
  type: 'image-text';
  requestId: string;
  captchaId: string;
  body: string;
  pair?: ImagePair;
}
export const isImageTextMessage = isShape({
  type: isOneOf(['image-text'] as const),
  requestId: isRequestId,
  captchaId: isBoundedString(CAPTCHA_ID_MAX),
  body: isRawImage,
  pair: isOptional(isImagePair),
}) as Guard<ImageTextMessage>;

/** One round of a FunCaptcha image challenge, read from the frame that shows it. */
export interface ImageRoundMessage {
  type: 'image-round';
  requestId: string;
  captchaId: string;
  instruction: string;
  tiles: number;
  body: string;
}
export const isImageRoundMessage = isShape({
  type: isOneOf(['image-round'] as const),
  requestId: isRequestId,
  captchaId: isBoundedString(CAPTCHA_ID_MAX),
  instruction: (v: unknown): v is string => typeof v === 'string' && v.trim().length > 0 && v.length <= MAX_INSTRUCTION,
  tiles: (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 2 && (v as number) <= MAX_TILES,
  body: isRawImage,
}) as Guard<ImageRoundMessage>;

export type ImageEndReason = 'done' | 'cancelled' | 'unreadable' | 'stuck';
/** The request ended in the page: challenge completed, picker closed, image unreadable. */
export interface ImageEndMessage {
  type: 'image-end';
  requestId: string;
  reason: ImageEndReason;
}
export const isImageEndMessage = isShape({
  type: isOneOf(['image-end'] as const),
  requestId: isRequestId,
  reason: isOneOf(['done', 'cancelled', 'unreadable', 'stuck'] as const),
}) as Guard<ImageEndMessage>;

/* background → content */

/**
 * pick: let the user choose the image and the field (or use the site's remembered pair);
 * menu: the image the user right-clicked (srcUrl), then its field; challenge: read the
 * FunCaptcha image challenge shown in this frame, if any (sent to every frame of the tab).
 */
export interface ImageStartMessage {
  type: 'image-start';
  requestId: string;
  mode: 'pick' | 'menu' | 'challenge';
  srcUrl?: string;
}
export const isImageStartMessage = isShape({
  type: isOneOf(['image-start'] as const),
  requestId: isRequestId,
  mode: isOneOf(['pick', 'menu', 'challenge'] as const),
  srcUrl: isOptional(isBoundedString(8_192)),
}) as Guard<ImageStartMessage>;

/** Which of the frame's captchas are still there (a frame that is gone cannot answer). */
export interface FramePingMessage {
  type: 'frame-ping';
}
export const isFramePingMessage = isShape({ type: isOneOf(['frame-ping'] as const) }) as Guard<FramePingMessage>;

export interface FramePingReply {
  captchaIds: string[];
}
export const isFramePingReply = isShape({
  captchaIds: isArrayOf(isBoundedString(CAPTCHA_ID_MAX), MAX_CAPTCHAS_PER_FRAME),
}) as Guard<FramePingReply>;

/** A frame took the request on (a frame without a challenge does not answer at all). */
export interface ImageStartReply {
  started: boolean;
}

/** The answer to an image task: the text, or one 0/1 per tile in grid order. */
export interface DeliverImageMessage {
  type: 'deliver-image';
  captchaId: string;
  answer: string;
}
export const isDeliverImageMessage = isShape({
  type: isOneOf(['deliver-image'] as const),
  captchaId: isBoundedString(CAPTCHA_ID_MAX),
  answer: isBoundedString(1_000),
}) as Guard<DeliverImageMessage>;

/**
 * What the frame does once the token is in (each only when the user switched it on): submit the
 * widget's form, or click the element the site's rule names; and tell the page's own scripts,
 * with an attribute and an event on the widget that carry nothing else.
 */
export interface AfterDelivery {
  submit?: 'form' | { click: string };
  signal?: boolean;
}
const isAfterDelivery = isShape({
  submit: isOptional((v: unknown): v is AfterDelivery['submit'] => v === 'form' || isShape({ click: isBoundedString(MAX_SELECTOR) })(v)),
  signal: isOptional((v: unknown): v is boolean => typeof v === 'boolean'),
}) as Guard<AfterDelivery>;

export interface DeliverTokenMessage {
  type: 'deliver-token';
  captchaId: string;
  token: string;
  then?: AfterDelivery;
}
export const isDeliverTokenMessage = isShape({
  type: isOneOf(['deliver-token'] as const),
  captchaId: isBoundedString(CAPTCHA_ID_MAX),
  token: isBoundedString(TOKEN_MAX),
  then: isOptional(isAfterDelivery),
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

/**
 * Solve what is listed: the whole tab, or one frame of it. Past CONFIRM_ABOVE captchas the
 * background asks first (the reply's `confirm`), and goes ahead only when `confirmed` names the
 * same count: one gesture never pays for more than the user saw.
 */
export interface SolveAllMessage {
  type: 'solve-all';
  tabId: number;
  frameId?: number;
  confirmed?: number;
}
export const isSolveAllMessage = isShape({
  type: isOneOf(['solve-all'] as const),
  tabId: isInteger,
  frameId: isOptional(isInteger),
  confirmed: isOptional(isInteger),
}) as Guard<SolveAllMessage>;

/** One gesture solves at most this many captchas without asking. */
export const CONFIRM_ABOVE = 3;

/** The user declined what the shortcut or the page menu asked them to confirm. */
export interface DismissGestureMessage {
  type: 'dismiss-gesture';
  tabId: number;
}
export const isDismissGestureMessage = isShape({
  type: isOneOf(['dismiss-gesture'] as const),
  tabId: isInteger,
}) as Guard<DismissGestureMessage>;

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

/**
 * The popup's image actions: pick an image captcha in the top frame, or solve the FunCaptcha
 * image challenge of one frame (the one the user chose when several show one).
 */
export interface ImageActionMessage {
  type: 'image-pick' | 'image-challenge';
  tabId: number;
  frameId?: number;
}
export const isImageActionMessage = isShape({
  type: isOneOf(['image-pick', 'image-challenge'] as const),
  tabId: isInteger,
  frameId: isOptional(isInteger),
}) as Guard<ImageActionMessage>;

export type ImageActionReply = { ok: true } | { ok: false; error: { code: string; message: string } };

/**
 * The control API for automated browsers (src/background/control.ts), called from an extension
 * page (src/control/index.html, `window.caprelay`); each method checks its own parameters.
 */
export const CONTROL_METHODS = ['configure', 'status', 'tabs', 'captchas', 'solve', 'waitForSolved'] as const;
export type ControlMethod = (typeof CONTROL_METHODS)[number];
export interface ControlMessage {
  type: 'control';
  method: ControlMethod;
  params?: unknown;
}
export const isControlMessage = isShape({
  type: isOneOf(['control'] as const),
  method: isOneOf(CONTROL_METHODS),
}) as Guard<Omit<ControlMessage, 'params'>> as Guard<ControlMessage>;


/** Report the answer of a finished task in the history as wrong (once per task). */
export interface ReportWrongMessage {
  type: 'report-wrong';
  /** The history entry's id (CapRelay's task id, never the service's). */
  entryId: string;
}
export const isReportWrongMessage = isShape({
  type: isOneOf(['report-wrong'] as const),
  entryId: isBoundedString(100),
}) as Guard<ReportWrongMessage>;

/** The service took the report, or the reason it was not sent or not taken. */
export type ReportWrongReply = { ok: true } | { ok: false; error: { code: string; message: string } };

export type UiMessage = SolveMessage | SolveAllMessage | DismissGestureMessage | TabStateMessage | BalanceMessage | ImageActionMessage | ControlMessage | ReportWrongMessage;

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
  /** The shortcut or the page menu is waiting for the user to confirm this many. */
  pending?: PendingGesture;
  /** Frames showing a FunCaptcha image challenge now (of Arkose's own, on an allowed page). */
  challenges: { frameId: number; host: string }[];
  /** What the tab shows that CapRelay cannot solve, explained in the popup. */
  notices: Notice[];
}

export type SolveReply = { ok: true; taskId: string } | { ok: false; error: { code: string; message: string } };

/** `confirm`: nothing was started; this many captchas wait for the user's yes. */
export type SolveAllReply = { started: number; errors: { code: string; message: string }[]; confirm?: number };

/** What the shortcut or the page menu found too many of to solve without asking. */
export interface PendingGesture {
  count: number;
  frameId?: number;
  at: number;
}

export type BalanceReply =
  | { ok: true; balance: number }
  | { ok: false; error: { code: string; message: string } };

export type ContentMessage = FrameCaptchasMessage | InPageSolveMessage | LoadMessage | ChallengeStateMessage | ImageRecallMessage | ImageTextMessage | ImageRoundMessage | ImageEndMessage;
export type BackgroundToContentMessage = DeliverTokenMessage | ImageStartMessage | DeliverImageMessage | FramePingMessage;
