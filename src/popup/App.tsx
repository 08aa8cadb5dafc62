import { useCallback, useEffect, useState } from 'preact/hooks';
import { captchaLabel, isImageFamily, tokenFamilyOf } from '../shared/captcha';
import { t } from '../extension/i18n';
import type { FrameCaptcha, ImageActionMessage, TabStateReply } from '../shared/messages';
import { serviceUrlOf } from '../shared/settings';
import { ACTIVE_STATES, type TaskError, type TaskView } from '../shared/tasks';
import { background, onStorageChange, resolveTabId } from '../ui/background';
import { hostOf } from '../shared/urls';
import { BalanceLine, ErrorText, seconds, useBalance, useNow } from '../ui/common';
import { useSettings } from '../ui/settings-store';
import { lazy } from '../ui/lazy';
import { useSetupFile } from '../ui/SetupStatus';
import { serviceName } from '../shared/services';
import { TodaySpend } from '../ui/TodaySpend';

// The page view is what the popup opens on; these two load when their tab first opens.
const HistoryView = lazy(() => import('../ui/HistoryView').then((m) => m.HistoryView));
const SettingsTab = lazy(() => import('./SettingsTab').then((m) => m.SettingsTab));

type View = 'page' | 'history' | 'settings';
const VIEWS: View[] = ['page', 'history', 'settings'];

const EMPTY_TAB: TabStateReply = { captchas: [], hiddenCount: 0, siteAllowed: true, tasks: [], guard: { paused: false }, challenges: [], notices: [] };

export function App() {
  const state = useSettings();
  const { settings, apiKey } = state;
  const [view, setView] = useState<View | null>(null);
  const [tabId, setTabId] = useState<number | null>(null);
  const [tab, setTab] = useState<TabStateReply>(EMPTY_TAB);
  const [solveError, setSolveError] = useState<TaskError | null>(null);
  /** A count Solve all wants confirmed (the shortcut's or the menu's comes with the tab state). */
  const [confirm, setConfirm] = useState<number | null>(null);

  useEffect(() => {
    void resolveTabId().then(setTabId);
  }, []);
  // With no key yet, the first thing to do is set it.
  useEffect(() => {
    if (state.loaded && view === null) setView(apiKey ? 'page' : 'settings');
  }, [state.loaded]);

  const refreshTab = useCallback(() => {
    if (tabId === null) return;
    void background.tabState(tabId).then(setTab, () => undefined);
  }, [tabId]);

  useEffect(() => {
    refreshTab();
    // Every task step, frame report and settings change is written to storage: that is the push.
    return onStorageChange(['session', 'local'], refreshTab);
  }, [refreshTab]);

  const serviceUrlValid = serviceUrlOf(settings) !== null;
  const balance = useBalance(state);
  const setupFile = useSetupFile();

  const solve = async (item: FrameCaptcha): Promise<void> => {
    if (tabId === null) return;
    setSolveError(null);
    const reply = await background.solve(tabId, item.frameId, item.captcha.id);
    if (!reply.ok) setSolveError(reply.error);
    refreshTab();
  };

  /** Solve all, or the count the user confirmed; past the bound the background asks first. */
  const solveAll = async (confirmed?: number): Promise<void> => {
    if (tabId === null) return;
    setSolveError(null);
    const reply = await background.solveAll(tabId, confirmed === undefined ? undefined : { confirmed, frameId: tab.pending?.frameId });
    setConfirm(reply.confirm ?? null);
    if (reply.errors[0]) setSolveError(reply.errors[0]);
    refreshTab();
  };

  const cancelConfirm = (): void => {
    setConfirm(null);
    if (tabId !== null && tab.pending) void background.dismissGesture(tabId).then(refreshTab);
  };

  const imageAction = async (type: ImageActionMessage['type'], frameId?: number): Promise<void> => {
    if (tabId === null) return;
    setSolveError(null);
    const reply = await background.image(type, tabId, frameId);
    if (!reply.ok) setSolveError(reply.error);
    // Picking happens in the page: the real popup steps aside so keys and clicks reach it.
    else if (type === 'image-pick' && !new URLSearchParams(location.search).has('tabId')) window.close();
    refreshTab();
  };

  if (!state.loaded || view === null) return <main class="popup" aria-busy="true" />;

  const onTabKey = (event: KeyboardEvent): void => {
    if (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft') return;
    const next = VIEWS[(VIEWS.indexOf(view) + (event.key === 'ArrowRight' ? 1 : VIEWS.length - 1)) % VIEWS.length]!;
    setView(next);
    document.getElementById(`tab-${next}`)?.focus();
  };

  return (
    <main class="popup">
      <header class="header">
        <h1>CapRelay</h1>
        <div class="header-figures">
          <BalanceLine balance={balance} />
          <TodaySpend />
        </div>
      </header>
      <nav class="tabs" role="tablist" aria-label="CapRelay" onKeyDown={onTabKey}>
        {VIEWS.map((id) => (
          <button key={id} id={`tab-${id}`} type="button" role="tab" class="tab" aria-selected={view === id} aria-controls={`panel-${id}`} tabIndex={view === id ? 0 : -1} onClick={() => setView(id)}>
            {t(`view_${id}`)}
          </button>
        ))}
      </nav>
      <section id={`panel-${view}`} role="tabpanel" aria-labelledby={`tab-${view}`} class="panel">
        {view === 'page' && setupFile && setupFile.problems.length > 0 && (
          <p class="notice error-notice" role="alert" data-testid="setup-file-short">
            {t('setupFileProblemsShort', setupFile.problems.length)}{' '}
            <button type="button" class="link" onClick={() => setView('settings')}>
              {t('view_settings')}
            </button>
          </p>
        )}
        {view === 'page' && (
          <PageView
            tab={tab}
            canSolve={Boolean(apiKey) && serviceUrlValid}
            onSolve={(item) => void solve(item)}
            onSolveAll={() => void solveAll()}
            confirm={confirm ?? tab.pending?.count ?? null}
            onConfirm={(count) => void solveAll(count)}
            onCancelConfirm={cancelConfirm}
            onImage={(type, frameId) => void imageAction(type, frameId)}
            error={solveError}
          />
        )}
        {view === 'history' && <HistoryView />}
        {view === 'settings' && <SettingsTab state={state} setupFile={setupFile} />}
      </section>
    </main>
  );
}

function PageView(props: {
  tab: TabStateReply;
  canSolve: boolean;
  onSolve: (item: FrameCaptcha) => void;
  onSolveAll: () => void;
  confirm: number | null;
  onConfirm: (count: number) => void;
  onCancelConfirm: () => void;
  onImage: (type: ImageActionMessage['type'], frameId?: number) => void;
  error: TaskError | null;
}) {
  const { tab } = props;
  const isRunning = (item: FrameCaptcha): boolean => tab.tasks.some((task) => task.frameId === item.frameId && task.captchaId === item.captcha.id && ACTIVE_STATES.has(task.state));
  const idle = tab.captchas.filter((item) => !isRunning(item));
  return (
    <>
      {!props.canSolve && <p class="notice">{t('setKeyFirst')}</p>}
      {!tab.siteAllowed && <p class="notice">{t('siteNotAllowed')}</p>}
      {tab.guard.paused && (
        <p class="notice" role="status" data-testid="guard-paused">
          {t(tab.guard.window === 'hour' ? 'guardPausedHour' : 'guardPausedDay', tab.guard.count, tab.guard.limit)}
        </p>
      )}
      <div class="section-head">
        <h2 id="captchas-title">{t('captchasOnPage')}</h2>
        {tab.captchas.length > 1 && (
          <button type="button" class="small" disabled={!props.canSolve || idle.length === 0} onClick={props.onSolveAll}>
            {t('solveAll')}
          </button>
        )}
      </div>
      {props.confirm !== null && props.canSolve && (
        <div class="notice confirm" role="alertdialog" aria-labelledby="confirm-text" data-testid="confirm-many">
          <p id="confirm-text">{t('confirmSolveMany', props.confirm)}</p>
          <div class="row">
            <button type="button" onClick={() => props.onConfirm(props.confirm!)}>
              {t('confirmSolveButton', props.confirm)}
            </button>
            <button type="button" class="secondary" onClick={props.onCancelConfirm}>
              {t('cancel')}
            </button>
          </div>
        </div>
      )}
      {tab.notices.includes('cloudflare-challenge') && (
        <p class="notice" data-testid="notice-cloudflare">
          {t('cfChallengeUnreadable')}
        </p>
      )}
      {tab.captchas.length === 0 ? (
        <p class="muted empty">{t('noCaptcha')}</p>
      ) : (
        <ul class="captchas" aria-labelledby="captchas-title">
          {tab.captchas.map((item) => {
            const label = captchaLabel(item.captcha);
            const key = tokenFamilyOf(item.captcha).key(item.captcha);
            const running = isRunning(item);
            return (
              <li key={`${item.frameId}:${item.captcha.id}`} class="captcha" data-testid="captcha">
                <div class="captcha-info">
                  <strong>{label}</strong>
                  <span class="muted mono" title={key}>
                    {key.slice(0, 14)}…
                  </span>
                  <span class="muted">
                    {hostOf(item.url, item.url)}
                    {item.frameId !== 0 && ` · ${t('inFrame')}`}
                  </span>
                  {/* The one captcha that is a whole page: say what solving it does. */}
                  {item.captcha.family === 'turnstile' && item.captcha.pageData && <span class="muted small">{t('cfChallengeHint')}</span>}
                  {item.captcha.family === 'geetest' && item.captcha.version === 3 && <span class="muted small">{t('geetestHeldHint')}</span>}
                </div>
                <button type="button" disabled={!props.canSolve || running} aria-label={`${t('solve')} ${label}`} onClick={() => props.onSolve(item)}>
                  {running ? t('solving') : t('solve')}
                </button>
              </li>
            );
          })}
        </ul>
      )}
      {tab.hiddenCount > 0 && <p class="muted small">{t('hiddenCaptchas', tab.hiddenCount)}</p>}
      <h2 id="images-title">{t('imageCaptchas')}</h2>
      <div class="row image-actions" role="group" aria-labelledby="images-title">
        <button type="button" class="small" disabled={!props.canSolve || !tab.siteAllowed} aria-describedby="pick-image-hint" onClick={() => props.onImage('image-pick')}>
          {t('pickImageAction')}
        </button>
        {/* Only while a challenge is shown; with several, one button each: the user says which. */}
        {tab.challenges.map((challenge, i) => (
          <button key={challenge.frameId} type="button" class="small" disabled={!props.canSolve} onClick={() => props.onImage('image-challenge', challenge.frameId)}>
            {tab.challenges.length > 1 ? t('solveChallengeIn', challenge.host, i + 1) : t('solveChallengeAction')}
          </button>
        ))}
      </div>
      <p id="pick-image-hint" class="muted small">
        {t('pickImageHint')}
      </p>
      {props.error && (
        <p class="error" role="alert">
          <ErrorText error={props.error} />
        </p>
      )}
      <TaskList tasks={tab.tasks} />
    </>
  );
}

function TaskList({ tasks }: { tasks: TaskView[] }) {
  const now = useNow(1_000);
  if (tasks.length === 0) return null;
  return (
    <>
      <h2 id="tasks-title">{t('tasks')}</h2>
      <ul class="tasks" aria-labelledby="tasks-title" aria-live="polite">
        {tasks.map((task) => (
          <li key={task.id} class={`task state-${task.state}`} data-testid="task" data-state={task.state}>
            <div class="task-head">
              <span>{captchaLabel(task.captcha)}</span>
              <span class="muted mono">{task.serviceTaskId !== undefined ? `#${task.serviceTaskId}` : '—'}</span>
            </div>
            <p class="task-status" data-testid="task-status">
              <TaskStatus task={task} now={now} />
            </p>
            {task.serviceUrl && (
              <p class="muted small task-service" data-testid="task-service">
                {task.account === 'fallback' ? t('solvedByFallback', serviceName(task.serviceUrl)) : t('solvedBy', serviceName(task.serviceUrl))}
              </p>
            )}
          </li>
        ))}
      </ul>
    </>
  );
}

function TaskStatus({ task, now }: { task: TaskView; now: number }) {
  switch (task.state) {
    case 'queued':
      // Moved to the fallback: the warning is the first service's refusal.
      if (task.account === 'fallback' && task.warning) return <Warning task={task} text={t('statusFallback')} />;
      return task.warning ? <Warning task={task} text={t('statusRetrying')} /> : <>{t('statusQueued')}</>;
    case 'creating':
      return <>{t('statusCreating')}</>;
    case 'solving': {
      const text = t('statusSolving', Math.max(0, Math.round((now - (task.submittedAt ?? task.createdAt)) / 1000)));
      return task.warning ? <Warning task={task} text={text} /> : <>{text}</>;
    }
    case 'ready':
      return <>{t(isImageFamily(task.captcha) ? 'statusAnswerReceived' : 'statusDelivering')}</>;
    case 'delivered': {
      if (isImageFamily(task.captcha)) {
        return (
          <>
            <strong>{t('statusSolved')}</strong> {t('statusAnswerPlaced', task.tokenAt !== undefined ? seconds(task.tokenAt - task.createdAt) : '')}
          </>
        );
      }
      const took = task.tokenAt !== undefined ? seconds(task.tokenAt - task.createdAt) : '';
      // The clock ticks once a second, so it can lag the task's own timestamps.
      const age = task.tokenAt !== undefined ? Math.max(0, now - task.tokenAt) : 0;
      return (
        <>
          <strong>{t('statusSolved')}</strong> {t('statusSolvedDetail', took, Math.round(age / 1000))}
          {!isImageFamily(task.captcha) && age > tokenFamilyOf(task.captcha).tokenLifetimeMs && <> · {t('tokenExpired')}</>}
        </>
      );
    }
    case 'failed':
    case 'expired':
    case 'cancelled':
      return task.error ? <ErrorText error={task.error} /> : <>{t(`outcome_${task.state}`)}</>;
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
