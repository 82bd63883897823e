/**
 * `h2g batch --executor slurm` on a real Slurm: Debian's slurmctld + slurmd + munge as a one-node
 * cluster on localhost (scripts/slurm-local.sh, also what CI starts). A cohort of six small slides
 * over three array tasks; one task is killed with scancel after its first slide, and running the same
 * command again submits only the slide that was lost, then merges the table and the report. Also: a
 * job Slurm refuses, and no Slurm at all.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CohortFile } from '../../src/batch/cohort-file';
import { smallSlides } from '../helpers/batch-slides';
import { batchArgs, entries, record as readRecord, table } from '../helpers/batch';
import { runCli } from '../helpers/cli';
import { ROOT } from '../helpers/paths';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'h2g-slurm-'));
const out = path.join(tmp, 'out');
const cache = path.join(tmp, 'cache');
const slides = smallSlides(6);
let env: NodeJS.ProcessEnv;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const slurm = (tool: string, ...args: string[]) =>
  execFileSync(tool, args, { env: { ...process.env, ...env }, encoding: 'utf8' });
const record = (name: string) => readRecord(out, name);
const batch = (inputs: string[], ...extra: string[]) =>
  runCli(batchArgs(inputs, out, cache, '--executor', 'slurm', '--slurm-poll-seconds', '0.5', ...extra), env);
const current = () => JSON.parse(readFileSync(path.join(out, '.h2g', 'slurm', 'current.json'), 'utf8'));

async function jobEnded(jobId: string): Promise<void> {
  while (slurm('squeue', '-h', '-j', jobId).trim() !== '') await sleep(200);
}

beforeAll(() => {
  const started = execFileSync('bash', [path.join(ROOT, 'scripts', 'slurm-local.sh'), 'start'], { encoding: 'utf8' });
  env = { SLURM_CONF: /SLURM_CONF=(\S+)/.exec(started)![1]! };
}, 60_000);

describe('a cohort over three array tasks, one task cancelled and the batch submitted again', () => {
  let firstJob: string;
  let killedTask: string;
  let kept: string;
  let lost: string;
  let keptFinishedAt: string;

  test('submit without waiting: a job array of three tasks over the six slides', async () => {
    const r = await batch(slides, '--slurm-array-size', '3', '--no-wait');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const m = /submitted Slurm job (\d+): 6 of 6 slides in 3 array tasks/.exec(r.stdout);
    expect(m).not.toBeNull();
    firstJob = m![1]!;
    expect(current().jobId).toBe(firstJob);
    const submitted = JSON.parse(readFileSync(path.join(current().dir, 'cohort.json'), 'utf8')) as CohortFile;
    expect(submitted.shards!.slice().sort()).toEqual([0, 0, 1, 1, 2, 2]);
    const script = readFileSync(path.join(current().dir, 'job.sh'), 'utf8');
    expect(script).toContain('#SBATCH --array=0-2');
    expect(script).toContain('--shard "$SLURM_ARRAY_TASK_ID"');
    // The task that holds the last slide in cohort order: cancelled after the first of its two.
    killedTask = String(submitted.shards![5]);
    const mine = submitted.slides.filter((_, i) => String(submitted.shards![i]) === killedTask).map((s) => s.name);
    while (!mine.some((n) => record(n)?.status === 'ok')) await sleep(50);
    slurm('scancel', `${firstJob}_${killedTask}`);
    [kept, lost] = record(mine[0]!)?.status === 'ok' ? [mine[0]!, mine[1]!] : [mine[1]!, mine[0]!];
    keptFinishedAt = record(kept).run.finishedAt;
    await jobEnded(firstJob);
    expect(record(lost)).toBeNull(); // killed while on it: nothing written
    const log = readFileSync(path.join(current().dir, `task-${killedTask}.log`), 'utf8');
    expect(log).toMatch(/SIGTERM: stopping|CANCELLED/);
  }, 240_000);

  test('the same command again submits only the lost slide, follows it and merges the table', async () => {
    const r = await batch(slides, '--slurm-array-size', '3');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/submitted Slurm job \d+: 1 of 6 slides in 1 array tasks/);
    expect(current().jobId).not.toBe(firstJob);
    const resubmitted = JSON.parse(readFileSync(path.join(current().dir, 'cohort.json'), 'utf8')) as CohortFile;
    expect(resubmitted.slides.map((s) => s.name)).toEqual([lost]);
    expect(r.stdout).toContain('cohort: 6 slides, 6 segmented, 0 failed, 0 pending');
    const rows = table(out);
    expect(rows.map((row) => [row.name, row.status])).toEqual(slides.map((s) => [path.basename(s, '.tif'), 'ok']));
    expect(record(kept).run.finishedAt).toBe(keptFinishedAt); // not computed again
    expect(readFileSync(path.join(out, 'report.html'), 'utf8')).toContain('6 segmented');
    expect(entries(cache)).toHaveLength(6);
  }, 240_000);

  test('once everything is there, the command submits nothing and exits 0', async () => {
    const r = await batch(slides, '--slurm-array-size', '3');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('nothing to submit');
    expect(current().jobId).not.toBe(firstJob);
  }, 120_000);

  test('a job Slurm refuses: a clear message, nothing submitted, nothing lost', async () => {
    const before = current();
    const extra = smallSlides(7)[6]!;
    const r = await batch([...slides, extra], '--slurm-partition', 'no-such-partition');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^h2g: error: Slurm refused the job: sbatch: error: .*[Ii]nvalid partition.* \(job script kept at .*job\.sh; nothing was submitted\)\n$/,
    );
    expect(current()).toEqual(before);
    for (const s of slides) expect(record(path.basename(s, '.tif')).status).toBe('ok');
  }, 120_000);
});

test('no Slurm installed: a clear message before anything is written', async () => {
  const emptyPath = path.join(tmp, 'empty-path');
  mkdirSync(emptyPath);
  const fresh = path.join(tmp, 'no-slurm');
  // A slide no run has seen, so there is something to submit.
  const args = batchArgs([smallSlides(8)[7]!], fresh, path.join(tmp, 'no-slurm-cache'), '--executor', 'slurm');
  const r = await runCli(args, { PATH: emptyPath });
  expect(r.code).toBe(1);
  expect(r.stderr).toBe(
    "h2g: error: Slurm's 'sbatch' is not installed here (not found on PATH): --executor slurm needs the Slurm client tools (Debian: slurm-client) on a host that can submit jobs; without Slurm, run without --executor slurm (job script kept at " +
      `${r.stderr.split('job script kept at ')[1]!.split(';')[0]}; nothing was submitted)\n`,
  );
});
