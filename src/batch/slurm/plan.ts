/**
 * What a cluster run has to do: which slides of a cohort still need a task (found without hashing,
 * by the digests tasks remembered in the shared cache), and the shard files for them (the cohort of
 * the missing slides with each one's task, and the sbatch script that runs one task per shard).
 * Shared by the Slurm executor and the `shards` executor, which leaves running them to another
 * scheduler (a Kubernetes Indexed Job, PBS, GNU parallel...).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type CohortFile, makeCohortFile, stateDir, writeCohortFile } from '../cohort-file';
import { resultKey } from '../identity';
import type { CohortSlide } from '../inputs';
import type { BatchContext } from '../run-batch';
import { readSlideRecord, writeSlideFailure, writeSlideResult } from '../slide-output';
import { jobScript, type TaskCommand, taskCommand, type SlurmFlags } from './job-script';
import { assignShards } from './shards';

/** Default number of shards: one per slide up to this many. */
export const DEFAULT_SHARDS = 100;

/**
 * Whether a slide needs a task: no, when its record (ok, or failed unless `retryFailed`) was made
 * under these settings from the file as it is now, or when the cache holds its result (then the record
 * is written here). Never hashes: a slide no task has hashed yet needs one.
 */
async function needsRun(
  slide: CohortSlide,
  ctx: BatchContext,
  outDir: string,
  settingsId: string,
  retryFailed: boolean,
): Promise<boolean> {
  const known = await ctx.cache.digests.knownSlide(slide.path);
  if (!known) return true;
  const record = await readSlideRecord(outDir, slide.name);
  if (record && record.settingsId === settingsId && record.slideSha256 === known) {
    if (record.status === 'ok' || !retryFailed) return false;
  }
  const key = resultKey(known, ctx.models, ctx.settings.options);
  const found = await ctx.cache.lookup(key.key, 'sizes');
  if (found.state !== 'hit') return true;
  const run = { cached: true, finishedAt: new Date().toISOString(), seconds: 0, host: 'submit' };
  await writeSlideResult(outDir, { name: slide.name, slide: slide.path, settingsId, sameAs: null, run }, found.entry);
  return false;
}

/**
 * The slides that need a task. Slides with a problem known before running (a missing file) are
 * recorded as failed here, since no task could do better.
 */
export async function missingSlides(
  slides: readonly CohortSlide[],
  ctx: BatchContext,
  outDir: string,
  cohort: CohortFile,
  retryFailed: boolean,
): Promise<CohortSlide[]> {
  const todo: CohortSlide[] = [];
  for (const slide of slides) {
    if (slide.problem) {
      const run = { cached: false, finishedAt: new Date().toISOString(), seconds: 0, host: 'submit' };
      await writeSlideFailure(outDir, {
        name: slide.name,
        slide: slide.path,
        settingsId: cohort.settingsId,
        sameAs: null,
        slideSha256: null,
        error: slide.problem,
        run,
      });
    } else if (await needsRun(slide, ctx, outDir, cohort.settingsId, retryFailed)) todo.push(slide);
  }
  return todo;
}

export interface ShardFiles {
  dir: string;
  cohortFile: string;
  script: string;
  tasks: number;
  /** The command of one shard, for `--shard <index>` to be appended. */
  command: string;
}

/** Splits `todo` into at most `shards` shards and writes `.h2g/slurm/<submission>/{cohort.json,job.sh}`. */
export async function writeShards(
  todo: readonly CohortSlide[],
  shards: number,
  ctx: BatchContext,
  flags: SlurmFlags,
  task: Omit<TaskCommand, 'cohortFile'>,
): Promise<ShardFiles> {
  const sizes = await Promise.all(todo.map(async (s) => (await stat(s.path).catch(() => null))?.size ?? 0));
  const assigned = assignShards(sizes, Math.min(todo.length, shards));
  const tasks = Math.max(...assigned) + 1;
  const dir = path.join(stateDir(task.outDir), 'slurm', `${Date.now()}-${randomBytes(3).toString('hex')}`);
  await mkdir(dir, { recursive: true });
  const cohortFile = path.join(dir, 'cohort.json');
  await writeCohortFile(cohortFile, { ...makeCohortFile([...todo], ctx.settings), shards: assigned });
  const script = path.join(dir, 'job.sh');
  await writeFile(script, jobScript(flags, tasks, dir, { ...task, cohortFile }), { mode: 0o755 });
  return { dir, cohortFile, script, tasks, command: taskCommand({ ...task, cohortFile }) };
}
