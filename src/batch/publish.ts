/** Writes `DIR/cohort.csv` and `DIR/report.html` from the cohort file and the slides' records. */
import path from 'node:path';
import { writeFileAtomic } from '../output/atomic';
import type { CohortFile } from './cohort-file';
import { renderReport } from './report';
import { cohortCsv, collectRows, type CohortRow } from './table';

export const TABLE_FILE = 'cohort.csv';
export const REPORT_FILE = 'report.html';

export async function publishCohort(outDir: string, cohort: CohortFile): Promise<CohortRow[]> {
  const rows = await collectRows(outDir, cohort);
  await writeFileAtomic(path.join(outDir, TABLE_FILE), cohortCsv(rows));
  await writeFileAtomic(path.join(outDir, REPORT_FILE), renderReport(cohort, rows));
  return rows;
}
