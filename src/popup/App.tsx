import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { captchaLabel } from '../shared/captcha';
import { t } from '../shared/i18n';
import type { BalanceReply, FrameCaptcha, TabStateReply } from '../shared/messages';
import { SERVICE_PRESETS, normalizeServiceUrl, type ServiceId } from '../shared/services';
import { DEFAULT_SETTINGS, type Settings } from '../shared/settings';
import { ACTIVE_STATES, type TaskError, type TaskView } from '../shared/tasks';
import { background, loadSettings, onSessionChange, resolveTabId, saveApiKey, saveSettings } from './bridge';

type BalanceState = { status: 'idle' } | { status: 'loading' } | BalanceReply;

function useNow(intervalMs: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

export function App() {
  const [loaded, setLoaded] = useState(false);
  const [settings, setSettings] = useState<Settings>(DEFAULT_SETTINGS);
  const [apiKey, setApiKey] = useState('');
  const [tabId, setTabId] = useState<number | null>(null);
  const [tab, setTab] = useState<TabStateReply>({ captchas: [], tasks: [] });
  const [balance, setBalance] = useState<BalanceState>({ status: 'idle' });
  const [solveError, setSolveError] = useState<TaskError | null>(null);

  useEffect(() => {
    void Promise.all([loadSettings(), resolveTabId()]).then(([stored, id]) => {
      setSettings(stored.settings);
      setApiKey(stored.apiKey);
      setTabId(id);
      setLoaded(true);
    });
  }, []);

  const refreshTab = useCallback(() => {
    if (tabId === null) return;
    void background.tabState(tabId).then(setTab, () => undefined);
  }, [tabId]);

  useEffect(() => {
    refreshTab();
    const stop = onSessionChange(refreshTab);
    // Also poll: a worker that restarted may not have written yet when the popup opened.
    const timer = setInterval(refreshTab, 1_000);
    return () => {
      stop();
      clearInterval(timer);
    };
  }, [refreshTab]);

  // Balance follows the key and service; the request waits for typing to settle.
  const serviceUrlValid = settings.service !== 'custom' || normalizeServiceUrl(settings.customUrl) !== null;
  useEffect(() => {
    if (!loaded) return;
    if (!apiKey || !serviceUrlValid) {
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
  }, [loaded, apiKey, settings.service, settings.customUrl, serviceUrlValid]);

  const updateSettings = (patch: Partial<Settings>): void => {
    const next = { ...settings, ...patch };
    setSettings(next);
    void saveSettings(next);
  };

  const updateKey = (value: string): void => {
    const key = value.trim();
    setApiKey(key);
    void saveApiKey(key);
  };

  const solve = async (item: FrameCaptcha): Promise<void> => {
    if (tabId === null) return;
    setSolveError(null);
    const reply = await background.solve(tabId, item.frameId, item.captcha.id);
    if (!reply.ok) setSolveError(reply.error);
    refreshTab();
  };

  if (!loaded) return <main class="popup" aria-busy="true" />;

  return (
    <main class="popup">
      <header class="header">
        <h1>CapRelay</h1>
        <BalanceLine balance={balance} />
      </header>
      <SettingsSection settings={settings} apiKey={apiKey} onSettings={updateSettings} onKey={updateKey} />
      <CaptchaSection
        captchas={tab.captchas}
        tasks={tab.tasks}
        canSolve={Boolean(apiKey) && serviceUrlValid}
        onSolve={(item) => void solve(item)}
        error={solveError}
      />
      <TaskSection tasks={tab.tasks} />
    </main>
  );
}

function BalanceLine({ balance }: { balance: BalanceState }) {
  if ('ok' in balance) {
    if (balance.ok) {
      return (
        <p class="balance" data-testid="balance">
          {t('balance')}: <strong>${balance.balance.toFixed(4).replace(/0{1,2}$/, '')}</strong>
        </p>
      );
    }
    return (
      <p class="balance error" role="alert" data-testid="balance">
        <ErrorText error={balance.error} />
      </p>
    );
  }
  if (balance.status === 'loading') return <p class="balance muted" data-testid="balance">{t('balanceLoading')}</p>;
  return <p class="balance muted" data-testid="balance">{t('balanceNeedsKey')}</p>;
}

function ErrorText({ error }: { error: TaskError }) {
  return (
    <>
      <code class="code">{error.code}</code> {error.message}
    </>
  );
}

function SettingsSection(props: {
  settings: Settings;
  apiKey: string;
  onSettings: (patch: Partial<Settings>) => void;
  onKey: (key: string) => void;
}) {
  const { settings } = props;
  const [showKey, setShowKey] = useState(false);
  const customInvalid = settings.service === 'custom' && settings.customUrl !== '' && normalizeServiceUrl(settings.customUrl) === null;
  return (
    <section class="settings" aria-label={t('settings')}>
      <label class="field">
        <span>{t('service')}</span>
        <select
          value={settings.service}
          onChange={(e) => props.onSettings({ service: (e.currentTarget as HTMLSelectElement).value as ServiceId })}
        >
          {SERVICE_PRESETS.map((p) => (
            <option key={p.id} value={p.id}>
              {p.label}
            </option>
          ))}
          <option value="custom">{t('serviceCustom')}</option>
        </select>
      </label>
      {settings.service === 'custom' && (
        <label class="field">
          <span>{t('apiUrl')}</span>
          <input
            type="url"
            placeholder="https://api.example.com"
            value={settings.customUrl}
            aria-invalid={customInvalid}
            onInput={(e) => props.onSettings({ customUrl: (e.currentTarget as HTMLInputElement).value })}
          />
          {customInvalid && <small class="error">{t('apiUrlInvalid')}</small>}
        </label>
      )}
      <div class="field">
        <label for="api-key">{t('apiKey')}</label>
        <div class="key-row">
          <input
            id="api-key"
            type={(showKey ? 'text' : 'password') as 'password'}
            autocomplete="off"
            spellcheck={false}
            value={props.apiKey}
            onInput={(e) => props.onKey((e.currentTarget as HTMLInputElement).value)}
          />
          <button type="button" class="secondary" aria-pressed={showKey} onClick={() => setShowKey(!showKey)}>
            {showKey ? t('hideKey') : t('showKey')}
          </button>
        </div>
      </div>
    </section>
  );
}

function CaptchaSection(props: {
  captchas: FrameCaptcha[];
  tasks: TaskView[];
  canSolve: boolean;
  onSolve: (item: FrameCaptcha) => void;
  error: TaskError | null;
}) {
  return (
    <section aria-labelledby="captchas-title">
      <h2 id="captchas-title">{t('captchasOnPage')}</h2>
      {props.captchas.length === 0 ? (
        <p class="muted">{t('noCaptcha')}</p>
      ) : (
        <ul class="captchas">
          {props.captchas.map((item) => {
            const label = captchaLabel(item.captcha);
            const key = item.captcha.family === 'funcaptcha' ? item.captcha.publicKey : item.captcha.siteKey;
            const running = props.tasks.some(
              (task) => task.frameId === item.frameId && task.captchaId === item.captcha.id && ACTIVE_STATES.has(task.state),
            );
            return (
              <li key={`${item.frameId}:${item.captcha.id}`} class="captcha">
                <div class="captcha-info">
                  <strong>{label}</strong>
                  <span class="muted mono" title={key}>
                    {key.slice(0, 12)}…
                  </span>
                  <span class="muted">{hostOf(item.url)}</span>
                </div>
                <button
                  type="button"
                  disabled={!props.canSolve || running}
                  aria-label={`${t('solve')} ${label}`}
                  title={props.canSolve ? undefined : t('setKeyFirst')}
                  onClick={() => props.onSolve(item)}
                >
                  {running ? t('solving') : t('solve')}
                </button>
              </li>
            );
          })}
        </ul>
      )}
      {props.error && (
        <p class="error" role="alert">
          <ErrorText error={props.error} />
        </p>
      )}
    </section>
  );
}

function TaskSection({ tasks }: { tasks: TaskView[] }) {
  const now = useNow(1_000);
  const live = useRef<HTMLUListElement>(null);
  if (tasks.length === 0) return null;
  return (
    <section aria-labelledby="tasks-title">
      <h2 id="tasks-title">{t('tasks')}</h2>
      <ul class="tasks" ref={live} aria-live="polite">
        {tasks.map((task) => (
          <li key={task.id} class={`task state-${task.state}`} data-testid="task" data-state={task.state}>
            <div class="task-head">
              <span>{captchaLabel(task.captcha)}</span>
              <span class="muted mono">{task.serviceTaskId !== undefined ? `#${task.serviceTaskId}` : '—'}</span>
            </div>
            <p class="task-status" data-testid="task-status">
              <TaskStatus task={task} now={now} />
            </p>
          </li>
        ))}
      </ul>
    </section>
  );
}

function seconds(ms: number): string {
  return `${Math.max(0, Math.round(ms / 100) / 10).toFixed(1)} s`;
}

function TaskStatus({ task, now }: { task: TaskView; now: number }) {
  switch (task.state) {
    case 'queued':
      return task.warning ? <Warning task={task} text={t('statusRetrying')} /> : <>{t('statusQueued')}</>;
    case 'creating':
      return <>{t('statusCreating')}</>;
    case 'solving': {
      const since = task.submittedAt ?? task.createdAt;
      const text = t('statusSolving', Math.round((now - since) / 1000));
      return task.warning ? <Warning task={task} text={text} /> : <>{text}</>;
    }
    case 'ready':
      return <>{t('statusDelivering')}</>;
    case 'delivered': {
      const took = task.tokenAt !== undefined ? seconds(task.tokenAt - task.createdAt) : '';
      const age = task.tokenAt !== undefined ? Math.round((now - task.tokenAt) / 1000) : 0;
      return (
        <>
          <strong>{t('statusSolved')}</strong> {t('statusSolvedDetail', took, age)}
          {task.cost !== undefined && <> · ${task.cost}</>}
        </>
      );
    }
    case 'failed':
    case 'expired':
    case 'cancelled':
      return task.error ? <ErrorText error={task.error} /> : <>{t(`status_${task.state}`)}</>;
  }
}

function Warning({ task, text }: { task: TaskView; text: string }) {
  return (
    <>
      {text}{' '}
      {task.warning && (
        <span class="muted">
          (<code class="code">{task.warning.code}</code> {task.warning.message})
        </span>
      )}
    </>
  );
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
