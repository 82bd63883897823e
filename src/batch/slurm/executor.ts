/**
 * `h2g batch ... --executor slurm`: the cohort is expanded on the submitting host, slides that already
 * have a result under the same settings are skipped (found without hashing: by their remembered
 * digests), the rest are split into shards, written as an sbatch job array, submitted, followed with
 * squeue, and when every task has ended the cohort table and report are merged from the slides'
 * records. Running the same command again follows a job still running, or submits only what is missing.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../log';
import type { ExecutionProvider } from '../../models/model-set';
import { writeFileAtomic } from '../../output/atomic';
import { type CohortFile, cohortFilePath, makeCohortFile, stateDir, writeCohortFile } from '../cohort-file';
import { BatchInputError } from '../errors';
import { type CohortSlide, expandInputs } from '../inputs';
import { publishSummary } from '../outcome';
import { createBatchProgress } from '../progress';
import { publishCohort } from '../publish';
import { openBatchContext, type BatchContext, type BatchSettingsRequest } from '../run-batch';
import { readSlideRecord } from '../slide-output';
import { countByStatus } from '../table';
import { finalTaskStates, sbatch, squeueTasks } from './commands';
import type { SlurmFlags, TaskCommand } from './job-script';
import { DEFAULT_SHARDS, missingSlides, writeShards } from './plan';

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

async function submit(
  req: SlurmRequest,
  ctx: BatchContext,
  cohort: CohortFile,
  todo: CohortSlide[],
): Promise<Submission> {
  const files = await writeShards(todo, req.slurm.slurmArraySize ?? DEFAULT_SHARDS, ctx, req.slurm, taskOf(req, ctx));
  let jobId: string;
  try {
    jobId = await sbatch(files.script);
  } catch (err) {
    (err as Error).message += ` (job script kept at ${files.script}; nothing was submitted)`;
    throw err;
  }
  const submission: Submission = {
    jobId,
    dir: files.dir,
    settingsId: cohort.settingsId,
    slides: todo.length,
    tasks: files.tasks,
    submittedAt: new Date().toISOString(),
  };
  await writeFileAtomic(path.join(files.dir, 'job.json'), `${JSON.stringify(submission, null, 2)}\n`);
  await writeFileAtomic(currentFile(req.outDir), `${JSON.stringify(submission, null, 2)}\n`);
  req.log.info({ jobId, tasks: files.tasks, slides: todo.length, script: files.script }, 'submitted');
  return submission;
}

function taskOf(req: SlurmRequest, ctx: BatchContext): Omit<TaskCommand, 'cohortFile'> {
  return {
    outDir: req.outDir,
    cacheDir: ctx.cache.dir,
    modelDirectory: ctx.models.directory,
    mpp: req.mpp,
    tissueThreshold: req.tissueThreshold,
    smoothingUm: req.smoothingUm,
    batchSize: req.batchSize,
    threads: req.threads,
    provider: req.provider,
  };
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

async function openCohort(
  req: SlurmRequest,
): Promise<{ ctx: BatchContext; slides: CohortSlide[]; cohort: CohortFile }> {
  const ctx = await openBatchContext(req);
  const slides = await expandInputs(req.inputs);
  if (slides.length === 0) throw new BatchInputError('the inputs hold no slides');
  const cohort = makeCohortFile(slides, ctx.settings);
  await writeCohortFile(cohortFilePath(req.outDir), cohort);
  return { ctx, slides, cohort };
}

/**
 * `--executor shards`: the shard files and the command of one shard, for any scheduler that starts N
 * indexed copies of a command (a Kubernetes Indexed Job, a PBS or LSF array, GNU parallel). Running
 * the plain command again afterwards finds every result in the cache and merges the table.
 */
export async function writeShardsOnly(req: SlurmRequest): Promise<{ exitCode: number }> {
  const { ctx, slides, cohort } = await openCohort(req);
  const todo = await missingSlides(slides, ctx, req.outDir, cohort, req.slurm.slurmRetryFailed ?? false);
  if (todo.length === 0) {
    process.stdout.write('nothing to run: every slide has a result, or failed on the file as it is\n');
    return { exitCode: 0 };
  }
  const files = await writeShards(todo, req.slurm.slurmArraySize ?? DEFAULT_SHARDS, ctx, req.slurm, taskOf(req, ctx));
  process.stdout.write(
    [
      `${todo.length} of ${slides.length} slides in ${files.tasks} shards: ${files.cohortFile}`,
      `run every shard i = 0..${files.tasks - 1}, in any order and anywhere that sees these files:`,
      `  ${files.command} --shard <i>`,
      'then run this command again without --executor to merge the table and the report',
    ].join('\n') + '\n',
  );
  return { exitCode: 0 };
}

export async function runSlurmBatch(req: SlurmRequest): Promise<{ exitCode: number }> {
  const { ctx, slides, cohort } = await openCohort(req);

  let job = await readCurrent(req.outDir);
  const running = job ? (await squeueTasks(job.jobId)).size > 0 : false;
  if (job && running && job.settingsId !== cohort.settingsId) {
    throw new BatchInputError(
      `Slurm job ${job.jobId}, submitted into ${req.outDir} with other models or options, is still running: wait for it to end or scancel it`,
    );
  }
  if (!job || !running) {
    const todo = await missingSlides(slides, ctx, req.outDir, cohort, req.slurm.slurmRetryFailed ?? false);
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
