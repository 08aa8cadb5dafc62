import { useEffect, useState } from 'preact/hooks';
import browser from 'webextension-polyfill';
import { t } from '../extension/i18n';
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

/** A secret's input: hidden unless the user asks to see it. */
export function SecretInput(props: { id: string; value: string; invalid?: boolean; disabled?: boolean; describedBy?: string | undefined; onInput: (value: string) => void }) {
  const [shown, setShown] = useState(false);
  return (
    <div class="row">
      <input
        id={props.id}
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- preact types 'text' and 'password' inputs apart; tsc needs it
        type={(shown ? 'text' : 'password') as 'password'}
        autocomplete="off"
        spellcheck={false}
        value={props.value}
        disabled={props.disabled}
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

/**
 * The service and, for Custom, its API URL (with the host grant a custom host needs): the
 * account's, and the fallback's (which may also be off).
 */
export function ServiceChoice(props: {
  id: string;
  urlId: string;
  label: string;
  urlLabel: string;
  service: ServiceId | 'off';
  customUrl: string;
  /** Offer "none" first (the fallback). */
  offLabel?: string;
  /** The settings paths a policy may set (the account's service and URL). */
  managed?: { state: SettingsState; service: string; url: string };
  onService: (service: ServiceId | 'off') => void;
  onUrl: (url: string) => void;
}) {
  const customUrl = props.service === 'custom' ? normalizeServiceUrl(props.customUrl) : null;
  const customInvalid = props.service === 'custom' && props.customUrl !== '' && customUrl === null;
  const access = useHostAccess(customUrl);
  return (
    <>
      <div class="field">
        <label for={props.id}>{props.label}</label>
        {props.managed && <ManagedMark state={props.managed.state} path={props.managed.service} />}
        <select id={props.id} value={props.service} disabled={props.managed?.state.isManaged(props.managed.service)} onChange={(e) => props.onService(e.currentTarget.value as ServiceId | 'off')}>
          {props.offLabel && <option value="off">{props.offLabel}</option>}
          {SERVICE_PRESETS.map((p) => (
            <option key={p.id} value={p.id}>
              {p.label}
            </option>
          ))}
          <option value="custom">{t('serviceCustom')}</option>
        </select>
      </div>
      {props.service === 'custom' && (
        <div class="field">
          <label for={props.urlId}>{props.urlLabel}</label>
          {props.managed && <ManagedMark state={props.managed.state} path={props.managed.url} />}
          <input
            id={props.urlId}
            disabled={props.managed?.state.isManaged(props.managed.url)}
            type="url"
            placeholder="https://api.example.com"
            value={props.customUrl}
            aria-invalid={customInvalid}
            aria-describedby={customInvalid ? `${props.urlId}-error` : undefined}
            onInput={(e) => props.onUrl(e.currentTarget.value)}
          />
          {customInvalid && (
            <small id={`${props.urlId}-error`} class="error">
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
    </>
  );
}

export function AccountSettings({ state }: { state: SettingsState }) {
  const { settings } = state;
  return (
    <fieldset class="group">
      <legend>{t('account')}</legend>
      <ServiceChoice
        id="service"
        urlId="api-url"
        label={t('service')}
        urlLabel={t('apiUrl')}
        service={settings.service}
        customUrl={settings.customUrl}
        managed={{ state, service: 'service', url: 'customUrl' }}
        onService={(service) => state.update({ service: service === 'off' ? settings.service : service })}
        onUrl={(customUrl) => state.update({ customUrl })}
      />
      <div class="field">
        <label for="api-key">{t('apiKey')}</label>
        <ManagedMark state={state} path="apiKey" />
        <SecretInput id="api-key" value={state.apiKey} disabled={state.isManaged('apiKey')} onInput={state.setApiKey} />
      </div>
    </fieldset>
  );
}
