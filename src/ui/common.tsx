import { useEffect, useState } from 'preact/hooks';
import browser from 'webextension-polyfill';
import { t } from '../extension/i18n';
import type { BalanceReply } from '../shared/messages';
import type { TaskError } from '../shared/tasks';
import { serviceUrlOf } from '../shared/settings';
import { background } from './background';
import type { SettingsState } from './settings-store';

/**
 * The service's code, then the sentence. English sentences come composed from the background
 * (with the service's own description); other languages translate by code.
 */
export function ErrorText({ error }: { error: TaskError }) {
  const translated = /^[A-Z0-9_]{1,80}$/.test(error.code) ? browser.i18n.getMessage(`err_${error.code}`) : '';
  return (
    <>
      <code class="code">{error.code}</code> {translated || error.message}
    </>
  );
}

export function useNow(intervalMs: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

export type BalanceState = { status: 'idle' } | { status: 'loading' } | BalanceReply;

/** Asks for the balance whenever the key or service changes, once typing settles. */
export function useBalance(state: SettingsState): BalanceState {
  const { apiKey } = state;
  const serviceUrl = serviceUrlOf(state.settings);
  const ready = state.loaded && Boolean(apiKey) && serviceUrl !== null;
  const [balance, setBalance] = useState<BalanceState>({ status: 'idle' });
  useEffect(() => {
    if (!ready) {
      setBalance({ status: 'idle' });
      return;
    }
    setBalance({ status: 'loading' });
    let cancelled = false;
    const timer = setTimeout(() => {
      void background.balance().then(
        (reply) => !cancelled && setBalance(reply),
        () => !cancelled && setBalance({ ok: false, error: { code: 'NETWORK_ERROR', message: t('balanceUnavailable') } }),
      );
    }, 400);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [ready, apiKey, serviceUrl]);
  return balance;
}

/** Balances are in US dollars at every service CapRelay speaks to. */
export function formatUsd(amount: number): string {
  // Services bill fractions of a cent per task, so show up to four decimals.
  return new Intl.NumberFormat(undefined, { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 4 }).format(amount);
}

/** A cost, with "≈" when it is the balance change rather than the service's word. */
export function Cost({ cost, estimated }: { cost: number; estimated: boolean | undefined }) {
  return estimated ? <span title={t('costEstimated')}>≈{formatUsd(cost)}</span> : <>{formatUsd(cost)}</>;
}

export function BalanceLine({ balance }: { balance: BalanceState }) {
  if ('ok' in balance) {
    if (balance.ok) {
      return (
        <p class="balance" data-testid="balance">
          {t('balance')}: <strong>{formatUsd(balance.balance)}</strong>
        </p>
      );
    }
    return (
      <p class="balance error" role="alert" data-testid="balance">
        <ErrorText error={balance.error} />
      </p>
    );
  }
  if (balance.status === 'loading')
    return (
      <p class="balance muted" data-testid="balance">
        {t('balanceLoading')}
      </p>
    );
  return (
    <p class="balance muted" data-testid="balance">
      {t('balanceNeedsKey')}
    </p>
  );
}

/** Saves `text` as a file the user downloads (settings, the history as CSV). */
export function downloadFile(name: string, text: string, type: string): void {
  const link = document.createElement('a');
  link.href = URL.createObjectURL(new Blob([text], { type }));
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 1_000);
}

export function seconds(ms: number): string {
  return `${(Math.max(0, Math.round(ms / 100)) / 10).toFixed(1)} s`;
}
