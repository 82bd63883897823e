/**
 * The sbatch script of a submission: a job array, one task per shard, each running `h2g batch
 * --cohort <submission's cohort.json> --shard $SLURM_ARRAY_TASK_ID` into the shared output directory
 * through the shared cache, with the same node and h2g installation as the submitting host (a shared
 * file system, as HPC clusters have; `--slurm-setup` runs e.g. `module load` first).
 */
import path from 'node:path';
import { quote } from 'shell-quote';
import type { BatchRequest } from '../run-batch';

export interface SlurmFlags {
  slurmPartition?: string;
  slurmArraySize?: number;
  slurmMaxRunning?: number;
  slurmTime?: string;
  slurmCpusPerTask?: number;
  slurmMem?: string;
  slurmGres?: string;
  slurmAccount?: string;
  slurmSetup?: string;
  slurmSbatchArg?: string[];
  slurmPollSeconds: number;
  /** Submit slides whose record says failed again (by default only missing results are). */
  slurmRetryFailed?: boolean;
  /** commander's --no-wait: false = submit and return. */
  wait: boolean;
}

/** What each task is told: the submission's flags, minus what only the submitter needs. */
export type TaskCommand = Pick<
  BatchRequest,
  | 'outDir'
  | 'cacheDir'
  | 'modelDirectory'
  | 'mpp'
  | 'tissueThreshold'
  | 'smoothingUm'
  | 'batchSize'
  | 'threads'
  | 'provider'
> & { cohortFile: string };

/** The h2g entry point of this installation (bin/h2g.js beside src/ and dist/). */
export const H2G_BIN = path.resolve(__dirname, '..', '..', '..', 'bin', 'h2g.js');

/** One shard's command line, shell-quoted, without its `--shard <index>`. */
export function taskCommand(t: TaskCommand): string {
  return quote(taskArgs(t));
}

function taskArgs(t: TaskCommand): string[] {
  const optional: [string, number | undefined][] = [
    ['--mpp', t.mpp],
    ['--tissue-threshold', t.tissueThreshold],
    ['--smoothing-um', t.smoothingUm],
    ['--batch-size', t.batchSize],
  ];
  return [
    process.execPath,
    H2G_BIN,
    'batch',
    '--cohort',
    t.cohortFile,
    '--out-dir',
    t.outDir,
    '--cache',
    t.cacheDir,
    '--models',
    t.modelDirectory,
    '--threads',
    String(t.threads),
    '--provider',
    t.provider,
    ...optional.flatMap(([flag, v]) => (v === undefined ? [] : [flag, String(v)])),
  ];
}

export function jobScript(flags: SlurmFlags, tasks: number, logDir: string, task: TaskCommand): string {
  const throttle = flags.slurmMaxRunning ? `%${flags.slurmMaxRunning}` : '';
  const directives: string[] = [
    '--job-name=h2g-batch',
    `--array=0-${tasks - 1}${throttle}`,
    `--output=${path.join(logDir, 'task-%a.log')}`,
    ...(flags.slurmPartition ? [`--partition=${flags.slurmPartition}`] : []),
    ...(flags.slurmTime ? [`--time=${flags.slurmTime}`] : []),
    ...(flags.slurmCpusPerTask ? [`--cpus-per-task=${flags.slurmCpusPerTask}`] : []),
    ...(flags.slurmMem ? [`--mem=${flags.slurmMem}`] : []),
    ...(flags.slurmGres ? [`--gres=${flags.slurmGres}`] : []),
    ...(flags.slurmAccount ? [`--account=${flags.slurmAccount}`] : []),
    ...(flags.slurmSbatchArg ?? []),
  ];
  return [
    '#!/bin/bash',
    ...directives.map((d) => `#SBATCH ${d}`),
    '# Written by `h2g batch --executor slurm`: each array task segments one shard of the cohort into the',
    '# shared output directory through the shared result cache. Re-running the same h2g command submits',
    '# only the slides that are still missing.',
    'set -euo pipefail',
    ...(flags.slurmSetup ? [flags.slurmSetup] : []),
    `exec ${taskCommand(task)} --shard "$SLURM_ARRAY_TASK_ID"`,
    '',
  ].join('\n');
}
