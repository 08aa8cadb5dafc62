/**
 * Fuzzing of everything that reads page-controlled text: the URL and attribute parsers
 * (src/content/urls.ts) and the validators that guard the page → content and content →
 * background boundaries. Whatever a page writes, they never throw, and a key they return
 * always has the right shape (a malformed key must never reach a task).
 *
 * Each parser gets three kinds of input: arbitrary strings (including lone surrogates and
 * control characters), URLs of the right shape with arbitrary parts, and well-formed URLs
 * mutated at random positions. The well-formed ones also have to parse (so a parser that
 * rejected everything would fail here too).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  arkoseHostOf,
  isArkoseFrame,
  isVendorFrame,
  parseArkoseUrl,
  serializedAddress,
  parseFunCaptchaToken,
  parseRecaptchaAnchorUrl,
  parseRecaptchaScriptUrl,
  type ArkoseSource,
} from '../../src/shared/urls';
import { isCaptcha } from '../../src/shared/captcha';
import {
  isDeliverTokenMessage,
  isDeliveryReport,
  isFrameCaptchasMessage,
  isInPageSolveMessage,
  isSolveAllMessage,
  isSolveMessage,
  isTabStateMessage,
  MAX_CAPTCHAS_PER_FRAME,
} from '../../src/shared/messages';
import { isDeliverRequest, isProbeReport, parseDetail } from '../../src/shared/page-protocol';
import { ARKOSE_PUBLIC_KEY, CALLBACK_PATH, HOST_NAME, RECAPTCHA_SITEKEY } from '../../src/shared/validate';

const RUNS = { numRuns: 2_000 };

/* ---------------- arbitraries ---------------- */

/** Any string a page could put in an attribute: full Unicode, lone surrogates, controls. */
const anyText = fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ unit: 'grapheme', maxLength: 300 }), fc.string({ unit: 'binary-ascii', maxLength: 300 }));

const KEY_CHARS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-';
const validSiteKey = fc.string({ unit: fc.constantFrom(...KEY_CHARS.split('')), minLength: 39, maxLength: 39 }).map((rest) => `6${rest}`);
/** Close to a key: wrong length, wrong first character, foreign characters. */
const nearSiteKey = fc.oneof(
  validSiteKey.map((k) => k.slice(0, 39)),
  validSiteKey.map((k) => `${k}A`),
  validSiteKey.map((k) => `5${k.slice(1)}`),
  fc.tuple(validSiteKey, fc.integer({ min: 0, max: 39 }), fc.constantFrom('.', '/', ' ', '%', '"', '<', '\u0000', 'é', '\u{1F600}')).map(([k, i, c]) => k.slice(0, i) + c + k.slice(i + 1)),
);
const siteKeyish = fc.oneof(validSiteKey, nearSiteKey, anyText);

const validPublicKey = fc.uuid().map((u) => u.toUpperCase());
const publicKeyish = fc.oneof(
  validPublicKey,
  fc.uuid(),
  validPublicKey.map((k) => k.slice(1)),
  validPublicKey.map((k) => `${k}0`),
  validPublicKey.map((k) => k.replace(/-/g, '')),
  anyText,
);

const RECAPTCHA_HOSTS = ['www.google.com', 'google.com', 'www.recaptcha.net', 'recaptcha.net'];
const recaptchaHost = fc.oneof(fc.constantFrom(...RECAPTCHA_HOSTS), fc.constantFrom('evil.com', 'www.google.com.evil.com', 'googlé.com', 'xn--ggle-0nda.com'), fc.domain());
const scheme = fc.constantFrom('https://', 'http://', 'javascript:', 'data:', '//', 'ftp://', 'chrome-extension://', '');
const paramValue = fc.oneof(anyText, validSiteKey, fc.webSegment());
const extraParams = fc.array(fc.tuple(fc.constantFrom('ar', 'co', 'hl', 'v', 'cb', 'size', 's', 'render', 'onload', 'pk', 'token', 'x'), paramValue), { maxLength: 6 });

function query(params: [string, string][]): string {
  return params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
}
/** Raw (unencoded) query text, as a careless or hostile page writes it. */
function rawQuery(params: [string, string][]): string {
  return params.map(([k, v]) => `${k}=${v}`).join('&');
}

const anchorLike = fc
  .tuple(
    scheme,
    recaptchaHost,
    fc.constantFrom('/recaptcha/api2/anchor', '/recaptcha/enterprise/anchor', '/recaptcha/api2/bframe', '/recaptcha/anchor', '/RECAPTCHA/api2/anchor'),
    siteKeyish,
    extraParams,
    fc.boolean(),
  )
  .map(([s, host, path, key, params, encode]) => {
    const all: [string, string][] = [['k', key], ...params];
    return `${s}${host}${path}?${encode ? query(all) : rawQuery(all)}`;
  });

const scriptLike = fc
  .tuple(
    scheme,
    recaptchaHost,
    fc.constantFrom('/recaptcha/api.js', '/recaptcha/enterprise.js', '/recaptcha/api2.js', '/recaptcha/releases/x/recaptcha__en.js'),
    fc.oneof(siteKeyish, fc.constant('explicit'), fc.constant('onload')),
    extraParams,
  )
  .map(([s, host, path, render, params]) => `${s}${host}${path}?${query([['render', render], ...params])}`);

const arkoseHost = fc.oneof(
  fc.constantFrom('client-api.arkoselabs.com', 'api.funcaptcha.com', 'arkoselabs.com', 'arkoselabs.com.evil.com', 'evilarkoselabs.com', 'iframe.arkoselabs.com'),
  fc.domain(),
);
const arkoseLike = fc
  .tuple(
    scheme,
    arkoseHost,
    publicKeyish,
    fc.constantFrom('api', 'enforcement', 'gc', 'fcapi'),
    fc.string({ unit: fc.constantFrom(...'0123456789abcdef'.split('')), minLength: 1, maxLength: 32 }),
    extraParams,
  )
  .map(([s, host, key, kind, hash, params]) => {
    switch (kind) {
      case 'api':
        return `${s}${host}/v2/${key}/api.js?${query(params)}`;
      case 'enforcement':
        return `${s}${host}/v2/2.3.1/enforcement.${hash}.html#${key}`;
      case 'gc':
        return `${s}${host}/fc/gc/?token=${encodeURIComponent(`123.456|r=eu-west-1|pk=${key}|at=40`)}&${query(params)}`;
      default:
        return `${s}${host}/fc/api/?pkey=${encodeURIComponent(key)}&${query(params)}`;
    }
  });

const tokenLike = fc
  .tuple(fc.array(fc.tuple(fc.constantFrom('r', 'pk', 'surl', 'at', 'meta', 'lang', '', 'pk '), fc.oneof(publicKeyish, anyText, fc.webUrl().map(encodeURIComponent))), { maxLength: 8 }), fc.boolean())
  .map(([parts, session]) => [...(session ? ['1234567.89'] : []), ...parts.map(([k, v]) => (k ? `${k}=${v}` : v))].join('|'));

/** A well-formed value with random damage: characters inserted, deleted or replaced anywhere. */
function mutated(valid: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const edit = fc.tuple(fc.nat(), fc.nat({ max: 3 }), fc.string({ unit: 'binary', maxLength: 4 }));
  return fc.tuple(valid, fc.array(edit, { minLength: 1, maxLength: 4 })).map(([text, edits]) => {
    let out = text;
    for (const [at, del, ins] of edits) {
      const i = at % (out.length + 1);
      out = out.slice(0, i) + ins + out.slice(i + del);
    }
    return out;
  });
}

const validAnchor = fc
  .tuple(fc.constantFrom(...RECAPTCHA_HOSTS), fc.constantFrom('api2', 'enterprise'), validSiteKey, fc.constantFrom('normal', 'compact', 'invisible'))
  .map(([host, kind, key, size]) => ({
    url: `https://${host}/recaptcha/${kind}/anchor?ar=1&k=${key}&co=aHR0cHM6Ly9leGFtcGxlLm9yZzo0NDM.&hl=en&v=pCoGBhjs9s8EhFOHJFe8cqis&size=${size}&cb=abc123`,
    host,
    kind,
    key,
    size,
  }));

const validScript = fc
  .tuple(fc.constantFrom(...RECAPTCHA_HOSTS), fc.constantFrom('api', 'enterprise'), validSiteKey)
  .map(([host, kind, key]) => ({ url: `https://${host}/recaptcha/${kind}.js?render=${key}`, kind, key }));

const validArkose = fc
  .tuple(fc.constantFrom('client-api.arkoselabs.com', 'api.funcaptcha.com', 'arkose.example.org'), validPublicKey, fc.constantFrom('api', 'enforcement', 'gc'))
  .map(([host, key, kind]) => ({
    url:
      kind === 'api'
        ? `https://${host}/v2/${key}/api.js`
        : kind === 'enforcement'
          ? `https://${host}/v2/2.3.1/enforcement.0123abcd.html#${key}`
          : `https://${host}/fc/gc/?token=${encodeURIComponent(`1.2|r=eu-west-1|pk=${key}|at=40`)}`,
    host,
    key,
  }));

/* ---------------- shape checks ---------------- */

function expectArkoseSource(source: ArkoseSource | null): void {
  if (!source) return;
  if (source.publicKey !== undefined) expect(source.publicKey).toMatch(ARKOSE_PUBLIC_KEY);
  if (source.subdomain !== undefined) expect(source.subdomain).toMatch(HOST_NAME);
  expect(Object.keys(source).every((k) => k === 'publicKey' || k === 'subdomain')).toBe(true);
}

const noThrow = <T>(fn: () => T): T => {
  try {
    return fn();
  } catch (error) {
    throw new Error(`threw ${String(error)}`, { cause: error });
  }
};

/* ---------------- parsers ---------------- */

describe('fuzz: reCAPTCHA anchor URL parser', () => {
  it('never throws and returns only well-formed site keys', () => {
    fc.assert(
      fc.property(
        fc.oneof(anyText, anchorLike, mutated(validAnchor.map((a) => a.url))),
        fc.option(fc.constantFrom('https://shop.example.org/a/b', 'about:blank', 'not a url', 'data:text/html,x')),
        (raw, base) => {
          const anchor = noThrow(() => parseRecaptchaAnchorUrl(raw, base ?? undefined));
          if (!anchor) return;
          expect(anchor.siteKey).toMatch(RECAPTCHA_SITEKEY);
          expect(['www.google.com', 'www.recaptcha.net']).toContain(anchor.apiDomain);
          expect(typeof anchor.enterprise).toBe('boolean');
          expect(typeof anchor.invisible).toBe('boolean');
          // Whatever it returns has to pass the content → background validator as well.
          if (anchor.dataS !== undefined) expect(anchor.dataS.length).toBeLessThanOrEqual(8192);
        },
      ),
      RUNS,
    );
  });

  it('reads every well-formed anchor URL', () => {
    fc.assert(
      fc.property(validAnchor, ({ url, host, kind, key, size }) => {
        expect(parseRecaptchaAnchorUrl(url)).toEqual({
          siteKey: key,
          enterprise: kind === 'enterprise',
          invisible: size === 'invisible',
          apiDomain: host.endsWith('recaptcha.net') ? 'www.recaptcha.net' : 'www.google.com',
        });
      }),
      { numRuns: 300 },
    );
  });

  it('refuses anchors on other hosts and in non-web schemes', () => {
    fc.assert(
      fc.property(validAnchor, fc.constantFrom('https://www.google.com.evil.com', 'https://evil.com', 'javascript://www.google.com', 'data:text/html,https://www.google.com'), ({ url }, prefix) => {
        expect(parseRecaptchaAnchorUrl(url.replace(/^https:\/\/[^/]+/, prefix))).toBeNull();
      }),
      { numRuns: 200 },
    );
  });
});

describe('fuzz: reCAPTCHA api.js / enterprise.js URL parser', () => {
  it('never throws and returns only well-formed v3 site keys', () => {
    fc.assert(
      fc.property(fc.oneof(anyText, scriptLike, mutated(validScript.map((s) => s.url))), (raw) => {
        const script = noThrow(() => parseRecaptchaScriptUrl(raw, 'https://shop.example.org/'));
        if (!script) return;
        if (script.v3SiteKey !== undefined) expect(script.v3SiteKey).toMatch(RECAPTCHA_SITEKEY);
        expect(['www.google.com', 'www.recaptcha.net']).toContain(script.apiDomain);
      }),
      RUNS,
    );
  });

  it('reads every well-formed script URL', () => {
    fc.assert(
      fc.property(validScript, ({ url, kind, key }) => {
        expect(parseRecaptchaScriptUrl(url)).toMatchObject({ enterprise: kind === 'enterprise', v3SiteKey: key });
      }),
      { numRuns: 300 },
    );
  });
});

describe('fuzz: Arkose URL parser (api.js, enforcement, game core, v1 api)', () => {
  it('never throws and returns only well-formed public keys and host names', () => {
    fc.assert(
      fc.property(fc.oneof(anyText, arkoseLike, mutated(validArkose.map((a) => a.url))), (raw) => {
        expectArkoseSource(noThrow(() => parseArkoseUrl(raw, 'https://shop.example.org/')));
      }),
      RUNS,
    );
  });

  it('reads every well-formed Arkose URL', () => {
    fc.assert(
      fc.property(validArkose, ({ url, host, key }) => {
        expect(parseArkoseUrl(url)).toEqual({ publicKey: key, subdomain: host });
      }),
      { numRuns: 300 },
    );
  });
});

describe('fuzz: fc-token value and surl parsers', () => {
  it('parseFunCaptchaToken never throws and returns only well-formed keys and hosts', () => {
    fc.assert(
      fc.property(fc.oneof(anyText, tokenLike, mutated(validPublicKey.map((k) => `1.2|r=eu-west-1|pk=${k}|at=40|surl=https%3A%2F%2Fclient-api.arkoselabs.com`))), (value) => {
        expectArkoseSource(noThrow(() => parseFunCaptchaToken(value)));
      }),
      RUNS,
    );
  });

  it('parseFunCaptchaToken reads a well-formed token', () => {
    fc.assert(
      fc.property(validPublicKey, fc.constantFrom('client-api.arkoselabs.com', 'arkose.example.org'), (key, host) => {
        expect(parseFunCaptchaToken(`7261.4|r=eu-west-1|meta=3|pk=${key}|at=40|surl=${encodeURIComponent(`https://${host}`)}`)).toEqual({ publicKey: key, subdomain: host });
      }),
      { numRuns: 200 },
    );
  });

  it('survives huge and pathological tokens quickly', () => {
    const huge = [`${'|'.repeat(200_000)}pk=${'%'.repeat(1000)}`, `pk=${'%E0%A4%A'.repeat(5_000)}`, 'x'.repeat(1_000_000), 'a=b|'.repeat(100_000)];
    const start = performance.now();
    for (const value of huge) expect(noThrow(() => parseFunCaptchaToken(value))).toBeNull();
    expect(performance.now() - start).toBeLessThan(1_000);
  });

  it('arkoseHostOf never throws and returns only host names', () => {
    fc.assert(
      fc.property(fc.oneof(anyText, fc.webUrl(), mutated(fc.webUrl())), (surl) => {
        const host = noThrow(() => arkoseHostOf(surl));
        if (host !== undefined) expect(host).toMatch(HOST_NAME);
      }),
      RUNS,
    );
  });

  it('isVendorFrame never throws', () => {
    fc.assert(
      fc.property(fc.oneof(anyText, anchorLike, arkoseLike, fc.webUrl()), (href) => {
        expect(typeof noThrow(() => isVendorFrame(href))).toBe('boolean');
      }),
      RUNS,
    );
  });

  it('serializedAddress reads a serialized address as URL does, and the frame checks agree on both', () => {
    const web = fc.webUrl({ withQueryParameters: true, withFragments: true, authoritySettings: { withIPv6: true, withUserInfo: true, withPort: true } });
    fc.assert(
      fc.property(fc.oneof(web, anchorLike, arkoseLike, mutated(web)), (raw) => {
        let url: URL;
        try {
          url = new URL(raw);
        } catch {
          return;
        }
        const address = serializedAddress(url.href);
        if (url.protocol !== 'http:' && url.protocol !== 'https:') {
          expect(address).toBeNull();
          return;
        }
        expect(address).toEqual({ hostname: url.hostname, pathname: url.pathname });
        expect(isVendorFrame(address)).toBe(isVendorFrame(url.href));
        expect(isArkoseFrame(address)).toBe(isArkoseFrame(url.href));
      }),
      RUNS,
    );
    expect(serializedAddress('about:blank')).toBeNull();
  });

  it('every parser stays fast on 1 MB attribute values', () => {
    const values = ['h'.repeat(1 << 20), `https://www.google.com/recaptcha/api2/anchor?k=${'6'.repeat(1 << 20)}`, `https://client-api.arkoselabs.com/v2/${'A'.repeat(1 << 20)}/api.js`];
    const start = performance.now();
    for (const value of values) {
      expect(parseRecaptchaAnchorUrl(value)).toBeNull();
      expect(parseRecaptchaScriptUrl(value)).toBeNull();
      expect(parseArkoseUrl(value)).toBeNull();
      expect(parseFunCaptchaToken(value)).toBeNull();
      expect(arkoseHostOf(value)).toBeUndefined();
      expect(isVendorFrame(value)).toBe(false);
    }
    expect(performance.now() - start).toBeLessThan(1_000);
  });
});

/* ---------------- validators ---------------- */

/** Values shaped like real messages, with fields swapped for arbitrary ones. */
const captchaish = fc.record(
  {
    family: fc.oneof(fc.constantFrom('recaptcha', 'funcaptcha'), fc.anything()),
    id: fc.oneof(fc.string({ maxLength: 20 }), fc.string({ minLength: 199, maxLength: 202 }), fc.anything()),
    version: fc.oneof(fc.constantFrom('v2', 'v3'), fc.anything()),
    siteKey: fc.oneof(siteKeyish, fc.anything()),
    publicKey: fc.oneof(publicKeyish, fc.anything()),
    enterprise: fc.oneof(fc.boolean(), fc.anything()),
    invisible: fc.oneof(fc.boolean(), fc.anything()),
    dataS: fc.oneof(fc.string(), fc.anything()),
    action: fc.oneof(fc.string(), fc.anything()),
    apiDomain: fc.oneof(fc.constantFrom('www.google.com', 'www.recaptcha.net', 'evil.com'), fc.anything()),
    callback: fc.oneof(fc.constantFrom('onDone', 'app.onDone', 'a.b.c.d.e.f.g.h.i', 'alert(1)', '__proto__.x', 'x;y'), fc.anything()),
    subdomain: fc.oneof(fc.domain(), anyText),
    blob: fc.oneof(fc.string(), fc.anything()),
  },
  { requiredKeys: [] },
);

const messageish = fc.oneof(
  fc.anything({ withObjectString: true, withNullPrototype: true, withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withSparseArray: true }),
  fc.record({ type: fc.constantFrom('frame-captchas'), captchas: fc.array(captchaish, { maxLength: 60 }) }),
  fc.record({
    type: fc.constantFrom('inpage-solve', 'deliver-token', 'solve', 'solve-all', 'tab-state', 'balance'),
    captchaId: fc.anything(),
    token: fc.anything(),
    tabId: fc.anything(),
    frameId: fc.anything(),
  }),
);

function expectValidCaptchaList(captchas: unknown[]): void {
  expect(captchas.length).toBeLessThanOrEqual(MAX_CAPTCHAS_PER_FRAME);
  for (const captcha of captchas) {
    expect(isCaptcha(captcha)).toBe(true);
    // Fields outside a family's shape are ignored by the validator (and never read), so only
    // each family's own fields are held to their shapes here.
    const c = captcha as Record<string, unknown>;
    if (c.family === 'recaptcha') {
      expect(c.siteKey).toMatch(RECAPTCHA_SITEKEY);
      if (c.callback !== undefined) expect(c.callback).toMatch(CALLBACK_PATH);
    } else {
      expect(c.publicKey).toMatch(ARKOSE_PUBLIC_KEY);
      if (c.subdomain !== undefined) expect(c.subdomain).toMatch(HOST_NAME);
    }
  }
}

describe('fuzz: runtime message validators (src/shared/messages.ts)', () => {
  it('never throw, and what they accept has the promised shape', () => {
    fc.assert(
      fc.property(messageish, (message) => {
        if (noThrow(() => isFrameCaptchasMessage(message))) expectValidCaptchaList((message as { captchas: unknown[] }).captchas);
        if (noThrow(() => isInPageSolveMessage(message))) expect((message as { captchaId: string }).captchaId.length).toBeLessThanOrEqual(200);
        if (noThrow(() => isDeliverTokenMessage(message))) {
          const m = message as { captchaId: unknown; token: unknown };
          expect(typeof m.captchaId === 'string' && typeof m.token === 'string').toBe(true);
        }
        for (const guard of [isSolveMessage, isSolveAllMessage, isTabStateMessage]) {
          if (noThrow(() => guard(message))) expect(Number.isSafeInteger((message as { tabId: unknown }).tabId)).toBe(true);
        }
        noThrow(() => isDeliveryReport(message));
      }),
      RUNS,
    );
  });
});

const probeish = fc.record(
  {
    family: fc.oneof(fc.constantFrom('recaptcha', 'funcaptcha'), fc.anything()),
    siteKey: fc.oneof(siteKeyish, fc.anything()),
    publicKey: fc.oneof(publicKeyish, fc.anything()),
    widgetId: fc.oneof(fc.integer(), fc.double(), fc.anything()),
    enterprise: fc.oneof(fc.boolean(), fc.anything()),
    invisible: fc.oneof(fc.boolean(), fc.anything()),
    v3: fc.oneof(fc.boolean(), fc.anything()),
    action: fc.oneof(fc.string(), fc.anything()),
    dataS: fc.oneof(fc.string(), fc.anything()),
    callback: fc.oneof(fc.constantFrom('onDone', 'app.onDone', 'alert(1)', 'constructor.constructor'), fc.anything()),
    hasCallbackFunction: fc.oneof(fc.boolean(), fc.anything()),
    apiDomain: fc.oneof(fc.constantFrom('www.google.com', 'www.recaptcha.net', 'evil.com'), fc.anything()),
    blob: fc.oneof(fc.string(), fc.anything()),
    subdomain: fc.oneof(fc.domain(), anyText),
    token: fc.oneof(fc.string(), fc.anything()),
  },
  { requiredKeys: [] },
);

describe('fuzz: page-world protocol (src/shared/page-protocol.ts)', () => {
  it('parseDetail never throws on any event detail and returns only guarded values', () => {
    const detail = fc.oneof(
      fc.anything(),
      anyText,
      fc.json(),
      probeish.map((p) => JSON.stringify(p) ?? ''),
      mutated(probeish.map((p) => JSON.stringify(p) ?? '')),
    );
    fc.assert(
      fc.property(detail, (value) => {
        const report = noThrow(() => parseDetail(value, isProbeReport));
        if (report) {
          expect(['recaptcha', 'funcaptcha']).toContain(report.family);
          if (report.family === 'recaptcha' && report.callback !== undefined) expect(report.callback).toMatch(CALLBACK_PATH);
        }
        const request = noThrow(() => parseDetail(value, isDeliverRequest));
        if (request) {
          expect(typeof request.token).toBe('string');
          if (request.callback !== undefined) expect(request.callback).toMatch(CALLBACK_PATH);
        }
      }),
      RUNS,
    );
  });

  it('parseDetail refuses details over its length limit without parsing them', () => {
    const big = JSON.stringify({
      family: 'recaptcha',
      siteKey: '6LeIxAcTAAAAAJcZVRqyHh71UMIEGNQ_MXjiZKhI',
      enterprise: false,
      invisible: false,
      v3: false,
      hasCallbackFunction: false,
      pad: 'x'.repeat(70_000),
    });
    expect(parseDetail(big, isProbeReport)).toBeNull();
    expect(parseDetail(big, isProbeReport, 100_000)).not.toBeNull();
  });

  it('parseDetail refuses non-string details (objects cannot cross worlds, and could carry getters)', () => {
    let ran = false;
    const withGetter = {
      family: 'recaptcha',
      get siteKey(): string {
        ran = true;
        return '6LeIxAcTAAAAAJcZVRqyHh71UMIEGNQ_MXjiZKhI';
      },
    };
    expect(parseDetail(withGetter, isProbeReport)).toBeNull();
    expect(ran).toBe(false);
  });
});

/* ---------------- the frame agent under forged probe reports ---------------- */

describe('fuzz: forged probe reports reaching the content script', () => {
  it('whatever the page dispatches, every list the frame sends passes the background validator', async () => {
    const { FrameAgent } = await import('../../src/content/agent');
    const { PROBE_WIDGET_EVENT } = await import('../../src/shared/page-protocol');
    const sent: unknown[] = [];
    document.body.innerHTML = '<div id="a" class="g-recaptcha"></div><div id="b"></div><span id="c"></span>';
    const agent = new FrameAgent((message) => sent.push(message));
    agent.start();
    const targets = [document.documentElement, document.body, ...document.body.children];
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          probeish.map((p) => JSON.stringify(p) ?? ''),
          fc.anything(),
          mutated(probeish.map((p) => JSON.stringify(p) ?? '')),
        ),
        fc.nat(),
        async (detail, at) => {
          const target = targets[at % targets.length]!;
          noThrow(() => target.dispatchEvent(new CustomEvent(PROBE_WIDGET_EVENT, { bubbles: true, detail })));
          // One report per turn, as the probe sends them: the agent may drop floods within one task.
          await Promise.resolve();
        },
      ),
      { numRuns: 1_000 },
    );
    // A forged report with a well-formed key is listed like markup would be (listing spends
    // nothing); what matters is that nothing malformed gets through.
    // (The agent may batch reports per task, so let the fuzzing's task end first.)
    const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));
    await tick();
    const forged = { family: 'recaptcha', siteKey: '6LdFORGEDxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', enterprise: false, invisible: true, v3: true, hasCallbackFunction: false };
    document.documentElement.dispatchEvent(new CustomEvent(PROBE_WIDGET_EVENT, { bubbles: true, detail: JSON.stringify(forged) }));
    await tick();
    expect(agent.captchas().some((c) => c.family === 'recaptcha' && c.siteKey === forged.siteKey)).toBe(true);
    expect(sent.some((m) => (m as { captchas: unknown[] }).captchas.length > 0)).toBe(true);
    for (const message of sent) {
      expect(message).toMatchObject({ type: 'frame-captchas' });
      const captchas = (message as { captchas: unknown[] }).captchas;
      for (const captcha of captchas) expect(isCaptcha(captcha)).toBe(true);
    }
  });
});
