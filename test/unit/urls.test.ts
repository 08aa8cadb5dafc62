import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arkoseHostOf, isVendorFrame, parseArkoseUrl, parseFunCaptchaToken, parseRecaptchaAnchorUrl, parseRecaptchaScriptUrl } from '../../src/shared/urls';
import { isArkosePublicKey, isHostName, isRecaptchaSiteKey } from '../../src/shared/validate';

const KEY = '6LeIxAcTAAAAAJcZVRqyHh71UMIEGNQ_MXjiZKhI';
const PK = '476068BF-9607-4799-B53D-966BE98E2B81';
const anchorQuery = `ar=1&k=${KEY}&co=aHR0cHM6Ly9leGFtcGxlLm9yZzo0NDM.&hl=en&v=pCoGBhjs9s8EhFOHJFe8cqis&size=normal&cb=k2h3g4f5d6s7`;

describe('parseRecaptchaAnchorUrl', () => {
  it('reads the key, variant and host of an anchor frame', () => {
    expect(parseRecaptchaAnchorUrl(`https://www.google.com/recaptcha/api2/anchor?${anchorQuery}`)).toEqual({
      siteKey: KEY,
      enterprise: false,
      invisible: false,
      apiDomain: 'www.google.com',
    });
    expect(parseRecaptchaAnchorUrl(`https://www.google.com/recaptcha/enterprise/anchor?${anchorQuery.replace('size=normal', 'size=invisible')}`)).toEqual({
      siteKey: KEY,
      enterprise: true,
      invisible: true,
      apiDomain: 'www.google.com',
    });
    expect(parseRecaptchaAnchorUrl(`https://www.recaptcha.net/recaptcha/api2/anchor?${anchorQuery}&s=one-time-value`)).toEqual({
      siteKey: KEY,
      enterprise: false,
      invisible: false,
      apiDomain: 'www.recaptcha.net',
      dataS: 'one-time-value',
    });
  });

  it('refuses other frames, other hosts and malformed keys', () => {
    for (const url of [
      `https://www.google.com/recaptcha/api2/bframe?hl=en&v=x&k=${KEY}`,
      `https://www.google.com/recaptcha/api/fallback?k=${KEY}`,
      `https://evil.example/recaptcha/api2/anchor?${anchorQuery}`,
      `https://www.google.com.evil.example/recaptcha/api2/anchor?${anchorQuery}`,
      `https://www.google.com/recaptcha/api2/anchor?k=6Lshort`,
      `https://www.google.com/recaptcha/api2/anchor?k=${KEY}x`,
      `javascript:alert(1)//www.google.com/recaptcha/api2/anchor?k=${KEY}`,
      '/recaptcha/api2/anchor?k=' + KEY,
      'not a url',
      `https://www.google.com/recaptcha/api2/anchor?k=${KEY}&pad=${'x'.repeat(9000)}`,
    ]) {
      expect(parseRecaptchaAnchorUrl(url), url).toBeNull();
    }
  });

  it('resolves relative frame sources against the page, which is never Google', () => {
    expect(parseRecaptchaAnchorUrl(`/recaptcha/api2/anchor?${anchorQuery}`, 'https://shop.example/login')).toBeNull();
  });
});

describe('parseRecaptchaScriptUrl', () => {
  it('tells api.js from enterprise.js and reads a v3 render key', () => {
    expect(parseRecaptchaScriptUrl('https://www.google.com/recaptcha/api.js')).toEqual({ enterprise: false, apiDomain: 'www.google.com' });
    expect(parseRecaptchaScriptUrl(`https://www.google.com/recaptcha/api.js?render=${KEY}&hl=de`)).toEqual({
      enterprise: false,
      apiDomain: 'www.google.com',
      v3SiteKey: KEY,
    });
    expect(parseRecaptchaScriptUrl(`https://www.recaptcha.net/recaptcha/enterprise.js?render=${KEY}`)).toEqual({
      enterprise: true,
      apiDomain: 'www.recaptcha.net',
      v3SiteKey: KEY,
    });
    expect(parseRecaptchaScriptUrl('https://www.google.com/recaptcha/api.js?onload=cb&render=explicit')).toEqual({
      enterprise: false,
      apiDomain: 'www.google.com',
    });
    expect(parseRecaptchaScriptUrl('//www.google.com/recaptcha/api.js', 'https://shop.example/')).toEqual({ enterprise: false, apiDomain: 'www.google.com' });
  });

  it('refuses look-alikes', () => {
    expect(parseRecaptchaScriptUrl('https://cdn.example/recaptcha/api.js')).toBeNull();
    expect(parseRecaptchaScriptUrl('https://www.google.com/recaptcha/api2/anchor')).toBeNull();
    expect(parseRecaptchaScriptUrl('https://www.gstatic.com/recaptcha/releases/x/recaptcha__en.js')).toBeNull();
  });
});

describe('parseArkoseUrl', () => {
  it('reads the v2 api.js on Arkose hosts and on a site’s own host', () => {
    expect(parseArkoseUrl(`https://client-api.arkoselabs.com/v2/${PK}/api.js`)).toEqual({ publicKey: PK, subdomain: 'client-api.arkoselabs.com' });
    expect(parseArkoseUrl(`https://roblox-api.arkoselabs.com/v2/${PK}/api.js`)).toEqual({ publicKey: PK, subdomain: 'roblox-api.arkoselabs.com' });
    expect(parseArkoseUrl(`https://tcr9i.chat.example.com/v2/${PK}/api.js`)).toEqual({ publicKey: PK, subdomain: 'tcr9i.chat.example.com' });
    expect(parseArkoseUrl(`https://client-api.arkoselabs.com/v2/${PK.toLowerCase()}/api.js?onload=x`)).toEqual({
      publicKey: PK.toLowerCase(),
      subdomain: 'client-api.arkoselabs.com',
    });
  });

  it('reads enforcement and game-core frames', () => {
    expect(parseArkoseUrl(`https://client-api.arkoselabs.com/v2/2.9.0/enforcement.fbfc14b0d793c6ef8359e0e4b4a91f67.html#${PK}`)).toEqual({
      publicKey: PK,
      subdomain: 'client-api.arkoselabs.com',
    });
    expect(parseArkoseUrl(`https://github-api.arkoselabs.com/v2/1.5.5/enforcement.a1b2c3.html#${PK}&mobile=0`)).toEqual({
      publicKey: PK,
      subdomain: 'github-api.arkoselabs.com',
    });
    const token = `84617a6ee1ba0a2f3.4318470705|r=us-east-1|meta=3|pk=${PK}|at=40|surl=https%3A%2F%2Fapi.funcaptcha.com`;
    expect(parseArkoseUrl(`https://api.funcaptcha.com/fc/gc/?token=${encodeURIComponent(token)}`)).toEqual({ publicKey: PK, subdomain: 'api.funcaptcha.com' });
    expect(parseArkoseUrl(`https://api.funcaptcha.com/fc/gc/?token=abc&pk=${PK}`)).toEqual({ publicKey: PK, subdomain: 'api.funcaptcha.com' });
  });

  it('gives the host of a v1 script that names no key', () => {
    expect(parseArkoseUrl('https://api.funcaptcha.com/fc/api/?onload=loadFunCaptcha')).toEqual({ subdomain: 'api.funcaptcha.com' });
    expect(parseArkoseUrl('https://funcaptcha.com/fc/api/')).toEqual({ subdomain: 'funcaptcha.com' });
  });

  it('refuses everything else', () => {
    for (const url of [
      'https://client-api.arkoselabs.com/cdn/fc/assets/graphics/arkose-logo.png',
      'https://client-api.arkoselabs.com/v2/not-a-key/api.js',
      'https://cdn.example.com/fc/api/?onload=x',
      `https://cdn.example.com/v2/${PK}/api.jsx`,
      `data:text/html,/v2/${PK}/api.js`,
      'https://www.google.com/recaptcha/api.js',
    ]) {
      expect(parseArkoseUrl(url), url).toBeNull();
    }
  });
});

describe('parseFunCaptchaToken / arkoseHostOf', () => {
  it('reads the key and the API host of an fc-token value', () => {
    const value = `84617a6ee1ba0a2f3.4318470705|r=us-east-1|metabgclr=transparent|pk=${PK}|at=40|cdn_url=https%3A%2F%2Fclient-api.arkoselabs.com%2Fcdn%2Ffc|surl=https%3A%2F%2Froblox-api.arkoselabs.com|smurl=x`;
    expect(parseFunCaptchaToken(value)).toEqual({ publicKey: PK, subdomain: 'roblox-api.arkoselabs.com' });
    expect(parseFunCaptchaToken(`abc|pk=${PK}`)).toEqual({ publicKey: PK });
  });

  it('refuses values without a well-formed key, and survives bad escapes', () => {
    expect(parseFunCaptchaToken('')).toBeNull();
    expect(parseFunCaptchaToken('abc|pk=product-42|surl=https%3A%2F%2Fx')).toBeNull();
    expect(parseFunCaptchaToken(`abc|pk=${PK}|surl=%E0%A4%A`)).toEqual({ publicKey: PK });
    expect(parseFunCaptchaToken(`abc|pk=%E0%A4%A`)).toBeNull();
  });

  it('takes only the host of a surl', () => {
    expect(arkoseHostOf('https://client-api.arkoselabs.com/')).toBe('client-api.arkoselabs.com');
    expect(arkoseHostOf('client-api.arkoselabs.com')).toBeUndefined();
    expect(arkoseHostOf(null)).toBeUndefined();
  });
});

describe('isVendorFrame', () => {
  it('knows the widgets’ own frames', () => {
    expect(isVendorFrame(`https://www.google.com/recaptcha/api2/anchor?${anchorQuery}`)).toBe(true);
    expect(isVendorFrame('https://www.recaptcha.net/recaptcha/enterprise/bframe?k=x')).toBe(true);
    expect(isVendorFrame(`https://client-api.arkoselabs.com/v2/2.9.0/enforcement.ab12.html#${PK}`)).toBe(true);
    expect(isVendorFrame(`https://tcr9i.chat.example.com/v2/2.9.0/enforcement.ab12.html#${PK}`)).toBe(true);
    expect(isVendorFrame('https://tcr9i.chat.example.com/fc/gc/?token=x')).toBe(true);
  });

  it('leaves ordinary pages alone, Google’s included', () => {
    expect(isVendorFrame('https://www.google.com/search?q=recaptcha')).toBe(false);
    expect(isVendorFrame('https://shop.example/checkout')).toBe(false);
    expect(isVendorFrame('about:blank')).toBe(false);
  });
});

describe('parsers on arbitrary input', () => {
  const urlish = fc.oneof(
    fc.string(),
    fc.webUrl({ withQueryParameters: true, withFragments: true }),
    fc
      .tuple(fc.constantFrom('https://www.google.com/recaptcha/', 'https://client-api.arkoselabs.com/', 'https://x.example/v2/', 'https://api.funcaptcha.com/fc/gc/?token='), fc.string())
      .map(([a, b]) => a + b),
  );

  it('never throw, and every key they return has the right shape', () => {
    fc.assert(
      fc.property(urlish, (raw) => {
        const anchor = parseRecaptchaAnchorUrl(raw);
        if (anchor) expect(isRecaptchaSiteKey(anchor.siteKey)).toBe(true);
        const script = parseRecaptchaScriptUrl(raw);
        if (script?.v3SiteKey) expect(isRecaptchaSiteKey(script.v3SiteKey)).toBe(true);
        for (const source of [parseArkoseUrl(raw), parseFunCaptchaToken(raw)]) {
          if (source?.publicKey !== undefined) expect(isArkosePublicKey(source.publicKey)).toBe(true);
          if (source?.subdomain !== undefined) expect(isHostName(source.subdomain)).toBe(true);
        }
        isVendorFrame(raw);
      }),
      { numRuns: 500 },
    );
  });
});
