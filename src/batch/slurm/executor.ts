/**
 * `h2g batch ... --executor slurm`: the cohort is expanded on the submitting host, slides that already
 * have a result under the same settings are skipped (found without hashing: by their remembered
 * digests), the rest are split into shards, written as an sbatch job array, submitted, followed with
 * squeue, and when every task has ended the cohort table and report are merged from the slides'
 * records. Running the same command again follows a job still running, or submits only what is missing.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../log';
import type { ExecutionProvider } from '../../models/model-set';
import { writeFileAtomically } from '../../output/atomic';
import { type CohortFile, cohortFilePath, makeCohortFile, stateDir, writeCohortFile } from '../cohort-file';
import { BatchInputError } from '../errors';
import { resultKey } from '../identity';
import { type CohortSlide, expandInputs } from '../inputs';
import { publishSummary } from '../outcome';
import { createBatchProgress } from '../progress';
import { publishCohort } from '../publish';
import { openBatchContext, type BatchContext, type BatchSettingsRequest } from '../run-batch';
import { readSlideRecord, writeSlideFailure, writeSlideResult } from '../slide-output';
import { countByStatus } from '../table';
import { finalTaskStates, sbatch, squeueTasks } from './commands';
import { jobScript, type SlurmFlags } from './job-script';
import { assignShards } from './shards';

export type { SlurmFlags } from './job-script';

export interface SlurmRequest extends BatchSettingsRequest {
  inputs: readonly string[];
  batchSize?: number;
  provider: ExecutionProvider;
  threads: number;
  slurm: SlurmFlags;
  log: Logger;
  signal?: AbortSignal;
}

interface Submission {
  jobId: string;
  dir: string;
  settingsId: string;
  slides: number;
  tasks: number;
  submittedAt: string;
}

/** Default number of array tasks: one per slide up to this many. */
const DEFAULT_ARRAY_SIZE = 100;

function currentFile(outDir: string): string {
  return path.join(stateDir(outDir), 'slurm', 'current.json');
}

async function readCurrent(outDir: string): Promise<Submission | null> {
  try {
    return JSON.parse(await readFile(currentFile(outDir), 'utf8')) as Submission;
  } catch {
    return null;
  }
}

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

async function submit(
  req: SlurmRequest,
  ctx: BatchContext,
  cohort: CohortFile,
  todo: CohortSlide[],
): Promise<Submission> {
  const sizes = await Promise.all(todo.map(async (s) => (await stat(s.path).catch(() => null))?.size ?? 0));
  const tasks = Math.min(todo.length, req.slurm.slurmArraySize ?? DEFAULT_ARRAY_SIZE);
  const shards = assignShards(sizes, tasks);
  const used = Math.max(...shards) + 1;
  const dir = path.join(stateDir(req.outDir), 'slurm', `${Date.now()}-${randomBytes(3).toString('hex')}`);
  await mkdir(dir, { recursive: true });
  const shardFile = path.join(dir, 'cohort.json');
  await writeCohortFile(shardFile, { ...makeCohortFile(todo, ctx.settings), shards });
  const script = path.join(dir, 'job.sh');
  await writeFile(
    script,
    jobScript(req.slurm, used, dir, {
      cohortFile: shardFile,
      outDir: req.outDir,
      cacheDir: ctx.cache.dir,
      modelDirectory: ctx.models.directory,
      mpp: req.mpp,
      tissueThreshold: req.tissueThreshold,
      smoothingUm: req.smoothingUm,
      batchSize: req.batchSize,
      threads: req.threads,
      provider: req.provider,
    }),
    { mode: 0o755 },
  );
  let jobId: string;
  try {
    jobId = await sbatch(script);
  } catch (err) {
    (err as Error).message += ` (job script kept at ${script}; nothing was submitted)`;
    throw err;
  }
  const submission: Submission = {
    jobId,
    dir,
    settingsId: cohort.settingsId,
    slides: todo.length,
    tasks: used,
    submittedAt: new Date().toISOString(),
  };
  await writeFileAtomically(path.join(dir, 'job.json'), `${JSON.stringify(submission, null, 2)}\n`);
  await writeFileAtomically(currentFile(req.outDir), `${JSON.stringify(submission, null, 2)}\n`);
  req.log.info({ jobId, tasks: used, slides: todo.length, script }, 'submitted');
  return submission;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Follows the job until no task is queued or running; false when interrupted first. */
async function follow(req: SlurmRequest, job: Submission, cohort: CohortFile): Promise<boolean> {
  const submitted = JSON.parse(await readFile(path.join(job.dir, 'cohort.json'), 'utf8')) as CohortFile;
  const progress = createBatchProgress(req.log);
  progress.begin(submitted.slides.length);
  const seen = new Set<string>();
  try {
    for (;;) {
      const states = await squeueTasks(job.jobId);
      for (const slide of submitted.slides) {
        if (seen.has(slide.name)) continue;
        const r = await readSlideRecord(req.outDir, slide.name);
        if (r && r.settingsId === cohort.settingsId && Date.parse(r.run.finishedAt) >= Date.parse(job.submittedAt)) {
          seen.add(slide.name);
          progress.slideDone({
            name: slide.name,
            status: r.status,
            cached: r.run.cached,
            seconds: r.run.seconds,
            error: r.error,
          });
        }
      }
      if (states.size === 0) return true;
      if (req.signal?.aborted) return false;
      await sleep(req.slurm.slurmPollSeconds * 1000, req.signal);
    }
  } finally {
    progress.end();
  }
}

export async function runSlurmBatch(req: SlurmRequest): Promise<{ exitCode: number }> {
  const ctx = await openBatchContext(req);
  const slides = await expandInputs(req.inputs);
  if (slides.length === 0) throw new BatchInputError('the inputs hold no slides');
  const cohort = makeCohortFile(slides, ctx.settings);
  await writeCohortFile(cohortFilePath(req.outDir), cohort);

  let job = await readCurrent(req.outDir);
  const running = job ? (await squeueTasks(job.jobId)).size > 0 : false;
  if (job && running && job.settingsId !== cohort.settingsId) {
    throw new BatchInputError(
      `Slurm job ${job.jobId}, submitted into ${req.outDir} with other models or options, is still running: wait for it to end or scancel it`,
    );
  }
  if (!job || !running) {
    const todo: CohortSlide[] = [];
    for (const slide of slides) {
      if (slide.problem) {
        const run = { cached: false, finishedAt: new Date().toISOString(), seconds: 0, host: 'submit' };
        await writeSlideFailure(req.outDir, {
          name: slide.name,
          slide: slide.path,
          settingsId: cohort.settingsId,
          sameAs: null,
          slideSha256: null,
          error: slide.problem,
          run,
        });
      } else if (await needsRun(slide, ctx, req.outDir, cohort.settingsId, req.slurm.slurmRetryFailed ?? false))
        todo.push(slide);
    }
    if (todo.length === 0) {
      process.stdout.write(
        'nothing to submit: every slide has a result, or failed on the file as it is (--slurm-retry-failed submits those again)\n',
      );
      job = null;
    } else {
      job = await submit(req, ctx, cohort, todo);
      process.stdout.write(
        `submitted Slurm job ${job.jobId}: ${todo.length} of ${slides.length} slides in ${job.tasks} array tasks\n`,
      );
      if (!req.slurm.wait) {
        process.stdout.write(
          `not waiting (--no-wait): run the same command again to follow the job and merge the table and report\n`,
        );
        return { exitCode: 0 };
      }
    }
  } else {
    process.stdout.write(`following Slurm job ${job.jobId}, submitted ${job.submittedAt}\n`);
  }

  if (job && !(await follow(req, job, cohort))) {
    process.stdout.write(
      `stopped following; Slurm job ${job.jobId} goes on: run the same command again to follow it and merge\n`,
    );
    await publishCohort(req.outDir, cohort);
    return { exitCode: 130 };
  }
  const rows = await publishCohort(req.outDir, cohort);
  const counts = countByStatus(rows);
  publishSummary({ rows }, req.outDir, process.stdout, process.stderr);
  if (job && counts.pending > 0) {
    const states = await finalTaskStates(job.jobId);
    const bad = [...states.entries()].filter(([, s]) => s !== 'COMPLETED');
    const detail = bad.length ? ` (array tasks ${bad.map(([t, s]) => `${t}: ${s}`).join(', ')})` : '';
    process.stderr.write(
      `h2g: ${counts.pending} slides have no result${detail}; run the same command again to submit only those\n`,
    );
  }
  return { exitCode: counts.failed === 0 && counts.pending === 0 ? 0 : 1 };
}
