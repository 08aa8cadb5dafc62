import { useEffect, useRef } from 'preact/hooks';
import { t } from '../extension/i18n';
import { SERVICE_PRESETS, type ServiceId } from '../shared/services';
import type { FamilySettings, ImportChange, ImportReview as Review } from '../shared/settings';
import { hostOf } from '../shared/urls';
import { FAMILY_LABEL_KEYS } from '../ui/SolvingSettings';

function serviceName(id: ServiceId | 'off'): string {
  if (id === 'off') return t('fallbackOff');
  return SERVICE_PRESETS.find((p) => p.id === id)?.label ?? t('serviceCustom');
}

function familyMode(family: FamilySettings): string {
  if (!family.enabled) return t('familyOff');
  return t(family.mode === 'auto' ? 'modeAuto' : 'modeClick');
}

const limit = (value: number): string => (value === 0 ? t('noLimit') : String(value));
const url = (value: string): string => value || t('notSet');

/** One row of the table: the setting's name, its value now, its value in the file. */
function describeChange(change: ImportChange): [string, string, string] {
  switch (change.field) {
    case 'service':
      return [t('service'), serviceName(change.from), serviceName(change.to)];
    case 'customUrl':
      return [t('apiUrl'), url(change.from), url(change.to)];
    case 'callbackUrl':
      return [t('callbackUrl'), url(change.from), url(change.to)];
    case 'maxTasksPerHour':
      return [t('maxPerHour'), limit(change.from), limit(change.to)];
    case 'maxTasksPerDay':
      return [t('maxPerDay'), limit(change.from), limit(change.to)];
    case 'family':
      return [t('modeFor', t(FAMILY_LABEL_KEYS[change.family])), familyMode(change.from), familyMode(change.to)];
    case 'autoSubmit':
    case 'pageSignal':
      return [t(change.field), t(change.from ? 'switchOn' : 'switchOff'), t(change.to ? 'switchOn' : 'switchOff')];
    case 'fallbackService':
      return [t('fallbackService'), serviceName(change.from), serviceName(change.to)];
    case 'fallbackUrl':
      return [t('fallbackUrl'), url(change.from), url(change.to)];
    case 'proxyAddress':
      return [t('proxyAddress'), url(change.from), url(change.to)];
  }
}

/**
 * Asks before an imported file moves the key or results to another host or lets auto-solve
 * spend more. A modal <dialog>: focus starts on Cancel (the safe answer), stays inside, and Esc
 * cancels; it goes back to where it was when the dialog closes.
 */
export function ImportReview(props: { review: Review; onApply: () => void; onCancel: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    const element = dialog.current;
    const before = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (element && !element.open) element.showModal();
    cancel.current?.focus();
    return () => {
      if (element?.open) element.close();
      before?.focus();
    };
  }, []);
  const { review } = props;
  return (
    <dialog
      ref={dialog}
      class="dialog"
      aria-labelledby="import-review-title"
      aria-describedby="import-review-intro"
      data-testid="import-review"
      onCancel={(event) => {
        // Esc: the component closes it, so the page's state and the dialog agree.
        event.preventDefault();
        props.onCancel();
      }}
    >
      <h2 id="import-review-title" class="dialog-title">
        {t('importReviewTitle')}
      </h2>
      <p id="import-review-intro">{t('importReviewIntro')}</p>
      <p data-testid="import-key-host">
        {review.keyUrl ? (
          <>
            {t('importKeyGoesTo')} <strong class="mono">{hostOf(review.keyUrl, review.keyUrl)}</strong>
          </>
        ) : (
          t('importKeyGoesNowhere')
        )}
      </p>
      {review.fallbackKeyUrl && (
        <p data-testid="import-fallback-key-host">
          {t('importFallbackKeyGoesTo')} <strong class="mono">{hostOf(review.fallbackKeyUrl)}</strong>
        </p>
      )}
      {review.resultsUrl && (
        <p data-testid="import-results-host">
          {t('importResultsGoTo')} <strong class="mono">{hostOf(review.resultsUrl, review.resultsUrl)}</strong>
        </p>
      )}
      <table class="changes">
        <thead>
          <tr>
            <th scope="col">{t('importColumnSetting')}</th>
            <th scope="col">{t('importColumnNow')}</th>
            <th scope="col">{t('importColumnFile')}</th>
          </tr>
        </thead>
        <tbody>
          {review.changes.map((change) => {
            const [name, from, to] = describeChange(change);
            return (
              <tr key={change.field === 'family' ? change.family : change.field} data-testid="import-change">
                <th scope="row">{name}</th>
                <td class="from">{from}</td>
                <td class="to">{to}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <div class="row dialog-actions">
        <button type="button" class="secondary" ref={cancel} onClick={props.onCancel}>
          {t('importCancel')}
        </button>
        <button type="button" onClick={props.onApply}>
          {t('importApply')}
        </button>
      </div>
    </dialog>
  );
}
