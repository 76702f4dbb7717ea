/** Number formatting for report tables: fixed digits, '—' for NaN, CI brackets, p-values. */

export function fmt(value: number | undefined, digits = 3): string {
  if (value === undefined || !Number.isFinite(value)) return '—';
  return value.toFixed(digits);
}

export function fmtCI(value: number, ci: readonly [number, number], digits = 3): string {
  if (!Number.isFinite(value)) return '—';
  if (!Number.isFinite(ci[0]) || !Number.isFinite(ci[1])) return fmt(value, digits);
  return `${fmt(value, digits)} [${fmt(ci[0], digits)}, ${fmt(ci[1], digits)}]`;
}

export function fmtMeanSd(mean: number, sd: number, digits = 3): string {
  if (!Number.isFinite(mean)) return '—';
  return Number.isFinite(sd) ? `${fmt(mean, digits)} ± ${fmt(sd, digits)}` : fmt(mean, digits);
}

export function fmtP(p: number): string {
  if (!Number.isFinite(p)) return '—';
  if (p < 0.001) return '<0.001';
  return p.toFixed(3);
}

export function fmtPercent(fraction: number): string {
  const pct = fraction * 100;
  return `${Number.isInteger(pct) ? pct.toFixed(0) : pct.toPrecision(2)}%`;
}

/** Escapes a cell so label names with '|' or newlines do not break a table. */
export function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
