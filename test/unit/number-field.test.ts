/**
 * A number setting saves what is typed as soon as it is valid, and a re-render from storage
 * (the popup re-renders as tasks finish) never resets the field while the user is in it.
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
