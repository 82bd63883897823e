/**
 * `DIR/report.html`: one self-contained page for reviewing a cohort. A header with the counts and the
 * settings (and a banner for demo weights), the two burden charts as inline SVG, and a sortable table
 * with each slide's overlay thumbnail (linking to the full overlay and the GeoJSON), figures, status
 * and error. No network: the table sorter (sortable-tablesort) and its style are inlined; pictures are
 * relative links into `slides/`, loaded lazily.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import escapeHtml from 'escape-html';
import { burdenChart, shareHistogram } from './chart';
import type { CohortFile } from './cohort-file';
import { outputName } from './slide-output';
import { type CohortRow, countByStatus } from './table';

function asset(file: string): string {
  return readFileSync(path.join(path.dirname(require.resolve('sortable-tablesort')), file), 'utf8');
}

/** A relative URL to a slide's file, each segment encoded. */
function href(name: string, file: string): string {
  return ['slides', name, file].map(encodeURIComponent).join('/');
}

function num(v: number | null, digits: number): { text: string; sort: string } {
  return v === null ? { text: '', sort: '' } : { text: v.toFixed(digits), sort: String(v) };
}

function cell(v: { text: string; sort: string }): string {
  return `<td class="num" data-sort="${escapeHtml(v.sort)}">${escapeHtml(v.text)}</td>`;
}

function row(r: CohortRow): string {
  const thumb =
    r.status === 'ok'
      ? `<a href="${href(r.name, 'overlay.png')}"><img loading="lazy" src="${href(r.name, 'thumbnail.png')}" alt="overlay of ${escapeHtml(r.name)}"></a>`
      : '';
  const links =
    r.status === 'ok' ? ` <a class="file" href="${href(r.name, outputName('geojson', r.name))}">GeoJSON</a>` : '';
  const same = r.sameAs ? `<div class="same">same content as ${escapeHtml(r.sameAs)}</div>` : '';
  return [
    `<tr class="${r.status}" data-name="${escapeHtml(r.name)}">`,
    `<td class="thumb">${thumb}</td>`,
    `<td><span class="name">${escapeHtml(r.name)}</span>${links}<div class="path">${escapeHtml(r.slide)}</div></td>`,
    `<td class="status">${r.status}${r.cached ? ' <span class="cached">(cached)</span>' : ''}${same}</td>`,
    cell(num(r.tumourAreaMm2, 3)),
    cell(num(r.tumourSharePct, 1)),
    cell(num(r.regions, 0)),
    cell(num(r.patchesInferred, 0)),
    cell(num(r.seconds, 1)),
    `<td class="notes">${escapeHtml(r.error ?? '')}</td>`,
    '</tr>',
  ].join('');
}

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; margin: 0 0 .3em; }
.demo { background: #b00020; color: #fff; padding: .6em 1em; font-weight: bold; margin: .5em 0; }
.meta { color: #555; margin: .2em 0; }
.counts span { margin-right: 1.2em; }
.charts { display: flex; flex-wrap: wrap; gap: 1em; margin: 1em 0; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: .3em .5em; vertical-align: top; text-align: left; }
th { background: #f3f3f3; position: sticky; top: 0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.thumb img { max-width: 160px; max-height: 160px; display: block; }
.path { color: #777; font-size: .85em; word-break: break-all; }
tr.failed td.status { color: #b00020; font-weight: bold; }
tr.pending td.status { color: #946200; }
.cached, .same { color: #777; font-weight: normal; font-size: .9em; }
td.notes { color: #b00020; max-width: 28em; }
a.file { font-size: .85em; margin-left: .5em; }
`;

export function renderReport(cohort: CohortFile, rows: readonly CohortRow[], generatedAt = new Date()): string {
  const counts = countByStatus(rows);
  const ok = rows.filter((r) => r.status === 'ok' && r.tumourAreaMm2 !== null);
  const totalTumour = ok.reduce((s, r) => s + (r.tumourAreaMm2 ?? 0), 0);
  const s = cohort.settings;
  const o = s.options;
  const settings = [
    `model set ${s.modelSet}`,
    `patch model ${s.models.patchSha256.slice(0, 12)}…`,
    `refinement model ${s.models.refinementSha256.slice(0, 12)}…`,
    `tissue threshold ${o.tissueThreshold}`,
    `smoothing ${o.smoothingUm} µm`,
    o.mpp !== null ? `pixel size ${o.mpp} µm/px (given)` : 'pixel size from each slide',
    `h2g ${s.pipeline.version}`,
  ];
  const charts =
    ok.length > 0
      ? `<div class="charts">${burdenChart(rows)}${shareHistogram(rows)}</div>`
      : '<p>No slide has a result yet.</p>';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>H2G-Net cohort report: ${rows.length} slides</title>
<style>${asset('sortable-base.min.css')}${STYLE}</style>
</head>
<body>
<h1>H2G-Net cohort report</h1>
${s.demo ? '<div class="demo">DEMO WEIGHTS: these results come from untrained networks and mean nothing clinically.</div>' : ''}
<p class="counts"><span>${rows.length} slides</span><span>${counts.ok} segmented</span><span>${counts.failed} failed</span><span>${counts.pending} pending</span><span>total tumour area ${totalTumour.toFixed(2)} mm²</span></p>
<p class="meta">${escapeHtml(settings.join(' · '))}</p>
<p class="meta">Generated ${escapeHtml(generatedAt.toISOString())}. Click a column heading to sort; click a picture for the full overlay (red: tumour probability per patch, green: outline of the tumour mask).</p>
${charts}
<table class="sortable n-last" id="slides">
<thead><tr><th class="no-sort">Overlay</th><th>Slide</th><th>Status</th><th>Tumour area (mm²)</th><th>Share of tissue (%)</th><th>Regions</th><th>Patches</th><th>Time (s)</th><th>Error</th></tr></thead>
<tbody>
${rows.map(row).join('\n')}
</tbody>
</table>
<script>${asset('sortable.min.js')}</script>
<script>${asset('sortable.a11y.min.js')}</script>
</body>
</html>
`;
}
