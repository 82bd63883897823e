/** An evaluation report as a table for people, CSV for spreadsheets and JSON for programs. */
import type { EvaluationReport } from './evaluate';
import { METRICS } from './metrics';

const fmt = (v: number | null): string => (v === null ? '-' : v.toFixed(4));

export function formatTable(report: EvaluationReport): string {
  const rows = report.slides.map((s) => [
    s.id,
    ...METRICS.map((m) => fmt(s[m])),
    `${s.truthPixels}`,
    `${s.predictedPixels}`,
  ]);
  const summary = [
    'mean +- std',
    ...METRICS.map((m) => {
      const x = report.summary[m];
      return x.mean === null ? '-' : `${x.mean.toFixed(4)} +- ${x.std!.toFixed(4)}`;
    }),
    '',
    '',
  ];
  const head = ['slide', ...METRICS, 'truth px', 'predicted px'];
  const all = [head, ...rows, summary];
  const widths = head.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  const n = METRICS.map((m) => `${m} n=${report.summary[m].n}`).join(', ');
  return (
    [
      `evaluated at ${report.size} x ${report.size} over each slide (class "${report.className}")`,
      line(head),
      ...rows.map(line),
      line(summary),
      `(${n}; std = population standard deviation)`,
    ].join('\n') + '\n'
  );
}

function csvCell(v: string | number | null): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(report: EvaluationReport): string {
  const head = ['id', 'slide', 'prediction', 'truth', ...METRICS, 'truth_pixels', 'predicted_pixels', 'true_positives'];
  const rows = report.slides.map((s) => [
    s.id,
    s.slide,
    s.prediction,
    s.truth,
    ...METRICS.map((m) => s[m]),
    s.truthPixels,
    s.predictedPixels,
    s.truePositives,
  ]);
  const stat = (k: 'mean' | 'std') => [k, '', '', '', ...METRICS.map((m) => report.summary[m][k]), '', '', ''];
  return [head, ...rows, stat('mean'), stat('std')].map((r) => r.map(csvCell).join(',')).join('\n') + '\n';
}

export function toJson(report: EvaluationReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
