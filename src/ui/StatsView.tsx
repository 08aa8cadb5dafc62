/** Spend you can see: per day and per captcha type, a small chart, and the history as CSV. */
import { t } from '../extension/i18n';
import { historyCsv } from '../shared/history-csv';
import { statsByDay, statsByType, statsTotal, type StatsRow } from '../shared/stats';
import { Cost, downloadFile, formatUsd, seconds } from './common';
import { useHistory } from './history-store';

/** Days the chart shows at most (the latest with tasks). */
const CHART_DAYS = 14;

function percent(rate: number): string {
  return new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 0 }).format(rate);
}

function StatsTable(props: { id: string; caption: string; keyLabel: string; rows: StatsRow[]; total: StatsRow }) {
  const cells = (row: StatsRow) => (
    <>
      <td>{row.tasks}</td>
      <td>{percent(row.successRate)}</td>
      <td>{row.medianSolveMs === null ? '—' : seconds(row.medianSolveMs)}</td>
      <td>
        <Cost cost={row.spend} estimated={row.estimated} />
      </td>
    </>
  );
  return (
    <table class="stats" data-testid={props.id}>
      <caption>{props.caption}</caption>
      <thead>
        <tr>
          <th scope="col">{props.keyLabel}</th>
          <th scope="col">{t('statsTasks')}</th>
          <th scope="col">{t('statsSuccess')}</th>
          <th scope="col">{t('statsMedian')}</th>
          <th scope="col">{t('statsSpend')}</th>
        </tr>
      </thead>
      <tbody>
        {props.rows.map((row) => (
          <tr key={row.key} data-testid="stats-row">
            <th scope="row">{row.key}</th>
            {cells(row)}
          </tr>
        ))}
      </tbody>
      <tfoot>
        <tr data-testid="stats-total">
          <th scope="row">{t('statsTotal')}</th>
          {cells(props.total)}
        </tr>
      </tfoot>
    </table>
  );
}

/** Spend per day as bars, tasks per day as the bars' labels: plain SVG, described for screen readers. */
function SpendChart({ days }: { days: StatsRow[] }) {
  const shown = days.slice(-CHART_DAYS);
  const width = 28;
  const height = 90;
  const most = Math.max(...shown.map((d) => d.spend), 0);
  const summary = shown.map((d) => `${d.key}: ${formatUsd(d.spend)}, ${d.tasks}`).join('; ');
  return (
    <svg
      class="chart"
      role="img"
      aria-label={`${t('statsChart')}: ${summary}`}
      viewBox={`0 0 ${shown.length * width} ${height + 28}`}
      width={shown.length * width}
      height={height + 28}
      data-testid="stats-chart"
    >
      {shown.map((day, i) => {
        const bar = most > 0 ? Math.max(1, Math.round((day.spend / most) * height)) : 1;
        return (
          <g key={day.key}>
            <title>{`${day.key}: ${formatUsd(day.spend)} · ${t('statsTasks')} ${day.tasks}`}</title>
            <rect class="bar" x={i * width + 4} y={height - bar + 12} width={width - 8} height={bar} rx={2} />
            <text class="bar-count" x={i * width + width / 2} y={height - bar + 9} text-anchor="middle">
              {day.tasks}
            </text>
            <text class="bar-day" x={i * width + width / 2} y={height + 25} text-anchor="middle">
              {day.key.slice(8)}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

export function StatsView() {
  const entries = useHistory();
  if (!entries) return null;
  if (entries.length === 0) return <p class="muted">{t('historyEmpty')}</p>;
  const days = statsByDay(entries);
  const total = statsTotal(entries);
  const download = (): void => downloadFile('caprelay-history.csv', historyCsv(entries), 'text/csv;charset=utf-8');
  return (
    <div class="stats-view">
      <SpendChart days={days} />
      <StatsTable id="stats-by-day" caption={t('statsByDay')} keyLabel={t('statsDay')} rows={[...days].reverse()} total={total} />
      <StatsTable id="stats-by-type" caption={t('statsByType')} keyLabel={t('statsType')} rows={statsByType(entries)} total={total} />
      <button type="button" class="secondary" onClick={download}>
        {t('exportCsv')}
      </button>
    </div>
  );
}
