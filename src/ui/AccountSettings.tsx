import { useEffect, useState } from 'preact/hooks';
import browser from 'webextension-polyfill';
import { t } from '../shared/i18n';
import { normalizeServiceUrl, SERVICE_PRESETS, type ServiceId } from '../shared/services';
import type { SettingsState } from './settings-store';
import { ManagedMark } from './SetupStatus';

/** A custom host is reached only with the user's grant (optional host permission). */
function useHostAccess(url: string | null): { granted: boolean; request: () => void } {
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

export function AccountSettings({ state }: { state: SettingsState }) {
  const { settings } = state;
  const [showKey, setShowKey] = useState(false);
  const customUrl = settings.service === 'custom' ? normalizeServiceUrl(settings.customUrl) : null;
  const customInvalid = settings.service === 'custom' && settings.customUrl !== '' && customUrl === null;
  const access = useHostAccess(customUrl);
  return (
    <fieldset class="group">
      <legend>{t('account')}</legend>
      <div class="field">
        <label for="service">{t('service')}</label>
        <ManagedMark state={state} path="service" />
        <select id="service" value={settings.service} disabled={state.isManaged('service')} onChange={(e) => state.update({ service: e.currentTarget.value as ServiceId })}>
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
          <ManagedMark state={state} path="customUrl" />
          <input
            id="api-url"
            disabled={state.isManaged('customUrl')}
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
        <ManagedMark state={state} path="apiKey" />
        <div class="row">
          <input
            id="api-key"
            disabled={state.isManaged('apiKey')}
            type={(showKey ? 'text' : 'password') as 'password'}
            autocomplete="off"
            spellcheck={false}
            value={state.apiKey}
            onInput={(e) => state.setApiKey(e.currentTarget.value)}
          />
          <button type="button" class="secondary" aria-pressed={showKey} onClick={() => setShowKey(!showKey)}>
            {showKey ? t('hideKey') : t('showKey')}
          </button>
        </div>
      </div>
    </fieldset>
  );
}
