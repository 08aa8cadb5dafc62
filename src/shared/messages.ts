/**
 * Every runtime message CapRelay sends, in one place, with the validator the receiver runs.
 * Direction is in the name: content → background, background → content, ui → background
 * (ui = the popup or options page). Tab and frame ids never travel from a content script:
 * the background takes them from the message sender.
 */
import { isCaptcha, CAPTCHA_ID_MAX, MAX_INSTRUCTION, MAX_TILES, type Captcha } from './captcha';
import type { ErrorReply } from './errors';
import type { GuardStatus } from './guard';
import type { TaskView } from './tasks';
import { type Guard, isAnyOf, isAnything, isArrayOf, isBoolean, isBoundedString, isInteger, isOneOf, isOptional, isRecord, isShapeOf, parse, TOKEN_MAX } from './validate';

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
export const isFrameCaptchasMessage = isShapeOf<FrameCaptchasMessage>({
  type: isOneOf(['frame-captchas'] as const),
  captchas: isArrayOf(isCaptcha, MAX_CAPTCHAS_PER_FRAME),
  inheritedUrl: isOptional(isBoundedString(8192)),
  notices: isOptional(isArrayOf(isOneOf(NOTICES), NOTICES.length)),
});

/** The background's answer: what the content script may show in the page, and what CapRelay will not solve here. */
export interface FrameCaptchasReply {
  inPageButton: boolean;
  /** Listed captchas CapRelay does not solve in this frame (type switched off, site not allowed). */
  declined: string[];
}
export const isFrameCaptchasReply = isShapeOf<FrameCaptchasReply>({
  inPageButton: isBoolean,
  declined: isArrayOf(isBoundedString(CAPTCHA_ID_MAX), MAX_CAPTCHAS_PER_FRAME),
});

/** A real (isTrusted) click on CapRelay's own in-page button next to a widget. */
export interface InPageSolveMessage {
  type: 'inpage-solve';
  captchaId: string;
}
export const isInPageSolveMessage = isShapeOf<InPageSolveMessage>({
  type: isOneOf(['inpage-solve'] as const),
  captchaId: isBoundedString(CAPTCHA_ID_MAX),
});

/**
 * A frame asks for the code it needs: `agent` where a vendor marker showed (the detectors, and
 * the page-world hooks), `images` in an Arkose frame (its image challenge). The background loads
 * it into the sender's frame only; a page can at most make CapRelay load its detectors there.
 */
export interface LoadMessage {
  type: 'load';
  what: 'agent' | 'images';
}
const isLoadMessage = isShapeOf<LoadMessage>({
  type: isOneOf(['load'] as const),
  what: isOneOf(['agent', 'images'] as const),
});

/**
 * From an Arkose frame: a FunCaptcha image challenge is shown in it now, or no longer. The
 * background takes it only from frames of Arkose's (or of the site's own Arkose host).
 */
export interface ChallengeStateMessage {
  type: 'challenge-state';
  open: boolean;
}
const isChallengeStateMessage = isShapeOf<ChallengeStateMessage>({
  type: isOneOf(['challenge-state'] as const),
  open: isBoolean,
});

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
export const isImagePair = isShapeOf<ImagePair>({
  image: isBoundedString(MAX_SELECTOR),
  field: isBoundedString(MAX_SELECTOR),
});

/** What this site's remembered pair is (asked before showing the picker). */
export interface ImageRecallMessage {
  type: 'image-recall';
  requestId: string;
}
export const isImageRecallMessage = isShapeOf<ImageRecallMessage>({
  type: isOneOf(['image-recall'] as const),
  requestId: isRequestId,
});

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
export const isImageTextMessage = isShapeOf<ImageTextMessage>({
  type: isOneOf(['image-text'] as const),
  requestId: isRequestId,
  captchaId: isBoundedString(CAPTCHA_ID_MAX),
  body: isRawImage,
  pair: isOptional(isImagePair),
});

/** One round of a FunCaptcha image challenge, read from the frame that shows it. */
export interface ImageRoundMessage {
  type: 'image-round';
  requestId: string;
  captchaId: string;
  instruction: string;
  tiles: number;
  body: string;
}
export const isImageRoundMessage = isShapeOf<ImageRoundMessage>({
  type: isOneOf(['image-round'] as const),
  requestId: isRequestId,
  captchaId: isBoundedString(CAPTCHA_ID_MAX),
  instruction: (v: unknown): v is string => typeof v === 'string' && v.trim().length > 0 && v.length <= MAX_INSTRUCTION,
  tiles: (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 2 && (v as number) <= MAX_TILES,
  body: isRawImage,
});

export type ImageEndReason = 'done' | 'cancelled' | 'unreadable' | 'stuck';
/** The request ended in the page: challenge completed, picker closed, image unreadable. */
export interface ImageEndMessage {
  type: 'image-end';
  requestId: string;
  reason: ImageEndReason;
}
export const isImageEndMessage = isShapeOf<ImageEndMessage>({
  type: isOneOf(['image-end'] as const),
  requestId: isRequestId,
  reason: isOneOf(['done', 'cancelled', 'unreadable', 'stuck'] as const),
});

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
export const isImageStartMessage = isShapeOf<ImageStartMessage>({
  type: isOneOf(['image-start'] as const),
  requestId: isRequestId,
  mode: isOneOf(['pick', 'menu', 'challenge'] as const),
  srcUrl: isOptional(isBoundedString(8_192)),
});

/** Which of the frame's captchas are still there (a frame that is gone cannot answer). */
export interface FramePingMessage {
  type: 'frame-ping';
}
export const isFramePingMessage = isShapeOf<FramePingMessage>({ type: isOneOf(['frame-ping'] as const) });

export interface FramePingReply {
  captchaIds: string[];
}
export const isFramePingReply = isShapeOf<FramePingReply>({
  captchaIds: isArrayOf(isBoundedString(CAPTCHA_ID_MAX), MAX_CAPTCHAS_PER_FRAME),
});

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
export const isDeliverImageMessage = isShapeOf<DeliverImageMessage>({
  type: isOneOf(['deliver-image'] as const),
  captchaId: isBoundedString(CAPTCHA_ID_MAX),
  answer: isBoundedString(1_000),
});

/**
 * What the frame does once the token is in (each only when the user switched it on): submit the
 * widget's form, or click the element the site's rule names; and tell the page's own scripts,
 * with an attribute and an event on the widget that carry nothing else.
 */
export interface AfterDelivery {
  submit?: 'form' | { click: string };
  signal?: boolean;
}
const isAfterDelivery = isShapeOf<AfterDelivery>({
  submit: isOptional(isAnyOf<NonNullable<AfterDelivery['submit']>>([isOneOf(['form'] as const), isShapeOf<{ click: string }>({ click: isBoundedString(MAX_SELECTOR) })])),
  signal: isOptional(isBoolean),
});

export interface DeliverTokenMessage {
  type: 'deliver-token';
  captchaId: string;
  token: string;
  then?: AfterDelivery;
}
export const isDeliverTokenMessage = isShapeOf<DeliverTokenMessage>({
  type: isOneOf(['deliver-token'] as const),
  captchaId: isBoundedString(CAPTCHA_ID_MAX),
  token: isBoundedString(TOKEN_MAX),
  then: isOptional(isAfterDelivery),
});

export interface DeliveryReport {
  delivered: boolean;
  /** Why not: the widget left the page (navigation, re-render) or the token was refused. */
  reason?: 'WIDGET_GONE' | 'INVALID';
  fieldsFilled: number;
  callback: 'called' | 'none' | 'failed';
}
export const isDeliveryReport = isShapeOf<DeliveryReport>({
  delivered: isBoolean,
  reason: isOptional(isOneOf(['WIDGET_GONE', 'INVALID'] as const)),
  fieldsFilled: isInteger,
  callback: isOneOf(['called', 'none', 'failed'] as const),
});

/* ui → background */
export interface SolveMessage {
  type: 'solve';
  tabId: number;
  frameId: number;
  captchaId: string;
}
export const isSolveMessage = isShapeOf<SolveMessage>({
  type: isOneOf(['solve'] as const),
  tabId: isInteger,
  frameId: isInteger,
  captchaId: isBoundedString(CAPTCHA_ID_MAX),
});

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
export const isSolveAllMessage = isShapeOf<SolveAllMessage>({
  type: isOneOf(['solve-all'] as const),
  tabId: isInteger,
  frameId: isOptional(isInteger),
  confirmed: isOptional(isInteger),
});

/** One gesture solves at most this many captchas without asking. */
export const CONFIRM_ABOVE = 3;

/** The user declined what the shortcut or the page menu asked them to confirm. */
export interface DismissGestureMessage {
  type: 'dismiss-gesture';
  tabId: number;
}
const isDismissGestureMessage = isShapeOf<DismissGestureMessage>({
  type: isOneOf(['dismiss-gesture'] as const),
  tabId: isInteger,
});

export interface TabStateMessage {
  type: 'tab-state';
  tabId: number;
}
export const isTabStateMessage = isShapeOf<TabStateMessage>({
  type: isOneOf(['tab-state'] as const),
  tabId: isInteger,
});

export interface BalanceMessage {
  type: 'balance';
}
export const isBalanceMessage = isShapeOf<BalanceMessage>({ type: isOneOf(['balance'] as const) });

/**
 * The popup's image actions: pick an image captcha in the top frame, or solve the FunCaptcha
 * image challenge of one frame (the one the user chose when several show one).
 */
export interface ImageActionMessage {
  type: 'image-pick' | 'image-challenge';
  tabId: number;
  frameId?: number;
}
export const isImageActionMessage = isShapeOf<ImageActionMessage>({
  type: isOneOf(['image-pick', 'image-challenge'] as const),
  tabId: isInteger,
  frameId: isOptional(isInteger),
});

export type ImageActionReply = { ok: true } | { ok: false; error: ErrorReply };

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
const isControlMessage = isShapeOf<ControlMessage>({
  type: isOneOf(['control'] as const),
  method: isOneOf(CONTROL_METHODS),
  // Read by the method it is for (control.ts), which keeps only what it knows.
  params: isAnything,
});

/** Report the answer of a finished task in the history as wrong (once per task). */
export interface ReportWrongMessage {
  type: 'report-wrong';
  /** The history entry's id (CapRelay's task id, never the service's). */
  entryId: string;
}
export const isReportWrongMessage = isShapeOf<ReportWrongMessage>({
  type: isOneOf(['report-wrong'] as const),
  entryId: isBoundedString(100),
});

/** The service took the report, or the reason it was not sent or not taken. */
export type ReportWrongReply = { ok: true } | { ok: false; error: ErrorReply };

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

export type SolveReply = { ok: true; taskId: string } | { ok: false; error: ErrorReply };

/** `confirm`: nothing was started; this many captchas wait for the user's yes. */
export type SolveAllReply = { started: number; errors: ErrorReply[]; confirm?: number };

/** What the shortcut or the page menu found too many of to solve without asking. */
export interface PendingGesture {
  count: number;
  frameId?: number;
  at: number;
}

export type BalanceReply = { ok: true; balance: number } | { ok: false; error: ErrorReply };

/** What a handler answers when there is nothing to say but "done". */
export type Done = Record<string, never>;

/** A protocol: each message type, with the message and its reply. */
export type Protocol = Record<string, { message: { type: string }; reply: unknown }>;
/** The check each message type is read with (its guard keeps only the fields it knows). */
export type GuardsOf<P extends Protocol> = { [K in keyof P]: Guard<P[K]['message']> };
/** The reply a message gets. */
export type ReplyTo<P extends Protocol, M> = M extends { type: infer K extends keyof P } ? P[K]['reply'] : never;
export type MessageOf<P extends Protocol> = P[keyof P]['message'];

/** content → background: a content script's messages (tier 1: they report and answer, never spend). */
export type ContentProtocol = {
  'frame-captchas': { message: FrameCaptchasMessage; reply: FrameCaptchasReply };
  'inpage-solve': { message: InPageSolveMessage; reply: SolveReply };
  load: { message: LoadMessage; reply: Done };
  'challenge-state': { message: ChallengeStateMessage; reply: Done };
  'image-recall': { message: ImageRecallMessage; reply: ImageRecallReply };
  'image-text': { message: ImageTextMessage; reply: SolveReply };
  'image-round': { message: ImageRoundMessage; reply: SolveReply };
  'image-end': { message: ImageEndMessage; reply: Done };
};
export type ContentMessage = MessageOf<ContentProtocol>;
export const CONTENT_MESSAGES: GuardsOf<ContentProtocol> = {
  'frame-captchas': isFrameCaptchasMessage,
  'inpage-solve': isInPageSolveMessage,
  load: isLoadMessage,
  'challenge-state': isChallengeStateMessage,
  'image-recall': isImageRecallMessage,
  'image-text': isImageTextMessage,
  'image-round': isImageRoundMessage,
  'image-end': isImageEndMessage,
};

/** ui → background: the extension pages' messages (tier 2: they may spend and read account data). */
export type UiProtocol = {
  solve: { message: SolveMessage; reply: SolveReply };
  'solve-all': { message: SolveAllMessage; reply: SolveAllReply };
  'dismiss-gesture': { message: DismissGestureMessage; reply: Done };
  'tab-state': { message: TabStateMessage; reply: TabStateReply };
  balance: { message: BalanceMessage; reply: BalanceReply };
  'report-wrong': { message: ReportWrongMessage; reply: ReportWrongReply };
  'image-pick': { message: ImageActionMessage; reply: ImageActionReply };
  'image-challenge': { message: ImageActionMessage; reply: ImageActionReply };
  /** The control API's reply is its method's (background/control.ts types each). */
  control: { message: ControlMessage; reply: unknown };
};
export type UiMessage = MessageOf<UiProtocol>;
export const UI_MESSAGES: GuardsOf<UiProtocol> = {
  solve: isSolveMessage,
  'solve-all': isSolveAllMessage,
  'dismiss-gesture': isDismissGestureMessage,
  'tab-state': isTabStateMessage,
  balance: isBalanceMessage,
  'report-wrong': isReportWrongMessage,
  'image-pick': isImageActionMessage,
  'image-challenge': isImageActionMessage,
  control: isControlMessage,
};

/** background → content: asked of one frame; the background checks each reply (a page may answer in its place). */
export type BackgroundProtocol = {
  'deliver-token': { message: DeliverTokenMessage; reply: DeliveryReport };
  'image-start': { message: ImageStartMessage; reply: ImageStartReply };
  'deliver-image': { message: DeliverImageMessage; reply: DeliveryReport };
  'frame-ping': { message: FramePingMessage; reply: FramePingReply };
};
export type BackgroundToContentMessage = MessageOf<BackgroundProtocol>;

/**
 * A message of this protocol as its guard keeps it (only the fields it knows), or undefined
 * for anything else: the one way a receiver reads a message.
 */
export function readMessage<P extends Protocol>(guards: GuardsOf<P>, value: unknown): MessageOf<P> | undefined {
  if (!isRecord(value) || typeof value.type !== 'string' || !Object.hasOwn(guards, value.type)) return undefined;
  const message = parse(guards[value.type as keyof P], value);
  return message?.type === value.type ? message : undefined;
}
