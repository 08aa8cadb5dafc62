/**
 * GeeTest in the page world.
 *
 * v3: the page calls `initGeetest(config, handler)` with a challenge from its own register call.
 * That challenge is single-use, and the real widget spends it the moment it starts (and a task
 * with a spent one is billed as solved), so the trap holds the call. The hooks report it; while
 * GeeTest v3 is on and the site allowed, the page gets a stand-in captcha object with GeeTest's
 * methods and hidden fields instead, filled (and `getValidate()` answered, `onSuccess` run) with
 * the service's solution. When CapRelay is off for it, the page's own call goes through untouched.
 *
 * v4: `initGeetest4(config, callback)` consumes nothing: the call goes through, and the hooks wrap
 * the instance the callback gets, so its `onSuccess` handlers run and `getValidate()` answers
 * with the five values of the solution.
 */
import type { DeliverRequest, ProbeGeeTestReport } from '../../shared/page-protocol';
import type { FamilyTraps, HooksFactory, TrapCall } from '../channel';
import type { AnyFunction, Dict } from '../intercept';

export const geetestTraps: FamilyTraps = {
  family: 'geetest',
  install(trap) {
    trap.intercept.property(window, 'initGeetest', (fn) => trap.record('geetest.init3', fn, { hold: true }));
    trap.intercept.property(window, 'initGeetest4', (fn) => trap.record('geetest.init4', fn, { hold: true }));
  },
};

type Handlers = Record<'ready' | 'success' | 'error' | 'close' | 'fail', AnyFunction[]>;

interface Setup {
  ref: string;
  version: 3 | 4;
  call: TrapCall;
  config: unknown;
  /** Where the widget is shown (appendTo), for the content script to find it. */
  container: Element | null;
  handlers: Handlers;
  validate: Dict | false;
  /** v3: our stand-in went to the page (else the call was let through). */
  replaced: boolean;
}

const API_DEFAULTS = new Set(['api.geetest.com', 'gcaptcha4.geetest.com']);
/** How long a held v3 call waits for the content script's word before it goes through (see the probe's hold limit). */
const DECISION_LIMIT_MS = 8_000;

export const geetestHooks: HooksFactory = ({ channel, emit }) => {
  const { intercept: x, dom, builtins: b } = channel;
  const setups: Setup[] = [];

  const hostOf = (value: unknown): string | undefined => {
    const raw: unknown = Array.isArray(value) ? value[0] : value;
    if (typeof raw !== 'string' || !raw) return undefined;
    try {
      return new b.URL(/^https?:\/\//.test(raw) ? raw : `https://${raw}`).hostname;
    } catch {
      return undefined;
    }
  };

  /** `released`: the widget is withdrawn (its challenge went to GeeTest's own widget). */
  function reportSetup(setup: Setup, released = false): void {
    const config = setup.config;
    const gt = x.own(config, setup.version === 3 ? 'gt' : 'captchaId');
    if (typeof gt !== 'string') return;
    const report: ProbeGeeTestReport = { family: 'geetest', version: setup.version, gt: gt.slice(0, 100), ref: setup.ref };
    if (released) report.released = true;
    const challenge = x.ownString(config, 'challenge', 200);
    if (setup.version === 3 && challenge) report.challenge = challenge;
    const apiServer = hostOf(x.own(config, setup.version === 3 ? 'api_server' : 'apiServers'));
    if (apiServer && !API_DEFAULTS.has(apiServer)) report.apiServer = apiServer;
    const riskType = x.ownString(config, 'riskType', 40);
    if (setup.version === 4 && riskType) report.riskType = riskType;
    emit(report, setup.container);
  }

  const fire = (setup: Setup, kind: keyof Handlers, arg?: unknown): void => {
    for (const fn of setup.handlers[kind]) {
      try {
        b.apply(fn, undefined, arg === undefined ? [] : [arg]);
      } catch (error) {
        console.error('CapRelay: the page callback threw', error);
      }
    }
  };

  /** GeeTest's hidden fields, where the page's form will send them (a v3 holder, a bindForm form). */
  function formFields(host: Element): void {
    const form = document.createElement('div');
    form.className = 'geetest_form';
    for (const name of ['geetest_challenge', 'geetest_validate', 'geetest_seccode']) {
      const input = document.createElement('input');
      input.type = 'hidden';
      input.name = name;
      form.appendChild(input);
    }
    host.appendChild(form);
  }

  /** The v3 captcha object the page gets instead of GeeTest's: the same methods, nothing spent. */
  function standIn(setup: Setup): Dict {
    const bind = x.own(setup.config, 'product') === 'bind';
    const chain = (kind: keyof Handlers) =>
      function (this: unknown, fn: unknown) {
        if (typeof fn === 'function') setup.handlers[kind].push(fn as AnyFunction);
        // As GeeTest does: a handler added after the widget got ready still hears of it.
        if (kind === 'ready' && typeof fn === 'function') b.setTimeout(() => void b.apply(fn as AnyFunction, undefined, []), 0);
        return obj;
      };
    const obj: Dict = {
      appendTo(target: unknown) {
        const host = dom.elementOf(target);
        if (host && !bind) {
          const holder = document.createElement('div');
          holder.className = 'geetest_holder';
          holder.setAttribute('data-caprelay', 'geetest');
          holder.textContent = 'CapRelay: solve this check from the CapRelay button.';
          formFields(holder);
          host.appendChild(holder);
          setup.container = holder;
          reportSetup(setup);
        }
        return obj;
      },
      bindForm(target: unknown) {
        const form = dom.elementOf(target);
        if (form) {
          formFields(form);
          setup.container ??= form;
          reportSetup(setup);
        }
        return obj;
      },
      onReady: chain('ready'),
      onSuccess: chain('success'),
      onError: chain('error'),
      onClose: chain('close'),
      onFail: chain('fail'),
      getValidate: () => setup.validate,
      reset: () => void (setup.validate = false),
      verify: () => undefined,
      destroy: () => undefined,
    };
    return obj;
  }

  /** Wraps the v4 instance the page's callback gets: its handlers are seen, getValidate answers ours once delivered. */
  function wrapInstance(setup: Setup, instance: unknown): void {
    if ((typeof instance !== 'object' || instance === null) && typeof instance !== 'function') return;
    for (const [method, kind] of [
      ['onSuccess', 'success'],
      ['onReady', 'ready'],
      ['onError', 'error'],
      ['onClose', 'close'],
      ['onFail', 'fail'],
    ] as const) {
      x.property(instance, method, (fn) =>
        x.fn(fn, (original, self, args) => {
          if (typeof args[0] === 'function') setup.handlers[kind].push(args[0] as AnyFunction);
          return b.apply(original, self, args);
        }),
      );
    }
    x.property(instance, 'appendTo', (fn) =>
      x.fn(fn, (original, self, args) => {
        setup.container = dom.elementOf(args[0]);
        reportSetup(setup);
        return b.apply(original, self, args);
      }),
    );
    x.property(instance, 'getValidate', (fn) => x.fn(fn, (original, self, args) => (setup.validate ? setup.validate : b.apply(original, self, args))));
  }

  function take(call: TrapCall): void {
    const version = call.name === 'geetest.init3' ? 3 : call.name === 'geetest.init4' ? 4 : 0;
    if (!version) return;
    const setup: Setup = {
      ref: `gt${setups.length + 1}`,
      version,
      call,
      config: call.args[0],
      container: null,
      handlers: { ready: [], success: [], error: [], close: [], fail: [] },
      validate: false,
      replaced: false,
    };
    setups.push(setup);
    const handler = call.args[1];
    if (version === 4) {
      // Nothing single-use in v4: GeeTest's widget runs, seen through.
      if (typeof handler === 'function')
        call.args[1] = x.fn(handler, (original, self, args) => {
          wrapInstance(setup, args[0]);
          return b.apply(original, self, args);
        });
      call.release?.();
      reportSetup(setup);
      return;
    }
    // An offline (failback) challenge is local and random: nothing a service could solve.
    if (x.own(setup.config, 'offline') === true || typeof x.own(setup.config, 'challenge') !== 'string') {
      call.release?.();
      return;
    }
    // The probe let the call through already (these hooks came after its hold limit): GeeTest's
    // own widget has the challenge, so there is nothing left for CapRelay to solve.
    if (!call.held) return;
    // Held until the content script says whether CapRelay solves it here (then the stand-in),
    // or not (then GeeTest's own widget); if no word comes, the page's call goes through.
    reportSetup(setup);
    b.setTimeout(() => decide(setup, false), DECISION_LIMIT_MS);
  }

  function decide(setup: Setup, claim: boolean): void {
    if (setup.version !== 3 || !setup.call.held || setup.replaced) return;
    if (!claim) {
      setup.call.release?.();
      // Withdrawn from the list: a word that comes late must not offer a spent challenge.
      reportSetup(setup, true);
      return;
    }
    setup.replaced = true;
    // Never released now: the page's own call would spend the challenge.
    setup.call.held = false;
    const handler = setup.call.args[1];
    if (typeof handler !== 'function') return;
    try {
      b.apply(handler as AnyFunction, undefined, [standIn(setup)]);
    } catch (error) {
      console.error('CapRelay: the page callback threw', error);
    }
  }

  return {
    family: 'geetest',
    onCall: take,
    report() {
      for (const setup of setups) if (setup.replaced || setup.call.held || setup.version === 4) reportSetup(setup);
    },
    deliver(request: DeliverRequest) {
      if (request.family !== 'geetest') return 'none';
      const setup = setups.find((s) => s.ref === request.ref);
      let values: unknown;
      try {
        values = b.parse(request.token);
      } catch {
        return 'failed';
      }
      if (!setup || typeof values !== 'object' || values === null) return 'none';
      const v = values as Record<string, unknown>;
      setup.validate =
        setup.version === 3
          ? { geetest_challenge: v.challenge, geetest_validate: v.validate, geetest_seccode: v.seccode }
          : { captcha_id: v.captcha_id, lot_number: v.lot_number, pass_token: v.pass_token, gen_time: v.gen_time, captcha_output: v.captcha_output };
      if (!setup.handlers.success.length) return 'none';
      fire(setup, 'success');
      return 'called';
    },
    decide(claimed, released) {
      for (const setup of setups) {
        if (claimed.includes(setup.ref)) decide(setup, true);
        else if (released.includes(setup.ref)) decide(setup, false);
      }
    },
  };
};
