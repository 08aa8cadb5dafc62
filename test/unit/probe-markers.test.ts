/**
 * The page-world probe's markers (src/main-world/probe.ts) in happy-dom: which vendor scripts
 * and frames tell the content script's core that a family showed (it then loads the detectors),
 * while the page is parsed, after it, and when the core asks for a look.
 */
import { expect, it } from 'vitest';
import '../../src/main-world/probe';
import { PROBE_MARKER_EVENT, PROBE_SCAN_EVENT } from '../../src/shared/page-protocol';
import { quietDisabledLoading } from '../fixtures/happy-dom';

quietDisabledLoading();

const said = new Set<string>();
document.addEventListener(PROBE_MARKER_EVENT, (event) => (JSON.parse((event as CustomEvent<string>).detail) as string[]).forEach((family) => said.add(family)), true);

const tick = () => new Promise((r) => setTimeout(r, 0));
const scan = (): boolean => document.dispatchEvent(new CustomEvent(PROBE_SCAN_EVENT));

function element(tag: 'script' | 'iframe', src: string): HTMLElement {
  const el = document.createElement(tag);
  el.setAttribute('src', src);
  return el;
}

function nested(child: HTMLElement): HTMLElement {
  const holder = document.createElement('div');
  holder.appendChild(document.createElement('span'));
  holder.appendChild(document.createElement('div')).appendChild(child);
  return holder;
}

it('says nothing for scripts and frames of no vendor, nor for an inline script', async () => {
  document.head.appendChild(element('script', 'https://cdn.example.com/app.js'));
  document.body.appendChild(element('iframe', 'https://ads.example.net/frame.html'));
  document.body.appendChild(document.createElement('script')).textContent = 'var recaptcha = "https://www.google.com/recaptcha/api.js"';
  await tick();
  scan();
  await tick();
  expect([...said]).toEqual([]);
});

it('while the page is parsed: a vendor script the page adds shows its family, inside a subtree too', async () => {
  document.body.appendChild(nested(element('script', 'https://static.geetest.com/v4/gt4.js')));
  await tick();
  expect([...said]).toEqual(['geetest']);
});

it('a loader’s script shows its family as its src is set, before it is in the document', () => {
  const script = document.createElement('script');
  script.src = 'https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit';
  expect([...said]).toEqual(['geetest', 'turnstile']);
});

it('once parsed: a vendor frame put into <body> shows its family; one deeper down waits for the core’s look', async () => {
  document.dispatchEvent(new Event('DOMContentLoaded'));
  document.body.appendChild(nested(element('script', 'https://client-api.arkoselabs.com/v2/476068BF-9607-4799-B53D-966BE98E2B81/api.js')));
  await tick();
  expect(said.has('funcaptcha')).toBe(false);
  scan();
  expect(said.has('funcaptcha')).toBe(true);

  document.body.appendChild(element('iframe', 'https://www.google.com/recaptcha/api2/anchor?k=6LeIxAcTAAAAAJcZVRqyHh71UMIEGNQ_MXjiZKhI'));
  await tick();
  expect([...said].sort()).toEqual(['funcaptcha', 'geetest', 'recaptcha', 'turnstile']);
});
