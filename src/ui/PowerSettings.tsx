/** The power-user block's settings: the proxy for token tasks, and the fallback service. */
import { useEffect, useState } from 'preact/hooks';
import { t } from '../extension/i18n';
import { PROXY_TYPES, proxyProblems, type FallbackSettings, type ProxySettings as Proxy } from '../shared/power-settings';
import { SecretInput, ServiceChoice } from './AccountSettings';
import type { SettingsState } from './settings-store';
import { SiteList } from './SolvingSettings';

/** A field's problem, named beside it (and tied to it for screen readers). */
function Problem({ id, problem }: { id: string; problem: string | undefined }) {
  return problem ? (
    <small id={id} class="error" data-testid={id}>
      {t(problem)}
    </small>
  ) : null;
}

export function ProxySettings({ state }: { state: SettingsState }) {
  const { proxy } = state.settings;
  const problems = proxyProblems(proxy, state.proxyPassword);
  const set = (patch: Partial<Proxy>): void => state.update((current) => ({ proxy: { ...current.proxy, ...patch } }));
  // The port as typed: a half-typed or cleared number is not stored as something else.
  const [portText, setPortText] = useState(proxy.port ? String(proxy.port) : '');
  // A port set elsewhere (an imported file) shows; a typed one that is not valid stays as typed.
  useEffect(() => {
    if (proxy.port !== 0 && String(proxy.port) !== portText) setPortText(String(proxy.port));
  }, [proxy.port]);
  const described = (field: keyof typeof problems): string | undefined => (problems[field] ? `proxy-${field}-error` : undefined);
  /** A text field of the proxy, stored trimmed, with its problem named beside it. */
  const textField = (field: 'address' | 'login', label: string, extra: { placeholder?: string; autocomplete?: string }) => (
    <div class="field">
      <label for={`proxy-${field}`}>{t(label)}</label>
      <input
        id={`proxy-${field}`}
        type="text"
        spellcheck={false}
        {...extra}
        value={proxy[field]}
        aria-invalid={Boolean(problems[field])}
        aria-describedby={described(field)}
        onInput={(e) => set({ [field]: e.currentTarget.value.trim() })}
      />
      <Problem id={`proxy-${field}-error`} problem={problems[field]} />
    </div>
  );
  return (
    <fieldset class="group" data-testid="proxy-settings">
      <legend>{t('proxy')}</legend>
      <p class="muted small">{t('proxyHint')}</p>
      <div class="row">
        <div class="field">
          <label for="proxy-type">{t('proxyType')}</label>
          <select id="proxy-type" value={proxy.type} aria-invalid={Boolean(problems.type)} aria-describedby={described('type')} onChange={(e) => set({ type: e.currentTarget.value as Proxy['type'] })}>
            <option value="">{t('proxyNone')}</option>
            {PROXY_TYPES.map((type) => (
              <option key={type} value={type}>
                {type}
              </option>
            ))}
          </select>
          <Problem id="proxy-type-error" problem={problems.type} />
        </div>
        {textField('address', 'proxyAddress', { placeholder: '203.0.113.7' })}
        <div class="field">
          <label for="proxy-port">{t('proxyPort')}</label>
          <input
            id="proxy-port"
            type="text"
            inputMode="numeric"
            placeholder="8080"
            value={portText}
            aria-invalid={Boolean(problems.port)}
            aria-describedby={described('port')}
            onInput={(e) => {
              const text = e.currentTarget.value.trim();
              setPortText(text);
              // Anything but a whole number in range is stored as "not set", and named as wrong.
              const port = /^\d{1,5}$/.test(text) ? Number(text) : 0;
              set({ port: port <= 65_535 ? port : 0 });
            }}
          />
          <Problem id="proxy-port-error" problem={problems.port ?? (portText !== '' && proxy.port === 0 ? 'proxyPortInvalid' : undefined)} />
        </div>
      </div>
      <div class="row">
        {textField('login', 'proxyLogin', { autocomplete: 'off' })}
        <div class="field">
          <label for="proxy-password">{t('proxyPassword')}</label>
          <SecretInput id="proxy-password" value={state.proxyPassword} invalid={Boolean(problems.password)} describedBy={described('password')} onInput={state.setProxyPassword} />
          <Problem id="proxy-password-error" problem={problems.password} />
        </div>
      </div>
      <SiteList id="proxy-sites" label={t('proxySites')} sites={proxy.sites} onChange={(sites) => set({ sites })} />
      <small class="muted">{t('proxySitesHint')}</small>
    </fieldset>
  );
}

export function FallbackSettings({ state }: { state: SettingsState }) {
  const { fallback } = state.settings;
  const set = (patch: Partial<FallbackSettings>): void => state.update((current) => ({ fallback: { ...current.fallback, ...patch } }));
  return (
    <fieldset class="group" data-testid="fallback-settings">
      <legend>{t('fallback')}</legend>
      <p class="muted small">{t('fallbackHint')}</p>
      <ServiceChoice
        id="fallback-service"
        urlId="fallback-url"
        label={t('fallbackService')}
        urlLabel={t('fallbackUrl')}
        offLabel={t('fallbackOff')}
        service={fallback.service}
        customUrl={fallback.customUrl}
        onService={(service) => set({ service })}
        onUrl={(customUrl) => set({ customUrl })}
      />
      {fallback.service !== 'off' && (
        <div class="field">
          <label for="fallback-key">{t('fallbackKey')}</label>
          <SecretInput id="fallback-key" value={state.fallbackApiKey} onInput={state.setFallbackApiKey} />
        </div>
      )}
    </fieldset>
  );
}
