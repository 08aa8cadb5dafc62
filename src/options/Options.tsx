import { useEffect, useState } from 'preact/hooks';
import browser from 'webextension-polyfill';
import { t } from '../extension/i18n';
import { exportSettings, importSettings, reviewImport, type ImportReview as Review, type Settings } from '../shared/settings';
import { AccountSettings } from '../ui/AccountSettings';
import { BalanceLine, downloadFile, useBalance } from '../ui/common';
import { HistoryView } from '../ui/HistoryView';
import { useSettings } from '../ui/settings-store';
import { SetupStatus, useSetupFile } from '../ui/SetupStatus';
import { SolvingSettings } from '../ui/SolvingSettings';
import { FallbackSettings, ProxySettings } from '../ui/PowerSettings';
import { StatsView } from '../ui/StatsView';
import { TodaySpend } from '../ui/TodaySpend';
import { ImportReview } from './ImportReview';

export function Options() {
  const state = useSettings();
  const { settings } = state;
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  /** An imported file waiting for the user's answer; not stored, so nothing uses it yet. */
  const [pending, setPending] = useState<{ settings: Settings; review: Review } | null>(null);
  const balance = useBalance(state);
  const setupFile = useSetupFile();
  useEffect(() => {
    document.title = t('optionsTitle');
    document.documentElement.lang = browser.i18n.getUILanguage();
  }, []);
  if (!state.loaded) return <main class="options" aria-busy="true" />;

  const download = (): void => downloadFile('caprelay-settings.json', exportSettings(settings), 'application/json');

  const upload = async (input: HTMLInputElement): Promise<void> => {
    const file = input.files?.[0];
    // Cleared so that choosing the same file again is a new import.
    input.value = '';
    if (!file) return;
    let incoming: Settings;
    try {
      incoming = importSettings(await file.text());
    } catch (error) {
      setMessage({ ok: false, text: t('importFailed', error instanceof Error ? error.message : String(error)) });
      return;
    }
    const review = reviewImport(settings, incoming);
    if (review.changes.length === 0) {
      state.replace(incoming);
      setMessage({ ok: true, text: t('importDone') });
      return;
    }
    // The whole file waits for the answer: an import is one step to the user, and a file they
    // turn down should leave nothing of itself behind. Every request (the balance check
    // included) reads the stored settings, so nothing reaches a new host before they agree.
    setMessage(null);
    setPending({ settings: incoming, review });
  };

  const apply = (): void => {
    if (!pending) return;
    state.replace(pending.settings);
    setPending(null);
    setMessage({ ok: true, text: t('importDone') });
  };

  const cancel = (): void => {
    setPending(null);
    setMessage({ ok: true, text: t('importCancelled') });
  };

  return (
    <main class="options">
      <header class="header">
        <h1>{t('optionsTitle')}</h1>
        <div class="header-figures">
          <BalanceLine balance={balance} />
          <TodaySpend />
        </div>
      </header>
      <div class="settings">
        <SetupStatus state={state} file={setupFile} />
        <AccountSettings state={state} />
        <SolvingSettings state={state} />
        <ProxySettings state={state} />
        <FallbackSettings state={state} />
        <fieldset class="group">
          <legend>{t('backup')}</legend>
          <p class="muted small">{t('backupHint')}</p>
          <div class="row">
            <button type="button" class="secondary" onClick={download}>
              {t('exportSettings')}
            </button>
            <label class="button secondary">
              {t('importSettings')}
              <input type="file" accept="application/json,.json" class="visually-hidden" onChange={(e) => void upload(e.currentTarget)} />
            </label>
          </div>
          {message && (
            <p class={message.ok ? 'ok' : 'error'} role="status">
              {message.text}
            </p>
          )}
        </fieldset>
        {pending && <ImportReview review={pending.review} onApply={apply} onCancel={cancel} />}
        <section aria-labelledby="stats-title">
          <h2 id="stats-title">{t('statistics')}</h2>
          <StatsView />
        </section>
        <section aria-labelledby="history-title">
          <h2 id="history-title">{t('history')}</h2>
          <HistoryView />
        </section>
      </div>
    </main>
  );
}
