/**
 * The page-world probe (src/main-world/probe.ts) in happy-dom: what it reports from page
 * memory, what it does with a delivered token, and that a hostile page cannot make it throw,
 * run the page's getters while scanning, or stop it by replacing the builtins it uses.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import '../../src/main-world/probe';
// The hooks load where a vendor marker showed; here, right after the probe.
import '../../src/main-world/hooks';
import { PROBE_DELIVER_EVENT, PROBE_RESULT_EVENT, PROBE_SCAN_EVENT, PROBE_WIDGET_EVENT, type DeliverRequest } from '../../src/shared/page-protocol';
import { quietDisabledLoading } from '../fixtures/happy-dom';

quietDisabledLoading();

const KEY = '6LeIxAcTAAAAAJcZVRqyHh71UMIEGNQ_MXjiZKhI';
const PK = '476068BF-9607-4799-B53D-966BE98E2B81';
const PK2 = '6CA06496-AAD7-C7C0-3A53-C17641DB898E';

type Page = Record<string, unknown> & typeof globalThis;
const page = window as unknown as Page;

// The test's own way to talk to the probe, kept safe from the builtins a test replaces.
// eslint-disable-next-line @typescript-eslint/unbound-method -- called with .call(target), like the probe's own
const dispatch = EventTarget.prototype.dispatchEvent;
const Custom = CustomEvent;
const parse = JSON.parse;
const reports: { report: Record<string, unknown>; target: EventTarget | null }[] = [];
document.addEventListener(PROBE_WIDGET_EVENT, (event) => reports.push({ report: parse((event as CustomEvent<string>).detail) as Record<string, unknown>, target: event.target }), true);

function deliver(request: DeliverRequest, on: Element = document.documentElement): string | undefined {
  let outcome: string | undefined;
  const listener = (event: Event): void => {
    outcome = (event as CustomEvent<string>).detail;
  };
  document.addEventListener(PROBE_RESULT_EVENT, listener, true);
  dispatch.call(on, new Custom(PROBE_DELIVER_EVENT, { bubbles: true, detail: JSON.stringify(request) }));
  document.removeEventListener(PROBE_RESULT_EVENT, listener, true);
  return outcome;
}

function scan(): void {
  dispatch.call(document, new Custom(PROBE_SCAN_EVENT));
}

/** The probe reports in microtasks after the page's call: one task turn runs all of it. */
const tick = () => new Promise((r) => setTimeout(r, 0));

/** A stand-in for Google's client config: obfuscated keys, params a few levels down, elements mixed in. */
function installRecaptcha(api: Record<string, unknown>): { render: (el: Element, params: Record<string, unknown>) => number } {
  const cfg = (page.___grecaptcha_cfg ??= { clients: {} }) as { clients: Record<string, unknown> };
  let next = Object.keys(cfg.clients).length;
  const render = (el: Element, params: Record<string, unknown>): number => {
    const frame = document.createElement('iframe');
    frame.setAttribute('src', `https://www.google.com/recaptcha/api2/anchor?k=${String(params.sitekey)}&size=normal`);
    el.appendChild(frame);
    const id = next++;
    cfg.clients[id] = { id, Q: { id, W: { ...params } }, nu: el, Ek: { l: frame } };
    return id;
  };
  api.render = render;
  return { render: (el, params) => (api.render as typeof render)(el, params) };
}

beforeEach(() => {
  reports.length = 0;
  document.body.innerHTML = '';
  delete page.___grecaptcha_cfg;
});

describe('reCAPTCHA hooks', () => {
  it('records the action of execute(key, {action}) and hands a delivered v3 token to the next call only', async () => {
    const calls: unknown[][] = [];
    page.grecaptcha = { execute: (...args: unknown[]) => (calls.push(args), Promise.resolve('google-token')) };
    const grecaptcha = page.grecaptcha as { execute: (key: string, options?: object) => Promise<string> };
    expect(await grecaptcha.execute(KEY, { action: 'login' })).toBe('google-token');
    expect(reports.map((r) => r.report)).toEqual([{ family: 'recaptcha', siteKey: KEY, enterprise: false, invisible: true, v3: true, action: 'login' }]);
    expect(deliver({ family: 'recaptcha', token: 'ours', siteKey: KEY, v3: true })).toBe('none');
    expect(await grecaptcha.execute(KEY, { action: 'login' })).toBe('ours');
    expect(await grecaptcha.execute(KEY, { action: 'login' })).toBe('google-token');
    expect(calls).toHaveLength(2);
  });

  it('reports an enterprise.render widget on its anchor frame, with s, action and the function callback', async () => {
    page.grecaptcha = {};
    (page.grecaptcha as Record<string, unknown>).enterprise = {};
    const { render } = installRecaptcha((page.grecaptcha as Record<string, Record<string, unknown>>).enterprise!);
    const got: unknown[] = [];
    const el = document.body.appendChild(document.createElement('div'));
    const id = render(el, { sitekey: KEY, s: 'one-time', action: 'CHECKOUT', callback: (t: unknown) => got.push(t) });
    await tick();
    expect(reports).toHaveLength(1);
    expect(reports[0]!.target).toBe(el.querySelector('iframe'));
    expect(reports[0]!.report).toEqual({
      family: 'recaptcha',
      siteKey: KEY,
      widgetId: id,
      enterprise: true,
      invisible: false,
      v3: false,
      dataS: 'one-time',
      action: 'CHECKOUT',
    });
    expect(deliver({ family: 'recaptcha', token: 'tok', siteKey: KEY, widgetId: id, v3: false }, el)).toBe('called');
    expect(got).toEqual(['tok']);
  });

  it('runs a dotted data-callback with its owner as this, and says when it threw', () => {
    const owner = {
      seen: [] as unknown[],
      ok(this: { seen: unknown[] }, t: unknown) {
        this.seen.push(t);
      },
      bad() {
        throw new Error('page bug');
      },
    };
    page.app = { booking: owner };
    const errors = console.error;
    console.error = () => undefined;
    try {
      expect(deliver({ family: 'recaptcha', token: 'tok', siteKey: KEY, callback: 'app.booking.ok', v3: false })).toBe('called');
      expect(owner.seen).toEqual(['tok']);
      expect(deliver({ family: 'recaptcha', token: 'tok', siteKey: KEY, callback: 'app.booking.bad', v3: false })).toBe('failed');
      expect(deliver({ family: 'recaptcha', token: 'tok', siteKey: KEY, callback: 'app.missing.fn', v3: false })).toBe('none');
    } finally {
      console.error = errors;
      delete page.app;
    }
  });
});

describe('a hostile page', () => {
  it('never runs the page’s getters while scanning, and survives throwing Proxies', async () => {
    page.grecaptcha = {};
    const { render } = installRecaptcha(page.grecaptcha as Record<string, unknown>);
    const el = document.body.appendChild(document.createElement('div'));
    const id = render(el, { sitekey: KEY, callback: 'onOk' });
    let getterRuns = 0;
    const client = (page.___grecaptcha_cfg as { clients: Record<string, Record<string, unknown>> }).clients[id]!;
    const fail = () => {
      throw new Error('trap');
    };
    Object.defineProperty(client, 'zz', { enumerable: true, get: () => (getterRuns++, fail()) });
    client.px = new Proxy({}, { ownKeys: fail, getOwnPropertyDescriptor: fail, get: fail, has: fail, getPrototypeOf: fail });
    Object.defineProperty(Object.prototype, 'sitekey', { configurable: true, get: () => (getterRuns++, '6Lpolluted0000000000000000000000000000000') });
    try {
      await tick();
      reports.length = 0;
      expect(() => scan()).not.toThrow();
      const widgets = reports.filter((r) => r.report.v3 === false);
      expect(widgets.map((r) => r.report.siteKey)).toEqual([KEY]);
      expect(widgets[0]!.report.callback).toBe('onOk');
      expect(getterRuns).toBe(0);
    } finally {
      delete (Object.prototype as Record<string, unknown>).sitekey;
    }
  });

  // (A replaced EventTarget.prototype.dispatchEvent is proven in Chromium by the hostile-globals
  // fixture: happy-dom's own Node.dispatchEvent calls it through super, which browsers do not.)
  it('reads only the clients the page rendered through render(), never others in ___grecaptcha_cfg', async () => {
    const traps: string[] = [];
    const recordTrap = (name: string) => () => {
      traps.push(name);
      throw new Error('trap');
    };
    page.grecaptcha = {};
    const { render } = installRecaptcha(page.grecaptcha as Record<string, unknown>);
    const clients = (page.___grecaptcha_cfg as { clients: Record<string, unknown> }).clients;
    clients[7] = new Proxy(
      {},
      { get: recordTrap('get'), ownKeys: recordTrap('ownKeys'), getOwnPropertyDescriptor: recordTrap('descriptor'), getPrototypeOf: recordTrap('prototype'), has: recordTrap('has') },
    );
    Object.defineProperty(clients, '8', { enumerable: true, get: recordTrap('clients[8]') });
    const el = document.body.appendChild(document.createElement('div'));
    render(el, { sitekey: KEY });
    await tick();
    scan();
    expect(reports.filter((r) => r.report.v3 === false).map((r) => r.report.siteKey)).toEqual([KEY, KEY]);
    expect(traps).toEqual([]);
  });

  it('keeps working when the page replaces CustomEvent and JSON.parse', () => {
    const saved = { CustomEvent: page.CustomEvent, parse: JSON.parse };
    page.CustomEvent = function () {
      throw new Error('blocked');
    } as unknown as typeof CustomEvent;
    JSON.parse = () => {
      throw new Error('blocked');
    };
    const got: unknown[] = [];
    page.onToken = (t: unknown) => got.push(t);
    try {
      page.grecaptcha = { execute: () => Promise.resolve('g') };
      void (page.grecaptcha as { execute: (k: string, o: object) => Promise<string> }).execute(KEY, { action: 'x' });
      expect(reports).toHaveLength(1);
      expect(deliver({ family: 'recaptcha', token: 'tok', siteKey: KEY, callback: 'onToken', v3: false })).toBe('called');
      expect(got).toEqual(['tok']);
    } finally {
      page.CustomEvent = saved.CustomEvent;
      JSON.parse = saved.parse;
      delete page.onToken;
    }
  });

  it('leaves frozen and odd values alone, and lets the page’s own errors through', () => {
    expect(() => (page.grecaptcha = Object.freeze({ execute: () => 'frozen' }))).not.toThrow();
    expect((page.grecaptcha as { execute: () => string }).execute()).toBe('frozen');
    expect(() => (page.grecaptcha = 42)).not.toThrow();
    expect(page.grecaptcha).toBe(42);
    page.grecaptcha = {
      execute: () => {
        throw new Error('page error');
      },
    };
    expect(() => (page.grecaptcha as { execute: (k: string) => unknown }).execute(KEY)).toThrow('page error');
  });
});

describe('Arkose hooks', () => {
  class Enforcement {
    config: Record<string, unknown> = {};
    setConfig(config: Record<string, unknown>): void {
      Object.assign(this.config, config);
    }
  }

  /** An Arkose v2 api.js script tag naming the page's setup function, not yet in the document. */
  function apiScript(host: string, publicKey: string, callback: string): HTMLScriptElement {
    const script = document.createElement('script');
    script.setAttribute('src', `https://${host}/v2/${publicKey}/api.js`);
    script.setAttribute('data-callback', callback);
    return script;
  }

  /** Defines the page's setup function `name`; what its onCompleted receives lands in the array. */
  function defineSetup(name: string): unknown[] {
    const completed: unknown[] = [];
    page[name] = (enforcement: Enforcement) => enforcement.setConfig({ onCompleted: (r: unknown) => completed.push(r) });
    return completed;
  }

  const runSetup = (name: string): void => (page[name] as (e: Enforcement) => void)(new Enforcement());

  /** Runs the page's setup `name` (api.js at client-api.arkoselabs.com): reported, and a token reaches its onCompleted. */
  function expectSetupHooked(name: string, completed: unknown[], publicKey: string, token: string): void {
    runSetup(name);
    expect(reports.at(-1)!.report).toEqual({ family: 'funcaptcha', publicKey, subdomain: 'client-api.arkoselabs.com' });
    expect(deliver({ family: 'funcaptcha', token, publicKey, v3: false })).toBe('called');
    expect(completed).toEqual([{ token }]);
    delete page[name];
  }

  it('wraps the v2 setup callback named by the api.js script, merges setConfig calls, runs onCompleted once', async () => {
    const completed: unknown[] = [];
    const onCompleted = (response: unknown) => completed.push(response);
    page.setupArkose = (enforcement: Enforcement) => enforcement.setConfig({ selector: '#trigger', onCompleted });
    document.body.innerHTML = '<button id="trigger">Go</button>';
    document.head.appendChild(apiScript('roblox-api.arkoselabs.com', PK, 'setupArkose'));
    await tick();
    // What Arkose's api.js does once loaded: hand an enforcement object to the named function.
    const enforcement = new Enforcement();
    (page.setupArkose as (e: Enforcement) => void)(enforcement);
    enforcement.setConfig({ data: { blob: 'BLOB' }, onCompleted });
    // The page's object still works: the inherited method ran.
    expect(enforcement.config).toMatchObject({ selector: '#trigger', data: { blob: 'BLOB' } });
    expect(reports.at(-1)!.report).toEqual({ family: 'funcaptcha', publicKey: PK, blob: 'BLOB', subdomain: 'roblox-api.arkoselabs.com' });
    expect(reports.at(-1)!.target).toBe(document.getElementById('trigger'));
    expect(deliver({ family: 'funcaptcha', token: 'fc-token', publicKey: PK2, v3: false })).toBe('none');
    expect(deliver({ family: 'funcaptcha', token: 'fc-token', publicKey: PK, v3: false })).toBe('called');
    expect(completed).toEqual([{ token: 'fc-token' }]);
    delete page.setupArkose;
  });

  it('hooks a setup function the page assigns only after the api.js script appeared', async () => {
    document.head.appendChild(apiScript('client-api.arkoselabs.com', PK2, 'setupLater'));
    await tick();
    const completed = defineSetup('setupLater');
    expectSetupHooked('setupLater', completed, PK2, 't2');
  });

  it('before DOMContentLoaded, sees an api.js script inside a subtree the page inserts whole', async () => {
    const holder = document.createElement('div');
    holder.appendChild(document.createElement('span'));
    holder.appendChild(apiScript('client-api.arkoselabs.com', PK2, 'setupNested'));
    document.body.appendChild(holder);
    await tick();
    const completed = defineSetup('setupNested');
    expectSetupHooked('setupNested', completed, PK2, 't4');
  });

  it('before DOMContentLoaded, sees an api.js script that ends a delivery of hundreds of records, as the parser makes them', async () => {
    // The parser inserts node by node and delivers the records before the script it reached runs.
    const main = document.body.appendChild(document.createElement('main'));
    for (let i = 0; i < 300; i++) main.appendChild(document.createElement('div')).textContent = `row ${i}`;
    main.appendChild(apiScript('client-api.arkoselabs.com', PK, 'setupParsed'));
    await tick();
    const completed = defineSetup('setupParsed');
    expectSetupHooked('setupParsed', completed, PK, 't5');
    main.remove();
  });

  it('before DOMContentLoaded, an api.js script in the middle of hundreds of nodes a page script adds is seen when the core asks', async () => {
    // A delivery of that many records is read as the parser's: only its end.
    const list = document.body.appendChild(document.createElement('section'));
    for (let i = 0; i < 300; i++) {
      list.appendChild(document.createElement('div')).textContent = `row ${i}`;
      if (i === 150) list.appendChild(apiScript('client-api.arkoselabs.com', PK2, 'setupMiddle'));
    }
    await tick();
    const completed = defineSetup('setupMiddle');
    const before = reports.length;
    runSetup('setupMiddle');
    expect(reports).toHaveLength(before);
    scan();
    expectSetupHooked('setupMiddle', completed, PK2, 't7');
    list.remove();
  });

  it('after DOMContentLoaded, finds an Arkose script added late when the content script asks', async () => {
    // The page has parsed: the probe stops watching the DOM itself.
    dispatch.call(document, new Event('DOMContentLoaded'));
    const completed = defineSetup('lateSetup');
    document.body.appendChild(apiScript('client-api.arkoselabs.com', PK, 'lateSetup'));
    await tick();
    scan();
    expectSetupHooked('lateSetup', completed, PK, 't3');
  });

  it('after DOMContentLoaded, a script already looked at is looked at again when a loader gave it its src since', async () => {
    dispatch.call(document, new Event('DOMContentLoaded'));
    // Put into <body> without a src: looked at, and nothing to see.
    const script = document.body.appendChild(document.createElement('script'));
    await tick();
    scan();
    const completed = defineSetup('setupLaterSrc');
    script.setAttribute('data-callback', 'setupLaterSrc');
    script.setAttribute('src', `https://client-api.arkoselabs.com/v2/${PK2}/api.js`);
    await tick();
    scan();
    expectSetupHooked('setupLaterSrc', completed, PK2, 't6');
    script.remove();
  });

  it('captures the v1 constructor config without changing what the constructor is', () => {
    function FunCaptcha(this: { options: unknown }, options: unknown): void {
      this.options = options;
    }
    FunCaptcha.version = '1.0';
    page.FunCaptcha = FunCaptcha;
    document.body.innerHTML = '<div id="CAPTCHA"></div>';
    const callback = () => undefined;
    const Ctor = page.FunCaptcha as { new (o: unknown): { options: unknown }; version: string };
    const instance = new Ctor({ public_key: PK, target_html: 'CAPTCHA', surl: 'https://api.funcaptcha.com', callback });
    expect(instance).toBeInstanceOf(FunCaptcha);
    expect(instance.options).toMatchObject({ public_key: PK });
    expect(Ctor.version).toBe('1.0');
    expect(reports.at(-1)!.report).toEqual({ family: 'funcaptcha', publicKey: PK, subdomain: 'api.funcaptcha.com' });
    expect(reports.at(-1)!.target).toBe(document.getElementById('CAPTCHA'));
  });
});
