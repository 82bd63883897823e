/**
 * `h2g batch <inputs...> --out-dir DIR`: segment a cohort through the result cache, on this machine
 * or as a Slurm job array (`--executor slurm`). A thin layer over src/batch: flags, signals, exit code.
 */
import path from 'node:path';
import { Command, Option } from 'commander';
import { defaultCacheDir } from '../batch/cache';
import { BatchInputError } from '../batch/errors';
import { publishSummary } from '../batch/outcome';
import { runBatch } from '../batch/run-batch';
import { runSlurmBatch, type SlurmFlags, writeShardsOnly } from '../batch/slurm/executor';
import { createLogger } from '../log';
import { resolveModelDirectory } from '../models/select';
import { UsageError } from './errors';
import { addPipelineOptions, number, type PipelineFlags } from './pipeline-options';

interface BatchFlags extends PipelineFlags, SlurmFlags {
  outDir: string;
  cache?: string;
  rehash?: boolean;
  executor: 'local' | 'slurm' | 'shards';
  shards?: number;
  cohort?: string;
  shard?: number;
}

/** SIGINT/SIGTERM abort the batch (it records what is done); a second one exits at once. */
function abortOnSignals(): { signal: AbortSignal; exitCode: () => number | null; dispose: () => void } {
  const controller = new AbortController();
  let code: number | null = null;
  const handler = (sig: NodeJS.Signals) => {
    if (code !== null) process.exit(code);
    code = sig === 'SIGINT' ? 130 : 143;
    process.stderr.write(`h2g: ${sig}: stopping; finished slides are kept, run the same command again to go on\n`);
    controller.abort();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    exitCode: () => code,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

async function action(inputs: string[], flags: BatchFlags): Promise<void> {
  if (inputs.length === 0 && flags.cohort === undefined)
    throw new UsageError('give at least one slide, folder, list or .qpproj');
  if ((flags.cohort === undefined) !== (flags.shard === undefined))
    throw new UsageError('--cohort and --shard go together');
  const outDir = path.resolve(flags.outDir);
  const cacheDir = path.resolve(flags.cache ?? defaultCacheDir());
  const log = createLogger();
  const common = {
    outDir,
    cacheDir,
    modelDirectory: await resolveModelDirectory({ explicit: flags.models }),
    mpp: flags.mpp,
    tissueThreshold: flags.tissueThreshold,
    smoothingUm: flags.smoothingUm,
    rehash: flags.rehash,
    batchSize: flags.batchSize,
    provider: flags.provider,
    threads: flags.threads,
    log,
  };
  const signals = abortOnSignals();
  try {
    if (flags.executor === 'shards') {
      const slurm = { ...flags, slurmArraySize: flags.shards };
      process.exitCode = (await writeShardsOnly({ ...common, inputs, slurm })).exitCode;
      return;
    }
    if (flags.executor === 'slurm') {
      const outcome = await runSlurmBatch({ ...common, inputs, slurm: flags, signal: signals.signal });
      process.exitCode = signals.exitCode() ?? outcome.exitCode;
      return;
    }
    const outcome = await runBatch({
      ...common,
      inputs,
      cohortFile: flags.cohort,
      shard: flags.shard,
      signal: signals.signal,
    });
    publishSummary(outcome, outDir, process.stdout, process.stderr);
    const allDone = outcome.counts.failed === 0 && outcome.counts.pending === 0;
    process.exitCode = signals.exitCode() ?? (allDone ? 0 : 1);
  } catch (err) {
    if (err instanceof BatchInputError) throw new UsageError(err.message);
    throw err;
  } finally {
    signals.dispose();
  }
}

export function batchCommand(): Command {
  const command = new Command('batch')
    .description(
      'segment a cohort of slides through the result cache; writes per-slide results, cohort.csv and report.html',
    )
    .argument(
      '[inputs...]',
      'slides, folders (searched recursively), text files listing paths, QuPath .qpproj files; - = list on stdin',
    )
    .requiredOption('-o, --out-dir <dir>', 'output directory (per-slide folders, cohort.csv, report.html)')
    .option('--cache <dir>', 'result cache directory (default: $H2G_CACHE, else ~/.cache/h2gnet/results)')
    .option('--rehash', 'hash every slide again instead of trusting the remembered digests');
  return addPipelineOptions(command)
    .addOption(
      new Option(
        '--executor <where>',
        'local: this machine; slurm: an sbatch job array; shards: shard files for another scheduler',
      )
        .choices(['local', 'slurm', 'shards'])
        .default('local'),
    )
    .option(
      '--shards <n>',
      'with --executor shards: how many (default: one per slide, at most 100)',
      number('shards', 1, 100000, true),
    )
    .option('--slurm-partition <name>', 'Slurm partition (default: the cluster default)')
    .option(
      '--slurm-array-size <n>',
      'array tasks (shards) to split the slides into',
      number('slurm-array-size', 1, 100000, true),
    )
    .option(
      '--slurm-max-running <n>',
      'array tasks running at once (sbatch --array=...%n)',
      number('slurm-max-running', 1, 100000, true),
    )
    .option('--slurm-time <limit>', 'time limit per array task (sbatch --time)')
    .option('--slurm-cpus-per-task <n>', 'CPUs per array task', number('slurm-cpus-per-task', 1, 4096, true))
    .option('--slurm-mem <size>', 'memory per array task (sbatch --mem, e.g. 8G)')
    .option('--slurm-gres <gres>', 'generic resources per task (sbatch --gres, e.g. gpu:1)')
    .option('--slurm-account <name>', 'account to charge (sbatch --account)')
    .option('--slurm-setup <line>', "shell line each task runs first (e.g. 'module load nodejs/20')")
    .option(
      '--slurm-sbatch-arg <arg>',
      'extra sbatch option, repeatable (e.g. --slurm-sbatch-arg=--qos=long)',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option(
      '--slurm-poll-seconds <s>',
      'how often to ask squeue while following',
      number('slurm-poll-seconds', 0.1, 3600),
      10,
    )
    .option(
      '--slurm-retry-failed',
      'also submit slides that failed on the file as it is (default: only missing results)',
    )
    .option('--no-wait', 'submit and return; run the same command again later to follow, merge or resubmit')
    .option('--cohort <file>', 'run one shard of a cohort file (what each Slurm array task does)')
    .option('--shard <n>', 'the shard of --cohort to run', number('shard', 0, 100000, true))
    .action(action);
}
