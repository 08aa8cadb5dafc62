/** Today's spend, beside the balance in the pages' headers. */
import { t } from '../extension/i18n';
import { spendOn } from '../shared/stats';
import { Cost, useNow } from './common';
import { useHistory } from './history-store';

export function TodaySpend() {
  const entries = useHistory();
  const now = useNow(60_000);
  if (!entries) return null;
  const today = spendOn(entries, now);
  return (
    <p class="balance muted" data-testid="today-spend">
      {t('spentToday')}: <Cost cost={today.spend} estimated={today.estimated} />
    </p>
  );
}
