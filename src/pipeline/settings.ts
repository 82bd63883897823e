/**
 * What a run of the pipeline is asked for by the commands that take the pipeline flags (`h2g segment`,
 * `h2g batch` and each of its Slurm or shard tasks): one type from the flags to the runner, the tasks'
 * command lines, each result's provenance and the cohort report. The places that spell each option
 * are tables typed over its keys, so adding one here makes the compiler name every place that must
 * learn it: the flags written back for a task (cli/pipeline-options.ts `FLAG_WRITERS`), the cache
 * key's rule for it (batch/cache-key.ts `CACHE_KEY_ROLE`), the report's label (batch/report.ts
 * `SETTING_LABELS`) and, for a job option, `JOB_FLAG_KEYS` below.
 */
import type { Precision } from '../models/manifest';
import type { ExecutionProvider, SessionOptions } from '../models/model-set';
import { type Limits, resolveLimits } from './limits';
import type { SegmentOptions } from './types';

/** The job options that are flags: all but the region of interest (a file of `h2g segment`). */
export type JobFlagKey = Exclude<keyof SegmentOptions, 'roi'>;
export const JOB_FLAG_KEYS = [
  'reference',
  'mpp',
  'forceMpp',
  'tissueThreshold',
  'batchSize',
  'smoothingUm',
] as const satisfies readonly JobFlagKey[];
// Every job option is listed above: a compile error here names the one missing.
const allJobKeysListed: Record<JobFlagKey, true> = Object.fromEntries(JOB_FLAG_KEYS.map((k) => [k, true])) as Record<
  (typeof JOB_FLAG_KEYS)[number],
  true
>;
void allJobKeysListed;

export type PipelineSettings = Partial<Pick<SegmentOptions, JobFlagKey>> & {
  /** Model directory or installed set's name; undefined = the default selection (models/select.ts). */
  models?: string;
  /** The chosen set's sibling with this arithmetic (models/precision.ts); undefined = the set as it is. */
  precision?: Precision;
  provider: ExecutionProvider;
  /** onnxruntime intra-op threads; 0 = chosen for the machine. */
  threads: number;
  /** The limits given (the others keep their defaults, limits.ts). */
  limits: Partial<Limits>;
};
export type SettingKey = keyof PipelineSettings;

/** The job options of these settings (undefined ones take the pipeline's defaults). */
export function jobOptions(s: PipelineSettings): Partial<SegmentOptions> {
  return Object.fromEntries(JOB_FLAG_KEYS.map((k) => [k, s[k]])) as Partial<SegmentOptions>;
}

export function sessionOptions(s: PipelineSettings): SessionOptions {
  return { provider: s.provider, threads: s.threads };
}

/** The limits in force: the given ones, the defaults for the others. */
export function settingsLimits(s: PipelineSettings): Limits {
  return resolveLimits(s.limits);
}
