/**
 * A number setting saves what is typed as soon as it is valid, and a re-render from storage
 * (the popup re-renders as tasks finish) never resets the field while the user is in it; the
 * fields of a settings group typed faster than the page renders all stay.
 */
import { h, render } from 'preact';
import { act } from 'preact/test-utils';
import { describe, expect, it, vi } from 'vitest';

// The settings components word their labels through the extension's i18n; here a key is its own text.
vi.mock('webextension-polyfill', () => ({ default: { i18n: { getMessage: (key: string) => key, getUILanguage: () => 'en' } } }));
const { NumberField } = await import('../../src/ui/SolvingSettings');

describe('NumberField', () => {
  it('saves each valid value typed, and keeps what is typed across a re-render', () => {
    const root = document.createElement('div');
    document.body.append(root);
    const saved = vi.fn();
    const show = (value: number): void =>
      void act(() => {
        render(h(NumberField, { label: 'Max tasks per hour', value, min: 0, max: 100, onChange: saved }), root);
      });
    show(20);
    const input = root.querySelector('input')!;
    void act(() => {
      input.dispatchEvent(new FocusEvent('focus'));
      input.value = '9';
      input.dispatchEvent(new Event('input', { bubbles: true }));
    });
    expect(saved).toHaveBeenLastCalledWith(9);
    // Storage has not answered yet: the old value comes back in a re-render.
    show(20);
    expect(input.value).toBe('9');
    void act(() => {
      input.value = '900';
      input.dispatchEvent(new Event('input', { bubbles: true }));
    });
    expect(saved).toHaveBeenCalledTimes(1);
    void act(() => {
      input.dispatchEvent(new FocusEvent('blur'));
    });
    show(9);
    expect(input.value).toBe('9');
    root.remove();
  });
});

describe('settings groups edited quickly', () => {
  it('two proxy fields typed before the next render both stay (each edit applies to the settings as they are then)', async () => {
    const { ProxySettings } = await import('../../src/ui/PowerSettings');
    const { DEFAULT_SETTINGS } = await import('../../src/shared/settings');
    let current = DEFAULT_SETTINGS;
    // As the settings store applies edits: in order, each to the latest settings.
    const update = (patch: Partial<typeof current> | ((s: typeof current) => Partial<typeof current>)): void => {
      current = { ...current, ...(typeof patch === 'function' ? patch(current) : patch) };
    };
    const state = { settings: DEFAULT_SETTINGS, proxyPassword: '', update, isManaged: () => false } as unknown as Parameters<typeof ProxySettings>[0]['state'];
    const root = document.createElement('div');
    document.body.append(root);
    void act(() => {
      render(h(ProxySettings, { state }), root);
    });
    // No re-render in between: the component still holds the settings it was rendered with.
    const type = root.querySelector<HTMLSelectElement>('#proxy-type')!;
    type.value = 'http';
    type.dispatchEvent(new Event('change', { bubbles: true }));
    for (const [id, value] of [
      ['#proxy-address', '203.0.113.7'],
      ['#proxy-port', '8080'],
    ] as const) {
      const input = root.querySelector<HTMLInputElement>(id)!;
      input.value = value;
      input.dispatchEvent(new Event('input', { bubbles: true }));
    }
    expect(current.proxy).toMatchObject({ type: 'http', address: '203.0.113.7', port: 8080 });
  });
});
