import { useEffect, useState } from 'preact/hooks';
import { t } from '../shared/i18n';
import { normalizeServiceUrl } from '../shared/services';
import { FAMILY_IDS, FAMILY_LABEL_KEYS, normalizeSitePattern, type FamilyId, type ImageSettings, type SolveMode } from '../shared/settings';
import type { SettingsState } from './settings-store';

export { FAMILY_LABEL_KEYS };

/** A list edited as text, one site per line; stored normalized when the field is left. */
export function SiteList(props: { id: string; label: string; sites: string[]; onChange: (sites: string[]) => void }) {
  const [text, setText] = useState(props.sites.join('\n'));
  useEffect(() => setText(props.sites.join('\n')), [props.sites.join('\n')]);
  const commit = (): void => {
    const sites = [...new Set(text.split(/[\s,]+/).map(normalizeSitePattern).filter((s): s is string => s !== null))];
    props.onChange(sites);
    setText(sites.join('\n'));
  };
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <textarea id={props.id} rows={3} placeholder="example.com" value={text} onInput={(e) => setText(e.currentTarget.value)} onBlur={commit} />
    </div>
  );
}

export function NumberField(props: { label: string; value: number; min: number; max: number; step?: number; hint?: string; onChange: (value: number) => void }) {
  return (
    <label class="field">
      <span>{props.label}</span>
      <input
        type="number"
        inputMode="decimal"
        min={props.min}
        max={props.max}
        step={props.step ?? 1}
        value={props.value}
        onChange={(e) => {
          const value = Number(e.currentTarget.value);
          if (Number.isFinite(value) && value >= props.min && value <= props.max) props.onChange(value);
        }}
      />
      {props.hint && <small class="muted">{props.hint}</small>}
    </label>
  );
}

export function SolvingSettings({ state }: { state: SettingsState }) {
  const { settings } = state;
  const setFamily = (id: FamilyId, patch: Partial<{ enabled: boolean; mode: SolveMode }>): void =>
    state.update({ families: { ...settings.families, [id]: { ...settings.families[id], ...patch } } });
  const callbackInvalid = settings.callbackUrl !== '' && normalizeServiceUrl(settings.callbackUrl) === null;
  const setImage = (patch: Partial<ImageSettings>): void => state.update({ image: { ...settings.image, ...patch } });
  return (
    <>
      <fieldset class="group">
        <legend>{t('captchaTypes')}</legend>
        <table class="families">
          <tbody>
            {FAMILY_IDS.map((id) => {
              const family = settings.families[id];
              const label = t(FAMILY_LABEL_KEYS[id]);
              return (
                <tr key={id}>
                  <td>
                    <label class="check">
                      <input type="checkbox" checked={family.enabled} onChange={(e) => setFamily(id, { enabled: e.currentTarget.checked })} />
                      {label}
                    </label>
                  </td>
                  <td>
                    <select
                      aria-label={t('modeFor', label)}
                      value={family.mode}
                      disabled={!family.enabled}
                      onChange={(e) => setFamily(id, { mode: e.currentTarget.value === 'auto' ? 'auto' : 'click' })}
                    >
                      <option value="click">{t('modeClick')}</option>
                      <option value="auto">{t('modeAuto')}</option>
                    </select>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </fieldset>

      <fieldset class="group">
        <legend>{t('sites')}</legend>
        <label class="check">
          <input type="radio" name="site-mode" checked={settings.siteMode === 'all'} onChange={() => state.update({ siteMode: 'all' })} />
          {t('siteModeAll')}
        </label>
        <label class="check">
          <input type="radio" name="site-mode" checked={settings.siteMode === 'allowlist'} onChange={() => state.update({ siteMode: 'allowlist' })} />
          {t('siteModeAllowlist')}
        </label>
        {settings.siteMode === 'all' ? (
          <SiteList id="blocked-sites" label={t('blockedSites')} sites={settings.blockedSites} onChange={(blockedSites) => state.update({ blockedSites })} />
        ) : (
          <SiteList id="allowed-sites" label={t('allowedSites')} sites={settings.allowedSites} onChange={(allowedSites) => state.update({ allowedSites })} />
        )}
      </fieldset>

      <fieldset class="group">
        <legend>{t('spendingGuard')}</legend>
        <p class="muted small">{t('spendingGuardHint')}</p>
        <div class="row">
          <NumberField label={t('maxPerHour')} value={settings.maxTasksPerHour} min={0} max={10_000} onChange={(maxTasksPerHour) => state.update({ maxTasksPerHour })} />
          <NumberField label={t('maxPerDay')} value={settings.maxTasksPerDay} min={0} max={100_000} onChange={(maxTasksPerDay) => state.update({ maxTasksPerDay })} />
        </div>
      </fieldset>

      <fieldset class="group">
        <legend>{t('inPage')}</legend>
        <label class="check">
          <input type="checkbox" checked={settings.inPageButton} onChange={(e) => state.update({ inPageButton: e.currentTarget.checked })} />
          {t('inPageButton')}
        </label>
      </fieldset>

      <fieldset class="group">
        <legend>{t('imageSettings')}</legend>
        <label class="check">
          <input type="checkbox" checked={settings.image.numeric} onChange={(e) => setImage({ numeric: e.currentTarget.checked })} />
          {t('imageNumeric')}
        </label>
        <label class="check">
          <input type="checkbox" checked={settings.image.caseSensitive} onChange={(e) => setImage({ caseSensitive: e.currentTarget.checked })} />
          {t('imageCase')}
        </label>
        <label class="check">
          <input type="checkbox" checked={settings.image.math} onChange={(e) => setImage({ math: e.currentTarget.checked })} />
          {t('imageMath')}
        </label>
        <div class="row">
          <NumberField
            label={t('imageThreshold')}
            hint={t('imageThresholdHint')}
            value={settings.image.threshold}
            min={0}
            max={100}
            onChange={(threshold) => setImage({ threshold })}
          />
          <NumberField
            label={t('imageMaxRounds')}
            hint={t('imageMaxRoundsHint')}
            value={settings.image.maxRounds}
            min={1}
            max={10}
            onChange={(maxRounds) => setImage({ maxRounds })}
          />
        </div>
      </fieldset>

      <details class="group">
        <summary>{t('advanced')}</summary>
        <NumberField label={t('v3MinScore')} value={settings.v3MinScore} min={0.1} max={0.9} step={0.1} onChange={(v3MinScore) => state.update({ v3MinScore })} />
        <NumberField
          label={t('recreateAttempts')}
          hint={t('recreateAttemptsHint')}
          value={settings.recreateAttempts}
          min={0}
          max={3}
          onChange={(recreateAttempts) => state.update({ recreateAttempts })}
        />
        <label class="field">
          <span>{t('callbackUrl')}</span>
          <input
            type="url"
            placeholder="https://hooks.example.org/caprelay"
            value={settings.callbackUrl}
            aria-invalid={callbackInvalid}
            onInput={(e) => state.update({ callbackUrl: e.currentTarget.value })}
          />
          <small class="muted">{t('callbackUrlHint')}</small>
        </label>
      </details>
    </>
  );
}
