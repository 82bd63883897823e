/** The lines a batch ends with: counts and where the table and report are, then each failure. */
import path from 'node:path';
import { REPORT_FILE, TABLE_FILE } from './publish';
import type { RunCounts } from './runner';
import { type CohortRow, countByStatus } from './table';

/** Failures listed one by one on stderr; more are in the table. */
const LISTED_FAILURES = 20;

/** `counts`: this process's own slides (absent for a Slurm merge); `rows`: the cohort (absent for a task). */
export function publishSummary(
  outcome: { counts?: RunCounts; rows: CohortRow[] | null },
  outDir: string,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): void {
  const c = outcome.counts;
  const ran = c
    ? [
        `this run: ${c.ok} segmented (${c.cached} from the cache, ${c.computed} computed), ${c.failed} failed, ${c.pending} not finished`,
      ]
    : [];
  if (!outcome.rows) {
    out.write(ran.map((l) => `${l}\n`).join(''));
    return;
  }
  const all = countByStatus(outcome.rows);
  out.write(
    [
      ...ran,
      `cohort: ${outcome.rows.length} slides, ${all.ok} segmented, ${all.failed} failed, ${all.pending} pending`,
      `table:  ${path.join(outDir, TABLE_FILE)}`,
      `report: ${path.join(outDir, REPORT_FILE)}`,
    ].join('\n') + '\n',
  );
  const failed = outcome.rows.filter((r) => r.status === 'failed');
  for (const r of failed.slice(0, LISTED_FAILURES)) err.write(`h2g: failed: ${r.name}: ${r.error}\n`);
  if (failed.length > LISTED_FAILURES)
    err.write(`h2g: ... and ${failed.length - LISTED_FAILURES} more failures (see the table)\n`);
}
