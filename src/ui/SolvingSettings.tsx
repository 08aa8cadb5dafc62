import { useEffect, useState } from 'preact/hooks';
import { t } from '../extension/i18n';
import { normalizeServiceUrl } from '../shared/services';
import {
  FAMILY_IDS,
  FAMILY_LABEL_KEYS,
  MAX_DELAY_MS,
  normalizeSitePattern,
  readSettingsPatch,
  type DelayRange,
  type FamilyId,
  type ImageSettings,
  type SolveMode,
  type SubmitRule,
} from '../shared/settings';
import type { SettingsState } from './settings-store';
import { ManagedMark } from './SetupStatus';

export { FAMILY_LABEL_KEYS };

/** A list edited as text, one site per line; stored normalized when the field is left. */
export function SiteList(props: { id: string; label: string; sites: string[]; disabled?: boolean; onChange: (sites: string[]) => void }) {
  const [text, setText] = useState(props.sites.join('\n'));
  useEffect(() => setText(props.sites.join('\n')), [props.sites.join('\n')]);
  const commit = (): void => {
    const sites = [
      ...new Set(
        text
          .split(/[\s,]+/)
          .map(normalizeSitePattern)
          .filter((s): s is string => s !== null),
      ),
    ];
    props.onChange(sites);
    setText(sites.join('\n'));
  };
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <textarea id={props.id} rows={3} placeholder="example.com" value={text} disabled={props.disabled} onInput={(e) => setText(e.currentTarget.value)} onBlur={commit} />
    </div>
  );
}

/**
 * A number input that calls `onValue` as soon as what is typed is a number in range. While it
 * has focus it shows what the user typed: a re-render from storage (a task finishing) never
 * resets it under their fingers.
 */
function NumberInput(props: { value: number; min: number; max: number; step?: number; label?: string; class?: string; disabled?: boolean; onValue: (value: number) => void }) {
  const [draft, setDraft] = useState<string | null>(null);
  return (
    <input
      type="number"
      inputMode="decimal"
      class={props.class}
      aria-label={props.label}
      min={props.min}
      max={props.max}
      step={props.step ?? 1}
      value={draft ?? props.value}
      disabled={props.disabled}
      onFocus={() => setDraft(String(props.value))}
      onBlur={() => setDraft(null)}
      onInput={(e) => {
        const text = e.currentTarget.value;
        setDraft(text);
        const value = Number(text);
        if (text.trim() !== '' && Number.isFinite(value) && value >= props.min && value <= props.max) props.onValue(value);
      }}
    />
  );
}

export function NumberField(props: { label: string; value: number; min: number; max: number; step?: number; hint?: string; disabled?: boolean; onChange: (value: number) => void }) {
  return (
    <label class="field">
      <span>{props.label}</span>
      <NumberInput value={props.value} min={props.min} max={props.max} step={props.step ?? 1} disabled={props.disabled ?? false} onValue={props.onChange} />
      {props.hint && <small class="muted">{props.hint}</small>}
    </label>
  );
}

/** Rules as the user types them, one per line: the site, then the selector to click there. */
function SubmitRules(props: { rules: SubmitRule[]; disabled: boolean; onChange: (rules: SubmitRule[]) => void }) {
  const shown = (rules: SubmitRule[]): string => rules.map((r) => `${r.site} ${r.selector}`).join('\n');
  const [text, setText] = useState(shown(props.rules));
  const [dropped, setDropped] = useState(0);
  useEffect(() => setText(shown(props.rules)), [shown(props.rules)]);
  const commit = (): void => {
    const lines = text.split('\n').filter((line) => line.trim());
    const typed = lines.map((line) => {
      const [site = '', ...selector] = line.trim().split(/\s+/);
      return { site, selector: selector.join(' ') };
    });
    // The validators every settings source uses; and the selector must parse as CSS here too.
    const rules = (readSettingsPatch({ submitRules: typed }).patch.submitRules ?? []).filter((rule) => {
      try {
        document.createDocumentFragment().querySelector(rule.selector);
        return true;
      } catch {
        return false;
      }
    });
    setDropped(lines.length - rules.length);
    props.onChange(rules);
    setText(shown(rules));
  };
  return (
    <div class="field">
      <label for="submit-rules">{t('submitRules')}</label>
      <textarea id="submit-rules" rows={2} placeholder="shop.example #checkout button" value={text} disabled={props.disabled} onInput={(e) => setText(e.currentTarget.value)} onBlur={commit} />
      <small class="muted">{t('submitRulesHint')}</small>
      {dropped > 0 && (
        <small class="error" role="status">
          {t('submitRulesDropped', dropped)}
        </small>
      )}
    </div>
  );
}

/** A delay range in seconds, stored in milliseconds; the other end moves along so min ≤ max. */
function DelayInputs(props: { label: string; range: DelayRange; disabled: boolean; onChange: (range: DelayRange) => void }) {
  const input = (end: 'minMs' | 'maxMs', name: string) => (
    <NumberInput
      class="delay"
      min={0}
      max={MAX_DELAY_MS / 1000}
      step={0.1}
      label={t(name, props.label)}
      value={props.range[end] / 1000}
      disabled={props.disabled}
      onValue={(seconds) => {
        const ms = Math.round(seconds * 1000);
        props.onChange(end === 'minMs' ? { minMs: ms, maxMs: Math.max(ms, props.range.maxMs) } : { minMs: Math.min(ms, props.range.minMs), maxMs: ms });
      }}
    />
  );
  return (
    <span class="row delay-range">
      {input('minMs', 'delayMinFor')}–{input('maxMs', 'delayMaxFor')} {t('seconds')}
    </span>
  );
}

export function SolvingSettings({ state }: { state: SettingsState }) {
  const { settings } = state;
  const setFamily = (id: FamilyId, patch: Partial<{ enabled: boolean; mode: SolveMode }>): void =>
    state.update((current) => ({ families: { ...current.families, [id]: { ...current.families[id], ...patch } } }));
  const callbackInvalid = settings.callbackUrl !== '' && normalizeServiceUrl(settings.callbackUrl) === null;
  const setImage = (patch: Partial<ImageSettings>): void => state.update((current) => ({ image: { ...current.image, ...patch } }));
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
                      <input type="checkbox" checked={family.enabled} disabled={state.isManaged(`families.${id}.enabled`)} onChange={(e) => setFamily(id, { enabled: e.currentTarget.checked })} />
                      {label}
                    </label>
                    <ManagedMark state={state} path={`families.${id}`} />
                  </td>
                  <td>
                    <select
                      aria-label={t('modeFor', label)}
                      value={family.mode}
                      disabled={!family.enabled || state.isManaged(`families.${id}.mode`)}
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
        <legend>{t('delays')}</legend>
        <p class="muted small">{t('delaysHint')}</p>
        <table class="families">
          <tbody>
            {FAMILY_IDS.map((id) => {
              const label = t(FAMILY_LABEL_KEYS[id]);
              const family = settings.families[id];
              return (
                <tr key={id}>
                  <td>
                    {label} <ManagedMark state={state} path={`delays.${id}`} />
                  </td>
                  <td>
                    <DelayInputs
                      label={label}
                      range={settings.delays[id]}
                      disabled={!family.enabled || family.mode !== 'auto' || state.isManaged(`delays.${id}`)}
                      onChange={(range) => state.update((current) => ({ delays: { ...current.delays, [id]: range } }))}
                    />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </fieldset>

      <fieldset class="group">
        <legend>{t('sites')}</legend>
        <ManagedMark state={state} path="siteMode" />
        <label class="check">
          <input type="radio" name="site-mode" checked={settings.siteMode === 'all'} disabled={state.isManaged('siteMode')} onChange={() => state.update({ siteMode: 'all' })} />
          {t('siteModeAll')}
        </label>
        <label class="check">
          <input type="radio" name="site-mode" checked={settings.siteMode === 'allowlist'} disabled={state.isManaged('siteMode')} onChange={() => state.update({ siteMode: 'allowlist' })} />
          {t('siteModeAllowlist')}
        </label>
        {settings.siteMode === 'all' ? (
          <SiteList id="blocked-sites" label={t('blockedSites')} sites={settings.blockedSites} disabled={state.isManaged('blockedSites')} onChange={(blockedSites) => state.update({ blockedSites })} />
        ) : (
          <SiteList id="allowed-sites" label={t('allowedSites')} sites={settings.allowedSites} disabled={state.isManaged('allowedSites')} onChange={(allowedSites) => state.update({ allowedSites })} />
        )}
      </fieldset>

      <fieldset class="group">
        <legend>{t('spendingGuard')}</legend>
        <p class="muted small">{t('spendingGuardHint')}</p>
        <div class="row">
          <NumberField
            label={t('maxPerHour')}
            value={settings.maxTasksPerHour}
            min={0}
            max={10_000}
            disabled={state.isManaged('maxTasksPerHour')}
            onChange={(maxTasksPerHour) => state.update({ maxTasksPerHour })}
          />
          <NumberField
            label={t('maxPerDay')}
            value={settings.maxTasksPerDay}
            min={0}
            max={100_000}
            disabled={state.isManaged('maxTasksPerDay')}
            onChange={(maxTasksPerDay) => state.update({ maxTasksPerDay })}
          />
        </div>
        <ManagedMark state={state} path="maxTasksPerHour" />
        <ManagedMark state={state} path="maxTasksPerDay" />
      </fieldset>

      <fieldset class="group">
        <legend>{t('inPage')}</legend>
        <label class="check">
          <input type="checkbox" checked={settings.inPageButton} disabled={state.isManaged('inPageButton')} onChange={(e) => state.update({ inPageButton: e.currentTarget.checked })} />
          {t('inPageButton')}
        </label>
        <ManagedMark state={state} path="inPageButton" />
      </fieldset>

      <fieldset class="group">
        <legend>{t('afterDelivery')}</legend>
        <label class="check">
          <input type="checkbox" checked={settings.autoSubmit} disabled={state.isManaged('autoSubmit')} onChange={(e) => state.update({ autoSubmit: e.currentTarget.checked })} />
          {t('autoSubmit')}
        </label>
        <ManagedMark state={state} path="autoSubmit" />
        <small class="muted">{t('autoSubmitHint')}</small>
        {settings.autoSubmit && <SubmitRules rules={settings.submitRules} disabled={state.isManaged('submitRules')} onChange={(submitRules) => state.update({ submitRules })} />}
        <label class="check">
          <input type="checkbox" checked={settings.pageSignal} disabled={state.isManaged('pageSignal')} onChange={(e) => state.update({ pageSignal: e.currentTarget.checked })} />
          {t('pageSignal')}
        </label>
        <ManagedMark state={state} path="pageSignal" />
        <small class="muted">{t('pageSignalHint')}</small>
      </fieldset>

      <fieldset class="group">
        <legend>{t('imageSettings')}</legend>
        <label class="check">
          <input type="checkbox" checked={settings.image.numeric} disabled={state.isManaged('image.numeric')} onChange={(e) => setImage({ numeric: e.currentTarget.checked })} />
          {t('imageNumeric')}
        </label>
        <label class="check">
          <input type="checkbox" checked={settings.image.caseSensitive} disabled={state.isManaged('image.caseSensitive')} onChange={(e) => setImage({ caseSensitive: e.currentTarget.checked })} />
          {t('imageCase')}
        </label>
        <label class="check">
          <input type="checkbox" checked={settings.image.math} disabled={state.isManaged('image.math')} onChange={(e) => setImage({ math: e.currentTarget.checked })} />
          {t('imageMath')}
        </label>
        <div class="row">
          <NumberField
            label={t('imageThreshold')}
            hint={t('imageThresholdHint')}
            value={settings.image.threshold}
            min={0}
            max={100}
            disabled={state.isManaged('image.threshold')}
            onChange={(threshold) => setImage({ threshold })}
          />
          <NumberField
            label={t('imageMaxRounds')}
            hint={t('imageMaxRoundsHint')}
            value={settings.image.maxRounds}
            min={1}
            max={10}
            disabled={state.isManaged('image.maxRounds')}
            onChange={(maxRounds) => setImage({ maxRounds })}
          />
        </div>
        <ManagedMark state={state} path="image" />
      </fieldset>

      <details class="group">
        <summary>{t('advanced')}</summary>
        <NumberField
          label={t('v3MinScore')}
          value={settings.v3MinScore}
          min={0.1}
          max={0.9}
          step={0.1}
          disabled={state.isManaged('v3MinScore')}
          onChange={(v3MinScore) => state.update({ v3MinScore })}
        />
        <NumberField
          label={t('recreateAttempts')}
          hint={t('recreateAttemptsHint')}
          value={settings.recreateAttempts}
          min={0}
          max={3}
          disabled={state.isManaged('recreateAttempts')}
          onChange={(recreateAttempts) => state.update({ recreateAttempts })}
        />
        <label class="field">
          <span>{t('callbackUrl')}</span>
          <input
            type="url"
            placeholder="https://hooks.example.org/caprelay"
            value={settings.callbackUrl}
            disabled={state.isManaged('callbackUrl')}
            aria-invalid={callbackInvalid}
            onInput={(e) => state.update({ callbackUrl: e.currentTarget.value })}
          />
          <small class="muted">{t('callbackUrlHint')}</small>
        </label>
      </details>
    </>
  );
}
