/**
 * The cohort table: one row per slide of the cohort file, from the slides' records. A slide without a
 * record made under the cohort's settings is `pending` (not run yet, interrupted, or its Slurm task
 * never ran). Written as `DIR/cohort.csv` (RFC 4180, csv-stringify).
 */
import { stringify } from 'csv-stringify/sync';
import type { CohortFile } from './cohort-file';
import { readSlideRecord, type SlideStatus } from './slide-output';

export interface CohortRow {
  name: string;
  slide: string;
  status: SlideStatus;
  error: string | null;
  tumourAreaMm2: number | null;
  tissueAreaMm2: number | null;
  /** Tumour area as a percentage of the tissue area (can exceed 100, as in the reference). */
  tumourSharePct: number | null;
  regions: number | null;
  patchesInferred: number | null;
  patchesTotal: number | null;
  /** Pipeline seconds of the result (when it was computed, not when it was reused). */
  seconds: number | null;
  cached: boolean | null;
  sameAs: string | null;
  mppUm: number | null;
  slideSha256: string | null;
}

const EMPTY = {
  tumourAreaMm2: null,
  tissueAreaMm2: null,
  tumourSharePct: null,
  regions: null,
  patchesInferred: null,
  patchesTotal: null,
  seconds: null,
  cached: null,
  sameAs: null,
  mppUm: null,
  slideSha256: null,
} as const;

export async function collectRows(outDir: string, cohort: CohortFile): Promise<CohortRow[]> {
  const rows: CohortRow[] = [];
  for (const slide of cohort.slides) {
    const record = await readSlideRecord(outDir, slide.name);
    if (!record || record.settingsId !== cohort.settingsId) {
      rows.push({ name: slide.name, slide: slide.path, status: 'pending', error: null, ...EMPTY });
      continue;
    }
    const r = record.result;
    rows.push({
      name: slide.name,
      slide: slide.path,
      status: record.status,
      error: record.error,
      tumourAreaMm2: r?.figures.tumourAreaMm2 ?? null,
      tissueAreaMm2: r?.figures.tissueAreaMm2 ?? null,
      tumourSharePct: r ? 100 * r.figures.tumourShareOfTissue : null,
      regions: r?.figures.polygonCount ?? null,
      patchesInferred: r?.figures.patchesInferred ?? null,
      patchesTotal: r?.figures.patchesTotal ?? null,
      seconds: r?.figures.totalSeconds ?? null,
      cached: record.status === 'ok' ? record.run.cached : null,
      sameAs: record.sameAs,
      mppUm: r ? (r.slide.mpp.x + r.slide.mpp.y) / 2 : null,
      slideSha256: r?.slide.sha256 ?? null,
    });
  }
  return rows;
}

const COLUMNS: [string, (r: CohortRow) => string | number | null][] = [
  ['name', (r) => r.name],
  ['slide', (r) => r.slide],
  ['status', (r) => r.status],
  ['tumour_area_mm2', (r) => fixed(r.tumourAreaMm2, 4)],
  ['tissue_area_mm2', (r) => fixed(r.tissueAreaMm2, 4)],
  ['tumour_share_of_tissue_pct', (r) => fixed(r.tumourSharePct, 2)],
  ['regions', (r) => r.regions],
  ['patches_inferred', (r) => r.patchesInferred],
  ['patches_total', (r) => r.patchesTotal],
  ['seconds', (r) => fixed(r.seconds, 2)],
  ['cached', (r) => (r.cached === null ? null : r.cached ? 'yes' : 'no')],
  ['same_as', (r) => r.sameAs],
  ['mpp_um', (r) => fixed(r.mppUm, 4)],
  ['slide_sha256', (r) => r.slideSha256],
  ['error', (r) => r.error],
];

function fixed(v: number | null, digits: number): string | null {
  return v === null ? null : v.toFixed(digits);
}

export function cohortCsv(rows: readonly CohortRow[]): string {
  return stringify(
    rows.map((r) => COLUMNS.map(([, get]) => get(r) ?? '')),
    { header: true, columns: COLUMNS.map(([name]) => name), record_delimiter: 'unix' },
  );
}

export function countByStatus(rows: readonly CohortRow[]): Record<SlideStatus, number> {
  const counts: Record<SlideStatus, number> = { ok: 0, failed: 0, pending: 0 };
  for (const r of rows) counts[r.status]++;
  return counts;
}
