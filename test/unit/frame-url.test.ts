import { describe, expect, it } from 'vitest';
import { frameUrl } from '../../src/background/frame-url';

describe('frameUrl', () => {
  it('keeps a real frame URL and ignores any inherited one it sends', () => {
    expect(frameUrl('https://shop.example/login', 'https://shop.example', 'https://evil.example/')).toBe('https://shop.example/login');
  });

  it('takes the inherited URL for srcdoc and blank frames of the same origin', () => {
    expect(frameUrl('about:srcdoc', 'https://shop.example', 'https://shop.example/checkout')).toBe('https://shop.example/checkout');
    // Firefox does not tell the sender's origin.
    expect(frameUrl('about:blank', undefined, 'https://shop.example/checkout')).toBe('https://shop.example/checkout');
  });

  it('refuses an inherited URL of another origin or scheme', () => {
    expect(frameUrl('about:srcdoc', 'https://shop.example', 'https://other.example/')).toBe('about:srcdoc');
    expect(frameUrl('about:srcdoc', undefined, 'javascript:alert(1)')).toBe('about:srcdoc');
    expect(frameUrl('about:srcdoc', undefined, 'not a url')).toBe('about:srcdoc');
  });
});
