import { useEffect, useState } from 'preact/hooks';
import browser from 'webextension-polyfill';
import { t } from '../extension/i18n';
import { STORAGE_KEYS, type SettingsProblem } from '../shared/settings';
import { isSetupFileStatus, type SetupFileStatus } from '../shared/setup-status';
import { onStorageChange } from './background';
import type { SettingsState } from './settings-store';

/** The setup file's report, as the background keeps it (null: no caprelay.json). */
export function useSetupFile(): SetupFileStatus | null {
  const [status, setStatus] = useState<SetupFileStatus | null>(null);
  useEffect(() => {
    const load = (): void =>
      void browser.storage.local.get(STORAGE_KEYS.setupFile).then((stored) => {
        const value: unknown = stored[STORAGE_KEYS.setupFile];
        setStatus(isSetupFileStatus(value) ? value : null);
      });
    load();
    return onStorageChange(['local'], load);
  }, []);
  return status;
}

/** One problem: the setting by its path, and why its value was not taken (never the value). */
function problemText(problem: SettingsProblem): string {
  return t(`problem_${problem.reason}`, ...(problem.args ?? []));
}

function Problems({ problems }: { problems: SettingsProblem[] }) {
  return (
    <ul class="problems">
      {problems.map((problem, i) => (
        <li key={i} data-testid="setup-problem">
          <code class="code">{problem.field || 'caprelay.json'}</code> {problemText(problem)}
        </li>
      ))}
    </ul>
  );
}

/** What set CapRelay up besides the user: caprelay.json (and what was wrong in it), a policy. */
export function SetupStatus({ state, file }: { state: SettingsState; file: SetupFileStatus | null }) {
  const managed = state.isManaged('');
  if (!file && !managed && state.policyProblems.length === 0) return null;
  return (
    <>
      {file && (
        <div class={file.problems.length ? 'notice error-notice' : 'notice'} role={file.problems.length ? 'alert' : 'status'} data-testid="setup-file">
          <p>{file.problems.length ? t('setupFileProblems', file.applied.length, file.problems.length) : t('setupFileApplied', file.applied.length)}</p>
          {file.problems.length > 0 && <Problems problems={file.problems} />}
          <p class="muted small">{t('setupFileHint')}</p>
        </div>
      )}
      {(managed || state.policyProblems.length > 0) && (
        <div class="notice" role="status" data-testid="managed-notice">
          <p>{t('managedNotice')}</p>
          {state.policyProblems.length > 0 && (
            <>
              <p>{t('managedProblems')}</p>
              <Problems problems={state.policyProblems} />
            </>
          )}
        </div>
      )}
    </>
  );
}

/** Beside a setting a policy decides: why its control cannot be changed. */
export function ManagedMark({ state, path }: { state: SettingsState; path: string }) {
  return state.isManaged(path) ? (
    <small class="muted managed" data-testid="managed-mark">
      {t('managedField')}
    </small>
  ) : null;
}
