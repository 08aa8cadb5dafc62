import { describe, expect, it } from 'vitest';
import { frameUrl } from '../../src/background/frame-url';

describe('frameUrl', () => {
  it('keeps a real frame URL and ignores any inherited one it sends', () => {
    expect(frameUrl('https://shop.example/login', 'https://shop.example', 'https://evil.example/')).toBe('https://shop.example/login');
  });

  it('takes the inherited URL for srcdoc and blank frames of the same origin', () => {
    expect(frameUrl('about:srcdoc', 'https://shop.example', 'https://shop.example/checkout')).toBe('https://shop.example/checkout');
    expect(frameUrl('about:blank', 'https://shop.example', 'https://shop.example/checkout')).toBe('https://shop.example/checkout');
  });

  it('refuses an about: frame it cannot place: another origin, another scheme, an opaque or unknown origin', () => {
    // A <base> pointing elsewhere is what a hostile srcdoc frame would send.
    expect(frameUrl('about:srcdoc', 'https://shop.example', 'https://other.example/')).toBeNull();
    expect(frameUrl('about:srcdoc', 'https://shop.example', 'javascript:alert(1)')).toBeNull();
    expect(frameUrl('about:srcdoc', 'https://shop.example', 'not a url')).toBeNull();
    expect(frameUrl('about:srcdoc', 'null', 'https://shop.example/')).toBeNull();
    expect(frameUrl('about:blank', undefined, 'https://shop.example/checkout')).toBeNull();
    expect(frameUrl('about:srcdoc', 'https://shop.example', undefined)).toBeNull();
  });

  it('never gives an address that is not a web page', () => {
    for (const url of ['file:///home/user/page.html', 'data:text/html,x', 'chrome-extension://abc/page.html', 'about:srcdoc']) {
      expect(frameUrl(url, 'https://shop.example', undefined)).toBeNull();
    }
  });
});
