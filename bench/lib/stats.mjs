// Summaries of repeated samples: median with min and max.

export function summarize(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  const n = v.length;
  if (!n) return { n: 0, median: NaN, min: NaN, max: NaN };
  const mid = n >> 1;
  const median = n % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
  return { n, median, min: v[0], max: v[n - 1] };
}

export const sum = (values) => values.reduce((a, b) => a + b, 0);
