// The one plain-text table the bench prints: aligned columns, one row per figure.

const COLUMNS = [
  ['figure', 'Figure'], ['measure', 'Measure'], ['median', 'Median'], ['range', 'Min – Max'],
  ['n', 'n'], ['target', 'Target'], ['met', 'Met'],
];

const group = (x) => x.toLocaleString('en-US');

export function fmt(value, unit) {
  if (!Number.isFinite(value)) return '—';
  switch (unit) {
    case 'B': return `${group(value)} B`;
    case 'KB': return `${(value / 1000).toFixed(1)} KB`;
    case 'ms': return `${value.toFixed(value < 10 ? 2 : 1)} ms`;
    case 'req/s': return `${group(Math.round(value))} req/s`;
    case 'µs': return Math.abs(value) < 100 ? `${value.toFixed(1)} µs` : `${group(Math.round(value))} µs`;
    case 'x': return `${value.toFixed(2)}×`;
    case 'ratio': return value.toFixed(3);
    case 'B/cycle': return `${value.toFixed(0)} B/cycle`;
    case 'count': return group(Math.round(value * 10) / 10);
    default: return String(value);
  }
}

/**
 * A row from a summary ({median, min, max, n}) or a single value.
 * met: true/false/undefined (no target).
 */
export function row(figure, measure, stat, unit, { target = '', met, showRange = true } = {}) {
  const single = typeof stat === 'number';
  const s = single ? { median: stat, min: stat, max: stat, n: 1 } : stat;
  return {
    figure,
    measure,
    median: fmt(s.median, unit),
    range: single || !showRange ? '—' : `${fmt(s.min, unit)} – ${fmt(s.max, unit)}`,
    n: single ? '1' : String(s.n),
    target,
    met: met === undefined ? '' : met ? '✓' : '✗',
  };
}

export function renderTable(rows) {
  const width = (s) => [...String(s)].length;
  const widths = COLUMNS.map(([key, title]) => Math.max(width(title), ...rows.map((r) => width(r[key] ?? ''))));
  const pad = (s, w, right) => {
    const str = String(s ?? '');
    const fill = ' '.repeat(Math.max(0, w - width(str)));
    return right ? fill + str : str + fill;
  };
  const numeric = new Set(['median', 'range', 'n']);
  const line = (cells) => cells.map((c, i) => pad(c, widths[i], numeric.has(COLUMNS[i][0]))).join('  ').trimEnd();
  const out = [line(COLUMNS.map(([, title]) => title)), widths.map((w) => '-'.repeat(w)).join('  ')];
  let last = null;
  for (const r of rows) {
    if (last !== null && r.figure !== last) out.push('');
    out.push(line(COLUMNS.map(([key]) => (key === 'figure' && r.figure === last ? '' : r[key]))));
    last = r.figure;
  }
  return out.join('\n');
}
