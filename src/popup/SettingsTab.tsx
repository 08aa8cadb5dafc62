/** The popup's Settings tab: loaded when it first opens (src/ui/lazy.tsx). */
import browser from 'webextension-polyfill';
import { t } from '../extension/i18n';
import type { SetupFileStatus } from '../shared/setup-status';
import { AccountSettings } from '../ui/AccountSettings';
import type { SettingsState } from '../ui/settings-store';
import { SetupStatus } from '../ui/SetupStatus';
import { SolvingSettings } from '../ui/SolvingSettings';

export function SettingsTab({ state, setupFile }: { state: SettingsState; setupFile: SetupFileStatus | null }) {
  return (
    <div class="settings">
      <SetupStatus state={state} file={setupFile} />
      <AccountSettings state={state} />
      <SolvingSettings state={state} />
      <button type="button" class="link" onClick={() => void browser.runtime.openOptionsPage()}>
        {t('openOptions')}
      </button>
    </div>
  );
}
