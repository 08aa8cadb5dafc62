// @vitest-environment node
/**
 * Spend you can see: the statistics of a run of known tasks add up (per day, per type, in
 * total and today), and the CSV export has a header row, the right columns and RFC 4180
 * quoting, read back by a strict parser.
 */
import { describe, expect, it } from 'vitest';
import type { HistoryEntry } from '../../src/shared/history';
import { CSV_COLUMNS, csvField, historyCsv } from '../../src/shared/history-csv';
import { serviceName } from '../../src/shared/services';
import { dayOf, median, spendOn, statsByDay, statsByType, statsTotal } from '../../src/shared/stats';

/** Noon (local) on a day of December 2026. */
const at = (day: number, minutes = 0): number => new Date(2026, 11, day, 12, minutes).getTime();

function entry(id: string, patch: Partial<HistoryEntry>): HistoryEntry {
  return { id, site: 'shop.example', type: 'reCAPTCHA v2', outcome: 'delivered', createdAt: patch.finishedAt ?? at(1), finishedAt: at(1), ...patch };
}

const RUN: HistoryEntry[] = [
  entry('a', { finishedAt: at(1), solveMs: 4_000, cost: 0.001, service: 'https://api.capmonster.cloud', serviceTaskId: 11 }),
  entry('b', { finishedAt: at(1, 5), solveMs: 6_000, cost: 0.002, service: 'https://api.capmonster.cloud', serviceTaskId: 12 }),
  entry('c', { finishedAt: at(1, 9), outcome: 'failed', errorCode: 'ERROR_CAPTCHA_UNSOLVABLE', type: 'FunCaptcha' }),
  entry('d', { finishedAt: at(2), solveMs: 20_000, cost: 0.0015, costEstimated: true, type: 'FunCaptcha', service: 'https://second.example.net', account: 'fallback' }),
  entry('e', { finishedAt: at(2, 1), solveMs: 1_000, cost: 0.0005, type: 'Cloudflare Turnstile' }),
  entry('f', { finishedAt: at(2, 2), outcome: 'cancelled', errorCode: 'TAB_CLOSED' }),
];

/** A strict RFC 4180 reader: quoted fields with doubled quotes, CRLF between records. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
      } else if (c === '"') {
        quoted = false;
        i++;
      } else {
        field += c;
        i++;
      }
    } else if (c === '"') {
      if (field !== '') throw new Error(`a quote inside an unquoted field at ${i}`);
      quoted = true;
      i++;
    } else if (c === ',') {
      row.push(field);
      field = '';
      i++;
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i += 2;
    } else if (c === '\n' || c === '\r') throw new Error(`a bare line break at ${i}`);
    else {
      field += c;
      i++;
    }
  }
  if (field !== '' || row.length) throw new Error('the last record has no CRLF');
  return rows;
}

describe('statistics of a run of known tasks', () => {
  it('per day: tasks, success rate, median solve time and spend add up', () => {
    expect(statsByDay(RUN)).toEqual([
      { key: dayOf(at(1)), tasks: 3, delivered: 2, successRate: 2 / 3, medianSolveMs: 5_000, spend: 0.003, estimated: false },
      { key: dayOf(at(2)), tasks: 3, delivered: 2, successRate: 2 / 3, medianSolveMs: 10_500, spend: 0.002, estimated: true },
    ]);
    expect(dayOf(at(2))).toBe('2026-12-02');
  });

  it('per captcha type, and in total', () => {
    expect(statsByType(RUN).map((r) => [r.key, r.tasks, r.delivered, r.medianSolveMs, r.spend])).toEqual([
      ['reCAPTCHA v2', 3, 2, 5_000, 0.003],
      ['FunCaptcha', 2, 1, 20_000, 0.0015],
      ['Cloudflare Turnstile', 1, 1, 1_000, 0.0005],
    ]);
    const total = statsTotal(RUN);
    expect(total).toMatchObject({ tasks: 6, delivered: 4, successRate: 4 / 6, medianSolveMs: 5_000, spend: 0.005, estimated: true });
    // The parts add up to the whole.
    const days = statsByDay(RUN);
    expect(days.reduce((n, d) => n + d.tasks, 0)).toBe(total.tasks);
    expect(Math.round(days.reduce((n, d) => n + d.spend, 0) * 1e6) / 1e6).toBe(total.spend);
  });

  it('today’s spend, for the popup header, counts only today, estimates marked', () => {
    expect(spendOn(RUN, at(2, 30))).toEqual({ spend: 0.002, estimated: true });
    expect(spendOn(RUN, at(1, 30))).toEqual({ spend: 0.003, estimated: false });
    expect(spendOn(RUN, at(3))).toEqual({ spend: 0, estimated: false });
  });

  it('median of an even and an odd count, and of none', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNull();
  });
});

describe('the CSV export', () => {
  it('has a header row and one row per task, oldest first, in the right columns', () => {
    const rows = parseCsv(historyCsv([...RUN].reverse()));
    expect(rows[0]).toEqual([...CSV_COLUMNS]);
    expect(rows).toHaveLength(1 + RUN.length);
    expect(rows.every((r) => r.length === CSV_COLUMNS.length)).toBe(true);
    const column = (name: (typeof CSV_COLUMNS)[number]) => rows.slice(1).map((r) => r[CSV_COLUMNS.indexOf(name)]);
    expect(column('finished')).toEqual(RUN.map((e) => new Date(e.finishedAt).toISOString()));
    expect(column('captcha type')).toEqual(RUN.map((e) => e.type));
    expect(column('outcome')).toEqual(['delivered', 'delivered', 'failed', 'delivered', 'delivered', 'cancelled']);
    expect(column('service')).toEqual(['CapMonster Cloud', 'CapMonster Cloud', '', 'second.example.net', '', '']);
    expect(column('fallback')).toEqual(['no', 'no', 'no', 'yes', 'no', 'no']);
    expect(column('solve seconds')).toEqual(['4', '6', '', '20', '1', '']);
    expect(column('cost usd')).toEqual(['0.001', '0.002', '', '0.0015', '0.0005', '']);
    expect(column('cost estimated')).toEqual(['no', 'no', '', 'yes', 'no', '']);
    expect(column('error code')).toEqual(['', '', 'ERROR_CAPTCHA_UNSOLVABLE', '', '', 'TAB_CLOSED']);
    expect(column('service task id')).toEqual(['11', '12', '', '', '', '']);
  });

  it('quotes commas, quotes and line breaks, and never lets a spreadsheet read a formula', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\r\nlines')).toBe('"two\r\nlines"');
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvField('+1')).toBe("'+1");
    expect(csvField('@cmd')).toBe("'@cmd");
    expect(csvField(0.0015)).toBe('0.0015');
    expect(csvField(undefined)).toBe('');
    const tricky = entry('x', { site: 'a,"b"\nc', errorCode: '=SUM(A1)', serviceTaskId: 'id-"1"' });
    const [, row] = parseCsv(historyCsv([tricky]));
    expect(row![CSV_COLUMNS.indexOf('site')]).toBe('a,"b"\nc');
    expect(row![CSV_COLUMNS.indexOf('error code')]).toBe("'=SUM(A1)");
    expect(row![CSV_COLUMNS.indexOf('service task id')]).toBe('id-"1"');
  });

  it('names services by their preset, else by host', () => {
    expect(serviceName('https://api.brocapgpt.com')).toBe('BroCapGPT');
    expect(serviceName('http://127.0.0.1:9000')).toBe('127.0.0.1:9000');
    expect(serviceName(undefined)).toBe('');
  });
});
