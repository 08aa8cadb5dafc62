/** Small statistics and formatting helpers for the benchmark table. */

function sorted(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

/** Nearest-rank percentile (p in 0..100): always a value that was actually measured. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = sorted(values);
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length, Math.max(1, rank)) - 1]!;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = sorted(values);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Golden-ratio sequence: task readiness spread evenly over a poll cycle, the same every run. */
export const spread = (k: number): number => (k * 0.6180339887498949) % 1;

export function mean(values: readonly number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN;
}

export function ms(value: number, digits = 0): string {
  return Number.isFinite(value) ? `${value.toFixed(digits)} ms` : 'n/a';
}

/** Decimal kilobytes, as the budgets are written (12 kB = 12,000 bytes). */
export function kb(bytes: number): string {
  return `${(bytes / 1000).toFixed(1)} kB`;
}

export function pct(ratio: number): string {
  if (!Number.isFinite(ratio)) return 'n/a';
  const sign = ratio >= 0 ? '+' : '−';
  return `${sign}${Math.abs(ratio * 100).toFixed(1)} %`;
}

export interface Row {
  id: string;
  figure: string;
  value: string;
  budget: string;
  /** true = within budget, false = over, null = informational. */
  pass: boolean | null;
}

/** A Markdown table: readable in a terminal and pasteable into BENCHMARKS.md as is. */
export function table(rows: readonly Row[]): string {
  const head = ['#', 'Figure', 'Value', 'Budget', 'Result'];
  const body = rows.map((r) => [r.id, r.figure, r.value, r.budget, r.pass === null ? 'info' : r.pass ? 'pass' : 'FAIL']);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((cells) => cells[i]!.length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

/** What a bench phase hands back: its table rows and its raw samples (bench-results.json). */
export interface PhaseResult {
  rows: Row[];
  data: unknown;
}
