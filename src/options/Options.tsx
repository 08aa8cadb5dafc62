import { useEffect, useState } from 'preact/hooks';
import browser from 'webextension-polyfill';
import { t } from '../shared/i18n';
import { exportSettings, importSettings } from '../shared/settings';
import { AccountSettings } from '../ui/AccountSettings';
import { BalanceLine, useBalance } from '../ui/common';
import { HistoryView } from '../ui/HistoryView';
import { useSettings } from '../ui/settings-store';
import { SolvingSettings } from '../ui/SolvingSettings';

export function Options() {
  const state = useSettings();
  const { settings } = state;
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const balance = useBalance(state);
  useEffect(() => {
    document.title = t('optionsTitle');
    document.documentElement.lang = browser.i18n.getUILanguage();
  }, []);
  if (!state.loaded) return <main class="options" aria-busy="true" />;

  const download = (): void => {
    const blob = new Blob([exportSettings(settings)], { type: 'application/json' });
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = 'caprelay-settings.json';
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 1_000);
  };

  const upload = async (file: File | undefined): Promise<void> => {
    if (!file) return;
    try {
      state.replace(importSettings(await file.text()));
      setMessage({ ok: true, text: t('importDone') });
    } catch (error) {
      setMessage({ ok: false, text: t('importFailed', error instanceof Error ? error.message : String(error)) });
    }
  };

  return (
    <main class="options">
      <header class="header">
        <h1>{t('optionsTitle')}</h1>
        <BalanceLine balance={balance} />
      </header>
      <div class="settings">
        <AccountSettings state={state} />
        <SolvingSettings state={state} />
        <fieldset class="group">
          <legend>{t('backup')}</legend>
          <p class="muted small">{t('backupHint')}</p>
          <div class="row">
            <button type="button" class="secondary" onClick={download}>
              {t('exportSettings')}
            </button>
            <label class="button secondary">
              {t('importSettings')}
              <input type="file" accept="application/json,.json" class="visually-hidden" onChange={(e) => void upload(e.currentTarget.files?.[0])} />
            </label>
          </div>
          {message && (
            <p class={message.ok ? 'ok' : 'error'} role="status">
              {message.text}
            </p>
          )}
        </fieldset>
        <section aria-labelledby="history-title">
          <h2 id="history-title">{t('history')}</h2>
          <HistoryView />
        </section>
      </div>
    </main>
  );
}
