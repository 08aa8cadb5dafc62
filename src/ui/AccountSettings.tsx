import { useEffect, useState } from 'preact/hooks';
import browser from 'webextension-polyfill';
import { t } from '../shared/i18n';
import { normalizeServiceUrl, SERVICE_PRESETS, type ServiceId } from '../shared/services';
import type { SettingsState } from './settings-store';

/** A custom host is reached only with the user's grant (optional host permission). */
export function useHostAccess(url: string | null): { granted: boolean; request: () => void } {
  const [granted, setGranted] = useState(true);
  const origins = url ? [`${new URL(url).origin}/*`] : [];
  const key = origins.join();
  useEffect(() => {
    if (!origins.length) return setGranted(true);
    void browser.permissions.contains({ origins }).then(setGranted, () => setGranted(false));
  }, [key]);
  return {
    granted,
    request: () => void browser.permissions.request({ origins }).then(setGranted, () => setGranted(false)),
  };
}

/** A secret's input: hidden unless the user asks to see it. */
export function SecretInput(props: { id: string; value: string; invalid?: boolean; describedBy?: string | undefined; onInput: (value: string) => void }) {
  const [shown, setShown] = useState(false);
  return (
    <div class="row">
      <input
        id={props.id}
        type={(shown ? 'text' : 'password') as 'password'}
        autocomplete="off"
        spellcheck={false}
        value={props.value}
        aria-invalid={props.invalid ?? false}
        aria-describedby={props.describedBy}
        onInput={(e) => props.onInput(e.currentTarget.value)}
      />
      <button type="button" class="secondary" aria-pressed={shown} aria-controls={props.id} onClick={() => setShown(!shown)}>
        {shown ? t('hideKey') : t('showKey')}
      </button>
    </div>
  );
}

export function AccountSettings({ state }: { state: SettingsState }) {
  const { settings } = state;
  const customUrl = settings.service === 'custom' ? normalizeServiceUrl(settings.customUrl) : null;
  const customInvalid = settings.service === 'custom' && settings.customUrl !== '' && customUrl === null;
  const access = useHostAccess(customUrl);
  return (
    <fieldset class="group">
      <legend>{t('account')}</legend>
      <div class="field">
        <label for="service">{t('service')}</label>
        <select id="service" value={settings.service} onChange={(e) => state.update({ service: e.currentTarget.value as ServiceId })}>
          {SERVICE_PRESETS.map((p) => (
            <option key={p.id} value={p.id}>
              {p.label}
            </option>
          ))}
          <option value="custom">{t('serviceCustom')}</option>
        </select>
      </div>
      {settings.service === 'custom' && (
        <div class="field">
          <label for="api-url">{t('apiUrl')}</label>
          <input
            id="api-url"
            type="url"
            placeholder="https://api.example.com"
            value={settings.customUrl}
            aria-invalid={customInvalid}
            aria-describedby={customInvalid ? 'api-url-error' : undefined}
            onInput={(e) => state.update({ customUrl: e.currentTarget.value })}
          />
          {customInvalid && (
            <small id="api-url-error" class="error">
              {t('apiUrlInvalid')}
            </small>
          )}
          {customUrl && !access.granted && (
            <button type="button" class="secondary" onClick={access.request}>
              {t('grantHost', new URL(customUrl).host)}
            </button>
          )}
        </div>
      )}
      <div class="field">
        <label for="api-key">{t('apiKey')}</label>
        <SecretInput id="api-key" value={state.apiKey} onInput={state.setApiKey} />
      </div>
    </fieldset>
  );
}
